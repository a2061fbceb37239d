import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { ACCESS_DENIED, allows } from '../../../shared/admin/permissions.js';
import { automaticBackupSchema, BACKUP_MESSAGES, backupCreateSchema, backupRestoreUploadSchema } from '../../../shared/backup/backup.schema.js';
import {
  createBackup,
  deleteBackup,
  downloadBackup,
  getAutomaticBackupSchedule,
  inspectBackup,
  listBackups,
  setAutomaticBackupPassphrase,
} from '../../backup/backup.service.js';
import { RestoreJobs } from '../../backup/RestoreJobs.js';
import { RestoreUploads } from '../../backup/RestoreUploads.js';
import { permittedProcedure, router } from '../trpc.js';

const byId = z.object({ id: z.number().int() });

/** A restore replaces administrator accounts and roles too: it also needs "May modify authentication configuration". */
const restoreProcedure = permittedProcedure('system', 'add_remove').use(({ ctx, next }) => {
  if (!allows(ctx.admin.permissions, 'authentication', 'modify')) throw new TRPCError({ code: 'FORBIDDEN', message: ACCESS_DENIED });
  return next();
});

/** Utilities > Backup/Restore and Utilities > Automatic Backups. */
export const backupRouter = router({
  list: permittedProcedure('system', 'view').query(({ ctx }) => listBackups(ctx.dom)),
  create: permittedProcedure('system', 'add_remove')
    .input(backupCreateSchema)
    .mutation(async ({ ctx, input }) => {
      const file = await createBackup(ctx.dom, { ...input, kind: 'manual' });
      return { file, message: BACKUP_MESSAGES.created(file.file_name) };
    }),
  delete: permittedProcedure('system', 'add_remove')
    .input(byId)
    .mutation(async ({ ctx, input }) => {
      await deleteBackup(ctx.dom, input.id);
      return true;
    }),
  // The file holds every account's password hash: downloading needs modify rights, not just view.
  download: permittedProcedure('system', 'modify')
    .input(byId)
    .mutation(async ({ ctx, input }) => {
      const { fileName, archive } = await downloadBackup(ctx.dom, input.id);
      return { fileName, base64: archive.toString('base64') };
    }),
  /** Decrypts and checks the uploaded file (RESTORE_UPLOAD_PATH): what the Restore backup confirmation shows. */
  inspect: restoreProcedure
    .input(backupRestoreUploadSchema)
    .mutation(({ ctx, input }) => inspectBackup({ path: RestoreUploads.of(ctx.dom.db).pathOf(input.upload, ctx.admin.username) }, input.passphrase)),
  /** Starts restoring the uploaded file in the background: the job whose progress `restoreJob` reads. */
  startRestore: restoreProcedure.input(backupRestoreUploadSchema).mutation(({ ctx, input }) => {
    const uploads = RestoreUploads.of(ctx.dom.db);
    const path = uploads.pathOf(input.upload, ctx.admin.username);
    return RestoreJobs.of(ctx.dom.db).start(ctx.dom, { path }, input.passphrase, () => uploads.remove(input.upload)).view;
  }),
  restoreJob: restoreProcedure.input(z.object({ id: z.string().uuid() })).query(({ ctx, input }) => {
    const job = RestoreJobs.of(ctx.dom.db).get(input.id, ctx.admin.username);
    if (!job) throw new TRPCError({ code: 'NOT_FOUND', message: 'No such restore.' });
    return job;
  }),
  /** The confirmation cancelled: the uploaded file goes at once. */
  discardUpload: restoreProcedure.input(z.object({ upload: z.string().uuid() })).mutation(async ({ ctx, input }) => {
    RestoreUploads.of(ctx.dom.db).pathOf(input.upload, ctx.admin.username);
    await RestoreUploads.of(ctx.dom.db).remove(input.upload);
    return true;
  }),
  getSchedule: permittedProcedure('system', 'view').query(({ ctx }) => getAutomaticBackupSchedule(ctx.dom)),
  setAutomaticPassphrase: permittedProcedure('system', 'modify')
    .input(automaticBackupSchema)
    .mutation(({ ctx, input }) => setAutomaticBackupPassphrase(ctx.dom, input)),
});
