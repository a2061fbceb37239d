CREATE TABLE "login_attempt" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "login_attempt_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"time" timestamp with time zone DEFAULT now() NOT NULL,
	"username" varchar(150) NOT NULL,
	"address" varchar(64) NOT NULL,
	"port" integer,
	"channel" varchar(8) NOT NULL,
	"success" boolean NOT NULL,
	"reason" varchar(64) DEFAULT '' NOT NULL
);
--> statement-breakpoint
ALTER TABLE "admin_session" ADD COLUMN "last_seen_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
CREATE INDEX "login_attempt_time_idx" ON "login_attempt" USING btree ("time");