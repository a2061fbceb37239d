import { z } from 'zod';
import { listAdminLog } from '../../audit/adminLog.service.js';
import { permittedProcedure, router } from '../trpc.js';

export const adminLogListSchema = z.object({
  search: z.string().max(250).optional(),
  offset: z.number().int().min(0).default(0),
  limit: z.number().int().min(1).max(500).default(50),
});

/** The administrator log: who changed what, newest first. */
export const adminLogRouter = router({
  list: permittedProcedure('logs', 'view')
    .input(adminLogListSchema)
    .query(({ ctx, input }) => listAdminLog(ctx.dom, input)),
});
