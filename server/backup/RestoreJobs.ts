import { randomUUID } from 'node:crypto';
import type { Database } from '../../db/client.js';
import type { BackupSummary } from '../../shared/backup/backup.schema.js';
import type { Domain } from '../domain.js';
import { AppError } from '../errors/AppError.js';
import type { ArchiveSource } from './archive.js';
import { restoreBackup, type RestoreProgress } from './backup.service.js';

/** What the console reads of a restore while it runs and once it is over. */
export interface RestoreJobView extends RestoreProgress {
  id: string;
  /** Set once the configuration is replaced: rows restored per table. */
  summary?: BackupSummary;
  /** A refused file: the guide's sentence, and the messages by field (passphrase, archive). */
  error?: string;
  fields?: Record<string, string[]>;
}

/** Finished restores stay readable this long. */
const KEEP_MS = 10 * 60_000;

interface Job {
  owner: string;
  view: RestoreJobView;
  done: Promise<BackupSummary>;
  finishedAt?: number;
}

/**
 * Restores running in the background, so the console can show their progress instead of waiting
 * on one long request. One restore at a time on a management server: two would replace each other.
 */
export class RestoreJobs {
  private readonly jobs = new Map<string, Job>();

  /** The restores of one management server (one database). */
  static of(db: Database): RestoreJobs {
    let jobs = registry.get(db);
    if (!jobs) registry.set(db, (jobs = new RestoreJobs()));
    return jobs;
  }

  /** Starts a restore; `cleanup` runs once it is over (an uploaded file removed). */
  start(
    dom: Domain,
    archive: ArchiveSource | string,
    passphrase: string,
    cleanup?: () => Promise<void>,
  ): { view: RestoreJobView; done: Promise<BackupSummary> } {
    this.prune();
    for (const j of this.jobs.values()) {
      if (j.finishedAt === undefined) throw new AppError('CONFLICT', 'A restore is already running; wait until it has finished.');
    }
    const view: RestoreJobView = { id: randomUUID(), stage: 'checking', total: 0, read: 0 };
    const run = restoreBackup(dom, archive, passphrase, { onProgress: (p) => Object.assign(view, p) }).finally(() => cleanup?.());
    const job: Job = { owner: dom.actor ?? 'system', view, done: run };
    this.jobs.set(view.id, job);
    run.then(
      (summary) => {
        Object.assign(view, { stage: 'done', summary });
        job.finishedAt = Date.now();
      },
      (err: unknown) => {
        const known = err instanceof AppError && err.code !== 'INTERNAL';
        Object.assign(view, {
          stage: 'failed',
          error: known ? err.message : 'The restore failed because of an internal error; nothing was changed.',
          ...(known && err.fields ? { fields: err.fields } : {}),
        });
        job.finishedAt = Date.now();
      },
    );
    return { view: { ...view }, done: run };
  }

  /** A restore this administrator started, or null. */
  get(id: string, owner: string): RestoreJobView | null {
    const j = this.jobs.get(id);
    return j && j.owner === owner ? { ...j.view } : null;
  }

  private prune(): void {
    const now = Date.now();
    for (const [id, j] of this.jobs) if (j.finishedAt !== undefined && now - j.finishedAt > KEEP_MS) this.jobs.delete(id);
  }
}

const registry = new WeakMap<Database, RestoreJobs>();
