import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { NODE_KEY_HEADER, NODE_SESSION_HEADER, NODE_THEMES_PATH } from '../../shared/node-protocol/messages.js';
import { secretEquals } from '../../shared/security/secretEquals.js';
import type { Domain } from '../domain.js';
import { readEnrollmentKey } from '../platform/enrollmentKey.js';
import { isLoopback } from '../http/webSecurity.js';
import { AppError } from '../errors/AppError.js';
import { sendError } from '../rest/tastypie.js';
import { basePackage } from './baseTheme.js';
import { downloadTheme } from './theme.service.js';

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest();
const paramsSchema = z.object({ id: z.coerce.number().int().positive() });

/**
 * Sends a package with a strong ETag (its SHA-256), answering 304 when the node already has it;
 * the body is made only when it is sent (an uploaded theme streams from its stored parts).
 */
function sendPackage(req: FastifyRequest, reply: FastifyReply, sha256Hex: string, size: number, body: () => Uint8Array | Readable): FastifyReply {
  const etag = `"${sha256Hex}"`;
  reply.header('ETag', etag).header('Cache-Control', 'no-cache');
  if (req.headers['if-none-match'] === etag) return reply.code(304).send();
  const data = body();
  return reply
    .type('application/zip')
    .header('Content-Length', size)
    .send(data instanceof Uint8Array ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : data);
}

/**
 * Node-facing theme downloads: `GET /api/node/v1/themes/base` (the Base theme) and `…/:id` (an
 * uploaded theme's ZIP as stored). Nodes authenticate with the session their connection was given
 * (`sessionNode`), or (from this machine only) the platform's enrollment key in a header, compared
 * in constant time (hashed first, so length differences do not leak either).
 */
export function registerThemeDeliveryRoutes(app: FastifyInstance, dom: Domain, sessionNode: (token: string) => number | null = () => null): void {
  const authed = (fn: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>) => async (req: FastifyRequest, reply: FastifyReply) => {
    const session = req.headers[NODE_SESSION_HEADER];
    const given = req.headers[NODE_KEY_HEADER];
    const bySession = typeof session === 'string' && session !== '' && sessionNode(session) !== null;
    // The platform key counts only on this machine, as for enrollment; nodes elsewhere use their session.
    const key = bySession || !isLoopback(req.socket.remoteAddress) ? null : await readEnrollmentKey(dom.db);
    if (!bySession && (typeof given !== 'string' || !given || !key || !secretEquals(given, key))) {
      return reply.code(401).send({ error: 'Invalid enrollment key' });
    }
    try {
      return await fn(req, reply);
    } catch (err) {
      return sendError(reply, err);
    }
  };

  app.get(
    `${NODE_THEMES_PATH}/base`,
    authed(async (req, reply) => {
      const base = basePackage();
      return sendPackage(req, reply, sha256(base).toString('hex'), base.length, () => base);
    }),
  );
  app.get(
    `${NODE_THEMES_PATH}/:id`,
    authed(async (req, reply) => {
      const p = paramsSchema.safeParse(req.params);
      if (!p.success) throw AppError.notFound('Theme');
      const t = await downloadTheme(dom, p.data.id);
      return sendPackage(req, reply, t.sha256, t.size, t.stream);
    }),
  );
}
