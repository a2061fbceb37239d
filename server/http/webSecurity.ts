import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance } from 'fastify';

/**
 * Browser protections on every response of the management server, HTTPS policy, and the same-origin
 * rule for what a signed-in browser can do (issue 11, finding 8).
 *
 * The console is one script bundle and one stylesheet from this server: nothing inline, nothing
 * from elsewhere, never framed. Inline style attributes stay allowed (React sets some).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** One year, as the OWASP cheat sheet suggests; sent only over HTTPS (browsers ignore it over HTTP). */
export const STRICT_TRANSPORT_SECURITY = 'max-age=31536000';

export const isTls = (req: IncomingMessage) => (req.socket as Partial<TLSSocket>).encrypted === true;

/** 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || (isIP(a) === 4 && a.startsWith('127.'));
}

/**
 * A browser request's `Origin` is this server's own (an http(s) page on the host and port the
 * request was sent to), one of `allowed` (the public origin of a reverse proxy that rewrites
 * `Host`), or absent (not a browser: the REST API's scripts, a node). A page elsewhere that tries
 * to use the administrator's cookie (WebSocket, form post) is refused. The scheme is not compared:
 * a TLS-terminating proxy in front sends https pages' requests over HTTP, and one host:port never
 * serves both.
 */
export function sameOrigin(req: IncomingMessage, allowed: readonly string[] = []): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    const u = new URL(origin);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return false;
    return u.host === req.headers.host || allowed.includes(u.origin);
  } catch {
    return false; // "null" (sandboxed frames, file:) and garbage
  }
}

export interface WebSecurityOptions {
  /** The HTTPS port when HTTPS is on (clients not on this machine are sent there); null: HTTP only. */
  httpsPort: () => number | null;
  /** Further origins the console is served from (a reverse proxy's public one). */
  allowedOrigins?: readonly string[];
}

export function registerWebSecurity(app: FastifyInstance, opts: WebSecurityOptions): void {
  app.addHook('onRequest', async (req, reply) => {
    reply.header('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('X-Frame-Options', 'DENY');
    reply.header('Referrer-Policy', 'same-origin');
    const httpsPort = opts.httpsPort();
    if (isTls(req.raw)) {
      reply.header('Strict-Transport-Security', STRICT_TRANSPORT_SECURITY);
    } else if (httpsPort !== null && !isLoopback(req.socket.remoteAddress)) {
      // Plain HTTP is for this machine only (quick start, a local node); everyone else uses HTTPS.
      if (req.method === 'GET' || req.method === 'HEAD') {
        const host = (req.headers.host ?? '').replace(/:\d+$/, '') || req.hostname;
        return reply.redirect(`https://${host}:${httpsPort}${req.url}`, 301);
      }
      return reply.code(403).send({ error: 'Use HTTPS.' });
    }
    // tRPC over HTTP with the session cookie: only from the console's own pages.
    if (req.url.startsWith('/trpc') && !sameOrigin(req.raw, opts.allowedOrigins)) return reply.code(403).send({ error: 'Cross-origin request refused.' });
  });
}
