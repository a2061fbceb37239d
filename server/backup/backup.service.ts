import { hostname } from 'node:os';
import { Cron } from 'croner';
import { and, desc, eq, is, notInArray, sql } from 'drizzle-orm';
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
import { assertSameVersion, open, PRODUCT, SCHEMA_VERSION, seal, SOFTWARE_VERSION, type BackupPayload } from './archive.js';

/** Backups kept per kind (guide: the 5 most recent manual and the 5 most recent automatic). */
export const KEEP_PER_KIND = 5;
/** Automatic backups run daily at 01:02 UTC. */
export const AUTOMATIC_BACKUP_CRON = '2 1 * * *';
/** platform_setting key holding the automatic-backup passphrase; absent = automatic backups off. */
export const PASSPHRASE_SETTING = 'backup_passphrase';

const OBJECT_TYPE = 'Configuration backup';

/**
 * Tables that are not configuration. Sessions and the backups themselves are the running system's;
 * the guide leaves the administrator log out of backups (and a restore must not erase it).
 */
const EXCLUDED_TABLES = new Set(['admin_session', 'config_backup', 'admin_log', 'login_attempt']);

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

/** The uploaded file (a Buffer, or base64 from JSON) and its passphrase, checked like any input. */
function parseRestore(archive: Buffer | string, passphrase: string): { buffer: Buffer; passphrase: string } {
  const buffer = typeof archive === 'string' ? Buffer.from(archive, 'base64') : archive;
  const p = backupRestoreSchema.safeParse({ archive: buffer.length ? 'file' : '', passphrase });
  if (!p.success) throw AppError.validation(fieldErrors(p.error.issues));
  return { buffer, passphrase: p.data.passphrase };
}

const summaryOf = (payload: BackupPayload): BackupSummary => ({
  created_at: payload.createdAt,
  version: payload.version,
  schema: payload.schema,
  counts: Object.fromEntries(Object.entries(payload.tables).map(([k, v]) => [k, v.length])),
});

/** Decrypts and checks an uploaded file without changing anything: the Restore backup confirmation. */
export async function inspectBackup(archive: Buffer | string, passphrase: string): Promise<BackupSummary> {
  const r = parseRestore(archive, passphrase);
  const payload = await open(r.buffer, r.passphrase);
  assertSameVersion(payload);
  return summaryOf(payload);
}

/**
 * Replaces the whole configuration with the archive's, in one transaction: rows (ids included) are
 * deleted children-first and inserted parents-first, identity sequences move past the restored ids,
 * and the signed-in administrators keep their sessions when their account is still there.
 */
export async function restoreBackup(dom: Domain, archive: Buffer | string, passphrase: string): Promise<BackupSummary> {
  const r = parseRestore(archive, passphrase);
  const payload = await open(r.buffer, r.passphrase);
  assertSameVersion(payload);
  await dom.db.transaction(async (tx) => {
    // Deleting admin_user cascades to admin_session: keep the sessions by username and put them back.
    const sessions = await tx
      .select({ tokenHash: adminSession.tokenHash, expiresAt: adminSession.expiresAt, createdAt: adminSession.createdAt, username: adminUser.username })
      .from(adminSession)
      .innerJoin(adminUser, eq(adminUser.id, adminSession.adminUserId));
    for (const t of [...CONFIGURATION_TABLES].reverse()) await tx.execute(sql`delete from ${sql.identifier(t.name)}`);
    for (const t of CONFIGURATION_TABLES) {
      const rows = payload.tables[t.name] ?? [];
      if (rows.length === 0) continue;
      const table = sql.identifier(t.name);
      // OVERRIDING SYSTEM VALUE: ids are restored exactly, so references between objects hold.
      await tx.execute(sql`insert into ${table} overriding system value select * from json_populate_recordset(null::${table}, ${JSON.stringify(rows)}::json)`);
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
    await recordChange(tx, actorOf(dom), {
      action: 'changed',
      objectType: OBJECT_TYPE,
      objectId: null,
      objectName: 'restore',
      after: { backup_date: payload.createdAt, version: payload.version },
    });
  });
  // Nodes get the restored configuration at once.
  dom.bus.notify('restore');
  return summaryOf(payload);
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
  ) {}

  start(): void {
    if (this.cron) return;
    // protect: a slow run never overlaps the next one.
    this.cron = new Cron(AUTOMATIC_BACKUP_CRON, { timezone: 'UTC', protect: true }, () => this.runOnce().then(() => undefined));
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
