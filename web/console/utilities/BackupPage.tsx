import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useForm, useWatch } from 'react-hook-form';
import { z } from 'zod';
import {
  automaticBackupSchema,
  BACKUP_MESSAGES,
  backupCreateSchema,
  backupRestoreSchema,
  type BackupFile,
  RESTORE_UPLOAD_PATH,
  type BackupSummary,
} from '../../../shared/backup/backup.schema.js';
import { Field } from '../forms/Field.js';
import { FormFooter } from '../forms/FormParts.js';
import { useServerErrors } from '../forms/useServerErrors.js';
import { errorMessage, useTRPC, type RouterOutputs } from '../trpc.js';
import { saveFile } from '../files/saveFile.js';

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

/** Restore: the chosen file is uploaded (streamed to the server's disk), then checked and restored by its id. */
const restoreForm = z.object({
  passphrase: backupRestoreSchema.shape.passphrase,
  archive: z.custom<FileList>((v) => v instanceof FileList && v.length > 0, BACKUP_MESSAGES.required),
});
type RestoreForm = z.input<typeof restoreForm>;
type Pending = { upload: string; passphrase: string; summary: BackupSummary };
type RestoreJob = RouterOutputs['backup']['restoreJob'];
const finished = (job: RestoreJob | undefined) => job?.stage === 'done' || job?.stage === 'failed';
const count = (n: number) => n.toLocaleString('en');

/** Field errors as the server answers them ({field: [messages], error}). */
class UploadError extends Error {
  constructor(
    message: string,
    readonly fields: Record<string, string[]>,
  ) {
    super(message);
  }
}

/** Sends the file as the request body (XMLHttpRequest: fetch cannot report upload progress). */
function uploadBackup(file: File, onProgress: (sent: number) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', RESTORE_UPLOAD_PATH);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.setRequestHeader('X-Requested-With', 'openmeet-console');
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onerror = () => reject(new Error('The upload failed; check the connection and try again.'));
    xhr.onload = () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(xhr.responseText) as Record<string, unknown>;
      } catch {
        // Not JSON: the status says enough.
      }
      if (xhr.status === 200 && typeof body.id === 'string') return resolve(body.id);
      const fields = Object.fromEntries(Object.entries(body).filter((e): e is [string, string[]] => Array.isArray(e[1])));
      reject(new UploadError(typeof body.error === 'string' ? body.error : `The upload failed (${xhr.status}).`, fields));
    };
    xhr.send(file);
  });
}

/** A restore started from the console and followed until it is over (polled every 250 ms). */
function useRestoreJob(jobId: string | null) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const { data } = useQuery({
    ...trpc.backup.restoreJob.queryOptions({ id: jobId ?? '' }),
    enabled: jobId !== null,
    staleTime: 0,
    refetchInterval: (q) => (finished(q.state.data) ? false : 250),
  });
  const current = data?.id === jobId ? data : undefined;
  const stage = current?.stage;
  useEffect(() => {
    // Everything on every page may have changed.
    if (stage === 'done') void qc.invalidateQueries({ predicate: (q) => !JSON.stringify(q.queryKey).includes('restoreJob') });
  }, [stage, qc]);
  return current;
}

