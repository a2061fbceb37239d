import { createHash, randomBytes } from 'node:crypto';
import { and, eq, gt, lt } from 'drizzle-orm';
import { adminSession, adminUser, platformSetting } from '../../db/schema.js';
import type { Database } from '../../db/client.js';
import { generatePassword, hashPassword, verifyPassword } from './password.js';

export interface Admin {
  id: number;
  username: string;
  mayUseWeb: boolean;
  mayUseApi: boolean;
}

const SESSION_MS = 12 * 60 * 60 * 1000;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * Makes sure the first administrator exists. Returns the password only when it was just generated,
 * so it can be printed once; an `ADMIN_PASSWORD` given at start always becomes the password.
 */
export async function ensureFirstAdmin(db: Database, password?: string): Promise<{ generated?: string }> {
  const [existing] = await db.select().from(adminUser).where(eq(adminUser.username, 'admin'));
  if (existing) {
    if (password && !(await verifyPassword(password, existing.passwordHash))) {
      await db.update(adminUser).set({ passwordHash: await hashPassword(password) }).where(eq(adminUser.id, existing.id));
    }
    return {};
  }
  const pw = password ?? generatePassword();
  await db.insert(adminUser).values({ username: 'admin', passwordHash: await hashPassword(pw) }).onConflictDoNothing();
  return password ? {} : { generated: pw };
}

export async function authenticate(db: Database, username: string, password: string): Promise<Admin | null> {
  const [row] = await db.select().from(adminUser).where(eq(adminUser.username, username));
  // Hash anyway for an unknown user so timing does not reveal which usernames exist.
  const ok = await verifyPassword(password, row?.passwordHash ?? 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA');
  if (!row || !ok) return null;
  return { id: row.id, username: row.username, mayUseWeb: row.mayUseWeb, mayUseApi: row.mayUseApi };
}

export async function createSession(db: Database, adminId: number): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  await db.delete(adminSession).where(lt(adminSession.expiresAt, new Date()));
  await db.insert(adminSession).values({ tokenHash: sha256(token), adminUserId: adminId, expiresAt: new Date(Date.now() + SESSION_MS) });
  return token;
}

export async function sessionAdmin(db: Database, token: string | undefined): Promise<Admin | null> {
  if (!token) return null;
  const [row] = await db
    .select({ user: adminUser })
    .from(adminSession)
    .innerJoin(adminUser, eq(adminUser.id, adminSession.adminUserId))
    .where(and(eq(adminSession.tokenHash, sha256(token)), gt(adminSession.expiresAt, new Date())));
  if (!row) return null;
  return { id: row.user.id, username: row.user.username, mayUseWeb: row.user.mayUseWeb, mayUseApi: row.user.mayUseApi };
}

export async function endSession(db: Database, token: string | undefined): Promise<void> {
  if (token) await db.delete(adminSession).where(eq(adminSession.tokenHash, sha256(token)));
}

/** A setting the server generates once and keeps (e.g. the node enrollment key). */
export async function persistentSecret(db: Database, key: string, given?: string): Promise<string> {
  if (given) {
    await db.insert(platformSetting).values({ key, value: given }).onConflictDoUpdate({ target: platformSetting.key, set: { value: given } });
    return given;
  }
  const [row] = await db.select().from(platformSetting).where(eq(platformSetting.key, key));
  if (row) return row.value;
  const value = randomBytes(24).toString('base64url');
  await db.insert(platformSetting).values({ key, value }).onConflictDoNothing();
  const [again] = await db.select().from(platformSetting).where(eq(platformSetting.key, key));
  return again!.value;
}
