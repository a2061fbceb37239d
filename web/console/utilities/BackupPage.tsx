import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm, useWatch } from 'react-hook-form';
import { z } from 'zod';
import {
  automaticBackupSchema,
  BACKUP_MESSAGES,
  backupCreateSchema,
  backupRestoreSchema,
  type BackupFile,
  type BackupSummary,
} from '../../../shared/backup/backup.schema.js';
import { Field } from '../forms/Field.js';
import { FormFooter } from '../forms/FormParts.js';
import { useServerErrors } from '../forms/useServerErrors.js';
import { errorMessage, useTRPC } from '../trpc.js';
import { saveFile } from '../files/saveFile.js';

function toBase64(bytes: Uint8Array): string {
  let s = '';
  // In slices: String.fromCharCode with a whole file would overflow the argument limit.
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

const size = (n: number) => (n >= 1_048_576 ? `${(n / 1_048_576).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1024))} kB`);

/** Create backup: the shared schema, with Re-enter passphrase always given in the console. */
const createForm = backupCreateSchema;
type CreateForm = z.input<typeof createForm>;

function CreateBackupForm({ onCreated }: { onCreated: () => Promise<unknown> }) {
  const trpc = useTRPC();
  const [created, setCreated] = useState('');
  const { register, handleSubmit, formState, setError, reset } = useForm<CreateForm>({
    resolver: zodResolver(createForm),
    defaultValues: { passphrase: '', passphrase_confirm: '' },
  });
  const onError = useServerErrors(setError);
  const create = useMutation(
    trpc.backup.create.mutationOptions({
      onSuccess: async (r) => {
        reset();
        setCreated(r.message);
        await onCreated();
      },
      onError,
    }),
  );
  const e = formState.errors;
  return (
    <form onSubmit={handleSubmit((v) => (setCreated(''), create.mutate(v)))} className="card form" noValidate aria-labelledby="create-backup">
      <h2 id="create-backup">Create backup</h2>
      <p className="meta">The passphrase encrypts the backup file. Remember it: it is required to restore the file.</p>
      <Field id="backup-passphrase" label="Passphrase" error={e.passphrase?.message}>
        <input id="backup-passphrase" type="password" autoComplete="new-password" {...register('passphrase')} />
      </Field>
      <Field id="backup-passphrase-confirm" label="Re-enter passphrase" error={e.passphrase_confirm?.message}>
        <input id="backup-passphrase-confirm" type="password" autoComplete="new-password" {...register('passphrase_confirm')} />
      </Field>
      {created && <p role="status">{created}</p>}
      <FormFooter rootError={e.root?.message} canSave pending={create.isPending} saveLabel={create.isPending ? 'Creating…' : 'Create backup'} />
    </form>
  );
}

/** Restore: the file chosen in the browser stands for the shared schema's base64 `archive`. */
const restoreForm = z.object({
  passphrase: backupRestoreSchema.shape.passphrase,
  archive: z.custom<FileList>((v) => v instanceof FileList && v.length > 0, BACKUP_MESSAGES.required),
});
type RestoreForm = z.input<typeof restoreForm>;
type Pending = { archive: string; passphrase: string; summary: BackupSummary };

function RestoreBackupForm() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [pending, setPending] = useState<Pending | null>(null);
  const [restored, setRestored] = useState('');
  const { register, handleSubmit, formState, setError, reset } = useForm<RestoreForm>({
    resolver: zodResolver(restoreForm),
    defaultValues: { passphrase: '' },
  });
  const onError = useServerErrors(setError);
  const inspect = useMutation(trpc.backup.inspect.mutationOptions({ onSuccess: (summary, input) => setPending({ ...input, summary }), onError }));
  const restore = useMutation(
    trpc.backup.restore.mutationOptions({
      onSuccess: async (r) => {
        setPending(null);
        reset();
        setRestored(r.message);
        // Everything on every page may have changed.
        await qc.invalidateQueries();
      },
      onError: (err) => {
        setPending(null);
        onError(err);
      },
    }),
  );
  const submit = handleSubmit(async (v) => {
    setRestored('');
    inspect.mutate({ archive: toBase64(new Uint8Array(await v.archive[0]!.arrayBuffer())), passphrase: v.passphrase });
  });
  const e = formState.errors;
  return (
    <form onSubmit={submit} className="card form" noValidate aria-labelledby="restore-backup">
      <h2 id="restore-backup">Restore backup</h2>
      <p className="meta">The whole configuration is replaced by the one in the file. The file must come from this software version.</p>
      <Field id="restore-passphrase" label="Passphrase" error={e.passphrase?.message}>
        <input id="restore-passphrase" type="password" autoComplete="off" {...register('passphrase')} />
      </Field>
      <Field id="restore-file" label="Backup file" error={e.archive?.message}>
        <input id="restore-file" type="file" accept=".bak,application/octet-stream" {...register('archive')} />
      </Field>
      {restored && <p role="status">{restored}</p>}
      {pending ? (
        <ConfirmRestore
          pending={pending}
          busy={restore.isPending}
          onRestore={() => restore.mutate({ archive: pending.archive, passphrase: pending.passphrase })}
          onCancel={() => setPending(null)}
        />
      ) : (
        <FormFooter rootError={e.root?.message} canSave pending={inspect.isPending} saveLabel="Restore backup" />
      )}
    </form>
  );
}

