import pg from 'pg';
import { openDatabase, type DatabaseHandle } from './client.js';

let counter = 0;

/** A fresh, migrated database on the Postgres at `baseUrl`, dropped again on close (tests and benchmarks). */
export async function freshPostgres(baseUrl: string, prefix = 'om_test'): Promise<DatabaseHandle> {
  const name = `${prefix}_${process.pid}_${Date.now()}_${counter++}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  const h = await openDatabase({ url: url.toString() });
  return {
    ...h,
    close: async () => {
      await h.close();
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/**
 * The databases integration tests run against: always an in-memory PGlite, and a real Postgres
 * when `TEST_DATABASE_URL` is set (the test command starts one); each open() gets its own database.
 */
export const TEST_DATABASES: { name: string; open: () => Promise<DatabaseHandle> }[] = [
  { name: 'pglite', open: () => openDatabase({ dataDir: 'memory://' }) },
  ...(process.env.TEST_DATABASE_URL ? [{ name: 'postgres', open: () => freshPostgres(process.env.TEST_DATABASE_URL!) }] : []),
];
