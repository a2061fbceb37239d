import { on } from 'node:events';
import { permittedProcedure, router } from '../trpc.js';

export const statusRouter = router({
  conferences: permittedProcedure('status', 'view').query(({ ctx }) => ctx.status.conferences()),
  /** The live conference list: the current one at once, then a new one after every change. */
  live: permittedProcedure('status', 'view').subscription(async function* ({ ctx, signal }) {
    yield ctx.status.conferences();
    const changes = on(ctx.status, 'changed', { signal });
    while (!(await changes.next()).done) yield ctx.status.conferences();
  }),
});
