CREATE TABLE "admin_session" (
	"token_hash" varchar(64) PRIMARY KEY NOT NULL,
	"admin_user_id" integer NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "admin_user" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "admin_user_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"username" varchar(150) NOT NULL,
	"password_hash" text NOT NULL,
	"may_use_web" boolean DEFAULT true NOT NULL,
	"may_use_api" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "admin_user_username_unique" UNIQUE("username")
);
--> statement-breakpoint
CREATE TABLE "conference" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "conference_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"name" varchar(250) NOT NULL,
	"description" varchar(250) DEFAULT '' NOT NULL,
	"service_type" varchar(32) DEFAULT 'conference' NOT NULL,
	"pin" varchar(20) DEFAULT '' NOT NULL,
	"guest_pin" varchar(20) DEFAULT '' NOT NULL,
	"allow_guests" boolean DEFAULT false NOT NULL,
	"participant_limit" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "conference_alias" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "conference_alias_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"alias" varchar(250) NOT NULL,
	"normalised" varchar(250) NOT NULL,
	"description" varchar(250) DEFAULT '' NOT NULL,
	"conference_id" integer NOT NULL,
	"view_order" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "conferencing_node" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "conferencing_node_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"name" varchar(32) NOT NULL,
	"hostname" varchar(63) NOT NULL,
	"address" varchar(64) NOT NULL,
	"client_api_url" varchar(255) DEFAULT '' NOT NULL,
	"system_location_id" integer NOT NULL,
	"role" varchar(16) DEFAULT 'transcoding' NOT NULL,
	"maintenance_mode" boolean DEFAULT false NOT NULL,
	"version" varchar(32) DEFAULT '' NOT NULL,
	"last_contacted" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "conferencing_node_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "platform_setting" (
	"key" varchar(64) PRIMARY KEY NOT NULL,
	"value" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "system_location" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "system_location_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"name" varchar(250) NOT NULL,
	"description" varchar(250) DEFAULT '' NOT NULL,
	"mtu" integer DEFAULT 1500 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "system_location_name_unique" UNIQUE("name")
);
--> statement-breakpoint
ALTER TABLE "admin_session" ADD CONSTRAINT "admin_session_admin_user_id_admin_user_id_fk" FOREIGN KEY ("admin_user_id") REFERENCES "public"."admin_user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "conference_alias" ADD CONSTRAINT "conference_alias_conference_id_conference_id_fk" FOREIGN KEY ("conference_id") REFERENCES "public"."conference"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "conferencing_node" ADD CONSTRAINT "conferencing_node_system_location_id_system_location_id_fk" FOREIGN KEY ("system_location_id") REFERENCES "public"."system_location"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "conference_name_key" ON "conference" USING btree ("name");--> statement-breakpoint
CREATE INDEX "conference_lower_name_idx" ON "conference" USING btree (lower("name"));--> statement-breakpoint
CREATE UNIQUE INDEX "conference_alias_normalised_key" ON "conference_alias" USING btree ("normalised");--> statement-breakpoint
CREATE INDEX "conference_alias_conference_idx" ON "conference_alias" USING btree ("conference_id");