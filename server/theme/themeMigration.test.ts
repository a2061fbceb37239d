import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { describe, expect, it } from 'vitest';

const migrations = new URL('../../db/migrations/', import.meta.url);
const journal = JSON.parse(readFileSync(new URL('meta/_journal.json', migrations), 'utf8')) as { entries: { tag: string }[] };

async function apply(db: PGlite, tag: string): Promise<void> {
  for (const statement of readFileSync(new URL(`${tag}.sql`, migrations), 'utf8').split('--> statement-breakpoint')) {
    if (statement.trim()) await db.exec(statement);
  }
}

describe('migration 0007_theme_parts', () => {
  it('moves the packages of existing themes into 1 MiB parts with their hash and length', async () => {
    const db = new PGlite();
    const tags = journal.entries.map((e) => e.tag);
    const at = tags.indexOf('0007_theme_parts');
    for (const tag of tags.slice(0, at)) await apply(db, tag);
    const packages = { big: randomBytes(2_500_000), exact: randomBytes(1024 * 1024), tiny: Buffer.from([0, 92, 120]) };
    for (const [name, data] of Object.entries(packages)) {
      await db.query(`insert into ivr_theme (name, uuid, package, contents) values ($1, 'u', $2, '{"files":[],"config":{}}')`, [name, data]);
    }
    await apply(db, '0007_theme_parts');
    for (const [name, data] of Object.entries(packages)) {
      const [theme] = (
        await db.query<{ id: number; package_sha256: string; package_size: number }>('select id, package_sha256, package_size from ivr_theme where name = $1', [
          name,
        ])
      ).rows;
      expect(theme).toMatchObject({ package_sha256: createHash('sha256').update(data).digest('hex'), package_size: data.length });
      const parts = (await db.query<{ data: Uint8Array }>('select data from ivr_theme_part where theme_id = $1 order by seq', [theme!.id])).rows;
      expect(parts.length).toBe(Math.max(1, Math.ceil(data.length / (1024 * 1024))));
      expect(Buffer.concat(parts.map((p) => Buffer.from(p.data))).equals(data)).toBe(true);
    }
    await db.close();
  });
});
