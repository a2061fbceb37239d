import { and, count, desc, eq, gte, ilike, lte, or } from 'drizzle-orm';
import { adminLog } from '../../db/schema.js';
import type { Database } from '../../db/client.js';
import { insertRows } from '../../db/insertRows.js';
import type { Domain } from '../domain.js';

/** Fields whose values are never written to the log: only that they changed. */
const SECRET_FIELDS = new Set(['pin', 'guest_pin', 'password']);
const REDACTED = '(hidden)';

export type AdminLogAction = 'added' | 'changed' | 'deleted';

export interface AdminLogEntry {
  id: number;
  time: string;
  username: string;
  action: AdminLogAction;
  objectType: string;
  objectId: number | null;
  objectName: string;
  changes: Record<string, { before: unknown; after: unknown }>;
}

/** Field-by-field difference of two API-shaped objects, with secrets redacted. */
export function diff(
  before: Record<string, unknown> | null,
  after: Record<string, unknown> | null,
  secret: ReadonlySet<string> = SECRET_FIELDS,
): AdminLogEntry['changes'] {
  const out: AdminLogEntry['changes'] = {};
  const keys = new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})]);
  for (const k of keys) {
    if (k === 'id' || k === 'creation_time' || k === 'resource_uri') continue;
    const b = before?.[k];
    const a = after?.[k];
    if (JSON.stringify(b) === JSON.stringify(a)) continue;
    out[k] = SECRET_FIELDS.has(k) || secret.has(k) ? { before: b ? REDACTED : '', after: a ? REDACTED : '' } : { before: b ?? null, after: a ?? null };
  }
  return out;
}

export interface ChangeEntry {
  action: AdminLogAction;
  objectType: string;
  objectId: number | null;
  objectName: string;
  before?: object | null;
  after?: object | null;
  /** Further fields recorded only as changed (passwords, keys...). */
  secretFields?: readonly string[];
}

const rowOf = (actor: string, entry: ChangeEntry) => ({
  username: actor,
  action: entry.action,
  objectType: entry.objectType,
  objectId: entry.objectId,
  objectName: entry.objectName,
  changes: diff(
    (entry.before ?? null) as Record<string, unknown> | null,
    (entry.after ?? null) as Record<string, unknown> | null,
    new Set(entry.secretFields ?? []),
  ),
});

/** Writes one entry, in the caller's transaction when given one. */
export async function recordChange(db: Database, actor: string, entry: ChangeEntry): Promise<void> {
  await db.insert(adminLog).values(rowOf(actor, entry));
}

/** Writes many entries (a bulk import: one per object) in multi-row statements. */
export async function recordChanges(db: Database, actor: string, entries: ChangeEntry[]): Promise<void> {
  await insertRows(
    db,
    adminLog,
    entries.map((e) => rowOf(actor, e)),
  );
}

export interface AdminLogQuery {
  search?: string;
  since?: Date;
  until?: Date;
  offset?: number;
  limit?: number;
}

/** Newest first; `search` matches user, object type, object name or action. */
export async function listAdminLog(dom: Domain, q: AdminLogQuery = {}): Promise<{ total: number; items: AdminLogEntry[] }> {
  const like = q.search ? `%${q.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : undefined;
  const where = and(
    like
      ? or(ilike(adminLog.username, like), ilike(adminLog.objectType, like), ilike(adminLog.objectName, like), eq(adminLog.action, q.search!.toLowerCase()))
      : undefined,
    q.since ? gte(adminLog.time, q.since) : undefined,
    q.until ? lte(adminLog.time, q.until) : undefined,
  );
  const [total] = await dom.db.select({ n: count() }).from(adminLog).where(where);
  const rows = await dom.db
    .select()
    .from(adminLog)
    .where(where)
    .orderBy(desc(adminLog.time), desc(adminLog.id))
    .limit(Math.min(q.limit ?? 50, 1_000))
    .offset(q.offset ?? 0);
  return {
    total: total?.n ?? 0,
    items: rows.map((r) => ({
      id: r.id,
      time: r.time.toISOString(),
      username: r.username,
      action: r.action as AdminLogAction,
      objectType: r.objectType,
      objectId: r.objectId,
      objectName: r.objectName,
      changes: r.changes,
    })),
  };
}
