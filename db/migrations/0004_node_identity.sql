CREATE TABLE "node_credential" (
	"node_id" integer PRIMARY KEY NOT NULL,
	"public_key" text NOT NULL,
	"enrolled_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "node_enrollment_token" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "node_enrollment_token_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"node_id" integer NOT NULL,
	"token_hash" varchar(64) NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "node_enrollment_token_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
ALTER TABLE "node_credential" ADD CONSTRAINT "node_credential_node_id_conferencing_node_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."conferencing_node"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "node_enrollment_token" ADD CONSTRAINT "node_enrollment_token_node_id_conferencing_node_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."conferencing_node"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "node_enrollment_token_node_idx" ON "node_enrollment_token" USING btree ("node_id");