import type { Database } from '../db/client.js';
import type { ConfigBus } from './platform/ConfigBus.js';
import { AppError } from './errors/AppError.js';

/** What every domain function needs: the database and the configuration-change bus. */
export interface Domain {
  db: Database;
  bus: ConfigBus;
  /** Who is making changes, for the administrator log; `system` when nobody signed in did. */
  actor?: string;
}

export const actorOf = (dom: Domain): string => dom.actor ?? 'system';

/** Postgres unique violation (both PGlite and node-postgres report SQLSTATE 23505). */
export function isUniqueViolation(err: unknown): boolean {
  for (let e: unknown = err; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === '23505') return true;
  }
  return false;
}

/**
 * Runs a write whose uniqueness was checked beforehand; a race that still hits the unique index
 * ends as the given field errors, never as a 500.
 */
export async function guardUnique<T>(fn: () => Promise<T>, fields: Record<string, string[]>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isUniqueViolation(err)) throw AppError.validation(fields);
    throw err;
  }
}
