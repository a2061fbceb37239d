import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Cron } from 'croner';
import { and, desc, eq, is, notInArray, sql, type SQL } from 'drizzle-orm';
import { getTableConfig, PgTable } from 'drizzle-orm/pg-core';
import type { Logger } from 'pino';
import type { Database } from '../../db/client.js';
import * as schema from '../../db/schema.js';
import { adminSession, adminUser, configBackup, platformSetting } from '../../db/schema.js';
import {
  automaticBackupSchema,
  BACKUP_MESSAGES,
  backupCreateSchema,
  backupRestoreSchema,
  type BackupFile,
  type BackupKind,
  type BackupSummary,
} from '../../shared/backup/backup.schema.js';
import { fieldErrors } from '../../shared/config/fieldErrors.js';
import { recordChange } from '../audit/adminLog.service.js';
import { actorOf, type Domain } from '../domain.js';
import { AppError } from '../errors/AppError.js';
import { pacer } from '../bulk/pacer.js';
import { claimRun } from '../platform/cluster/scheduledRuns.js';
import {
  assertSameVersion,
  openReader,
  PRODUCT,
  SCHEMA_VERSION,
  seal,
  SOFTWARE_VERSION,
  type ArchiveSource,
  type BackupHeader,
  type BackupPayload,
} from './archive.js';

/** Backups kept per kind (guide: the 5 most recent manual and the 5 most recent automatic). */
export const KEEP_PER_KIND = 5;
/** Automatic backups run daily at 01:02 UTC. */
export const AUTOMATIC_BACKUP_CRON = '2 1 * * *';
/** platform_setting key holding the automatic-backup passphrase; absent = automatic backups off. */
export const PASSPHRASE_SETTING = 'backup_passphrase';

const OBJECT_TYPE = 'Configuration backup';

/**
 * Tables that are not configuration. Sessions and the backups themselves are the running system's;
 * the guide leaves the administrator log out of backups (and a restore must not erase it), and the
 * same holds for call history and alarms: a restore brings back configuration, not what happened since.
 */
const EXCLUDED_TABLES = new Set([
  'admin_session',
  'config_backup',
  'admin_log',
  'login_attempt',
  'conference_history',
  'participant_history',
  'media_stream_history',
  'backplane_history',
  'alarm',
]);

interface ConfigTable {
  name: string;
  /** ORDER BY for a stable dump. */
  keyColumns: string[];
  identityColumns: string[];
  dependsOn: string[];
}

/**
 * Every table of db/schema.ts except the excluded ones, parents before children (foreign keys),
 * so tables added later are backed up without touching this file.
 */
export const CONFIGURATION_TABLES: ConfigTable[] = (() => {
  const tables = (Object.values(schema) as unknown[]).filter((v): v is PgTable => is(v, PgTable));
  const all = tables.map((t) => {
    const cfg = getTableConfig(t);
    const primary = cfg.columns.filter((c) => c.primary).map((c) => c.name);
    return {
      name: cfg.name,
      keyColumns: primary.length ? primary : (cfg.primaryKeys[0]?.columns.map((c) => c.name) ?? []),
      identityColumns: cfg.columns.filter((c) => c.generatedIdentity).map((c) => c.name),
      dependsOn: cfg.foreignKeys.map((fk) => getTableConfig(fk.reference().foreignTable).name).filter((n) => n !== cfg.name),
    };
  });
  const wanted = all.filter((t) => !EXCLUDED_TABLES.has(t.name));
  const ordered: ConfigTable[] = [];
  const placed = new Set<string>();
  while (ordered.length < wanted.length) {
    const next = wanted.filter((t) => !placed.has(t.name) && t.dependsOn.every((d) => placed.has(d) || !wanted.some((w) => w.name === d)));
    if (next.length === 0) throw new Error('cyclic foreign keys between configuration tables');
    for (const t of next) {
      ordered.push(t);
      placed.add(t.name);
    }
  }
  return ordered;
})();

function rowsOf<T>(result: unknown): T[] {
  return (result as { rows: T[] }).rows;
}

/** Every configuration table as Postgres renders its rows in JSON (bytea as `\x…`, exact timestamps). */
async function dumpTables(db: Database): Promise<Record<string, Record<string, unknown>[]>> {
  const out: Record<string, Record<string, unknown>[]> = {};
  for (const t of CONFIGURATION_TABLES) {
    const order = t.keyColumns.length
      ? sql` order by ${sql.join(
          t.keyColumns.map((c) => sql`t.${sql.identifier(c)}`),
          sql`, `,
        )}`
      : sql``;
    const res = await db.execute(sql`select coalesce(json_agg(t${order}), '[]'::json) as rows from ${sql.identifier(t.name)} t`);
    const value = rowsOf<{ rows: unknown }>(res)[0]?.rows ?? [];
    out[t.name] = (typeof value === 'string' ? JSON.parse(value) : value) as Record<string, unknown>[];
  }
  return out;
}

