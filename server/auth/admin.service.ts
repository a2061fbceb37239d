import { createHash, randomBytes } from 'node:crypto';
import { and, eq, gt, lt } from 'drizzle-orm';
import { adminRole, adminSession, adminUser, adminUserRole, platformSetting } from '../../db/schema.js';
import { READ_ONLY_PERMISSIONS, READ_WRITE_PERMISSIONS } from '../../shared/admin/permissions.js';
import type { Database } from '../../db/client.js';
import { globalResource } from '../../shared/config/resources/platform.js';
import { getSingletonRecord } from '../config/config.service.js';
import type { Domain } from '../domain.js';
import { generatePassword, hashPassword, verifyPassword } from './password.js';

export interface Admin {
  id: number;
  username: string;
  mayUseWeb: boolean;
  mayUseApi: boolean;
  /** The union of the permissions of the administrator's roles. */
  permissions: string[];
}

export const BUILTIN_ROLES = { readOnly: 'Read-only', readWrite: 'Read-write' } as const;

/** Creates the built-in Read-only and Read-write roles when missing; returns their ids. */
export async function ensureBuiltinRoles(db: Database): Promise<{ readOnly: number; readWrite: number }> {
  const want = [
    { name: BUILTIN_ROLES.readOnly, permissions: READ_ONLY_PERMISSIONS },
    { name: BUILTIN_ROLES.readWrite, permissions: READ_WRITE_PERMISSIONS },
  ];
  const ids: number[] = [];
  for (const r of want) {
    await db
      .insert(adminRole)
      .values({ name: r.name, permissions: [...r.permissions], builtin: true })
      .onConflictDoNothing();
    // Built-in roles follow the product's permission list (it grows between versions).
    const [row] = await db
      .update(adminRole)
      .set({ permissions: [...r.permissions], builtin: true })
      .where(eq(adminRole.name, r.name))
      .returning({ id: adminRole.id });
    ids.push(row!.id);
  }
  return { readOnly: ids[0]!, readWrite: ids[1]! };
}

/** The administrator as the rest of the server sees it: channel flags come from the roles' permissions. */
export async function loadAdmin(db: Database, row: typeof adminUser.$inferSelect): Promise<Admin> {
  const roles = await db
    .select({ permissions: adminRole.permissions })
    .from(adminUserRole)
    .innerJoin(adminRole, eq(adminRole.id, adminUserRole.adminRoleId))
    .where(eq(adminUserRole.adminUserId, row.id));
  const perms = new Set<string>();
  for (const r of roles) for (const p of r.permissions) perms.add(p);
  // The per-account switches can only take a channel away, never grant one.
  if (!row.mayUseWeb) perms.delete('may_use_web');
  if (!row.mayUseApi) perms.delete('may_use_api');
  const permissions = [...perms].sort();
  return {
    id: row.id,
    username: row.username,
    mayUseWeb: perms.has('is_administrator') && perms.has('may_use_web'),
    mayUseApi: perms.has('is_administrator') && perms.has('may_use_api'),
    permissions,
  };
}

const SESSION_MS = 12 * 60 * 60 * 1000;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * Makes sure the first administrator exists. Returns the password only when it was just generated,
 * so it can be printed once; an `ADMIN_PASSWORD` given at start always becomes the password.
 */
export async function ensureFirstAdmin(db: Database, password?: string): Promise<{ generated?: string }> {
  const roles = await ensureBuiltinRoles(db);
  const [existing] = await db.select().from(adminUser).where(eq(adminUser.username, 'admin'));
  if (existing) {
    await db.insert(adminUserRole).values({ adminUserId: existing.id, adminRoleId: roles.readWrite }).onConflictDoNothing();
    if (password && !(await verifyPassword(password, existing.passwordHash))) {
      await db
        .update(adminUser)
        .set({ passwordHash: await hashPassword(password) })
        .where(eq(adminUser.id, existing.id));
    }
    return {};
  }
  const pw = password ?? generatePassword();
  const [row] = await db
    .insert(adminUser)
    .values({ username: 'admin', passwordHash: await hashPassword(pw) })
    .onConflictDoNothing()
    .returning({ id: adminUser.id });
  if (row) await db.insert(adminUserRole).values({ adminUserId: row.id, adminRoleId: roles.readWrite }).onConflictDoNothing();
  return password ? {} : { generated: pw };
}

export async function authenticate(db: Database, username: string, password: string): Promise<Admin | null> {
  const [row] = await db.select().from(adminUser).where(eq(adminUser.username, username));
  // Hash anyway for an unknown user so timing does not reveal which usernames exist.
  const ok = await verifyPassword(password, row?.passwordHash ?? 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA');
  if (!row || !ok) return null;
  return loadAdmin(db, row);
}

export async function createSession(db: Database, adminId: number): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  await db.delete(adminSession).where(lt(adminSession.expiresAt, new Date()));
  await db.insert(adminSession).values({ tokenHash: sha256(token), adminUserId: adminId, expiresAt: new Date(Date.now() + SESSION_MS) });
  return token;
}

/** The console's idle timeout (Global Settings > Management web interface session timeout); null when disabled. */
async function idleTimeoutMs(dom: Domain): Promise<number | null> {
  const g = await getSingletonRecord(dom, globalResource);
  return g.session_timeout_enabled ? g.management_session_timeout * 60_000 : null;
}

// A session's last-seen time is written at most this often, not on every request.
const TOUCH_MS = 30_000;

/**
 * The administrator of a console session; null when there is none, it expired, or it was idle too long.
 * A request counts as activity (`touch`); an open live view re-checking its session does not.
 */
export async function sessionAdmin(dom: Domain, token: string | undefined, { touch = true }: { touch?: boolean } = {}): Promise<Admin | null> {
  if (!token) return null;
  const db = dom.db;
  const hash = sha256(token);
  const [row] = await db
    .select({ user: adminUser, lastSeenAt: adminSession.lastSeenAt })
    .from(adminSession)
    .innerJoin(adminUser, eq(adminUser.id, adminSession.adminUserId))
    .where(and(eq(adminSession.tokenHash, hash), gt(adminSession.expiresAt, new Date())));
  if (!row) return null;
  const now = Date.now();
  const idle = await idleTimeoutMs(dom);
  if (idle !== null && row.lastSeenAt.getTime() + idle <= now) {
    await db.delete(adminSession).where(eq(adminSession.tokenHash, hash));
    return null;
  }
  if (touch && now - row.lastSeenAt.getTime() > TOUCH_MS)
    await db
      .update(adminSession)
      .set({ lastSeenAt: new Date(now) })
      .where(eq(adminSession.tokenHash, hash));
  return loadAdmin(db, row.user);
}

export async function endSession(db: Database, token: string | undefined): Promise<void> {
  if (token) await db.delete(adminSession).where(eq(adminSession.tokenHash, sha256(token)));
}

/** A setting the server generates once and keeps (e.g. the node enrollment key). */
export async function persistentSecret(db: Database, key: string, given?: string): Promise<string> {
  if (given) {
    await db
      .insert(platformSetting)
      .values({ key, value: given })
      .onConflictDoUpdate({ target: platformSetting.key, set: { value: given } });
    return given;
  }
  const [row] = await db.select().from(platformSetting).where(eq(platformSetting.key, key));
  if (row) return row.value;
  const value = randomBytes(24).toString('base64url');
  await db.insert(platformSetting).values({ key, value }).onConflictDoNothing();
  const [again] = await db.select().from(platformSetting).where(eq(platformSetting.key, key));
  return again!.value;
}
