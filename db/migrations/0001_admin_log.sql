CREATE TABLE "admin_log" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "admin_log_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"time" timestamp with time zone DEFAULT now() NOT NULL,
	"username" varchar(150) NOT NULL,
	"action" varchar(16) NOT NULL,
	"object_type" varchar(64) NOT NULL,
	"object_id" integer,
	"object_name" varchar(250) DEFAULT '' NOT NULL,
	"changes" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE INDEX "admin_log_time_idx" ON "admin_log" USING btree ("time");