import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { ACCESS_DENIED, allows, type PermissionAction } from '../../../shared/admin/permissions.js';
import { findResource } from '../../../shared/config/registry.js';
import type { ResourceDef } from '../../../shared/config/resource.js';
import {
  createObject,
  deleteObject,
  getObject,
  getSingleton,
  listObjects,
  referenceNames,
  referenceOptions,
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
  options: adminProcedure.input(z.object({ resource: resourceName })).query(({ ctx, input }) => referenceOptions(ctx.dom, input.resource)),
  /** Names of referenced objects by id, for list pages. */
  names: adminProcedure.input(z.object({ resource: resourceName, ids: z.array(z.number().int()).max(500) })).query(async ({ ctx, input }) => {
    return Object.fromEntries(await referenceNames(ctx.dom, input.resource, input.ids));
  }),
});
