import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { ACCESS_DENIED, allows } from '../../../shared/admin/permissions.js';
import { bulkPermission, exportCsv, MAX_CSV_LENGTH } from '../../bulk/bulk.service.js';
import { importCsv } from '../../bulk/csvImport.js';
import { ImportJobs } from '../../bulk/ImportJobs.js';
import { CSV_KINDS, type CsvKind } from '../../bulk/csvFormat.js';
import type { Admin } from '../../auth/admin.service.js';
import { adminProcedure, router } from '../trpc.js';

function check(admin: Admin, kind: CsvKind, write: boolean): void {
  const [area, action] = bulkPermission(kind, write);
  if (!allows(admin.permissions, area, action)) throw new TRPCError({ code: 'FORBIDDEN', message: ACCESS_DENIED });
}

const kind = z.enum(CSV_KINDS);

/** Bulk import/export of VMRs, Virtual Auditoriums, Virtual Receptions, device aliases and ADPs as CSV. */
export const bulkRouter = router({
  import: adminProcedure.input(z.object({ kind, csv: z.string().max(MAX_CSV_LENGTH, 'The file is too large (at most 20 MB).') })).mutation(({ ctx, input }) => {
    check(ctx.admin, input.kind, true);
    return importCsv(ctx.dom, input.kind, input.csv);
  }),
  /** Starts an import in the background: its id, whose progress `importJob` reads. */
  startImport: adminProcedure
    .input(z.object({ kind, csv: z.string().max(MAX_CSV_LENGTH, 'The file is too large (at most 20 MB).') }))
    .mutation(({ ctx, input }) => {
      check(ctx.admin, input.kind, true);
      return ImportJobs.of(ctx.dom.db).start(ctx.dom, input.kind, input.csv);
    }),
  importJob: adminProcedure.input(z.object({ id: z.string().uuid() })).query(({ ctx, input }) => {
    const job = ImportJobs.of(ctx.dom.db).get(input.id, ctx.admin.username);
    if (!job) throw new TRPCError({ code: 'NOT_FOUND', message: 'No such import.' });
    return job;
  }),
  export: adminProcedure.input(z.object({ kind })).query(({ ctx, input }) => {
    check(ctx.admin, input.kind, false);
    return exportCsv(ctx.dom, input.kind);
  }),
});