function fileNameFor(kind: BackupKind, at: Date): string {
  const host = hostname().replace(/[^A-Za-z0-9.-]/g, '-') || 'management';
  const iso = at.toISOString();
  const stamp = `${iso.slice(0, 10).replaceAll('-', '')}_${iso.slice(11, 19).replaceAll(':', '')}`;
  return `openmeet_${kind === 'automatic' ? 'auto_backup' : 'backup'}_${host}_${SOFTWARE_VERSION}_${stamp}.bak`;
}

type BackupRow = Omit<typeof configBackup.$inferSelect, 'archive'>;
const toFile = (r: BackupRow): BackupFile => ({
  id: r.id,
  kind: r.kind as BackupKind,
  file_name: r.fileName,
  version: r.version,
  size: r.size,
  created_at: r.createdAt.toISOString(),
});
const listColumns = {
  id: configBackup.id,
  kind: configBackup.kind,
  fileName: configBackup.fileName,
  version: configBackup.version,
  size: configBackup.size,
  createdAt: configBackup.createdAt,
};

/**
 * Dumps the configuration in one consistent read, encrypts it with the passphrase, stores the file
 * and keeps only the newest five of its kind.
 */
export async function createBackup(dom: Domain, input: { passphrase: string; passphrase_confirm?: string; kind?: BackupKind }): Promise<BackupFile> {
  const kind = input.kind ?? 'manual';
  const p = backupCreateSchema.safeParse({ passphrase: input.passphrase, passphrase_confirm: input.passphrase_confirm });
  if (!p.success) throw AppError.validation(fieldErrors(p.error.issues));
  const tables = await dom.db.transaction((tx) => dumpTables(tx), { isolationLevel: 'repeatable read', accessMode: 'read only' });
  const createdAt = new Date();
  const payload: BackupPayload = { product: PRODUCT, version: SOFTWARE_VERSION, schema: SCHEMA_VERSION, createdAt: createdAt.toISOString(), tables };
  const archive = await seal(payload, p.data.passphrase);
  const fileName = fileNameFor(kind, createdAt);
  const row = await dom.db.transaction(async (tx) => {
    const [r] = await tx
      .insert(configBackup)
      .values({ kind, fileName, version: SOFTWARE_VERSION, size: archive.length, archive, createdAt })
      .returning(listColumns);
    const keep = await tx
      .select({ id: configBackup.id })
      .from(configBackup)
      .where(eq(configBackup.kind, kind))
      .orderBy(desc(configBackup.createdAt), desc(configBackup.id))
      .limit(KEEP_PER_KIND);
    await tx.delete(configBackup).where(
      and(
        eq(configBackup.kind, kind),
        notInArray(
          configBackup.id,
          keep.map((k) => k.id),
        ),
      ),
    );
    await recordChange(tx, actorOf(dom), {
      action: 'added',
      objectType: OBJECT_TYPE,
      objectId: r!.id,
      objectName: fileName,
      after: kind === 'automatic' ? { message: BACKUP_MESSAGES.automaticCreated } : { message: BACKUP_MESSAGES.created(fileName) },
    });
    return r!;
  });
  return toFile(row);
}

/** Existing backup files, newest first. */
export async function listBackups(dom: Domain, q: { kind?: BackupKind } = {}): Promise<BackupFile[]> {
  const rows = await dom.db
    .select(listColumns)
    .from(configBackup)
    .where(q.kind ? eq(configBackup.kind, q.kind) : undefined)
    .orderBy(desc(configBackup.createdAt), desc(configBackup.id));
  return rows.map(toFile);
}

export async function getBackup(dom: Domain, id: number): Promise<BackupFile> {
  const [row] = await dom.db.select(listColumns).from(configBackup).where(eq(configBackup.id, id));
  if (!row) throw AppError.notFound('Backup file');
  return toFile(row);
}

export async function downloadBackup(dom: Domain, id: number): Promise<{ fileName: string; archive: Buffer }> {
  const [row] = await dom.db.select({ fileName: configBackup.fileName, archive: configBackup.archive }).from(configBackup).where(eq(configBackup.id, id));
  if (!row) throw AppError.notFound('Backup file');
  return row;
}

