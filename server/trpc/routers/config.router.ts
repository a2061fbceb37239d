import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { ACCESS_DENIED, allows, type PermissionAction, type PermissionArea } from '../../../shared/admin/permissions.js';
import { isWriteOnly } from '../../../shared/config/field.js';
import { findResource } from '../../../shared/config/registry.js';
import type { ResourceDef } from '../../../shared/config/resource.js';
import {
  createRecord,
  deleteObject,
  getRecord,
  getSingletonRecord,
  listRecords,
  referenceNames,
  referenceOptions,
  updateRecord,
  updateSingletonRecord,
} from '../../config/config.service.js';
import type { Admin } from '../../auth/admin.service.js';
import { keepingSecrets, withoutSecrets } from '../../config/secrets.js';
import { adminProcedure, router } from '../trpc.js';

const resourceName = z.string().min(1).max(64);

function defFor(admin: Admin, name: string, action: PermissionAction): ResourceDef {
  const def = findResource(name);
  if (!def) throw new TRPCError({ code: 'NOT_FOUND', message: `No such resource: ${name}` });
  if (!allows(admin.permissions, def.permission, action)) throw new TRPCError({ code: 'FORBIDDEN', message: ACCESS_DENIED });
  return def;
}

/** A reference target's names are its objects' names: seen only by those who may view that resource. */
const REFERENCE_AREAS: Partial<Record<string, PermissionArea>> = { conference: 'vmr', ivr_theme: 'theme', tls_certificate: 'system', ca_certificate: 'system' };

function mayViewReferenced(admin: Admin, target: string): void {
  // Certificates and themes have no resource definition: their pages sit under the platform's and the themes' permissions.
  const area: PermissionArea | undefined = REFERENCE_AREAS[target] ?? findResource(target)?.permission;
  if (!area) throw new TRPCError({ code: 'NOT_FOUND', message: `No such resource: ${target}` });
  if (!allows(admin.permissions, area, 'view')) throw new TRPCError({ code: 'FORBIDDEN', message: ACCESS_DENIED });
}

export const configListSchema = z.object({
  resource: resourceName,
  search: z.string().max(250).optional(),
  offset: z.number().int().min(0).default(0),
  limit: z.number().int().min(1).max(500).default(20),
  orderBy: z
    .string()
    .max(64)
    .regex(/^-?[a-z_]+$/)
    .optional(),
});

/** Every configuration object with a definition (shared/config), one router: the console's generic pages use it. */
export const configRouter = router({
  list: adminProcedure.input(configListSchema).query(async ({ ctx, input }) => {
    const def = defFor(ctx.admin, input.resource, 'view');
    const key = input.orderBy?.replace('-', '');
    const sortable = key === 'id' || key === 'creation_time' || (key !== undefined && Object.hasOwn(def.fields, key) && !isWriteOnly(def.fields[key]!));
    const r = await listRecords(ctx.dom, def, { ...input, orderBy: sortable ? input.orderBy : undefined });
    return { ...r, items: r.items.map((o) => withoutSecrets(def, o)) };
  }),
  get: adminProcedure.input(z.object({ resource: resourceName, id: z.number().int() })).query(async ({ ctx, input }) => {
    const def = defFor(ctx.admin, input.resource, 'view');
    return withoutSecrets(def, def.singleton ? await getSingletonRecord(ctx.dom, def) : await getRecord(ctx.dom, def, input.id));
  }),
  create: adminProcedure.input(z.object({ resource: resourceName, values: z.record(z.string(), z.unknown()) })).mutation(async ({ ctx, input }) => {
    const def = defFor(ctx.admin, input.resource, 'add_remove');
    return withoutSecrets(def, await createRecord(ctx.dom, def, input.values));
  }),
  update: adminProcedure
    .input(z.object({ resource: resourceName, id: z.number().int(), patch: z.record(z.string(), z.unknown()) }))
    .mutation(async ({ ctx, input }) => {
      const def = defFor(ctx.admin, input.resource, 'modify');
      // A blank secret from the form (it was shown blank) keeps the stored one.
      const patch = keepingSecrets(def, input.patch);
      return withoutSecrets(def, def.singleton ? await updateSingletonRecord(ctx.dom, def, patch) : await updateRecord(ctx.dom, def, input.id, patch));
    }),
  delete: adminProcedure.input(z.object({ resource: resourceName, id: z.number().int() })).mutation(async ({ ctx, input }) => {
    const def = defFor(ctx.admin, input.resource, 'add_remove');
    await deleteObject(ctx.dom, def.name, input.id);
    return true;
  }),
  /** Choices for reference fields: for administrators who may view the referenced resource. */
  options: adminProcedure.input(z.object({ resource: resourceName })).query(({ ctx, input }) => {
    mayViewReferenced(ctx.admin, input.resource);
    return referenceOptions(ctx.dom, input.resource);
  }),
  /** Names of referenced objects by id, for list pages. */
  names: adminProcedure.input(z.object({ resource: resourceName, ids: z.array(z.number().int()).max(500) })).query(async ({ ctx, input }) => {
    mayViewReferenced(ctx.admin, input.resource);
    return Object.fromEntries(await referenceNames(ctx.dom, input.resource, input.ids));
  }),
});
