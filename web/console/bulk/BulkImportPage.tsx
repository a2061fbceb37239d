import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useState } from 'react';
import { useForm } from 'react-hook-form';
import { z } from 'zod';
import type { CsvKind } from '../../../shared/bulk/csvKinds.js';
import { Field } from '../forms/Field.js';
import { FormFooter } from '../forms/FormParts.js';
import { useServerErrors } from '../forms/useServerErrors.js';
import { errorMessage, useTRPC, type RouterOutputs } from '../trpc.js';

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
        Each kind needs its own CSV file. A header row is optional; export a kind to get an example file in the right format. A file is imported whole or not at
        all: rows naming an existing object overwrite it. Large files are checked, then saved, while the rest of the console stays usable.
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

type ImportJob = RouterOutputs['bulk']['importJob'];
const finished = (job: ImportJob | undefined) => job?.stage === 'done' || job?.stage === 'failed';
const count = (n: number) => n.toLocaleString('en');

/**
 * Import one kind from a CSV file. The server imports in the background; the form polls the
 * import's progress (a progress bar), then shows its summary, or the per-line messages beside the
 * file when the file is rejected.
 */
function ImportForm({ kind, title }: { kind: CsvKind; title: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const fileId = useId();
  const [jobId, setJobId] = useState<string | null>(null);
  const { register, handleSubmit, formState, setError, reset } = useForm<ImportForm>({ resolver: zodResolver(importForm) });
  const onError = useServerErrors(setError);
  const starter = useMutation(trpc.bulk.startImport.mutationOptions({ onSuccess: (job) => setJobId(job.id), onError }));
  const { data: job } = useQuery({
    ...trpc.bulk.importJob.queryOptions({ id: jobId ?? '' }),
    enabled: jobId !== null,
    staleTime: 0,
    refetchInterval: (q) => (finished(q.state.data) ? false : 250),
  });
  const stage = jobId !== null && job?.id === jobId ? job.stage : undefined;
  useEffect(() => {
    // Lists of every kind may show what was imported.
    if (stage === 'done') {
      void qc.invalidateQueries({ predicate: (q) => !JSON.stringify(q.queryKey).includes('importJob') });
      reset();
    }
  }, [stage, qc, reset]);
  const submit = handleSubmit(async (v) => starter.mutate({ kind, csv: await v.file[0]!.text() }));
  const current = job?.id === jobId ? job : undefined;
  const running = starter.isPending || (jobId !== null && !finished(current));
  const e = formState.errors;
  const fileError = e.file?.message ?? (current?.stage === 'failed' ? current.errors?.join(' ') : undefined);
  return (
    <form className="form" onSubmit={submit} aria-label={`Import ${title}`} noValidate>
      <Field id={fileId} label={`Import ${title} from a CSV file`} error={fileError}>
        <input
          id={fileId}
          type="file"
          accept=".csv,text/csv"
          {...register('file', {
            onChange: () => {
              starter.reset();
              setJobId(null);
            },
          })}
        />
      </Field>
      {running && <ImportProgressBar title={title} job={current} />}
      {current?.stage === 'done' && (
        <p role="status">
          Imported: {count(current.created ?? 0)} created, {count(current.updated ?? 0)} changed, {count(current.rejected ?? 0)} rejected.
        </p>
      )}
      {current?.stage === 'failed' && (
        <p role="status">
          Nothing was imported: {count(current.rejected ?? 0)} {current.rejected === 1 ? 'row' : 'rows'} rejected.
        </p>
      )}
      <FormFooter rootError={e.root?.message} canSave pending={running} saveLabel={running ? 'Importing…' : 'Save'} />
    </form>
  );
}

/** Rows checked, then written: each half of the bar. */
function ImportProgressBar({ title, job }: { title: string; job: ImportJob | undefined }) {
  const total = job?.total ?? 0;
  const done = (job?.validated ?? 0) + (job?.written ?? 0);
  const text =
    !job || job.stage === 'reading'
      ? 'Reading the file…'
      : job.stage === 'validating'
        ? `Checking rows: ${count(job.validated)} of ${count(total)}`
        : `Saving: ${count(job.written)} of ${count(total)}`;
  return (
    <div className="import-progress">
      <progress aria-label={`Importing ${title}`} max={Math.max(1, total * 2)} value={done} />
      <span className="meta">{text}</span>
    </div>
  );
}
