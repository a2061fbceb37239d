import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { z } from 'zod';
import {
  MAX_THEME_PACKAGE_BYTES,
  THEME_MESSAGES,
  THEME_UPLOAD_PATH,
  themeDownloadPath,
  themeFieldsSchema,
  type Theme,
} from '../../../shared/theme/theme.schema.js';
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

/** The server's answer to a refused upload: field errors ({package: [...]}) or {error}. */
class UploadError extends Error {}

/**
 * Sends the chosen ZIP as the raw request body, which the server spools to disk and checks as it
 * arrives (never through tRPC's JSON); the answer names the upload for theme.create / theme.update.
 */
async function uploadPackage(file: File): Promise<string> {
  const res = await fetch(THEME_UPLOAD_PATH, {
    method: 'POST',
    headers: { 'Content-Type': 'application/octet-stream', 'X-Requested-With': 'openmeet-console' },
    body: file,
  });
  const body = (await res.json().catch(() => ({}))) as { id?: unknown; package?: unknown; error?: unknown };
  if (res.ok && typeof body.id === 'string') return body.id;
  const message = Array.isArray(body.package) && typeof body.package[0] === 'string' ? body.package[0] : typeof body.error === 'string' ? body.error : '';
  throw new UploadError(message || `The upload failed (${res.status}).`);
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
    const file = v.package[0];
    let upload: string | undefined;
    try {
      upload = file ? await uploadPackage(file) : undefined;
    } catch (err) {
      setError('package', { message: err instanceof UploadError ? err.message : 'The upload failed; check the connection and try again.' });
      return;
    }
    if (editing === null) create.mutate({ name: v.name, description: v.description, upload });
    else update.mutate({ id: editing.id, patch: { name: v.name, description: v.description, upload } });
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
  const remove = useMutation(trpc.theme.delete.mutationOptions({ onSuccess: () => qc.invalidateQueries({ queryKey: trpc.theme.pathKey() }) }));
  const closeForm = () => {
    setEditing(null);
    setFormKey((k) => k + 1);
  };
  const edit = (t: Theme) => {
    setEditing(t);
    setFormKey((k) => k + 1);
  };

  return (
    <section>
      <div className="page-head">
        <h1>Themes</h1>
        {/* Plain links: the server streams the ZIP, the browser saves it. */}
        <a className="button secondary" href={themeDownloadPath('base')} download>
          Download Base theme
        </a>
      </div>
      {list.error && <p role="alert">{errorMessage(list.error)}</p>}
      {remove.error && <p role="alert">{errorMessage(remove.error)}</p>}
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
                <a className="link" href={themeDownloadPath(t.id)} download>
                  Download theme
                </a>
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
