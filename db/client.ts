import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { ADVISORY_LOCKS, withAdvisoryLock } from './advisoryLock.js';
import { DataDirLock } from './DataDirLock.js';
import { EMBEDDED_POSTGRES_CONF, initialiseEmbeddedDataDir, useBaselineWasmCode } from './embeddedPostgres.js';
import * as schema from './schema.js';

export type Schema = typeof schema;
/** The one database type the domain layer uses: PGlite and node-postgres both satisfy it. */
export type Database = PgDatabase<PgQueryResultHKT, Schema>;

export interface DatabaseHandle {
  db: Database;
  kind: 'pglite' | 'postgres';
  /** The Postgres URL (kind `postgres`): other management servers may share this database (server/platform/cluster). */
  url?: string;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** `postgres://…` for a real Postgres; otherwise PGlite is used. */
  url?: string;
  /** PGlite data directory; default `./data/db`. `memory://` for an in-memory database. */
  dataDir?: string;
}

const migrationsFolder = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

/** Opens the database and applies the committed migrations (both engines use the same SQL). */
export async function openDatabase(opts: OpenDatabaseOptions = {}): Promise<DatabaseHandle> {
  if (opts.url) {
    const pool = new pg.Pool({ connectionString: opts.url, max: 10 });
    // An idle connection that Postgres ends (a restart, an administrator's terminate) is an 'error'
    // on the pool; unhandled it would crash the process. The pool drops it and opens another when needed.
    pool.on('error', (err) => process.emitWarning(`Postgres closed an idle connection: ${err.message}`));
    const db = drizzlePg(pool, { schema });
    // Several management servers may start together on one database: they migrate one at a time.
    await withAdvisoryLock(opts.url, ADVISORY_LOCKS.startup, () => migratePg(db, { migrationsFolder }));
    const typed: Database = db;
    return { db: typed, kind: 'postgres', url: opts.url, close: () => pool.end() };
  }
  const dataDir = opts.dataDir ?? join(process.cwd(), 'data', 'db');
  let lock: DataDirLock | undefined;
  if (!dataDir.startsWith('memory://')) {
    mkdirSync(dataDir, { recursive: true });
    // Before PGlite touches the files: a second server on the same directory must not start at all.
    lock = DataDirLock.acquire(dataDir);
  }
  try {
    if (lock) {
      await initialiseEmbeddedDataDir(dataDir, migrationsFolder);
      useBaselineWasmCode();
    }
    const client = new PGlite(dataDir, { postgresqlconf: EMBEDDED_POSTGRES_CONF });
    const db = drizzlePglite(client, { schema });
    await migratePglite(db, { migrationsFolder });
    const close = async () => {
      try {
        if (!client.closed) await client.close();
      } finally {
        lock?.release();
      }
    };
    const typed: Database = db;
    return { db: typed, kind: 'pglite', close };
  } catch (err) {
    lock?.release();
    throw err;
  }
}
