import { randomUUID } from 'node:crypto';
import type { Database } from '../../db/client.js';
import type { Domain } from '../domain.js';
import { AppError } from '../errors/AppError.js';
import type { CsvKind } from './csvFormat.js';
import { importCsv, type ImportProgress } from './csvImport.js';

/** What the console reads of an import while it runs and once it is over. */
export interface ImportJobView extends ImportProgress {
  id: string;
  kind: CsvKind;
  /** Set once the file is imported. */
  created?: number;
  updated?: number;
  /** A rejected file: its errors, each with its line. */
  errors?: string[];
}

/** Finished imports stay readable this long. */
const KEEP_MS = 10 * 60_000;

/**
 * Imports running in the background, so the console can show their progress instead of waiting
 * on one long request. Each administrator runs one import at a time and reads only their own.
 */
export class ImportJobs {
  private readonly jobs = new Map<string, { owner: string; view: ImportJobView; finishedAt?: number }>();

  /** The jobs of one management server (one database). */
  static of(db: Database): ImportJobs {
    let jobs = registry.get(db);
    if (!jobs) registry.set(db, (jobs = new ImportJobs()));
    return jobs;
  }

  start(dom: Domain, kind: CsvKind, csv: string): ImportJobView {
    this.prune();
    const owner = dom.actor ?? 'system';
    for (const j of this.jobs.values()) {
      if (j.owner === owner && j.finishedAt === undefined) throw new AppError('CONFLICT', 'An import of yours is still running; wait until it has finished.');
    }
    const view: ImportJobView = { id: randomUUID(), kind, stage: 'reading', total: 0, validated: 0, written: 0 };
    const job: { owner: string; view: ImportJobView; finishedAt?: number } = { owner, view };
    this.jobs.set(view.id, job);
    void importCsv(dom, kind, csv, { onProgress: (p) => Object.assign(view, p) }).then(
      (r) => {
        Object.assign(view, { stage: 'done', created: r.created, updated: r.updated });
        job.finishedAt = Date.now();
      },
      (err: unknown) => {
        const errors = err instanceof AppError ? (err.fields?.file ?? (err.code === 'INTERNAL' ? null : [err.message])) : null;
        Object.assign(view, { stage: 'failed', errors: errors ?? ['The import failed because of an internal error; nothing was imported.'] });
        job.finishedAt = Date.now();
      },
    );
    return { ...view };
  }

  /** An import this administrator started, or null. */
  get(id: string, owner: string): ImportJobView | null {
    const j = this.jobs.get(id);
    return j && j.owner === owner ? { ...j.view } : null;
  }

  private prune(): void {
    const now = Date.now();
    for (const [id, j] of this.jobs) if (j.finishedAt !== undefined && now - j.finishedAt > KEEP_MS) this.jobs.delete(id);
  }
}

const registry = new WeakMap<Database, ImportJobs>();
