import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { z } from 'zod';
import { MAX_THEME_PACKAGE_BYTES, THEME_MESSAGES, themeFieldsSchema, type Theme } from '../../../shared/theme/theme.schema.js';
import { Field } from '../forms/Field.js';
import { FormFooter } from '../forms/FormParts.js';
import { useServerErrors } from '../forms/useServerErrors.js';
import { errorMessage, useTRPC } from '../trpc.js';

const TOO_LARGE = `The theme ZIP file must be no larger than ${MAX_THEME_PACKAGE_BYTES / 1024 / 1024} MB.`;

/** Name and Description from the shared schema; the ZIP is the file chosen (required to add a theme). */
const themeForm = (adding: boolean) =>
  themeFieldsSchema.extend({
    package: z
      .custom<FileList>((v) => v instanceof FileList, THEME_MESSAGES.packageRequired)
      .refine((files) => !adding || files.length > 0, THEME_MESSAGES.packageRequired)
      .refine((files) => (files[0]?.size ?? 0) <= MAX_THEME_PACKAGE_BYTES, TOO_LARGE),
  });
type ThemeForm = z.input<ReturnType<typeof themeForm>>;
type ThemeValues = z.output<ReturnType<typeof themeForm>>;

/** File → base64 (tRPC carries JSON), in chunks so large ZIPs do not overflow the call stack. */
async function toBase64(file: File | undefined): Promise<string | undefined> {
  if (!file) return undefined;
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

/** "Add theme" (Name, Description, Theme ZIP) or "Change Theme" (a new ZIP replaces all of the theme's files). */
function ThemeFormCard({ editing, onDone }: { editing: Theme | null; onDone: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const { register, handleSubmit, formState, setError } = useForm<ThemeForm, unknown, ThemeValues>({
    resolver: zodResolver(themeForm(editing === null)),
    defaultValues: { name: editing?.name ?? '', description: editing?.description ?? '' },
  });
  const onError = useServerErrors(setError);
  const onSuccess = async () => {
    await qc.invalidateQueries({ queryKey: trpc.theme.pathKey() });
    onDone();
  };
  const create = useMutation(trpc.theme.create.mutationOptions({ onSuccess, onError }));
  const update = useMutation(trpc.theme.update.mutationOptions({ onSuccess, onError }));
  const submit = handleSubmit(async (v) => {
    const pkg = await toBase64(v.package[0]);
    if (editing === null) create.mutate({ name: v.name, description: v.description, package: pkg ?? '' });
    else update.mutate({ id: editing.id, patch: { name: v.name, description: v.description, package: pkg } });
  });
  const busy = formState.isSubmitting || create.isPending || update.isPending;
  const e = formState.errors;
  return (
    <form onSubmit={submit} className="card form" noValidate>
      <h2>{editing === null ? 'Add theme' : `Change Theme: ${editing.name}`}</h2>
      <Field id="theme-name" label="Name" error={e.name?.message}>
        <input id="theme-name" {...register('name')} />
      </Field>
      <Field id="theme-description" label="Description" error={e.description?.message}>
        <input id="theme-description" {...register('description')} />
      </Field>
      <Field
        id="theme-package"
        label="Theme"
        error={e.package?.message}
        hint={
          editing === null
            ? 'A ZIP file of the files and settings that replace the Base theme’s.'
            : 'Optional: a new ZIP file replaces all of this theme’s files.'
        }
      >
        <input id="theme-package" type="file" accept=".zip,application/zip" {...register('package')} />
      </Field>
      <FormFooter rootError={e.root?.message} canSave pending={busy} saveLabel={busy ? 'Uploading…' : 'Save'}>
        {editing !== null && (
          <button type="button" className="secondary" onClick={onDone}>
            Cancel
          </button>
        )}
      </FormFooter>
    </form>
  );
}

/**
 * Services > Themes: the list, "Add theme", "Change Theme", "Download theme", "Download Base
 * theme", delete.
 */
export function ThemesPage() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const list = useQuery(trpc.theme.list.queryOptions({}));
  const [editing, setEditing] = useState<Theme | null>(null);
  // A new key gives a fresh form after each save or cancel.
  const [formKey, setFormKey] = useState(0);
  const [downloadError, setDownloadError] = useState('');
  const remove = useMutation(trpc.theme.delete.mutationOptions({ onSuccess: () => qc.invalidateQueries({ queryKey: trpc.theme.pathKey() }) }));
  const closeForm = () => {
    setEditing(null);
    setFormKey((k) => k + 1);
  };
  const edit = (t: Theme) => {
    setEditing(t);
    setFormKey((k) => k + 1);
  };

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
      <ThemeFormCard key={formKey} editing={editing} onDone={closeForm} />
    </section>
  );
}
