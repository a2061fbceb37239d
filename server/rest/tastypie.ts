import type { FastifyReply } from 'fastify';
import { AppError, HTTP_STATUS } from '../errors/AppError.js';

/** Tastypie list envelope (management-api.md §3): meta + objects, next/previous as absolute paths. */
export function listEnvelope<T>(path: string, query: Record<string, string>, limit: number, offset: number, total: number, objects: T[]) {
  const page = (o: number) => {
    const q = new URLSearchParams({ ...query, limit: String(limit), offset: String(o) });
    return `${path}?${q.toString()}`;
  };
  return {
    meta: {
      limit,
      offset,
      total_count: total,
      next: offset + limit < total ? page(offset + limit) : null,
      previous: offset > 0 ? page(Math.max(0, offset - limit)) : null,
    },
    objects,
  };
}

/** The largest offset Postgres takes as a 32-bit value; larger ones once reached the SQL as a 500. */
const MAX_OFFSET = 2_147_483_647;

/** `limit` and `offset` as Tastypie reads them; anything but a plain non-negative integer is a 400 in its words. */
export function paging(q: Record<string, string | undefined>): { limit: number; offset: number } {
  const int = (name: 'limit' | 'offset', raw: string | undefined, fallback: number): number => {
    if (raw === undefined || raw === '') return fallback;
    const n = /^\d{1,10}$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(n) || n > MAX_OFFSET) {
      throw new AppError('BAD_REQUEST', `Invalid ${name} '${raw.slice(0, 40)}' provided. Please provide a positive integer.`);
    }
    return n;
  };
  const limit = Math.min(Math.max(int('limit', q.limit, 20) || 20, 1), 10_000);
  const offset = int('offset', q.offset, 0);
  return { limit, offset };
}

/** `order_by` checked against the fields that may be sorted on: 400 otherwise (never a key of Object.prototype). */
export function orderBy(raw: string | undefined, allowed: (key: string) => boolean): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  const key = raw.replace(/^-/, '');
  if (!allowed(key)) throw new AppError('BAD_REQUEST', `No matching '${key.slice(0, 40)}' field for ordering on.`);
  return raw;
}

/** Extracts the id from `/api/admin/configuration/v1/<resource>/<id>/` or accepts a bare id. */
export function idFromUri(value: unknown, resource: string): number | null {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value !== 'string') return null;
  const m = new RegExp(`^(?:/api/admin/configuration/v1/${resource}/)?(\\d+)/?$`).exec(value);
  return m ? Number(m[1]) : null;
}

export function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof AppError) {
    const status = HTTP_STATUS[err.code];
    return reply.code(status).send(err.fields ?? { error: err.message });
  }
  throw err;
}

/** `2024-05-01T12:34:56.123456`: naive UTC with microseconds, as Pexip returns datetimes. */
export function pexipTime(iso: string | null): string | null {
  return iso ? iso.replace('Z', '').replace(/\.(\d{3})$/, '.$1000') : null;
}
