import { desc, lt, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { loginAttempt } from '../../db/schema.js';
import { authenticate, type Admin } from './admin.service.js';
import { LoginThrottle } from './LoginThrottle.js';

export type SignInChannel = 'web' | 'api';

export interface SignInRequest {
  username: string;
  password: string;
  /** The client's address and port, as the login history shows them. */
  address: string;
  port?: number;
  channel: SignInChannel;
}

export type SignInResult =
  { ok: true; admin: Admin } | { ok: false; reason: 'invalid' | 'no_access' } | { ok: false; reason: 'throttled'; retryAfterMs: number };

export const THROTTLED = (ms: number) => {
  const minutes = Math.ceil(ms / 60_000);
  return `Too many failed sign-in attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
};

/** The guide's Login History page shows the 100 most recent attempts; older rows are pruned past this many. */
const KEEP_ATTEMPTS = 10_000;

// One throttle per database, i.e. per management server (tests run several in one process).
const throttles = new WeakMap<Database, LoginThrottle>();
export function throttleOf(db: Database): LoginThrottle {
  let t = throttles.get(db);
  if (!t) throttles.set(db, (t = new LoginThrottle()));
  return t;
}

/**
 * One sign-in attempt, on the console or the management API: throttled per account and per
 * address, checked, and recorded in the login history whatever the outcome.
 */
export async function signIn(db: Database, req: SignInRequest): Promise<SignInResult> {
  const throttle = throttleOf(db);
  const wait = throttle.retryAfterMs(req.username, req.address);
  if (wait > 0) {
    await record(db, req, false, 'throttled');
    return { ok: false, reason: 'throttled', retryAfterMs: wait };
  }
  const admin = await authenticate(db, req.username, req.password);
  if (!admin) {
    throttle.failed(req.username, req.address);
    await record(db, req, false, 'invalid credentials');
    return { ok: false, reason: 'invalid' };
  }
  throttle.succeeded(req.username);
  if (req.channel === 'web' ? !admin.mayUseWeb : !admin.mayUseApi) {
    await record(db, req, false, `may not use the ${req.channel === 'web' ? 'web interface' : 'API'}`);
    return { ok: false, reason: 'no_access' };
  }
  await record(db, req, true, '');
  return { ok: true, admin };
}

let inserts = 0;
async function record(db: Database, req: SignInRequest, success: boolean, reason: string): Promise<void> {
  await db.insert(loginAttempt).values({
    username: req.username.slice(0, 150),
    address: req.address.slice(0, 64),
    port: req.port ?? null,
    channel: req.channel,
    success,
    reason,
  });
  // A flood of attempts must not grow the table without end: prune now and then.
  if (++inserts % 500 === 0) {
    await db.delete(loginAttempt).where(lt(loginAttempt.id, sql`(select max(id) from ${loginAttempt}) - ${KEEP_ATTEMPTS}`));
  }
}

export interface LoginHistoryEntry {
  id: number;
  time: string;
  username: string;
  address: string;
  port: number | null;
  channel: SignInChannel;
  success: boolean;
  reason: string;
}

/** History & Logs > Login History: the most recent attempts, newest first. */
export async function loginHistory(db: Database, limit = 100): Promise<LoginHistoryEntry[]> {
  const rows = await db.select().from(loginAttempt).orderBy(desc(loginAttempt.id)).limit(limit);
  return rows.map((r) => ({ ...r, time: r.time.toISOString(), channel: r.channel as SignInChannel }));
}
