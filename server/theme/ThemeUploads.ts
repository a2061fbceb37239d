import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Database } from '../../db/client.js';
import { MAX_THEME_PACKAGE_BYTES } from '../../shared/theme/theme.schema.js';
import { AppError } from '../errors/AppError.js';
import { ThemeZipStreamCheck } from './ThemeZipStreamCheck.js';
import { discardSpool, spoolStream, type SpooledPackage } from './themeStorage.js';

/** An upload not used within this time is removed. */
const KEEP_MS = 15 * 60_000;

export const THEME_TOO_LARGE = `The theme ZIP file must be no larger than ${MAX_THEME_PACKAGE_BYTES / 1024 / 1024} MB.`;
const GONE = 'The uploaded file is gone; choose it again.';

/**
 * Theme ZIPs uploaded from the console, spooled to disk as they arrive (checked on the way, never
 * held in memory), then added or changed over tRPC by id. Each administrator sees only their own.
 */
export class ThemeUploads {
  private readonly files = new Map<string, { owner: string; pkg: SpooledPackage; at: number }>();

  static of(db: Database): ThemeUploads {
    let u = registry.get(db);
    if (!u) registry.set(db, (u = new ThemeUploads()));
    return u;
  }

  /** Spools the body; past the package limit, or once its entries declare a ZIP bomb, it fails and the file goes. */
  async receive(owner: string, body: Readable): Promise<{ id: string; size: number }> {
    await this.prune();
    const check = new ThemeZipStreamCheck();
    let size = 0;
    const pkg = await spoolStream(body, (chunk) => {
      size += chunk.length;
      if (size > MAX_THEME_PACKAGE_BYTES) throw AppError.validation({ package: [THEME_TOO_LARGE] });
      check.push(chunk);
    });
    const id = randomUUID();
    this.files.set(id, { owner, pkg, at: Date.now() });
    return { id, size: pkg.size };
  }

  /** Hands an upload of this administrator over to the caller, who discards it (discardSpool). */
  take(id: string, owner: string): SpooledPackage {
    const f = this.files.get(id);
    if (!f || f.owner !== owner) throw AppError.validation({ package: [GONE] });
    this.files.delete(id);
    return f.pkg;
  }

  private async prune(): Promise<void> {
    const now = Date.now();
    for (const [id, f] of this.files) {
      if (now - f.at <= KEEP_MS) continue;
      this.files.delete(id);
      await discardSpool(f.pkg);
    }
  }
}

const registry = new WeakMap<Database, ThemeUploads>();