export async function deleteBackup(dom: Domain, id: number): Promise<void> {
  await dom.db.transaction(async (tx) => {
    const [row] = await tx.delete(configBackup).where(eq(configBackup.id, id)).returning({ fileName: configBackup.fileName });
    if (!row) throw AppError.notFound('Backup file');
    await recordChange(tx, actorOf(dom), { action: 'deleted', objectType: OBJECT_TYPE, objectId: id, objectName: row.fileName });
  });
}

/** The uploaded file (a Buffer, base64 from JSON, or a file on disk) and its passphrase, checked like any input. */
function parseRestore(archive: ArchiveSource | string, passphrase: string): { source: ArchiveSource; passphrase: string } {
  const source = typeof archive === 'string' ? Buffer.from(archive, 'base64') : archive;
  const p = backupRestoreSchema.safeParse({ archive: Buffer.isBuffer(source) && source.length === 0 ? '' : 'file', passphrase });
  if (!p.success) throw AppError.validation(fieldErrors(p.error.issues));
  return { source, passphrase: p.data.passphrase };
}

const summaryOf = (header: BackupHeader, counts: Record<string, number> = header.counts): BackupSummary => ({
  created_at: header.createdAt,
  version: header.version,
  schema: header.schema,
  counts,
});

/** Decrypts and checks an uploaded file without changing anything: the Restore backup confirmation. */
export async function inspectBackup(archive: ArchiveSource | string, passphrase: string): Promise<BackupSummary> {
  const r = parseRestore(archive, passphrase);
  const { header } = await openReader(r.source, r.passphrase);
  assertSameVersion(header);
  return summaryOf(header);
}

/** Where a restore is: the file checked, its rows read (staged), then the configuration replaced; its job says when it is over. */
export interface RestoreProgress {
  stage: 'checking' | 'reading' | 'replacing' | 'done' | 'failed';
  /** Rows the backup holds (known once it is checked). */
  total: number;
  /** Rows read and staged so far. */
  read: number;
}

/** Rows per staging statement, and the most JSON text one may carry. */
const STAGE_ROWS = 500;
const STAGE_BYTES = 4 * 1024 * 1024;
/** Staging tables live in their own schema, apart from the configuration. */
const STAGING = 'restore_staging';

/**
 * Replaces the whole configuration with the archive's, all or nothing, without freezing the API.
 * The archive is read row by row (never whole) into staging tables, a few hundred rows per
 * statement, between which other requests run (the embedded database has one connection). Only
 * then does one short transaction delete the configuration children-first and move the staged
 * rows in parents-first (ids included), move identity sequences past them, and keep the
 * signed-in administrators' sessions when their account is still there. A failure anywhere
 * before that transaction commits changes nothing; the staging tables are dropped either way.
 */
export async function restoreBackup(
  dom: Domain,
  archive: ArchiveSource | string,
  passphrase: string,
  opts: { onProgress?: (p: RestoreProgress) => void } = {},
): Promise<BackupSummary> {
  const progress: RestoreProgress = { stage: 'checking', total: 0, read: 0 };
  const report = (p: Partial<RestoreProgress>) => opts.onProgress?.(Object.assign(progress, p));
  report({});
  const r = parseRestore(archive, passphrase);
  const reader = await openReader(r.source, r.passphrase);
  assertSameVersion(reader.header);
  const known = new Map(CONFIGURATION_TABLES.map((t) => [t.name, t]));
  report({ stage: 'reading', total: Object.entries(reader.header.counts).reduce((n, [t, c]) => n + (known.has(t) ? c : 0), 0) });

  const tag = randomBytes(4).toString('hex');
  const stage = (table: string) => sql`${sql.identifier(STAGING)}.${sql.identifier(`${tag}_${table}`)}`;
  const db = dom.db;
  const counts: Record<string, number> = Object.fromEntries(CONFIGURATION_TABLES.map((t) => [t.name, 0]));
  try {
    // One restore at a time (RestoreJobs): staging left by a process that died mid-restore goes now.
    await db.execute(sql`drop schema if exists ${sql.identifier(STAGING)} cascade`);
    await db.execute(sql`create schema ${sql.identifier(STAGING)}`);
    // Unlogged: the rows are written once more by the final transaction; a crash loses only the staging.
    for (const t of CONFIGURATION_TABLES) await db.execute(sql`create unlogged table ${stage(t.name)} (like ${sql.identifier(t.name)})`);
    const pace = pacer();
    let batch: { table: string; rows: string[]; bytes: number } | null = null;
    const flush = async () => {
      if (!batch?.rows.length) return;
      const s = stage(batch.table);
      await db.execute(sql`insert into ${s} select * from json_populate_recordset(null::${s}, ${`[${batch.rows.join(',')}]`}::json)`);
      counts[batch.table]! += batch.rows.length;
      report({ read: progress.read + batch.rows.length });
      batch = null;
    };
    for await (const [table, , json] of reader.rows()) {
      // Tables this version does not have would not pass the version check; skip rather than fail.
      if (!known.has(table)) continue;
      if (batch && (batch.table !== table || batch.rows.length >= STAGE_ROWS || batch.bytes >= STAGE_BYTES)) await flush();
      batch ??= { table, rows: [], bytes: 0 };
      batch.rows.push(json);
      batch.bytes += json.length;
      await pace();
    }
    await flush();

    report({ stage: 'replacing' });
    await db.transaction((tx) => replaceConfiguration(tx, actorOf(dom), reader.header, (t) => (counts[t] ? stage(t) : null)));
  } catch (err) {
    // Rows that do not fit their table (a damaged or hand-made file) are the file's fault.
    if (!(err instanceof AppError) && isDataError(err))
      throw new AppError('BAD_REQUEST', BACKUP_MESSAGES.restoreFailed, { archive: [BACKUP_MESSAGES.notBackup] });
    throw err;
  } finally {
    await db.execute(sql`drop schema if exists ${sql.identifier(STAGING)} cascade`).catch(() => undefined);
  }
  // Nodes get the restored configuration at once.
  dom.bus.notify('restore');
  return summaryOf(reader.header, counts);
}

