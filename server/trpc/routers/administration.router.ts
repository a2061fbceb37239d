import { z } from 'zod';
import { accountCreateSchema, accountPatchSchema, roleCreateSchema, rolePatchSchema } from '../../../shared/admin/administration.schema.js';
import {
  createAccount,
  createRole,
  deleteAccount,
  deleteRole,
  getAccount,
  getRole,
  listAccounts,
  listRoles,
  updateAccount,
  updateRole,
} from '../../auth/administration.service.js';
import { permittedProcedure, router } from '../trpc.js';

const byId = z.object({ id: z.number().int() });
const view = permittedProcedure('authentication', 'view');
const modify = permittedProcedure('authentication', 'modify');
const addRemove = permittedProcedure('authentication', 'add_remove');

/** Administrator roles and accounts ("authentication configuration" permissions). */
export const administrationRouter = router({
  roles: router({
    list: view.query(({ ctx }) => listRoles(ctx.dom)),
    get: view.input(byId).query(({ ctx, input }) => getRole(ctx.dom, input.id)),
    create: addRemove.input(roleCreateSchema).mutation(({ ctx, input }) => createRole(ctx.dom, input)),
    update: modify.input(z.object({ id: z.number().int(), patch: rolePatchSchema })).mutation(({ ctx, input }) => updateRole(ctx.dom, input.id, input.patch)),
    delete: addRemove.input(byId).mutation(async ({ ctx, input }) => {
      await deleteRole(ctx.dom, input.id);
      return true;
    }),
  }),
  accounts: router({
    list: view.query(({ ctx }) => listAccounts(ctx.dom)),
    get: view.input(byId).query(({ ctx, input }) => getAccount(ctx.dom, input.id)),
    create: addRemove.input(accountCreateSchema).mutation(({ ctx, input }) => createAccount(ctx.dom, input)),
    update: modify
      .input(z.object({ id: z.number().int(), patch: accountPatchSchema }))
      .mutation(({ ctx, input }) => updateAccount(ctx.dom, input.id, input.patch)),
    delete: addRemove.input(byId).mutation(async ({ ctx, input }) => {
      await deleteAccount(ctx.dom, input.id);
      return true;
    }),
  }),
});
