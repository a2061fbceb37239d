import { and, asc, eq, inArray, ne } from 'drizzle-orm';
import { adminRole, adminSession, adminUser, adminUserRole } from '../../db/schema.js';
import type { Database } from '../../db/client.js';
import {
  accountCreateSchema,
  accountPatchSchema,
  ADMINISTRATION_MESSAGES as M,
  roleCreateSchema,
  rolePatchSchema,
  type AdminAccountView,
  type AdminRoleView,
} from '../../shared/admin/administration.schema.js';
import type { Permission } from '../../shared/admin/permissions.js';
import { fieldErrors } from '../../shared/config/fieldErrors.js';
import { recordChange } from '../audit/adminLog.service.js';
import { actorOf, guardUnique, type Domain } from '../domain.js';
import { AppError } from '../errors/AppError.js';
import { hashPassword } from './password.js';

const ROLE = 'Administrator role';
const ACCOUNT = 'Administrator account';
const ROLE_TAKEN = { name: [M.roleNameTaken] };
const USERNAME_TAKEN = { username: [M.usernameTaken] };

// ---- roles ----

const roleView = (r: typeof adminRole.$inferSelect): AdminRoleView => ({
  id: r.id,
  name: r.name,
  permissions: [...r.permissions].sort() as Permission[],
  builtin: r.builtin,
});
const roleAudit = (r: AdminRoleView) => ({ name: r.name, permissions: r.permissions });

export async function listRoles(dom: Domain): Promise<AdminRoleView[]> {
  const rows = await dom.db.select().from(adminRole).orderBy(asc(adminRole.name));
  return rows.map(roleView);
}

export async function getRole(dom: Domain, id: number): Promise<AdminRoleView> {
  const [row] = await dom.db.select().from(adminRole).where(eq(adminRole.id, id));
  if (!row) throw AppError.notFound('Administrator role');
  return roleView(row);
}

async function roleNameTaken(db: Database, name: string, ownId: number | null): Promise<boolean> {
  const rows = await db
    .select({ id: adminRole.id })
    .from(adminRole)
    .where(and(eq(adminRole.name, name), ownId === null ? undefined : ne(adminRole.id, ownId)));
  return rows.length > 0;
}

export async function createRole(dom: Domain, input: unknown): Promise<AdminRoleView> {
  const p = roleCreateSchema.safeParse(input ?? {});
  if (!p.success) throw AppError.validation(fieldErrors(p.error.issues));
  const v = p.data;
  if (await roleNameTaken(dom.db, v.name, null)) throw AppError.validation(ROLE_TAKEN);
  const id = await guardUnique(
    () =>
      dom.db.transaction(async (tx) => {
        const [row] = await tx.insert(adminRole).values({ name: v.name, permissions: v.permissions, builtin: false }).returning();
        await recordChange(tx, actorOf(dom), { action: 'added', objectType: ROLE, objectId: row!.id, objectName: v.name, after: roleAudit(roleView(row!)) });
        return row!.id;
      }),
    ROLE_TAKEN,
  );
  return getRole(dom, id);
}

export async function updateRole(dom: Domain, id: number, patch: unknown): Promise<AdminRoleView> {
  const before = await getRole(dom, id);
  if (before.builtin) throw new AppError('BAD_REQUEST', M.builtinRole);
  const p = rolePatchSchema.safeParse(patch ?? {});
  if (!p.success) throw AppError.validation(fieldErrors(p.error.issues));
  const v = p.data;
  if (v.name !== undefined && (await roleNameTaken(dom.db, v.name, id))) throw AppError.validation(ROLE_TAKEN);
  await guardUnique(
    () =>
      dom.db.transaction(async (tx) => {
        const [row] = await tx
          .update(adminRole)
          .set({ ...(v.name !== undefined ? { name: v.name } : {}), ...(v.permissions !== undefined ? { permissions: v.permissions } : {}) })
          .where(eq(adminRole.id, id))
          .returning();
        await recordChange(tx, actorOf(dom), {
          action: 'changed',
          objectType: ROLE,
          objectId: id,
          objectName: row!.name,
          before: roleAudit(before),
          after: roleAudit(roleView(row!)),
        });
      }),
    ROLE_TAKEN,
  );
  // Cached API credentials carry the old permissions.
  if (v.permissions !== undefined) dom.bus.accountsChanged();
  return getRole(dom, id);
}

