import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useRef, useState, type FormEvent } from 'react';
import type { CsvKind } from '../../../server/bulk/csv-format.js';
import { errorMessage, serverFieldErrors, useTRPC } from '../trpc.js';

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
  const fileId = useId();
  const fileInput = useRef<HTMLInputElement>(null);
  const [file, setFile] = useState<File | null>(null);
  const [exportError, setExportError] = useState<string | null>(null);
  const [exporting, setExporting] = useState(false);
  const importer = useMutation(
    trpc.bulk.import.mutationOptions({
      onSuccess: () => {
        // Lists of every kind may show what was imported.
        void qc.invalidateQueries();
        setFile(null);
        if (fileInput.current) fileInput.current.value = '';
      },
    }),
  );

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

  async function save(e: FormEvent) {
    e.preventDefault();
    if (!file) return;
    importer.mutate({ kind, csv: await file.text() });
  }

  const errors = importer.error ? (serverFieldErrors(importer.error).file ?? [errorMessage(importer.error)]) : [];
  return (
    <div className="card" aria-labelledby={`${fileId}-title`} role="region">
      <h2 id={`${fileId}-title`}>{title}</h2>
      <p className="meta">{where}</p>
      <div className="actions">
        <button type="button" className="secondary" onClick={download} disabled={exporting} aria-label={`Export ${title}`}>
          {exporting ? 'Exporting…' : 'Export'}
        </button>
      </div>
      {exportError && <p role="alert">{exportError}</p>}
      <form className="form" onSubmit={save} aria-label={`Import ${title}`}>
        <div className="field">
          <label htmlFor={fileId}>Import {title} from a CSV file</label>
          <input
            id={fileId}
            ref={fileInput}
            type="file"
            accept=".csv,text/csv"
            onChange={(e) => {
              setFile(e.target.files?.[0] ?? null);
              importer.reset();
            }}
          />
        </div>
        <div className="actions">
          <button type="submit" disabled={!file || importer.isPending}>
            {importer.isPending ? 'Importing…' : 'Save'}
          </button>
        </div>
        {errors.length > 0 && (
          <div role="alert">
            <p>The file was not imported:</p>
            <ul>
              {errors.map((m) => (
                <li key={m}>{m}</li>
              ))}
            </ul>
          </div>
        )}
        {importer.data && (
          <p role="status">
            Imported: {importer.data.created} created, {importer.data.updated} updated.
          </p>
        )}
      </form>
    </div>
  );
}
