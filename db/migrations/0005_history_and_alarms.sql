CREATE TABLE "alarm" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "alarm_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"name" varchar(250) NOT NULL,
	"identifier" integer NOT NULL,
	"level" varchar(16) NOT NULL,
	"details" text DEFAULT '' NOT NULL,
	"instance" varchar(250) DEFAULT '' NOT NULL,
	"node" varchar(250) DEFAULT '' NOT NULL,
	"time_raised" timestamp with time zone DEFAULT now() NOT NULL,
	"time_lowered" timestamp with time zone,
	"acknowledged" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "conference_history" (
	"id" varchar(64) PRIMARY KEY NOT NULL,
	"name" varchar(250) NOT NULL,
	"service_type" varchar(32) NOT NULL,
	"tag" varchar(250) DEFAULT '' NOT NULL,
	"start_time" timestamp with time zone NOT NULL,
	"end_time" timestamp with time zone NOT NULL,
	"duration" integer NOT NULL,
	"participant_count" integer DEFAULT 0 NOT NULL,
	"instant_message_count" integer DEFAULT 0 NOT NULL,
	"node" varchar(250) DEFAULT '' NOT NULL
);
--> statement-breakpoint
CREATE TABLE "media_stream_history" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "media_stream_history_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"participant_id" varchar(64) NOT NULL,
	"stream_id" varchar(64) DEFAULT '' NOT NULL,
	"stream_type" varchar(16) NOT NULL,
	"node" varchar(250) DEFAULT '' NOT NULL,
	"start_time" timestamp with time zone NOT NULL,
	"end_time" timestamp with time zone NOT NULL,
	"figures" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "participant_history" (
	"id" varchar(64) PRIMARY KEY NOT NULL,
	"conference_id" varchar(64) NOT NULL,
	"conference_name" varchar(250) NOT NULL,
	"display_name" varchar(250) DEFAULT '' NOT NULL,
	"local_alias" varchar(250) DEFAULT '' NOT NULL,
	"remote_alias" varchar(250) DEFAULT '' NOT NULL,
	"remote_address" varchar(64) DEFAULT '' NOT NULL,
	"remote_port" integer,
	"role" varchar(16) NOT NULL,
	"service_type" varchar(32) NOT NULL,
	"protocol" varchar(16) NOT NULL,
	"call_direction" varchar(8) DEFAULT 'in' NOT NULL,
	"call_quality" varchar(16) DEFAULT '0_unknown' NOT NULL,
	"start_time" timestamp with time zone NOT NULL,
	"end_time" timestamp with time zone NOT NULL,
	"duration" integer NOT NULL,
	"disconnect_reason" varchar(250) DEFAULT '' NOT NULL,
	"media_node" varchar(250) DEFAULT '' NOT NULL,
	"signalling_node" varchar(250) DEFAULT '' NOT NULL,
	"system_location" varchar(250) DEFAULT '' NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE INDEX "alarm_time_raised_idx" ON "alarm" USING btree ("time_raised");--> statement-breakpoint
CREATE INDEX "alarm_time_lowered_idx" ON "alarm" USING btree ("time_lowered");--> statement-breakpoint
CREATE INDEX "conference_history_start_idx" ON "conference_history" USING btree ("start_time");--> statement-breakpoint
CREATE INDEX "conference_history_name_idx" ON "conference_history" USING btree ("name");--> statement-breakpoint
CREATE INDEX "media_stream_history_participant_idx" ON "media_stream_history" USING btree ("participant_id");--> statement-breakpoint
CREATE INDEX "participant_history_start_idx" ON "participant_history" USING btree ("start_time");--> statement-breakpoint
CREATE INDEX "participant_history_conference_idx" ON "participant_history" USING btree ("conference_id");