export async function deleteRole(dom: Domain, id: number): Promise<void> {
  const before = await getRole(dom, id);
  if (before.builtin) throw new AppError('BAD_REQUEST', M.builtinRole);
  // Deleting a role in use would leave accounts with fewer (or no) roles behind their owners' backs.
  const users = await dom.db.select({ id: adminUserRole.adminUserId }).from(adminUserRole).where(eq(adminUserRole.adminRoleId, id)).limit(1);
  if (users.length) throw new AppError('BAD_REQUEST', M.roleInUse);
  await dom.db.transaction(async (tx) => {
    await tx.delete(adminRole).where(eq(adminRole.id, id));
    await recordChange(tx, actorOf(dom), { action: 'deleted', objectType: ROLE, objectId: id, objectName: before.name, before: roleAudit(before) });
  });
}

// ---- accounts ----

async function accountViews(db: Database, rows: (typeof adminUser.$inferSelect)[]): Promise<AdminAccountView[]> {
  if (rows.length === 0) return [];
  const links = await db
    .select({ userId: adminUserRole.adminUserId, id: adminRole.id, name: adminRole.name })
    .from(adminUserRole)
    .innerJoin(adminRole, eq(adminRole.id, adminUserRole.adminRoleId))
    .where(
      inArray(
        adminUserRole.adminUserId,
        rows.map((r) => r.id),
      ),
    )
    .orderBy(asc(adminRole.name));
  return rows.map((r) => ({
    id: r.id,
    username: r.username,
    full_name: r.fullName,
    email: r.email,
    roles: links.filter((l) => l.userId === r.id).map(({ id, name }) => ({ id, name })),
  }));
}

/** What the administrator log records: role names, and the password only as "changed". */
const accountAudit = (a: AdminAccountView, password: string) => ({
  username: a.username,
  full_name: a.full_name,
  email: a.email,
  roles: a.roles.map((r) => r.name),
  password,
});

export async function listAccounts(dom: Domain): Promise<AdminAccountView[]> {
  return accountViews(dom.db, await dom.db.select().from(adminUser).orderBy(asc(adminUser.username)));
}

export async function getAccount(dom: Domain, id: number): Promise<AdminAccountView> {
  const rows = await dom.db.select().from(adminUser).where(eq(adminUser.id, id));
  if (!rows.length) throw AppError.notFound('Administrator account');
  return (await accountViews(dom.db, rows))[0]!;
}

async function usernameTaken(db: Database, username: string, ownId: number | null): Promise<boolean> {
  const rows = await db
    .select({ id: adminUser.id })
    .from(adminUser)
    .where(and(eq(adminUser.username, username), ownId === null ? undefined : ne(adminUser.id, ownId)));
  return rows.length > 0;
}

/** Role ids that do not exist, as field errors (empty when all exist). */
async function unknownRoles(db: Database, ids: number[]): Promise<Record<string, string[]>> {
  const found = new Set((await db.select({ id: adminRole.id }).from(adminRole).where(inArray(adminRole.id, ids))).map((r) => r.id));
  const missing = ids.filter((i) => !found.has(i));
  return missing.length ? { roles: missing.map((i) => M.invalidRole(i)) } : {};
}