function RestoreBackupForm() {
  const trpc = useTRPC();
  const [pending, setPending] = useState<Pending | null>(null);
  const [uploading, setUploading] = useState<{ sent: number; size: number } | null>(null);
  const [jobId, setJobId] = useState<string | null>(null);
  const { register, handleSubmit, formState, setError, reset } = useForm<RestoreForm>({
    resolver: zodResolver(restoreForm),
    defaultValues: { passphrase: '' },
  });
  const onError = useServerErrors(setError);
  const inspect = useMutation(trpc.backup.inspect.mutationOptions({ onSuccess: (summary, input) => setPending({ ...input, summary }), onError }));
  const discard = useMutation(trpc.backup.discardUpload.mutationOptions());
  const start = useMutation(
    trpc.backup.startRestore.mutationOptions({ onSuccess: (job) => setJobId(job.id), onError: (err) => (setPending(null), onError(err)) }),
  );
  const current = useRestoreJob(jobId);
  const submit = handleSubmit(async (v) => {
    setJobId(null);
    const file = v.archive[0]!;
    setUploading({ sent: 0, size: file.size });
    try {
      const upload = await uploadBackup(file, (sent) => setUploading({ sent, size: file.size }));
      inspect.mutate({ upload, passphrase: v.passphrase });
    } catch (err) {
      if (!(err instanceof UploadError) || Object.keys(err.fields).length === 0) setError('root', { message: errorMessage(err) });
      else for (const [field, messages] of Object.entries(err.fields)) setError(field === 'passphrase' ? field : 'archive', { message: messages.join(' ') });
    } finally {
      setUploading(null);
    }
  });
  const running = start.isPending || (jobId !== null && !finished(current));
  // A finished restore closes the confirmation; a refused one says why beside the fields (nothing was changed).
  const confirming = pending !== null && (jobId === null || running);
  const failed = current?.stage === 'failed' ? current : undefined;
  const e = formState.errors;
  return (
    <form onSubmit={submit} className="card form" noValidate aria-labelledby="restore-backup">
      <h2 id="restore-backup">Restore backup</h2>
      <p className="meta">The whole configuration is replaced by the one in the file. The file must come from this software version.</p>
      <Field id="restore-passphrase" label="Passphrase" error={e.passphrase?.message ?? failed?.fields?.passphrase?.join(' ')}>
        <input id="restore-passphrase" type="password" autoComplete="off" {...register('passphrase')} />
      </Field>
      <Field id="restore-file" label="Backup file" error={e.archive?.message ?? failed?.fields?.archive?.join(' ')}>
        <input
          id="restore-file"
          type="file"
          accept=".bak,application/octet-stream"
          {...register('archive', { onChange: () => (setJobId(null), setPending(null)) })}
        />
      </Field>
      {uploading && <UploadProgress {...uploading} />}
      {current?.stage === 'done' && current.summary && <RestoredSummary summary={current.summary} />}
      {confirming ? (
        <ConfirmRestore
          pending={pending}
          job={running ? current : undefined}
          busy={running}
          onRestore={() => start.mutate({ upload: pending.upload, passphrase: pending.passphrase })}
          onCancel={() => {
            discard.mutate({ upload: pending.upload });
            setPending(null);
            reset();
          }}
        />
      ) : (
        <FormFooter
          rootError={e.root?.message ?? (failed && !failed.fields ? failed.error : undefined)}
          canSave
          pending={uploading !== null || inspect.isPending}
          saveLabel="Restore backup"
        />
      )}
    </form>
  );
}

function UploadProgress({ sent, size: total }: { sent: number; size: number }) {
  return (
    <div className="import-progress">
      <progress aria-label="Uploading the backup file" max={Math.max(1, total)} value={sent} />
      <span className="meta">
        Uploading: {size(sent)} of {size(total)}
      </span>
    </div>
  );
}

/** The rows of the tables people know by name, in the guide's words. */
const RESTORED: [table: string, one: string, many: string][] = [
  ['conference', 'service', 'services'],
  ['conference_alias', 'alias', 'aliases'],
  ['system_location', 'system location', 'system locations'],
  ['conferencing_node', 'conferencing node', 'conferencing nodes'],
  ['admin_user', 'administrator account', 'administrator accounts'],
];
const described = (c: Record<string, number>) => RESTORED.map(([t, one, many]) => `${count(c[t] ?? 0)} ${c[t] === 1 ? one : many}`).join(', ');

function RestoredSummary({ summary }: { summary: BackupSummary }) {
  const rows = Object.values(summary.counts).reduce((a, b) => a + b, 0);
  return (
    <div role="status" data-testid="restore-summary">
      <p>{BACKUP_MESSAGES.restored}.</p>
      <p>
        Restored the configuration of {new Date(summary.created_at).toLocaleString()}: {described(summary.counts)} ({count(rows)} rows in all).
      </p>
    </div>
  );
}

/** Rows read from the file, then the configuration replaced in one short step. */
function RestoreProgressBar({ job }: { job: RestoreJob | undefined }) {
  const total = job?.total ?? 0;
  const text =
    !job || job.stage === 'checking'
      ? 'Checking the file…'
      : job.stage === 'reading'
        ? `Reading rows: ${count(job.read)} of ${count(total)}`
        : 'Replacing the configuration…';
  return (
    <div className="import-progress">
      <progress aria-label="Restoring the backup" max={Math.max(1, total + 1)} value={(job?.read ?? 0) + (job?.stage === 'replacing' ? 1 : 0)} />
      <span className="meta">{text} The rest of the console stays usable.</span>
    </div>
  );
}

function ConfirmRestore({
  pending,
  job,
  busy,
  onRestore,
  onCancel,
}: {
  pending: Pending;
  job: RestoreJob | undefined;
  busy: boolean;
  onRestore: () => void;
  onCancel: () => void;
}) {
  return (
    <div className="card" role="dialog" aria-labelledby="restore-confirm">
      <h3 id="restore-confirm">Restore Backup</h3>
      <p>
        Backup date: <strong>{new Date(pending.summary.created_at).toLocaleString()}</strong> (version {pending.summary.version})
      </p>
      <p>It holds {described(pending.summary.counts)}. The current configuration will be replaced.</p>
      {busy && <RestoreProgressBar job={job} />}
      <div className="actions">
        <button type="button" className="danger" disabled={busy} onClick={onRestore}>
          {busy ? 'Restoring…' : 'Restore backup'}
        </button>
        <button type="button" className="secondary" disabled={busy} onClick={onCancel}>
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
