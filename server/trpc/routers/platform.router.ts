import { z } from 'zod';
import { systemLocationPatchSchema, systemLocationSchema } from '../../../shared/conference/location.schema.js';
import { createLocation, deleteLocation, listLocations, updateLocation } from '../../platform/location.service.js';
import { listNodes, setNodeLocation } from '../../platform/node.service.js';
import { permittedProcedure, router } from '../trpc.js';

export const locationRouter = router({
  list: permittedProcedure('system', 'view').query(({ ctx }) => listLocations(ctx.dom)),
  create: permittedProcedure('system', 'add_remove').input(systemLocationSchema).mutation(({ ctx, input }) => createLocation(ctx.dom, input)),
  update: permittedProcedure('system', 'modify')
    .input(z.object({ id: z.number().int(), patch: systemLocationPatchSchema }))
    .mutation(({ ctx, input }) => updateLocation(ctx.dom, input.id, input.patch)),
  delete: permittedProcedure('system', 'add_remove').input(z.object({ id: z.number().int() })).mutation(async ({ ctx, input }) => {
    await deleteLocation(ctx.dom, input.id);
    return true;
  }),
});

export const nodeRouter = router({
  list: permittedProcedure('system', 'view').query(({ ctx }) => listNodes(ctx.dom, ctx.registry.isLive)),
  setLocation: permittedProcedure('system', 'modify')
    .input(z.object({ id: z.number().int(), systemLocationId: z.number().int() }))
    .mutation(async ({ ctx, input }) => {
      await setNodeLocation(ctx.dom, input.id, input.systemLocationId);
      return true;
    }),
});