export async function createAccount(dom: Domain, input: unknown): Promise<AdminAccountView> {
  const p = accountCreateSchema.safeParse(input ?? {});
  const errors: Record<string, string[]> = p.success ? {} : fieldErrors(p.error.issues);
  if (p.success) {
    if (await usernameTaken(dom.db, p.data.username, null)) Object.assign(errors, USERNAME_TAKEN);
    Object.assign(errors, await unknownRoles(dom.db, p.data.roles));
  }
  if (!p.success || Object.keys(errors).length) throw AppError.validation(errors);
  const v = p.data;
  const passwordHash = await hashPassword(v.password);
  const id = await guardUnique(
    () =>
      dom.db.transaction(async (tx) => {
        const [row] = await tx.insert(adminUser).values({ username: v.username, passwordHash, fullName: v.full_name, email: v.email }).returning();
        await tx.insert(adminUserRole).values([...new Set(v.roles)].map((r) => ({ adminUserId: row!.id, adminRoleId: r })));
        const [view] = await accountViews(tx, [row!]);
        await recordChange(tx, actorOf(dom), {
          action: 'added',
          objectType: ACCOUNT,
          objectId: row!.id,
          objectName: v.username,
          after: accountAudit(view!, 'set'),
          secretFields: ['password'],
        });
        return row!.id;
      }),
    USERNAME_TAKEN,
  );
  return getAccount(dom, id);
}

export async function updateAccount(dom: Domain, id: number, patch: unknown): Promise<AdminAccountView> {
  const before = await getAccount(dom, id);
  const p = accountPatchSchema.safeParse(patch ?? {});
  const errors: Record<string, string[]> = p.success ? {} : fieldErrors(p.error.issues);
  if (p.success) {
    if (p.data.username !== undefined && (await usernameTaken(dom.db, p.data.username, id))) Object.assign(errors, USERNAME_TAKEN);
    if (p.data.roles) Object.assign(errors, await unknownRoles(dom.db, p.data.roles));
  }
  if (!p.success || Object.keys(errors).length) throw AppError.validation(errors);
  const v = p.data;
  const newPassword = v.password ? await hashPassword(v.password) : undefined;
  await guardUnique(
    () =>
      dom.db.transaction(async (tx) => {
        const set = {
          ...(v.username !== undefined ? { username: v.username } : {}),
          ...(v.full_name !== undefined ? { fullName: v.full_name } : {}),
          ...(v.email !== undefined ? { email: v.email } : {}),
          ...(newPassword ? { passwordHash: newPassword } : {}),
        };
        if (Object.keys(set).length) await tx.update(adminUser).set(set).where(eq(adminUser.id, id));
        if (v.roles) {
          await tx.delete(adminUserRole).where(eq(adminUserRole.adminUserId, id));
          await tx.insert(adminUserRole).values([...new Set(v.roles)].map((r) => ({ adminUserId: id, adminRoleId: r })));
        }
        // A new password ends the account's console sessions too, as the old credential no longer holds.
        if (newPassword) await tx.delete(adminSession).where(eq(adminSession.adminUserId, id));
        const rows = await tx.select().from(adminUser).where(eq(adminUser.id, id));
        const [after] = await accountViews(tx, rows);
        await recordChange(tx, actorOf(dom), {
          action: 'changed',
          objectType: ACCOUNT,
          objectId: id,
          objectName: after!.username,
          before: accountAudit(before, 'set'),
          after: accountAudit(after!, newPassword ? 'changed' : 'set'),
          secretFields: ['password'],
        });
      }),
    USERNAME_TAKEN,
  );
  // The API caches verified credentials; the old password (and old roles) must stop working now.
  if (newPassword || v.roles || v.username !== undefined) dom.bus.accountsChanged();
  return getAccount(dom, id);
}

export async function deleteAccount(dom: Domain, id: number): Promise<void> {
  const before = await getAccount(dom, id);
  if (before.username === 'admin') throw new AppError('BAD_REQUEST', M.deleteAdmin);
  if (dom.actor !== undefined && before.username === dom.actor) throw new AppError('BAD_REQUEST', M.deleteSelf);
  await dom.db.transaction(async (tx) => {
    await tx.delete(adminUser).where(eq(adminUser.id, id));
    await recordChange(tx, actorOf(dom), {
      action: 'deleted',
      objectType: ACCOUNT,
      objectId: id,
      objectName: before.username,
      before: accountAudit(before, 'set'),
      secretFields: ['password'],
    });
  });
  dom.bus.accountsChanged();
}
