CREATE TABLE "admin_role" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "admin_role_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"name" varchar(250) NOT NULL,
	"permissions" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"builtin" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "admin_role_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "admin_user_role" (
	"admin_user_id" integer NOT NULL,
	"admin_role_id" integer NOT NULL,
	CONSTRAINT "admin_user_role_admin_user_id_admin_role_id_pk" PRIMARY KEY("admin_user_id","admin_role_id")
);
--> statement-breakpoint
CREATE TABLE "config_backup" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "config_backup_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"kind" varchar(16) NOT NULL,
	"file_name" varchar(250) NOT NULL,
	"version" varchar(32) NOT NULL,
	"size" integer NOT NULL,
	"archive" "bytea" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "config_object" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "config_object_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"resource" varchar(64) NOT NULL,
	"unique_key" varchar(500),
	"data" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ivr_theme" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "ivr_theme_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"name" varchar(250) NOT NULL,
	"description" varchar(250) DEFAULT '' NOT NULL,
	"uuid" varchar(36) NOT NULL,
	"package" "bytea" NOT NULL,
	"contents" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ivr_theme_name_unique" UNIQUE("name")
);
--> statement-breakpoint
ALTER TABLE "admin_user" ADD COLUMN "full_name" varchar(250) DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "admin_user" ADD COLUMN "email" varchar(250) DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "conference" ADD COLUMN "settings" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "conferencing_node" ADD COLUMN "settings" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "system_location" ADD COLUMN "settings" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "admin_user_role" ADD CONSTRAINT "admin_user_role_admin_user_id_admin_user_id_fk" FOREIGN KEY ("admin_user_id") REFERENCES "public"."admin_user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "admin_user_role" ADD CONSTRAINT "admin_user_role_admin_role_id_admin_role_id_fk" FOREIGN KEY ("admin_role_id") REFERENCES "public"."admin_role"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "config_object_resource_unique_key" ON "config_object" USING btree ("resource","unique_key");--> statement-breakpoint
CREATE INDEX "config_object_resource_idx" ON "config_object" USING btree ("resource","id");--> statement-breakpoint
CREATE INDEX "conference_service_type_idx" ON "conference" USING btree ("service_type");