import { randomUUID } from 'node:crypto';

/** What a client is told about a failure of ours: the detail (SQL, parameters, stack) stays in the log. */
export const INTERNAL_ERROR_MESSAGE = 'Internal server error. Quote the request id to your administrator.';

const ids = new WeakMap<object, string>();

/** The id one unexpected error is logged and answered with (the same id every time it is asked for). */
export function errorRequestId(err: object): string {
  let id = ids.get(err);
  if (!id) {
    id = randomUUID();
    ids.set(err, id);
  }
  return id;
}

/**
 * A NUL character or a lone UTF-16 surrogate anywhere in a value (strings and object keys, at any
 * depth). Postgres cannot store either; once they reached the database as a 500 with the SQL.
 */
export function findBadCharacters(value: unknown, path = ''): string | null {
  if (typeof value === 'string') return hasBadCharacters(value) ? path || '(value)' : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = findBadCharacters(value[i], `${path}[${i}]`);
      if (p) return p;
    }
    return null;
  }
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (hasBadCharacters(k)) return path ? `${path}.(key)` : '(key)';
      const p = findBadCharacters(v, path ? `${path}.${k}` : k);
      if (p) return p;
    }
  }
  return null;
}

function hasBadCharacters(s: string): boolean {
  if (s.includes('\u0000')) return true;
  // isWellFormed: no lone surrogates (Node 20+).
  return !(s as string & { isWellFormed(): boolean }).isWellFormed();
}
