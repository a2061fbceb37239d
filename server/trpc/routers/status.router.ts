import { breakInBlocks, liftBreakInBlock, liftBreakInBlockInput } from '../../status/breakIn.service.js';
import { permittedProcedure, router, whileSignedIn } from '../trpc.js';

export const statusRouter = router({
  conferences: permittedProcedure('status', 'view').query(({ ctx }) => ctx.status.conferences()),
  /** The live conference list: the current one at once, then a new one after every change. */
  live: permittedProcedure('status', 'view').subscription(({ ctx, signal }) =>
    whileSignedIn(ctx, signal, ctx.status, 'changed', () => ctx.status.conferences()),
  ),
  /** Break-in blocks in force on the nodes: the current list at once, then after every change. */
  breakInBlocks: permittedProcedure('status', 'view').subscription(({ ctx, signal }) =>
    whileSignedIn(ctx, signal, ctx.status.breakIn, 'changed', () => breakInBlocks(ctx.status, ctx.registry)),
  ),
  liftBreakInBlock: permittedProcedure('status', 'modify')
    .input(liftBreakInBlockInput)
    .mutation(async ({ ctx, input }) => {
      const block = await liftBreakInBlock(ctx.dom, ctx.status, ctx.registry, input.block_id);
      return { id: block.id };
    }),
});
