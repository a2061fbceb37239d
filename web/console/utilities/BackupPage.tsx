import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type { BackupFile, BackupSummary } from '../../../shared/backup/backup.schema.js';
import { Field } from '../forms/Field.js';
import { errorMessage, serverFieldErrors, useTRPC } from '../trpc.js';

type Errors = Record<string, string[]>;

function toBase64(bytes: Uint8Array): string {
  let s = '';
  // In slices: String.fromCharCode with a whole file would overflow the argument limit.
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function saveFile(fileName: string, base64: string) {
  const bin = atob(base64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const size = (n: number) => (n >= 1_048_576 ? `${(n / 1_048_576).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1024))} kB`);

/** Messages from a failed call: fields beside the fields, the rest above the form. */
function split(err: unknown): { fields: Errors; form: string } {
  const fields = serverFieldErrors(err);
  const msg = errorMessage(err);
  return { fields, form: Object.keys(fields).length === 0 || msg !== 'Validation failed' ? msg : '' };
}

/** Utilities > Backup/Restore (with Automatic Backups): create, list, download, delete and restore. */
export function BackupPage() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const list = useQuery(trpc.backup.list.queryOptions());
  const schedule = useQuery(trpc.backup.getSchedule.queryOptions());
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.backup.pathKey() });

  // Create backup
  const [create, setCreate] = useState({ passphrase: '', confirm: '' });
  const [createErrors, setCreateErrors] = useState<{ fields: Errors; form: string }>({ fields: {}, form: '' });
  const [created, setCreated] = useState('');
  const createM = useMutation(
    trpc.backup.create.mutationOptions({
      onSuccess: async (r) => {
        setCreate({ passphrase: '', confirm: '' });
        setCreateErrors({ fields: {}, form: '' });
        setCreated(r.message);
        await refresh();
      },
      onError: (err) => {
        setCreated('');
        setCreateErrors(split(err));
      },
    }),
  );
  const submitCreate = (e: FormEvent) => {
    e.preventDefault();
    if (create.passphrase !== create.confirm) return setCreateErrors({ fields: { passphrase_confirm: ['The passphrases do not match.'] }, form: '' });
    createM.mutate({ passphrase: create.passphrase, passphrase_confirm: create.confirm });
  };

  // Existing backup files
  const [listError, setListError] = useState('');
  const download = useMutation(
    trpc.backup.download.mutationOptions({ onSuccess: (r) => saveFile(r.fileName, r.base64), onError: (err) => setListError(errorMessage(err)) }),
  );
  const remove = useMutation(trpc.backup.delete.mutationOptions({ onSuccess: refresh, onError: (err) => setListError(errorMessage(err)) }));

  // Restore backup: choose a file and passphrase, check it, then confirm.
  const [restorePass, setRestorePass] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [pending, setPending] = useState<{ archive: string; passphrase: string; summary: BackupSummary } | null>(null);
  const [restoreErrors, setRestoreErrors] = useState<{ fields: Errors; form: string }>({ fields: {}, form: '' });
  const [restored, setRestored] = useState('');
  const inspect = useMutation(
    trpc.backup.inspect.mutationOptions({
      onSuccess: (summary, input) => {
        setRestoreErrors({ fields: {}, form: '' });
        setPending({ archive: input.archive, passphrase: input.passphrase, summary });
      },
      onError: (err) => setRestoreErrors(split(err)),
    }),
  );
  const restore = useMutation(
    trpc.backup.restore.mutationOptions({
      onSuccess: async (r) => {
        setPending(null);
        setRestorePass('');
        setFile(null);
        setRestored(r.message);
        // Everything on every page may have changed.
        await qc.invalidateQueries();
      },
      onError: (err) => {
        setPending(null);
        setRestoreErrors(split(err));
      },
    }),
  );
  const submitRestore = async (e: FormEvent) => {
    e.preventDefault();
    setRestored('');
    if (!file) return setRestoreErrors({ fields: { archive: ['This field is required.'] }, form: '' });
    const archive = toBase64(new Uint8Array(await file.arrayBuffer()));
    inspect.mutate({ archive, passphrase: restorePass });
  };

  // Automatic backups
  const [auto, setAuto] = useState<{ enabled: boolean | null; passphrase: string; confirm: string }>({ enabled: null, passphrase: '', confirm: '' });
  const [autoErrors, setAutoErrors] = useState<{ fields: Errors; form: string }>({ fields: {}, form: '' });
  const [autoSaved, setAutoSaved] = useState('');
  const autoEnabled = auto.enabled ?? schedule.data?.enabled ?? false;
  const setPassphrase = useMutation(
    trpc.backup.setAutomaticPassphrase.mutationOptions({
      onSuccess: async (r) => {
        setAuto({ enabled: null, passphrase: '', confirm: '' });
        setAutoErrors({ fields: {}, form: '' });
        setAutoSaved(r.enabled ? 'Automatic backups are enabled.' : 'Automatic backups are disabled.');
        await refresh();
      },
      onError: (err) => setAutoErrors(split(err)),
    }),
  );
  const submitAuto = (e: FormEvent) => {
    e.preventDefault();
    setAutoSaved('');
    if (!autoEnabled) return setPassphrase.mutate({ passphrase: '' });
    if (!auto.passphrase) return setAutoErrors({ fields: { passphrase: ['This field is required.'] }, form: '' });
    if (auto.passphrase !== auto.confirm) return setAutoErrors({ fields: { passphrase_confirm: ['The passphrases do not match.'] }, form: '' });
    setPassphrase.mutate({ passphrase: auto.passphrase, passphrase_confirm: auto.confirm });
  };

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
    <section>
      <h1>Backup/Restore</h1>

      <form onSubmit={submitCreate} className="card form" noValidate aria-labelledby="create-backup">
        <h2 id="create-backup">Create backup</h2>
        <p className="meta">The passphrase encrypts the backup file. Remember it: it is required to restore the file.</p>
        <Field id="backup-passphrase" label="Passphrase" error={createErrors.fields.passphrase?.join(' ')}>
          <input id="backup-passphrase" type="password" autoComplete="new-password" value={create.passphrase} onChange={(e) => setCreate({ ...create, passphrase: e.target.value })} />
        </Field>
        <Field id="backup-passphrase-confirm" label="Re-enter passphrase" error={createErrors.fields.passphrase_confirm?.join(' ')}>
          <input id="backup-passphrase-confirm" type="password" autoComplete="new-password" value={create.confirm} onChange={(e) => setCreate({ ...create, confirm: e.target.value })} />
        </Field>
        {createErrors.form && <p role="alert" className="form-error">{createErrors.form}</p>}
        {created && <p role="status">{created}</p>}
        <div className="actions">
          <button type="submit" disabled={createM.isPending}>
            {createM.isPending ? 'Creating…' : 'Create backup'}
          </button>
        </div>
      </form>

      <form onSubmit={submitRestore} className="card form" noValidate aria-labelledby="restore-backup">
        <h2 id="restore-backup">Restore backup</h2>
        <p className="meta">The whole configuration is replaced by the one in the file. The file must come from this software version.</p>
        <Field id="restore-passphrase" label="Passphrase" error={restoreErrors.fields.passphrase?.join(' ')}>
          <input id="restore-passphrase" type="password" autoComplete="off" value={restorePass} onChange={(e) => setRestorePass(e.target.value)} />
        </Field>
        <Field id="restore-file" label="Backup file" error={restoreErrors.fields.archive?.join(' ')}>
          <input id="restore-file" type="file" accept=".bak,application/octet-stream" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
        </Field>
        {restoreErrors.form && <p role="alert" className="form-error">{restoreErrors.form}</p>}
        {restored && <p role="status">{restored}</p>}
        {pending ? (
          <div className="card" role="dialog" aria-labelledby="restore-confirm">
            <h3 id="restore-confirm">Restore Backup</h3>
            <p>
              Backup date: <strong>{new Date(pending.summary.created_at).toLocaleString()}</strong> (version {pending.summary.version})
            </p>
            <p>
              It holds {pending.summary.counts.conference ?? 0} services, {pending.summary.counts.system_location ?? 0} system locations,{' '}
              {pending.summary.counts.conferencing_node ?? 0} conferencing nodes and {pending.summary.counts.admin_user ?? 0} administrator accounts. The current
              configuration will be replaced.
            </p>
            <div className="actions">
              <button type="button" className="danger" disabled={restore.isPending} onClick={() => restore.mutate({ archive: pending.archive, passphrase: pending.passphrase })}>
                {restore.isPending ? 'Restoring…' : 'Restore backup'}
              </button>
              <button type="button" className="secondary" onClick={() => setPending(null)}>
                Cancel
              </button>
            </div>
          </div>
        ) : (
          <div className="actions">
            <button type="submit" disabled={inspect.isPending}>
              Restore backup
            </button>
          </div>
        )}
      </form>

      <form onSubmit={submitAuto} className="card form" noValidate aria-labelledby="automatic-backups">
        <h2 id="automatic-backups">Automatic backups</h2>
        <p className="meta">
          Taken daily at 01:02 UTC; the 5 most recent are kept.
          {schedule.data?.enabled && <> Next: {new Date(schedule.data.next_run).toLocaleString()}.</>}
        </p>
        <Field id="auto-enabled" label="Enable automatic backups">
          <input id="auto-enabled" type="checkbox" checked={autoEnabled} onChange={(e) => setAuto({ ...auto, enabled: e.target.checked })} />
        </Field>
        {autoEnabled && (
          <>
            <Field
              id="auto-passphrase"
              label="Backup passphrase"
              error={autoErrors.fields.passphrase?.join(' ')}
              hint={schedule.data?.enabled ? 'A passphrase is set; enter a new one to change it.' : undefined}
            >
              <input id="auto-passphrase" type="password" autoComplete="new-password" value={auto.passphrase} onChange={(e) => setAuto({ ...auto, passphrase: e.target.value })} />
            </Field>
            <Field id="auto-passphrase-confirm" label="Re-enter passphrase" error={autoErrors.fields.passphrase_confirm?.join(' ')}>
              <input id="auto-passphrase-confirm" type="password" autoComplete="new-password" value={auto.confirm} onChange={(e) => setAuto({ ...auto, confirm: e.target.value })} />
            </Field>
          </>
        )}
        {autoErrors.form && <p role="alert" className="form-error">{autoErrors.form}</p>}
        {autoSaved && <p role="status">{autoSaved}</p>}
        <div className="actions">
          <button type="submit" disabled={setPassphrase.isPending}>
            Save
          </button>
        </div>
      </form>

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
    </section>
  );
}
