import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { ACCESS_DENIED, allows } from '../../../shared/admin/permissions.js';
import { automaticBackupSchema, BACKUP_MESSAGES, backupCreateSchema, backupRestoreSchema } from '../../../shared/backup/backup.schema.js';
import {
  createBackup,
  deleteBackup,
  downloadBackup,
  getAutomaticBackupSchedule,
  inspectBackup,
  listBackups,
  restoreBackup,
  setAutomaticBackupPassphrase,
} from '../../backup/backup.service.js';
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
  /** Decrypts and checks the chosen file: what the Restore backup confirmation shows. */
  inspect: restoreProcedure.input(backupRestoreSchema).mutation(({ input }) => inspectBackup(input.archive, input.passphrase)),
  restore: restoreProcedure.input(backupRestoreSchema).mutation(async ({ ctx, input }) => {
    const summary = await restoreBackup(ctx.dom, input.archive, input.passphrase);
    return { summary, message: BACKUP_MESSAGES.restored };
  }),
  getSchedule: permittedProcedure('system', 'view').query(({ ctx }) => getAutomaticBackupSchedule(ctx.dom)),
  setAutomaticPassphrase: permittedProcedure('system', 'modify')
    .input(automaticBackupSchema)
    .mutation(({ ctx, input }) => setAutomaticBackupPassphrase(ctx.dom, input)),
});
