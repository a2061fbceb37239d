import { z } from 'zod';
import { listNodes, setNodeLocation } from '../../platform/node.service.js';
import { permittedProcedure, router } from '../trpc.js';

/** Conferencing nodes; system locations are configuration objects (config router, `system_location`). */
export const nodeRouter = router({
  list: permittedProcedure('system', 'view').query(({ ctx }) => listNodes(ctx.dom, ctx.registry.isLive)),
  setLocation: permittedProcedure('system', 'modify')
    .input(z.object({ id: z.number().int(), systemLocationId: z.number().int() }))
    .mutation(async ({ ctx, input }) => {
      await setNodeLocation(ctx.dom, input.id, input.systemLocationId);
      return true;
    }),
});
