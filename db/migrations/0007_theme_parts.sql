CREATE TABLE "ivr_theme_part" (
	"theme_id" integer NOT NULL,
	"seq" integer NOT NULL,
	"data" "bytea" NOT NULL,
	CONSTRAINT "ivr_theme_part_theme_id_seq_pk" PRIMARY KEY("theme_id","seq")
);
--> statement-breakpoint
ALTER TABLE "ivr_theme" ADD COLUMN "package_sha256" varchar(64);--> statement-breakpoint
ALTER TABLE "ivr_theme" ADD COLUMN "package_size" integer;--> statement-breakpoint
-- Existing packages move into parts of 1 MiB, keeping their hash and length.
INSERT INTO "ivr_theme_part" ("theme_id", "seq", "data") SELECT t."id", s.i, substring(t."package" from s.i * 1048576 + 1 for 1048576) FROM "ivr_theme" t, generate_series(0, greatest(ceil(octet_length(t."package") / 1048576.0)::int - 1, 0)) AS s(i);--> statement-breakpoint
UPDATE "ivr_theme" SET "package_sha256" = encode(sha256("package"), 'hex'), "package_size" = octet_length("package");--> statement-breakpoint
ALTER TABLE "ivr_theme" ALTER COLUMN "package_sha256" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "ivr_theme" ALTER COLUMN "package_size" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "ivr_theme_part" ADD CONSTRAINT "ivr_theme_part_theme_id_ivr_theme_id_fk" FOREIGN KEY ("theme_id") REFERENCES "public"."ivr_theme"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ivr_theme" DROP COLUMN "package";
