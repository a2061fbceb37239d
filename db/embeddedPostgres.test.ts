import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openDatabase } from './client.js';
import { platformSetting } from './schema.js';

describe('the embedded database', () => {
  const dir = mkdtempSync(join(tmpdir(), 'om-embedded-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is created and migrated by a child process, and runs with the small memory settings', { timeout: 120_000 }, async () => {
    const first = await openDatabase({ dataDir: dir });
    expect(existsSync(join(dir, 'PG_VERSION'))).toBe(true);
    const shown = z.object({ rows: z.array(z.object({ shared_buffers: z.string() })) }).parse(await first.db.execute(sql`show shared_buffers`));
    expect(shown.rows[0]!.shared_buffers).toBe('8MB');
    await first.db.insert(platformSetting).values({ key: 'embedded-test', value: 'kept' });
    await first.close();

    const again = await openDatabase({ dataDir: dir });
    expect(await again.db.select().from(platformSetting)).toContainEqual({ key: 'embedded-test', value: 'kept' });
    await again.close();
  });
});
