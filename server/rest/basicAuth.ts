import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Admin } from '../auth/admin.service.js';
import { signIn, THROTTLED } from '../auth/signIn.service.js';
import type { Database } from '../../db/client.js';
import { ACCESS_DENIED, allows, type PermissionAction, type PermissionArea } from '../../shared/admin/permissions.js';

// scrypt per request would cap the API near 20 requests/s; remember a verified credential briefly.
const CACHE_MS = 60_000;
const verified = new Map<string, { admin: Admin; until: number }>();

export type BasicCheck = { admin: Admin } | { status: 401 | 403 | 429; error: string; retryAfterMs?: number };

/**
 * Checks a request's HTTP Basic credentials: the administrator, or the status and message to refuse
 * with. A credential not verified in the last minute is a sign-in: throttled, and recorded in the
 * login history.
 */
export async function checkBasic(db: Database, req: Pick<FastifyRequest, 'headers' | 'ip' | 'socket'>): Promise<BasicCheck> {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(req.headers.authorization ?? '');
  if (!m) return { status: 401, error: 'Authentication credentials were not provided.' };
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { status: 401, error: 'Invalid username or password.' };
  const key = createHash('sha256').update(decoded).digest('hex');
  const hit = verified.get(key);
  let admin = hit && hit.until > Date.now() ? hit.admin : null;
  if (!admin) {
    const r = await signIn(db, {
      username: decoded.slice(0, colon),
      password: decoded.slice(colon + 1),
      address: req.ip,
      port: req.socket?.remotePort,
      channel: 'api',
    });
    if (!r.ok && r.reason === 'throttled') return { status: 429, error: THROTTLED(r.retryAfterMs), retryAfterMs: r.retryAfterMs };
    if (!r.ok && r.reason === 'no_access') return { status: 403, error: 'This account may not use the API.' };
    if (!r.ok) return { status: 401, error: 'Invalid username or password.' };
    admin = r.admin;
    verified.set(key, { admin, until: Date.now() + CACHE_MS });
  }
  if (!admin.mayUseApi) return { status: 403, error: 'This account may not use the API.' };
  return { admin };
}

/** HTTP Basic authentication for the management REST API; 401 without valid credentials, 403 without "May use API". */
export async function requireApiAdmin(db: Database, req: FastifyRequest, reply: FastifyReply): Promise<Admin | null> {
  const r = await checkBasic(db, req);
  if ('admin' in r) return r.admin;
  if (r.status === 401) reply.header('WWW-Authenticate', 'Basic realm="management API"');
  if (r.retryAfterMs) reply.header('Retry-After', String(Math.ceil(r.retryAfterMs / 1000)));
  void reply.code(r.status).send({ error: r.error });
  return null;
}

export function forgetApiCredentials(): void {
  verified.clear();
}

/** `requireApiAdmin` plus a permission check: 403 "Access denied" when the roles do not allow it. */
export async function requireApiPermission(
  db: Database,
  req: FastifyRequest,
  reply: FastifyReply,
  area: PermissionArea,
  action: PermissionAction,
): Promise<Admin | null> {
  const admin = await requireApiAdmin(db, req, reply);
  if (!admin) return null;
  if (!allows(admin.permissions, area, action)) {
    void reply.code(403).send({ error: ACCESS_DENIED });
    return null;
  }
  return admin;
}

/** The action an HTTP method asks for: reads view, PATCH/PUT modify, POST/DELETE add or remove. */
export function actionOf(method: string): PermissionAction {
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return 'view';
  if (method === 'PATCH' || method === 'PUT') return 'modify';
  return 'add_remove';
}
