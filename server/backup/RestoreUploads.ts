import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Database } from '../../db/client.js';
import { AppError } from '../errors/AppError.js';

/** Where uploads are spooled: DATA_DIR/uploads (the product's own folder), else the system's temp folder. */
const uploadDir = () => (process.env.DATA_DIR ? join(process.env.DATA_DIR, 'uploads') : tmpdir());
/** An upload not restored within this time is removed. */
const KEEP_MS = 15 * 60_000;

export const tooLarge = (limit: number) => AppError.validation({ archive: [`The file is too large (at most ${Math.round(limit / 1024 / 1024)} MB).`] });

/**
 * Backup files uploaded from the console, spooled to disk as they arrive (never held in memory),
 * then checked and restored from there by id. Each administrator sees only their own uploads.
 */
export class RestoreUploads {
  private readonly files = new Map<string, { owner: string; path: string; size: number; at: number }>();

  static of(db: Database): RestoreUploads {
    let u = registry.get(db);
    if (!u) registry.set(db, (u = new RestoreUploads()));
    return u;
  }

  /** Writes the body to a private file, counting it: past `limit` the upload fails and the file goes. */
  async receive(owner: string, body: Readable, limit: number): Promise<{ id: string; size: number }> {
    await this.prune();
    const dir = uploadDir();
    await mkdir(dir, { recursive: true });
    const id = randomUUID();
    const path = join(dir, `restore-${id}.bak`);
    let size = 0;
    try {
      await pipeline(
        body,
        new Transform({
          transform(chunk: Buffer, _enc, done) {
            size += chunk.length;
            done(size > limit ? tooLarge(limit) : null, chunk);
          },
        }),
        createWriteStream(path, { flags: 'wx', mode: 0o600 }),
      );
    } catch (err) {
      await rm(path, { force: true });
      throw err;
    }
    this.files.set(id, { owner, path, size, at: Date.now() });
    return { id, size };
  }

  /** The file of an upload of this administrator; AppError with the field message when gone. */
  pathOf(id: string, owner: string): string {
    const f = this.files.get(id);
    if (!f || f.owner !== owner) throw AppError.validation({ archive: ['The uploaded file is gone; choose it again.'] });
    return f.path;
  }

  async remove(id: string): Promise<void> {
    const f = this.files.get(id);
    this.files.delete(id);
    if (f) await rm(f.path, { force: true });
  }

  private async prune(): Promise<void> {
    const now = Date.now();
    for (const [id, f] of this.files) if (now - f.at > KEEP_MS) await this.remove(id);
  }
}

const registry = new WeakMap<Database, RestoreUploads>();