/**
 * The final step of a restore, in one transaction: the configuration deleted children-first, the
 * staged rows moved in parents-first (ids included), identity sequences moved past them, and the
 * signed-in administrators' sessions kept when their account is still there.
 */
async function replaceConfiguration(tx: Database, actor: string, header: BackupHeader, staged: (table: string) => SQL | null): Promise<void> {
  // admin_session refers to admin_user, so it is emptied too: keep the sessions by username and put them back.
  const sessions = await tx
    .select({ tokenHash: adminSession.tokenHash, expiresAt: adminSession.expiresAt, createdAt: adminSession.createdAt, username: adminUser.username })
    .from(adminSession)
    .innerJoin(adminUser, eq(adminUser.id, adminSession.adminUserId));
  // One TRUNCATE rather than DELETEs: no per-row cascade and foreign-key triggers, so this step
  // (the only one other requests wait for on the embedded database) stays short. Rolled back like any other change.
  const emptied = [...CONFIGURATION_TABLES.map((t) => t.name), getTableConfig(adminSession).name];
  await tx.execute(
    sql`truncate ${sql.join(
      emptied.map((n) => sql.identifier(n)),
      sql`, `,
    )}`,
  );
  for (const t of CONFIGURATION_TABLES) {
    // OVERRIDING SYSTEM VALUE: ids are restored exactly, so references between objects hold.
    const from = staged(t.name);
    if (from) await tx.execute(sql`insert into ${sql.identifier(t.name)} overriding system value select * from ${from}`);
  }
  for (const t of CONFIGURATION_TABLES) {
    for (const c of t.identityColumns) {
      const col = sql.identifier(c);
      await tx.execute(
        sql`select setval(pg_get_serial_sequence(${t.name}, ${c}), coalesce((select max(${col}) from ${sql.identifier(t.name)}), 0) + 1, false)`,
      );
    }
  }
  if (sessions.length) {
    const users = await tx.select({ id: adminUser.id, username: adminUser.username }).from(adminUser);
    const byName = new Map(users.map((u) => [u.username, u.id]));
    const keep = sessions.flatMap((s) => {
      const adminUserId = byName.get(s.username);
      return adminUserId === undefined ? [] : [{ tokenHash: s.tokenHash, adminUserId, expiresAt: s.expiresAt, createdAt: s.createdAt }];
    });
    if (keep.length) await tx.insert(adminSession).values(keep).onConflictDoNothing();
  }
  await recordChange(tx, actor, {
    action: 'changed',
    objectType: OBJECT_TYPE,
    objectId: null,
    objectName: 'restore',
    after: { backup_date: header.createdAt, version: header.version },
  });
}

/** Postgres classes 22 (data exception) and 23 (integrity constraint violation). */
function isDataError(err: unknown): boolean {
  for (let e: unknown = err; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^2[23]/.test(code)) return true;
  }
  return false;
}

// --- automatic backups ---

