import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRef, useState, type FormEvent } from 'react';
import { MAX_THEME_PACKAGE_BYTES, type Theme } from '../../../shared/theme/theme.schema.js';
import { Field } from '../forms/Field.js';
import { errorMessage, serverFieldErrors, useTRPC } from '../trpc.js';

interface Draft {
  id: number | null;
  name: string;
  description: string;
}
const EMPTY: Draft = { id: null, name: '', description: '' };
const TOO_LARGE = `The theme ZIP file must be no larger than ${MAX_THEME_PACKAGE_BYTES / 1024 / 1024} MB.`;

/** File → base64 (tRPC carries JSON), in chunks so large ZIPs do not overflow the call stack. */
async function toBase64(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** Saves base64 data as a file through a temporary object URL. */
function saveZip(fileName: string, base64: string): void {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  const href = URL.createObjectURL(new Blob([bytes], { type: 'application/zip' }));
  const a = document.createElement('a');
  a.href = href;
  a.download = fileName;
  a.click();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
}

/**
 * Services > Themes: the list, "Add theme" (Name, Description, Theme ZIP), "Change Theme" (a new
 * ZIP replaces all of the theme's files), "Download theme", "Download Base theme", delete.
 */
export function ThemesPage() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const list = useQuery(trpc.theme.list.queryOptions({}));
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [file, setFile] = useState<File | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [formError, setFormError] = useState('');
  const [busy, setBusy] = useState(false);
  const [downloadError, setDownloadError] = useState('');

  const reset = () => {
    setDraft(EMPTY);
    setFile(null);
    if (fileInput.current) fileInput.current.value = '';
    setErrors({});
    setFormError('');
  };
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.theme.pathKey() });
  const onError = (err: unknown) => {
    const fields = serverFieldErrors(err);
    setErrors(fields);
    setFormError(Object.keys(fields).length ? '' : errorMessage(err));
  };
  const onSuccess = async () => {
    reset();
    await refresh();
  };
  const create = useMutation(trpc.theme.create.mutationOptions({ onSuccess, onError }));
  const update = useMutation(trpc.theme.update.mutationOptions({ onSuccess, onError }));
  const remove = useMutation(trpc.theme.delete.mutationOptions({ onSuccess: refresh }));

  const download = async (fetcher: () => Promise<{ fileName: string; base64: string }>) => {
    setDownloadError('');
    try {
      const { fileName, base64 } = await fetcher();
      saveZip(fileName, base64);
    } catch (err) {
      setDownloadError(errorMessage(err));
    }
  };
  const downloadBase = () => download(() => qc.fetchQuery(trpc.theme.basePackage.queryOptions()));
  const downloadTheme = (t: Theme) => download(() => qc.fetchQuery({ ...trpc.theme.download.queryOptions({ id: t.id }), staleTime: 0 }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (file && file.size > MAX_THEME_PACKAGE_BYTES) return setErrors({ package: [TOO_LARGE] });
    setBusy(true);
    try {
      const pkg = file ? await toBase64(file) : undefined;
      if (draft.id === null) await create.mutateAsync({ name: draft.name, description: draft.description, package: pkg ?? '' });
      else await update.mutateAsync({ id: draft.id, patch: { name: draft.name, description: draft.description, package: pkg } });
    } catch {
      // shown by onError
    } finally {
      setBusy(false);
    }
  };
  const edit = (t: Theme) => {
    reset();
    setDraft({ id: t.id, name: t.name, description: t.description });
  };

  return (
    <section>
      <div className="page-head">
        <h1>Themes</h1>
        <button type="button" className="secondary" onClick={() => void downloadBase()}>
          Download Base theme
        </button>
      </div>
      {list.error && <p role="alert">{errorMessage(list.error)}</p>}
      {remove.error && <p role="alert">{errorMessage(remove.error)}</p>}
      {downloadError && <p role="alert">{downloadError}</p>}
      <table>
        <thead>
          <tr>
            <th>Name</th>
            <th>Description</th>
            <th>Files</th>
            <th>Style</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list.data?.items.map((t) => (
            <tr key={t.id}>
              <td>
                <button type="button" className="link" onClick={() => edit(t)}>
                  {t.name}
                </button>
              </td>
              <td>{t.description}</td>
              <td title={t.files.join('\n')}>{t.files.length}</td>
              <td>{t.theme_version === 2 ? 'New style' : 'Legacy'}</td>
              <td className="actions">
                <button type="button" className="link" onClick={() => void downloadTheme(t)}>
                  Download theme
                </button>
                <button type="button" className="danger" onClick={() => window.confirm(`Delete "${t.name}"?`) && remove.mutate({ id: t.id })}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
          {list.data && list.data.items.length === 0 && (
            <tr>
              <td colSpan={5} className="empty">
                No themes yet: the Base theme is used.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <form onSubmit={(e) => void submit(e)} className="card form" noValidate>
        <h2>{draft.id === null ? 'Add theme' : `Change Theme: ${draft.name}`}</h2>
        <Field id="theme-name" label="Name" error={errors.name?.join(' ')}>
          <input id="theme-name" value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} />
        </Field>
        <Field id="theme-description" label="Description" error={errors.description?.join(' ')}>
          <input id="theme-description" value={draft.description} onChange={(e) => setDraft({ ...draft, description: e.target.value })} />
        </Field>
        <Field
          id="theme-package"
          label="Theme"
          error={errors.package?.join(' ')}
          hint={draft.id === null ? 'A ZIP file of the files and settings that replace the Base theme’s.' : 'Optional: a new ZIP file replaces all of this theme’s files.'}
        >
          <input
            id="theme-package"
            ref={fileInput}
            type="file"
            accept=".zip,application/zip"
            onChange={(e) => setFile(e.target.files?.[0] ?? null)}
          />
        </Field>
        {formError && <p role="alert" className="form-error">{formError}</p>}
        <div className="actions">
          <button type="submit" disabled={busy}>
            {busy ? 'Uploading…' : 'Save'}
          </button>
          {draft.id !== null && (
            <button type="button" className="secondary" onClick={reset}>
              Cancel
            </button>
          )}
        </div>
      </form>
    </section>
  );
}
