import { Transform, type TransformCallback } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parse as parseCookie } from 'cookie';
import { RESTORE_UPLOAD_PATH } from '../../shared/backup/backup.schema.js';
import { MAX_THEME_PACKAGE_BYTES, THEME_UPLOAD_PATH } from '../../shared/theme/theme.schema.js';
import { sessionAdmin } from '../auth/admin.service.js';
import { MAX_CSV_LENGTH } from '../bulk/bulk.service.js';
import type { Domain } from '../domain.js';
import { SESSION_COOKIE } from '../trpc/trpc.js';
import { checkBasic } from './basicAuth.js';

/** A body anyone may send (the sign-in form, a logout): small. */
export const UNAUTHENTICATED_BODY_LIMIT = 16 * 1024;
/** Any other request of a signed-in administrator. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;
/** A restore archive holds theme packages too. */
export const RESTORE_BODY_LIMIT = 256 * 1024 * 1024;
/** A restore archive sent base64 in JSON rather than as a multipart file. */
export const RESTORE_JSON_BODY_LIMIT = 32 * 1024 * 1024;
const THEME_BODY_LIMIT = MAX_THEME_PACKAGE_BYTES + 64 * 1024; // the ZIP and a few form fields
const CSV_BODY_LIMIT = MAX_CSV_LENGTH * 4 + 64 * 1024; // UTF-8 worst case; the length check is in characters
const CERTIFICATE_BODY_LIMIT = 8 * 1024 * 1024; // a CA bundle

/** Fastify's own limit: the largest upload; the real limit is chosen per request below. */
export const LARGEST_BODY_LIMIT = RESTORE_BODY_LIMIT;

const REST_UPLOADS: [RegExp, number][] = [
  [/^\/api\/admin\/command\/v1\/platform\/(backup_)?restore\/$/, RESTORE_BODY_LIMIT],
  [/^\/api\/admin\/configuration\/v1\/ivr_theme\/(\d+\/)?$/, THEME_BODY_LIMIT],
  [/^\/api\/admin\/configuration\/v1\/bulk\/[a-z_]+\/import\/$/, CSV_BODY_LIMIT],
  [/^\/api\/admin\/configuration\/v1\/(tls|ca)_certificate\/(\d+\/)?$/, CERTIFICATE_BODY_LIMIT],
];
/** Console uploads sent as a raw body and streamed to disk by their route. */
const CONSOLE_UPLOADS: Record<string, number> = { [RESTORE_UPLOAD_PATH]: RESTORE_BODY_LIMIT, [THEME_UPLOAD_PATH]: THEME_BODY_LIMIT };
const TRPC_UPLOADS: Record<string, number> = {
  'bulk.import': CSV_BODY_LIMIT,
  'certificate.tls.create': CERTIFICATE_BODY_LIMIT,
  'certificate.tls.update': CERTIFICATE_BODY_LIMIT,
  'certificate.ca.create': CERTIFICATE_BODY_LIMIT,
};

const limits = new WeakMap<FastifyRequest, number>();

const hasBody = (req: FastifyRequest) =>
  req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;

function tooLarge(limit: number): Error & { statusCode: number; code: string } {
  const mb = limit >= 1024 * 1024 ? `${Math.round(limit / 1024 / 1024)} MB` : `${Math.round(limit / 1024)} KB`;
  return Object.assign(new Error(`Request body is too large (at most ${mb} here).`), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
}

/** Counts a body as it streams in and fails it past the limit, so no more than `limit` is ever buffered. */
class BodyLimit extends Transform {
  receivedEncodedLength = 0;
  constructor(private readonly limit: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.receivedEncodedLength += chunk.length;
    if (this.receivedEncodedLength > this.limit) return done(tooLarge(this.limit));
    done(null, chunk);
  }
}

/**
 * Who is asking decides how much they may send, and this is decided before a byte of the body is
 * read: an unauthenticated client gets a few kilobytes (the sign-in form) and is refused on the
 * management API at once; a signed-in administrator 1 MB, and the upload endpoints (restore,
 * themes, CSV import, certificates) their own larger limits. Bodies were once read whole before the
 * login check: eight 75 MB posts to the sign-in endpoint grew the server by 1.3 GB.
 */
export function registerBodyLimits(app: FastifyInstance, dom: Domain): void {
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    if (!hasBody(req)) return;
    const path = req.url.split('?')[0]!;
    let limit = UNAUTHENTICATED_BODY_LIMIT;
    if (path.startsWith('/api/')) {
      const auth = await checkBasic(dom.db, req);
      if ('status' in auth) {
        // The route would refuse it anyway: answer now, without reading the body.
        if (auth.status === 401) void reply.header('WWW-Authenticate', 'Basic realm="management API"');
        if (auth.retryAfterMs) void reply.header('Retry-After', String(Math.ceil(auth.retryAfterMs / 1000)));
        return reply.code(auth.status).send({ error: auth.error });
      }
      limit = REST_UPLOADS.find(([re]) => re.test(path))?.[1] ?? DEFAULT_BODY_LIMIT;
      // A restore archive in JSON (base64) is parsed whole: small ones only; larger files go as multipart, streamed to disk.
      if (limit === RESTORE_BODY_LIMIT && !req.headers['content-type']?.startsWith('multipart/')) limit = RESTORE_JSON_BODY_LIMIT;
      // A theme's ZIP comes only as a multipart file (spooled to disk); its JSON changes are small.
      if (limit === THEME_BODY_LIMIT && !req.headers['content-type']?.startsWith('multipart/')) limit = DEFAULT_BODY_LIMIT;
    } else if (Object.hasOwn(CONSOLE_UPLOADS, path)) {
      // The console's streamed uploads (a backup file, a theme ZIP): a signed-in administrator only.
      const token = parseCookie(req.headers.cookie ?? '')[SESSION_COOKIE];
      if (!token || !(await sessionAdmin(dom, token))) return reply.code(401).send({ error: 'Authentication credentials were not provided.' });
      limit = CONSOLE_UPLOADS[path]!;
    } else if (path.startsWith('/trpc/')) {
      // The console sends JSON only; tRPC would read a multipart body whole, past any limit here.
      if (req.headers['content-type']?.startsWith('multipart/')) {
        return reply.code(415).send({ error: 'Send JSON.' });
      }
      const token = parseCookie(req.headers.cookie ?? '')[SESSION_COOKIE];
      if (token && (await sessionAdmin(dom, token))) {
        const procedures = decodeURIComponent(path.slice('/trpc/'.length)).split(',');
        limit = Math.max(...procedures.map((p) => TRPC_UPLOADS[p] ?? DEFAULT_BODY_LIMIT));
      }
    }
    const length = Number(req.headers['content-length']);
    if (Number.isFinite(length) && length > limit) {
      // The answer goes out now; Node discards the rest of the body as it arrives (never buffered).
      // Closing the connection instead would race the client's writes: a reset can swallow the answer.
      return reply.code(413).send({ error: tooLarge(limit).message });
    }
    limits.set(req, limit);
  });
  // A chunked body has no length to check up front: count it as it arrives.
  app.addHook('preParsing', async (req, _reply, payload) => {
    const limit = limits.get(req);
    // Multipart bodies are read by @fastify/multipart from the raw request, with its own per-part
    // limits (file size, parts): a second reader would take the bytes away from it.
    if (limit === undefined || req.headers['content-type']?.startsWith('multipart/')) return payload;
    const counted = new BodyLimit(limit);
    payload.on('error', (err) => counted.destroy(err));
    return payload.pipe(counted);
  });
}