async function automaticPassphrase(db: Database): Promise<string | null> {
  const [row] = await db.select({ value: platformSetting.value }).from(platformSetting).where(eq(platformSetting.key, PASSPHRASE_SETTING));
  return row?.value || null;
}

/** The next 01:02 UTC after `from`. */
export function nextAutomaticBackup(from: Date = new Date()): Date {
  return new Cron(AUTOMATIC_BACKUP_CRON, { timezone: 'UTC', paused: true }).nextRun(from)!;
}

export interface AutomaticBackupSchedule {
  /** Automatic backups run only once a passphrase is set. */
  enabled: boolean;
  next_run: string;
  kept: number;
}

export async function getAutomaticBackupSchedule(dom: Domain): Promise<AutomaticBackupSchedule> {
  return { enabled: (await automaticPassphrase(dom.db)) !== null, next_run: nextAutomaticBackup().toISOString(), kept: KEEP_PER_KIND };
}

/** Sets the Backup passphrase of automatic backups; an empty one turns them off. */
export async function setAutomaticBackupPassphrase(dom: Domain, input: { passphrase: string; passphrase_confirm?: string }): Promise<AutomaticBackupSchedule> {
  const p = automaticBackupSchema.safeParse(input);
  if (!p.success) throw AppError.validation(fieldErrors(p.error.issues));
  const before = (await automaticPassphrase(dom.db)) !== null;
  const value = p.data.passphrase;
  await dom.db.transaction(async (tx) => {
    if (value) await tx.insert(platformSetting).values({ key: PASSPHRASE_SETTING, value }).onConflictDoUpdate({ target: platformSetting.key, set: { value } });
    else await tx.delete(platformSetting).where(eq(platformSetting.key, PASSPHRASE_SETTING));
    await recordChange(tx, actorOf(dom), {
      action: 'changed',
      objectType: 'Automatic backups',
      objectId: null,
      objectName: 'Automatic backups',
      // The passphrase itself never goes to the log: only that it changed.
      before: { enable_automatic_backups: before, backup_passphrase: before ? '(hidden)' : '' },
      after: { enable_automatic_backups: Boolean(value), backup_passphrase: value ? '(hidden, changed)' : '' },
    });
  });
  return getAutomaticBackupSchedule(dom);
}

/** Runs the automatic backup daily at 01:02 UTC; the management server starts and stops it. */
export class BackupScheduler {
  private cron: Cron | null = null;

  constructor(
    private readonly dom: Domain,
    private readonly log: Pick<Logger, 'info' | 'warn' | 'error'>,
    /** When automatic backups run (UTC cron); default AUTOMATIC_BACKUP_CRON. */
    private readonly pattern = AUTOMATIC_BACKUP_CRON,
  ) {}

  start(): void {
    if (this.cron) return;
    // protect: a slow run never overlaps the next one.
    this.cron = new Cron(this.pattern, { timezone: 'UTC', protect: true }, () => this.runScheduled());
  }

  /** A scheduled run: made by one management server only when several share the database (the first to claim this minute). */
  private async runScheduled(): Promise<void> {
    const claimed = await (async () => {
      // Without a passphrase there is nothing to claim: runOnce logs the skip (on each server).
      if (!(await automaticPassphrase(this.dom.db))) return true;
      return claimRun(this.dom.db, 'automatic_backup', Math.floor(Date.now() / 60_000));
    })().catch((err: unknown) => {
      this.log.error({ err }, 'automatic backup: could not claim the scheduled run');
      return false;
    });
    if (claimed) await this.runOnce();
  }

  stop(): void {
    this.cron?.stop();
    this.cron = null;
  }

  /** When the next automatic backup runs; null when stopped. */
  nextRun(): Date | null {
    return this.cron?.nextRun() ?? null;
  }

  /** One automatic backup now: skipped (and logged) without a passphrase; never throws. */
  async runOnce(): Promise<BackupFile | null> {
    try {
      const passphrase = await automaticPassphrase(this.dom.db);
      if (!passphrase) {
        this.log.info('automatic backup skipped: no backup passphrase is set (Utilities > Automatic Backups)');
        return null;
      }
      const file = await createBackup({ ...this.dom, actor: 'system' }, { passphrase, kind: 'automatic' });
      this.log.info({ file: file.file_name }, BACKUP_MESSAGES.automaticCreated);
      return file;
    } catch (err) {
      this.log.error({ err }, 'automatic backup failed');
      return null;
    }
  }
}

/** For the REST layer: whether a value is one of the kinds. */
export const isBackupKind = (v: unknown): v is BackupKind => v === 'manual' || v === 'automatic';
