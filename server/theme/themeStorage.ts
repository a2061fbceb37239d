import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { and, asc, eq } from 'drizzle-orm';
import { ivrThemePart } from '../../db/schema.js';
import type { Database } from '../../db/client.js';

/** Each stored part of a theme ZIP: what is held in memory at once when a package is written or served. */
export const THEME_PART_BYTES = 1024 * 1024;

/** A theme ZIP on disk, with what was learnt while it was written. */
export interface SpooledPackage {
  path: string;
  size: number;
  sha256: string;
}

/** Where uploads are spooled: DATA_DIR/uploads (the product's own folder), else the system's temp folder. */
export const uploadDir = () => (process.env.DATA_DIR ? join(process.env.DATA_DIR, 'uploads') : tmpdir());

async function newSpoolPath(): Promise<string> {
  const dir = uploadDir();
  await mkdir(dir, { recursive: true });
  return join(dir, `theme-${randomUUID()}.zip`);
}

/**
 * Writes a stream to a private spool file, hashing and counting it on the way; `check` sees each
 * chunk first and may throw to refuse the upload. The file is removed if anything fails.
 */
export async function spoolStream(body: Readable, check: (chunk: Buffer) => void = () => {}): Promise<SpooledPackage> {
  const path = await newSpoolPath();
  const hash = createHash('sha256');
  let size = 0;
  try {
    await pipeline(
      body,
      new Transform({
        transform(chunk: Buffer, _enc, done) {
          try {
            check(chunk);
            hash.update(chunk);
            size += chunk.length;
            done(null, chunk);
          } catch (err) {
            done(err as Error);
          }
        },
      }),
      createWriteStream(path, { flags: 'wx', mode: 0o600 }),
    );
  } catch (err) {
    await rm(path, { force: true });
    throw err;
  }
  return { path, size, sha256: hash.digest('hex') };
}

/** Bytes already in memory (a tRPC upload) spooled the same way, so one storage path serves both. */
export async function spoolBytes(bytes: Uint8Array): Promise<SpooledPackage> {
  const path = await newSpoolPath();
  await writeFile(path, bytes, { flag: 'wx', mode: 0o600 });
  return { path, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
}

export const discardSpool = (pkg: SpooledPackage | undefined) => (pkg ? rm(pkg.path, { force: true }) : Promise.resolve());

/** Replaces a theme's stored parts with the spooled file's, read a part at a time. */
export async function writeParts(db: Database, themeId: number, pkg: SpooledPackage): Promise<void> {
  await db.delete(ivrThemePart).where(eq(ivrThemePart.themeId, themeId));
  let seq = 0;
  for await (const chunk of createReadStream(pkg.path, { highWaterMark: THEME_PART_BYTES })) {
    await db.insert(ivrThemePart).values({ themeId, seq: seq++, data: chunk as Buffer });
  }
}

/** A theme's ZIP as a stream, one part read from the database at a time. */
export function readParts(db: Database, themeId: number): Readable {
  async function* parts(): AsyncGenerator<Buffer> {
    const seqs = await db.select({ seq: ivrThemePart.seq }).from(ivrThemePart).where(eq(ivrThemePart.themeId, themeId)).orderBy(asc(ivrThemePart.seq));
    for (const { seq } of seqs) {
      const [part] = await db
        .select({ data: ivrThemePart.data })
        .from(ivrThemePart)
        .where(and(eq(ivrThemePart.themeId, themeId), eq(ivrThemePart.seq, seq)));
      if (!part) throw new Error(`theme ${themeId} changed while it was read`);
      yield part.data;
    }
  }
  return Readable.from(parts(), { objectMode: false });
}
