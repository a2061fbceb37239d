import { z } from 'zod';

/** Messages in the guide's words where it has them (Utilities > Backup/Restore). */
export const BACKUP_MESSAGES = {
  required: 'This field is required.',
  tooLong: 'Ensure this value has at most 1000 characters.',
  mismatch: 'The passphrases do not match.',
  created: (fileName: string) => `Successfully created the backup file: ${fileName}`,
  restored: 'Successfully restored the backup file',
  restoreFailed: 'Failed to restore the system from the backup file',
  decryption: 'Decryption Error: decryption failed',
  notBackup: 'The file is not a backup file.',
  otherVersion: (theirs: string, ours: string) => `This backup was made by version ${theirs} and cannot be restored on version ${ours}.`,
  automaticCreated: 'Created automatic system backup',
} as const;

// The management API caps the passphrase at 1000 characters (platform/backup_create).
const passphrase = z.string({ error: BACKUP_MESSAGES.required }).min(1, BACKUP_MESSAGES.required).max(1000, BACKUP_MESSAGES.tooLong);

/** Create backup: Passphrase and Re-enter passphrase. The REST API sends only `passphrase`. */
export const backupCreateSchema = z
  .object({ passphrase, passphrase_confirm: z.string().optional() })
  .refine((v) => v.passphrase_confirm === undefined || v.passphrase_confirm === v.passphrase, {
    message: BACKUP_MESSAGES.mismatch,
    path: ['passphrase_confirm'],
  });
export type BackupCreate = z.infer<typeof backupCreateSchema>;

/** Restore backup: the uploaded file (base64 over JSON) and its passphrase. */
export const backupRestoreSchema = z.object({
  archive: z.string({ error: BACKUP_MESSAGES.required }).min(1, BACKUP_MESSAGES.required),
  passphrase,
});

/** Where the console uploads a backup file (the raw body, streamed to disk); it answers an upload id. */
export const RESTORE_UPLOAD_PATH = '/upload/restore/';

/** Restore backup from the console: the uploaded file by its id, and its passphrase. */
export const backupRestoreUploadSchema = z.object({ upload: z.string().uuid(), passphrase });

/** Automatic backups: an empty passphrase turns them off. */
export const automaticBackupSchema = z
  .object({ passphrase: z.string().max(1000, BACKUP_MESSAGES.tooLong), passphrase_confirm: z.string().optional() })
  .refine((v) => v.passphrase_confirm === undefined || v.passphrase_confirm === v.passphrase, {
    message: BACKUP_MESSAGES.mismatch,
    path: ['passphrase_confirm'],
  });

export type BackupKind = 'manual' | 'automatic';

export interface BackupFile {
  id: number;
  kind: BackupKind;
  file_name: string;
  version: string;
  size: number;
  created_at: string;
}

/** What the Restore backup confirmation shows before anything is replaced, and what a restore restored. */
export interface BackupSummary {
  created_at: string;
  version: string;
  schema: string;
  /** Rows per configuration table in the archive. */
  counts: Record<string, number>;
}