function ConfirmRestore({ pending, busy, onRestore, onCancel }: { pending: Pending; busy: boolean; onRestore: () => void; onCancel: () => void }) {
  const c = pending.summary.counts;
  return (
    <div className="card" role="dialog" aria-labelledby="restore-confirm">
      <h3 id="restore-confirm">Restore Backup</h3>
      <p>
        Backup date: <strong>{new Date(pending.summary.created_at).toLocaleString()}</strong> (version {pending.summary.version})
      </p>
      <p>
        It holds {c.conference ?? 0} services, {c.system_location ?? 0} system locations, {c.conferencing_node ?? 0} conferencing nodes and {c.admin_user ?? 0}{' '}
        administrator accounts. The current configuration will be replaced.
      </p>
      {busy && (
        // The server replaces the configuration in one transaction: how far it is cannot be told, only that it runs.
        <div className="import-progress">
          <progress aria-label="Restoring the backup" />
          <span className="meta">Restoring the configuration; the rest of the console stays usable.</span>
        </div>
      )}
      <div className="actions">
        <button type="button" className="danger" disabled={busy} onClick={onRestore}>
          {busy ? 'Restoring…' : 'Restore backup'}
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </div>
  );
}

/** Automatic backups: the shared schema (an empty passphrase turns them off) behind an Enable switch. */
const automaticForm = z
  .object({ enabled: z.boolean(), passphrase: automaticBackupSchema.shape.passphrase, passphrase_confirm: z.string() })
  .superRefine((v, ctx) => {
    if (!v.enabled) return;
    if (!v.passphrase) ctx.addIssue({ code: 'custom', path: ['passphrase'], message: BACKUP_MESSAGES.required });
    else if (v.passphrase !== v.passphrase_confirm) ctx.addIssue({ code: 'custom', path: ['passphrase_confirm'], message: BACKUP_MESSAGES.mismatch });
  });
type AutomaticForm = z.input<typeof automaticForm>;

