import { on } from 'node:events';
import { adminProcedure, router } from '../trpc.js';

export const statusRouter = router({
  conferences: adminProcedure.query(({ ctx }) => ctx.status.conferences()),
  /** The live conference list: the current one at once, then a new one after every change. */
  live: adminProcedure.subscription(async function* ({ ctx, signal }) {
    yield ctx.status.conferences();
    for await (const _ of on(ctx.status, 'changed', { signal })) {
      yield ctx.status.conferences();
    }
  }),
});
