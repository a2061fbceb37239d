CREATE TABLE "backplane_history" (
	"id" varchar(64) PRIMARY KEY NOT NULL,
	"backplane_id" varchar(64) NOT NULL,
	"conference" varchar(250) NOT NULL,
	"media_node" varchar(250) NOT NULL,
	"remote_media_node" varchar(250) NOT NULL,
	"remote_conference_name" varchar(250) NOT NULL,
	"system_location" varchar(250) DEFAULT '' NOT NULL,
	"type" varchar(16) NOT NULL,
	"start_time" timestamp with time zone NOT NULL,
	"end_time" timestamp with time zone NOT NULL,
	"duration" integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX "backplane_history_start_idx" ON "backplane_history" USING btree ("start_time");--> statement-breakpoint
CREATE INDEX "backplane_history_conference_idx" ON "backplane_history" USING btree ("conference");