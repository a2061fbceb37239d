import { supportLogQuerySchema } from '../../../shared/admin/supportLog.schema.js';
import { AppError } from '../../errors/AppError.js';
import type { SupportLog } from '../../supportLog/SupportLog.js';
import { permittedProcedure, router, type Context } from '../trpc.js';

function supportLog(ctx: Context): SupportLog {
  if (!ctx.supportLog) throw new AppError('INTERNAL', 'The support log is not kept on this server.');
  return ctx.supportLog;
}

/** The support log of the management node and every conferencing node ("May view logs"). */
export const supportLogRouter = router({
  list: permittedProcedure('logs', 'view')
    .input(supportLogQuerySchema)
    .query(({ ctx, input }) => supportLog(ctx).list(input)),
  sources: permittedProcedure('logs', 'view').query(({ ctx }) => supportLog(ctx).sources()),
});
