import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import v8 from 'node:v8';

/**
 * Memory of the embedded database (PGlite). Three things held most of its resident memory
 * (bench/idle-memory.ts measures them):
 *  - Postgres's own default of 128 MB of shared buffers, which PGlite's single process touches as it
 *    starts: 8 MB (1,024 pages) suits a configuration database (the OS caches the files besides);
 *  - creating a new database (initdb, then the migrations) grows the WebAssembly heap to ~650 MB,
 *    and memory once grown is not given back to the system even after PGlite closes: a new
 *    directory is therefore created and migrated by a short-lived child process, and the server
 *    only ever opens an existing one;
 *  - V8 compiles PGlite's 9 MB of WebAssembly twice: a quick baseline (Liftoff), then optimised
 *    (TurboFan) copies of the functions that run often, which stayed resident (~60-70 MiB) for a
 *    database that answers a few configuration queries a second: the server keeps baseline code only
 *    (`useBaselineWasmCode`).
 */
export const EMBEDDED_POSTGRES_CONF = ['shared_buffers = 8MB', 'temp_buffers = 1MB', 'work_mem = 1MB', 'maintenance_work_mem = 4MB', 'wal_buffers = 256kB'];

const initScript = join(dirname(fileURLToPath(import.meta.url)), 'initEmbeddedDataDir.mjs');

/** Creates the embedded database in `dataDir`, migrated, in a child process when it holds none yet. */
export async function initialiseEmbeddedDataDir(dataDir: string, migrationsFolder: string): Promise<void> {
  if (existsSync(join(dataDir, 'PG_VERSION'))) return;
  try {
    await promisify(execFile)(process.execPath, [initScript, dataDir, JSON.stringify(EMBEDDED_POSTGRES_CONF), migrationsFolder], { timeout: 300_000 });
  } catch (err) {
    const detail = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
    throw new Error(`Could not create the embedded database in ${dataDir}: ${detail}`, { cause: err });
  }
}

/**
 * From now on this process compiles WebAssembly to baseline code only (V8's --liftoff-only): PGlite's
 * optimised code is what it saves (see above). Process-wide, so it is called where the embedded
 * database is opened on disk (the server), not for in-memory test databases.
 */
export function useBaselineWasmCode(): void {
  v8.setFlagsFromString('--liftoff-only');
}
