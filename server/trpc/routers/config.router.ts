import { TRPCError } from '@trpc/server';
import { asc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { conference, conferencingNode, configObject, ivrTheme, systemLocation } from '../../../db/schema.js';
import { ACCESS_DENIED, allows, type PermissionAction } from '../../../shared/admin/permissions.js';
import { findResource } from '../../../shared/config/registry.js';
import { nameFieldOf, type ResourceDef } from '../../../shared/config/resource.js';
import {
  createObject,
  deleteObject,
  getObject,
  getSingleton,
  listObjects,
  updateObject,
  updateSingleton,
} from '../../config/config.service.js';
import type { Admin } from '../../auth/admin.service.js';
import { adminProcedure, router } from '../trpc.js';

const resourceName = z.string().min(1).max(64);

function defFor(admin: Admin, name: string, action: PermissionAction): ResourceDef {
  const def = findResource(name);
  if (!def) throw new TRPCError({ code: 'NOT_FOUND', message: `No such resource: ${name}` });
  if (!allows(admin.permissions, def.permission, action)) throw new TRPCError({ code: 'FORBIDDEN', message: ACCESS_DENIED });
  return def;
}

export const configListSchema = z.object({
  resource: resourceName,
  search: z.string().max(250).optional(),
  offset: z.number().int().min(0).default(0),
  limit: z.number().int().min(1).max(500).default(20),
  orderBy: z.string().max(64).regex(/^-?[a-z_]+$/).optional(),
});

/** The choices of a reference field: every object of the target resource, id and name. */
async function options(db: import('../../../db/client.js').Database, target: string): Promise<{ id: number; name: string }[]> {
  switch (target) {
    case 'system_location':
      return db.select({ id: systemLocation.id, name: systemLocation.name }).from(systemLocation).orderBy(asc(systemLocation.name));
    case 'worker_vm':
      return db.select({ id: conferencingNode.id, name: conferencingNode.name }).from(conferencingNode).orderBy(asc(conferencingNode.name));
    case 'ivr_theme':
      return db.select({ id: ivrTheme.id, name: ivrTheme.name }).from(ivrTheme).orderBy(asc(ivrTheme.name));
    case 'conference':
      return db.select({ id: conference.id, name: conference.name }).from(conference).orderBy(asc(conference.name)).limit(5000);
    default: {
      const def = findResource(target);
      const rows = await db.select().from(configObject).where(eq(configObject.resource, target)).orderBy(asc(configObject.id)).limit(5000);
      return rows.map((r) => ({ id: r.id, name: String(r.data[def ? nameFieldOf(def) : 'name'] ?? r.data.name ?? r.data.subject_name ?? r.id) }));
    }
  }
}

/** Every configuration object with a definition (shared/config), one router: the console's generic pages use it. */
export const configRouter = router({
  list: adminProcedure.input(configListSchema).query(({ ctx, input }) => {
    const def = defFor(ctx.admin, input.resource, 'view');
    const orderBy = input.orderBy && (input.orderBy.replace('-', '') in def.fields || ['id', '-id', 'creation_time', '-creation_time'].includes(input.orderBy)) ? input.orderBy : undefined;
    return listObjects(ctx.dom, def.name, { ...input, orderBy });
  }),
  get: adminProcedure.input(z.object({ resource: resourceName, id: z.number().int() })).query(({ ctx, input }) => {
    const def = defFor(ctx.admin, input.resource, 'view');
    return def.singleton ? getSingleton(ctx.dom, def.name) : getObject(ctx.dom, def.name, input.id);
  }),
  create: adminProcedure.input(z.object({ resource: resourceName, values: z.record(z.string(), z.unknown()) })).mutation(({ ctx, input }) => {
    const def = defFor(ctx.admin, input.resource, 'add_remove');
    return createObject(ctx.dom, def.name, input.values);
  }),
  update: adminProcedure
    .input(z.object({ resource: resourceName, id: z.number().int(), patch: z.record(z.string(), z.unknown()) }))
    .mutation(({ ctx, input }) => {
      const def = defFor(ctx.admin, input.resource, 'modify');
      return def.singleton ? updateSingleton(ctx.dom, def.name, input.patch) : updateObject(ctx.dom, def.name, input.id, input.patch);
    }),
  delete: adminProcedure.input(z.object({ resource: resourceName, id: z.number().int() })).mutation(async ({ ctx, input }) => {
    const def = defFor(ctx.admin, input.resource, 'add_remove');
    await deleteObject(ctx.dom, def.name, input.id);
    return true;
  }),
  /** Choices for reference fields; names only, so any signed-in administrator may read them. */
  options: adminProcedure.input(z.object({ resource: resourceName })).query(({ ctx, input }) => options(ctx.dom.db, input.resource)),
  /** Names of referenced objects by id, for list pages. */
  names: adminProcedure.input(z.object({ resource: resourceName, ids: z.array(z.number().int()).max(500) })).query(async ({ ctx, input }) => {
    if (input.ids.length === 0) return {};
    const all = await options(ctx.dom.db, input.resource);
    const want = new Set(input.ids);
    return Object.fromEntries(all.filter((o) => want.has(o.id)).map((o) => [o.id, o.name]));
  }),
});
