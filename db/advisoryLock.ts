import pg from 'pg';

/** Advisory lock keys of this product (one 64-bit number each; Postgres shares the space with other applications on the database). */
export const ADVISORY_LOCKS = {
  /** Migrations and first-start initialisation: management servers starting together on one Postgres take turns. */
  startup: 0x6f6d_0001,
} as const;

/**
 * Runs `fn` while holding a session-level advisory lock on its own connection. A process that dies
 * while holding it ends its connection, which releases the lock: nobody waits for a dead server.
 */
export async function withAdvisoryLock<T>(url: string, key: number, fn: () => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  // An error on the idle lock connection must not crash the process; the query that waits on it fails instead.
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [key]);
    try {
      return await fn();
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [key]).catch(() => {});
    }
  } finally {
    await client.end().catch(() => {});
  }
}
