import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

/** The lock file's name inside the embedded database's directory. */
export const LOCK_FILE = 'openmeet.lock';

const lockContent = z.object({ pid: z.number().int().positive(), host: z.string(), since: z.string() });

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
    readonly host: string,
  ) {
    super(
      `The database directory ${dataDir} is in use by another management server (process ${pid} on ${host}). ` +
        'Stop that server first, or give this one a different data directory.',
    );
    this.name = 'DataDirLockedError';
  }
}

/**
 * An exclusive lock on an embedded database directory: PGlite has no lock of its own, and two
 * servers writing one directory lose each other's writes. The lock is a file created with O_EXCL
 * holding the owner's pid; a lock whose process is gone (killed, crashed) is stale and is cleared.
 */
export class DataDirLock {
  /** Locks this process holds: a second open of the same directory in one process is refused too. */
  private static readonly held = new Set<string>();
  private released = false;
  private readonly onExit = () => this.release();

  private constructor(readonly path: string) {
    // A normal exit (even process.exit) leaves no lock behind; SIGKILL does, and the next start clears it.
    process.once('exit', this.onExit);
    DataDirLock.held.add(path);
  }

  static acquire(dataDir: string): DataDirLock {
    const path = join(dataDir, LOCK_FILE);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openSync(path, 'wx', 0o600);
        writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }));
        closeSync(fd);
        return new DataDirLock(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const owner = DataDirLock.owner(path);
      const ours = owner?.pid === process.pid && DataDirLock.held.has(path);
      // Another host's process cannot be checked from here: its lock is never taken as stale.
      if (owner && (ours || owner.host !== hostname() || (owner.pid !== process.pid && isAlive(owner.pid)))) {
        throw new DataDirLockedError(dataDir, owner.pid, owner.host);
      }
      // Stale (its process is gone) or unreadable (a crash mid-write): clear it and try again.
      rmSync(path, { force: true });
    }
    throw new Error(`Could not lock the database directory ${dataDir}.`);
  }

  private static owner(path: string): z.infer<typeof lockContent> | null {
    try {
      const parsed = lockContent.safeParse(JSON.parse(readFileSync(path, 'utf8')));
      return parsed.success ? parsed.data : null;
    } catch {
      return null;
    }
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    process.removeListener('exit', this.onExit);
    DataDirLock.held.delete(this.path);
    rmSync(this.path, { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
