import type { Database } from '../db/client.js';
import type { ConfigBus } from './platform/ConfigBus.js';

/** What every domain function needs: the database and the configuration-change bus. */
export interface Domain {
  db: Database;
  bus: ConfigBus;
}

/** Postgres unique violation (both PGlite and node-postgres report SQLSTATE 23505). */
export function isUniqueViolation(err: unknown): boolean {
  for (let e: unknown = err; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === '23505') return true;
  }
  return false;
}
