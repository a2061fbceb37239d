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

export function paging(q: Record<string, string | undefined>): { limit: number; offset: number } {
  const limit = Math.min(Math.max(Number.parseInt(q.limit ?? '20', 10) || 20, 1), 10_000);
  const offset = Math.max(Number.parseInt(q.offset ?? '0', 10) || 0, 0);
  return { limit, offset };
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
