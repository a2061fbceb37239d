import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { useForm } from 'react-hook-form';
import { z } from 'zod';
import type { CsvKind } from '../../../shared/bulk/csvKinds.js';
import { Field } from '../forms/Field.js';
import { FormFooter } from '../forms/FormParts.js';
import { useServerErrors } from '../forms/useServerErrors.js';
import { errorMessage, useTRPC } from '../trpc.js';

/** The importable kinds, in the guide's words, with the menu each belongs to. */
const KINDS: { kind: CsvKind; title: string; where: string }[] = [
  { kind: 'vmr', title: 'Virtual Meeting Rooms', where: 'Services' },
  { kind: 'virtual_auditorium', title: 'Virtual Auditoriums', where: 'Services' },
  { kind: 'virtual_reception', title: 'Virtual Receptions', where: 'Services' },
  { kind: 'automatic_participant', title: 'Automatically Dialed Participants', where: 'Services' },
  { kind: 'device', title: 'Device aliases', where: 'Users & Devices' },
];

/** Bulk import/export of service configuration data as CSV files (one file per kind). */
export function BulkImportPage() {
  return (
    <section>
      <div className="page-head">
        <h1>Bulk import/export</h1>
      </div>
      <p className="meta">
        Each kind needs its own CSV file. A header row is optional; export a kind to get an example file in the right format. A file is imported whole
        or not at all: rows naming an existing object overwrite it.
      </p>
      {KINDS.map((k) => (
        <KindPanel key={k.kind} {...k} />
      ))}
    </section>
  );
}

function KindPanel({ kind, title, where }: { kind: CsvKind; title: string; where: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const titleId = useId();
  const [exportError, setExportError] = useState<string | null>(null);
  const [exporting, setExporting] = useState(false);

  async function download() {
    setExportError(null);
    setExporting(true);
    try {
      const csv = await qc.fetchQuery({ ...trpc.bulk.export.queryOptions({ kind }), staleTime: 0 });
      const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `${kind}.csv`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1_000);
    } catch (err) {
      setExportError(errorMessage(err));
    } finally {
      setExporting(false);
    }
  }

  return (
    <div className="card" aria-labelledby={titleId} role="region">
      <h2 id={titleId}>{title}</h2>
      <p className="meta">{where}</p>
      <div className="actions">
        <button type="button" className="secondary" onClick={download} disabled={exporting} aria-label={`Export ${title}`}>
          {exporting ? 'Exporting…' : 'Export'}
        </button>
      </div>
      {exportError && <p role="alert">{exportError}</p>}
      <ImportForm kind={kind} title={title} />
    </div>
  );
}

const importForm = z.object({ file: z.custom<FileList>((v) => v instanceof FileList && v.length > 0, 'This field is required.') });
type ImportForm = z.input<typeof importForm>;

/** Import one kind from a CSV file: the server's per-line messages (under `file`) are shown beside the file. */
function ImportForm({ kind, title }: { kind: CsvKind; title: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const fileId = useId();
  const { register, handleSubmit, formState, setError, reset } = useForm<ImportForm>({ resolver: zodResolver(importForm) });
  const onError = useServerErrors(setError);
  const importer = useMutation(
    trpc.bulk.import.mutationOptions({
      onSuccess: () => {
        // Lists of every kind may show what was imported.
        void qc.invalidateQueries();
        reset();
      },
      onError,
    }),
  );
  const submit = handleSubmit(async (v) => importer.mutate({ kind, csv: await v.file[0]!.text() }));
  const e = formState.errors;
  return (
    <form className="form" onSubmit={submit} aria-label={`Import ${title}`} noValidate>
      <Field id={fileId} label={`Import ${title} from a CSV file`} error={e.file?.message}>
        <input id={fileId} type="file" accept=".csv,text/csv" {...register('file', { onChange: () => importer.reset() })} />
      </Field>
      {importer.data && (
        <p role="status">
          Imported: {importer.data.created} created, {importer.data.updated} updated.
        </p>
      )}
      <FormFooter rootError={e.root?.message} canSave pending={importer.isPending} saveLabel={importer.isPending ? 'Importing…' : 'Save'} />
    </form>
  );
}
