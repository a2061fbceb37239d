import { z } from 'zod';
import { vmrCreateSchema, vmrPatchSchema } from '../../../shared/conference/vmr.schema.js';
import { createVmr, deleteVmr, getVmr, listVmrs, updateVmr } from '../../conference/vmr.service.js';
import { permittedProcedure, router } from '../trpc.js';

export const vmrListSchema = z.object({
  search: z.string().max(250).optional(),
  offset: z.number().int().min(0).default(0),
  limit: z.number().int().min(1).max(500).default(20),
  orderBy: z.enum(['name', '-name', 'id', '-id', 'creation_time', '-creation_time']).default('name'),
});

/** Virtual Meeting Rooms. */
export const vmrRouter = router({
  list: permittedProcedure('vmr', 'view').input(vmrListSchema).query(({ ctx, input }) => listVmrs(ctx.dom, input)),
  get: permittedProcedure('vmr', 'view').input(z.object({ id: z.number().int() })).query(({ ctx, input }) => getVmr(ctx.dom, input.id)),
  create: permittedProcedure('vmr', 'add_remove').input(vmrCreateSchema).mutation(({ ctx, input }) => createVmr(ctx.dom, input)),
  update: permittedProcedure('vmr', 'modify')
    .input(z.object({ id: z.number().int(), patch: vmrPatchSchema }))
    .mutation(({ ctx, input }) => updateVmr(ctx.dom, input.id, input.patch)),
  delete: permittedProcedure('vmr', 'add_remove').input(z.object({ id: z.number().int() })).mutation(async ({ ctx, input }) => {
    await deleteVmr(ctx.dom, input.id);
    return true;
  }),
});