function AutomaticBackupsForm({ onSaved }: { onSaved: () => Promise<unknown> }) {
  const trpc = useTRPC();
  const schedule = useQuery(trpc.backup.getSchedule.queryOptions());
  const [saved, setSaved] = useState('');
  const scheduled = schedule.data?.enabled ?? false;
  const { register, handleSubmit, formState, setError, reset, control } = useForm<AutomaticForm>({
    resolver: zodResolver(automaticForm),
    values: { enabled: scheduled, passphrase: '', passphrase_confirm: '' },
  });
  const enabled = useWatch({ control, name: 'enabled' });
  const onError = useServerErrors(setError);
  const save = useMutation(
    trpc.backup.setAutomaticPassphrase.mutationOptions({
      onSuccess: async (r) => {
        setSaved(r.enabled ? 'Automatic backups are enabled.' : 'Automatic backups are disabled.');
        reset();
        await onSaved();
      },
      onError,
    }),
  );
  const submit = handleSubmit((v) => {
    setSaved('');
    save.mutate(v.enabled ? { passphrase: v.passphrase, passphrase_confirm: v.passphrase_confirm } : { passphrase: '' });
  });
  const e = formState.errors;
  return (
    <form onSubmit={submit} className="card form" noValidate aria-labelledby="automatic-backups">
      <h2 id="automatic-backups">Automatic backups</h2>
      <p className="meta">
        Taken daily at 01:02 UTC; the 5 most recent are kept.
        {schedule.data?.enabled && <> Next: {new Date(schedule.data.next_run).toLocaleString()}.</>}
      </p>
      <Field id="auto-enabled" label="Enable automatic backups">
        <input id="auto-enabled" type="checkbox" {...register('enabled')} />
      </Field>
      {enabled && (
        <>
          <Field
            id="auto-passphrase"
            label="Backup passphrase"
            error={e.passphrase?.message}
            hint={scheduled ? 'A passphrase is set; enter a new one to change it.' : undefined}
          >
            <input id="auto-passphrase" type="password" autoComplete="new-password" {...register('passphrase')} />
          </Field>
          <Field id="auto-passphrase-confirm" label="Re-enter passphrase" error={e.passphrase_confirm?.message}>
            <input id="auto-passphrase-confirm" type="password" autoComplete="new-password" {...register('passphrase_confirm')} />
          </Field>
        </>
      )}
      {saved && <p role="status">{saved}</p>}
      <FormFooter rootError={e.root?.message} canSave pending={save.isPending} />
    </form>
  );
}

function BackupFiles() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const list = useQuery(trpc.backup.list.queryOptions());
  const [listError, setListError] = useState('');
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.backup.pathKey() });
  const download = useMutation(
    trpc.backup.download.mutationOptions({ onSuccess: (r) => saveFile(r.fileName, r.base64), onError: (err) => setListError(errorMessage(err)) }),
  );
  const remove = useMutation(trpc.backup.delete.mutationOptions({ onSuccess: refresh, onError: (err) => setListError(errorMessage(err)) }));
  const row = (b: BackupFile) => (
    <tr key={b.id} data-testid="backup-file">
      <td>{b.file_name}</td>
      <td>{b.kind === 'automatic' ? 'Automatic' : 'Manual'}</td>
      <td>{new Date(b.created_at).toLocaleString()}</td>
      <td>{size(b.size)}</td>
      <td className="actions">
        <button type="button" className="secondary" onClick={() => download.mutate({ id: b.id })}>
          Download backup
        </button>
        <button type="button" className="danger" onClick={() => window.confirm(`Delete the backup file "${b.file_name}"?`) && remove.mutate({ id: b.id })}>
          Delete backup
        </button>
      </td>
    </tr>
  );
  return (
    <>
      <h2>Existing backup files</h2>
      {(list.error || listError) && <p role="alert">{list.error ? errorMessage(list.error) : listError}</p>}
      <table>
        <thead>
          <tr>
            <th>File name</th>
            <th>Type</th>
            <th>Date</th>
            <th>Size</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list.data?.map(row)}
          {list.data?.length === 0 && (
            <tr>
              <td colSpan={5} className="empty">
                No backup files.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </>
  );
}

/** Utilities > Backup/Restore (with Automatic Backups): create, list, download, delete and restore. */
export function BackupPage() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.backup.pathKey() });
  return (
    <section>
      <h1>Backup/Restore</h1>
      <CreateBackupForm onCreated={refresh} />
      <RestoreBackupForm />
      <AutomaticBackupsForm onSaved={refresh} />
      <BackupFiles />
    </section>
  );
}
