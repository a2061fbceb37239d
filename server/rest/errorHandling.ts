import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { AppError, HTTP_STATUS } from '../errors/AppError.js';
import { errorRequestId, findBadCharacters, INTERNAL_ERROR_MESSAGE } from '../errors/internalError.js';

export const BAD_CHARACTERS = 'The request contains a NUL character or an invalid (unpaired surrogate) character, which cannot be stored.';

/** A JSON body that may hold an escaped NUL or surrogate: worth parsing again to look (uploads rarely do). */
const MAYBE_BAD_JSON = /\\u0000|\\u[dD][89a-fA-F][0-9a-fA-F]{2}/;

/**
 * Input no resource can hold is refused as 400 before any handler sees it, and a real failure is
 * answered with a generic message and a request id while the detail is logged: 500 bodies once
 * showed the SQL and its parameters.
 */
export function registerErrorHandling(app: FastifyInstance, log: Logger): void {
  app.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
    // A repeated parameter (?a=1&a=2) means its last value, as in Django: handlers read strings only.
    const query = req.query as Record<string, unknown> | undefined;
    if (query && typeof query === 'object') {
      for (const [k, v] of Object.entries(query)) if (Array.isArray(v)) query[k] = v.at(-1);
    }
    let where = findBadCharacters(req.query, 'query') ?? findBadCharacters(req.params, 'path');
    // A tRPC query carries its input as JSON in the URL, where a NUL is still an escape.
    const input = query?.input;
    if (!where && typeof input === 'string' && MAYBE_BAD_JSON.test(input)) {
      try {
        where = findBadCharacters(JSON.parse(input), 'input');
      } catch {
        // Not JSON: tRPC answers that itself.
      }
    }
    const body = req.body;
    if (!where && typeof body === 'string') {
      // tRPC bodies arrive as text (its adapter parses them).
      if (body.includes('\u0000')) where = 'body';
      else if (MAYBE_BAD_JSON.test(body)) {
        try {
          where = findBadCharacters(JSON.parse(body), 'body');
        } catch {
          // Not JSON: the handler reports that in its own words.
        }
      }
    } else if (!where && body && typeof body === 'object' && !Buffer.isBuffer(body)) where = findBadCharacters(body);
    if (where) return reply.code(400).send({ error: BAD_CHARACTERS, field: where });
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    if (err instanceof AppError) return reply.code(HTTP_STATUS[err.code]).send(err.fields ?? { error: err.message });
    const status = err.statusCode ?? 500;
    // Fastify's own client errors (bad JSON, body too large, bad content type) are safe to show.
    if (status >= 400 && status < 500) return reply.code(status).send({ error: err.message });
    const requestId = errorRequestId(err);
    log.error({ err, requestId, method: req.method, url: req.url }, 'request failed');
    return reply.code(500).send({ error: INTERNAL_ERROR_MESSAGE, request_id: requestId });
  });
}
