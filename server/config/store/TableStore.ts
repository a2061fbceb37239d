import { and, asc, count, desc, eq, inArray, ne, or, sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Database } from '../../../db/client.js';
import { insertRows, updateRows } from '../../../db/insertRows.js';
import { nameFieldOf, type ResourceDef } from '../../../shared/config/resource.js';
import type { ValuesInOf } from '../../../shared/config/record.js';
import {
  chunks,
  escapeLike,
  plainValues,
  storedAs,
  type Choice,
  type ResourceStore,
  type StoredKind,
  type StoredObject,
  type StoreListQuery,
  type StoreRow,
} from './ResourceStore.js';

/** An API field kept in its own column, with conversions when the stored form differs. */
export interface ColumnMapping {
  column: AnyPgColumn;
  /** Drizzle's property name for the column in `insert().values()`. */
  property: string;
  toDb?: (v: unknown) => unknown;
  fromDb?: (v: unknown) => unknown;
}

export interface TableStoreOptions {
  table: PgTable;
  id: AnyPgColumn;
  createdAt: AnyPgColumn;
  /** The JSON column for fields without a column of their own; none when every field is a column. */
  settings?: AnyPgColumn;
  columns: Record<string, ColumnMapping>;
  /** Rows of this resource only (e.g. one service type). */
  scope?: () => SQL;
  /** Column values every insert sets (e.g. the service type). */
  fixed?: Record<string, unknown>;
}

/**
 * Objects held in a typed table: the fields other parts of the server query are columns, every
 * other field is in the row's `settings` JSON.
 */
export class TableStore implements ResourceStore {
  constructor(protected readonly o: TableStoreOptions) {}

  protected expr(key: string): SQL | AnyPgColumn {
    const m = this.o.columns[key];
    if (m) return m.column;
    return sql`(${this.settings()} ->> ${key})`;
  }

  private settings(): AnyPgColumn {
    if (!this.o.settings) throw new Error('This table keeps no settings JSON');
    return this.o.settings;
  }

  protected toStored<D extends ResourceDef>(row: Record<string, unknown>): StoredObject<D> {
    const values: Record<string, unknown> = { ...((row.settings as Record<string, unknown>) ?? {}) };
    for (const [key, m] of Object.entries(this.o.columns)) {
      const v = row[m.property];
      values[key] = m.fromDb ? m.fromDb(v) : v;
    }
    return { id: row.id as number, createdAt: row.createdAt as Date, values: storedAs<D>(values) };
  }

  protected split<D extends ResourceDef>(values: ValuesInOf<D>): Record<string, unknown> {
    const out: Record<string, unknown> = { ...this.o.fixed };
    const settings: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(plainValues(values))) {
      const m = this.o.columns[k];
      if (m) out[m.property] = m.toDb ? m.toDb(v) : v;
      else if (k !== 'aliases') settings[k] = v;
    }
    if (this.o.settings) out.settings = settings;
    return out;
  }

  protected searchFilter(def: ResourceDef, search: string): SQL | undefined {
    const like = escapeLike(search);
    const keys = def.searchFields ?? [nameFieldOf(def), ...('description' in def.fields ? ['description'] : [])];
    return or(...keys.map((k) => sql`${this.expr(k)} ilike ${like}`));
  }

  async list<D extends ResourceDef>(db: Database, def: D, q: StoreListQuery) {
    const filters: (SQL | undefined)[] = [this.o.scope?.()];
    if (q.search) filters.push(this.searchFilter(def, q.search));
    for (const [k, v] of Object.entries(q.equals ?? {})) filters.push(sql`${this.expr(k)} = ${v}`);
    for (const [k, v] of Object.entries(q.contains ?? {})) filters.push(sql`${this.expr(k)} ilike ${escapeLike(v)}`);
    if (q.ids) filters.push(q.ids.length ? inArray(this.o.id, q.ids) : sql`false`);
    const where = and(...filters);
    const key = q.orderBy.replace(/^-/, '');
    const sortExpr =
      key === 'id'
        ? this.o.id
        : key === 'creation_time'
          ? this.o.createdAt
          : this.o.columns[key]
            ? this.o.columns[key]!.column
            : def.fields[key]?.type === 'int'
              ? sql`(${this.expr(key)})::numeric`
              : sql`lower(${this.expr(key)})`;
    const [total] = await db.select({ n: count() }).from(this.o.table).where(where);
    const rows = await db
      .select()
      .from(this.o.table)
      .where(where)
      .orderBy(q.orderBy.startsWith('-') ? desc(sortExpr) : asc(sortExpr), asc(this.o.id))
      .limit(q.limit)
      .offset(q.offset);
    return { total: Number(total?.n ?? 0), rows: rows.map((r) => this.toStored<D>(r as Record<string, unknown>)) };
  }

  /** The column naming an object (every typed table has a `name` column). */
  private nameColumn(kind: StoredKind): AnyPgColumn {
    const m = this.o.columns[nameFieldOf(kind)];
    if (!m) throw new Error(`${kind.name}: the name field is not a column`);
    return m.column;
  }

  private async choices(db: Database, kind: StoredKind, ids?: number[]): Promise<Choice[]> {
    const name = this.nameColumn(kind);
    return (await db
      .select({ id: this.o.id, name })
      .from(this.o.table)
      .where(and(this.o.scope?.(), ids ? inArray(this.o.id, ids) : undefined))
      .orderBy(asc(name))
      .limit(5000)) as Choice[];
  }

  options(db: Database, kind: StoredKind) {
    return this.choices(db, kind);
  }

  async names(db: Database, kind: StoredKind, ids: number[]) {
    if (ids.length === 0) return new Map<number, string>();
    return new Map((await this.choices(db, kind, ids)).map((c) => [c.id, c.name]));
  }

  async existingIds(db: Database, _kind: StoredKind, ids: number[]) {
    if (ids.length === 0) return new Set<number>();
    const rows = (await db
      .select({ id: this.o.id })
      .from(this.o.table)
      .where(and(this.o.scope?.(), inArray(this.o.id, ids)))) as { id: number }[];
    return new Set(rows.map((r) => r.id));
  }

  async get<D extends ResourceDef>(db: Database, _def: D, id: number) {
    const [r] = await db
      .select()
      .from(this.o.table)
      .where(and(eq(this.o.id, id), this.o.scope?.()));
    return r ? this.toStored<D>(r as Record<string, unknown>) : null;
  }

  async insert<D extends ResourceDef>(db: Database, _def: D, values: ValuesInOf<D>, _uniqueKey?: string | null) {
    const [r] = (await db
      .insert(this.o.table)
      .values(this.split(values) as never)
      .returning({ id: this.o.id })) as { id: number }[];
    return r!.id;
  }

  async insertMany<D extends ResourceDef>(db: Database, _def: D, rows: Pick<StoreRow<D>, 'values'>[]) {
    return insertRows(
      db,
      this.o.table,
      rows.map((r) => this.split(r.values)),
    );
  }

  async updateMany<D extends ResourceDef>(db: Database, _def: D, rows: (Pick<StoreRow<D>, 'values'> & { id: number })[]) {
    await updateRows(
      db,
      this.o.table,
      rows.map((r) => {
        const set = this.split(r.values);
        for (const k of Object.keys(this.o.fixed ?? {})) delete set[k];
        return { id: r.id, ...set };
      }),
    );
  }

  async findClashes(db: Database, _def: ResourceDef, field: string, values: string[]) {
    const out = new Map<string, number>();
    const found = new Map<string, number>();
    const lowered = [...new Set(values.map((v) => v.toLowerCase()))];
    for (const batch of chunks(lowered, 5000)) {
      const rows = (await db
        .select({ id: this.o.id, value: sql<string>`lower(${this.expr(field)}::text)` })
        .from(this.o.table)
        .where(and(this.o.scope?.(), inArray(sql`lower(${this.expr(field)}::text)`, batch)))) as { id: number; value: string }[];
      for (const r of rows) found.set(r.value, r.id);
    }
    for (const v of values) if (found.has(v.toLowerCase())) out.set(v, found.get(v.toLowerCase())!);
    return out;
  }

  async update<D extends ResourceDef>(db: Database, _def: D, id: number, values: ValuesInOf<D>, _uniqueKey?: string | null) {
    const set = this.split(values);
    for (const k of Object.keys(this.o.fixed ?? {})) delete set[k];
    await db
      .update(this.o.table)
      .set(set as never)
      .where(eq(this.o.id, id));
  }

  async remove(db: Database, _def: ResourceDef, id: number) {
    const gone = (await db
      .delete(this.o.table)
      .where(and(eq(this.o.id, id), this.o.scope?.()))
      .returning({ id: this.o.id })) as unknown[];
    return gone.length > 0;
  }

  async findClash(db: Database, _def: ResourceDef, fields: string[], values: string[], ownId: number | null) {
    const [r] = (await db
      .select({ id: this.o.id })
      .from(this.o.table)
      .where(
        and(
          this.o.scope?.(),
          ownId === null ? undefined : ne(this.o.id, ownId),
          ...fields.map((f, i) => sql`lower(${this.expr(f)}::text) = lower(${values[i]!})`),
        ),
      )
      .limit(1)) as { id: number }[];
    return r?.id ?? null;
  }

  async referencing(db: Database, def: ResourceDef, key: string, id: number) {
    const m = this.o.columns[key];
    const cond = m
      ? eq(m.column, id)
      : sql`(${this.settings()} -> ${key} = ${JSON.stringify(id)}::jsonb or ${this.settings()} -> ${key} @> ${JSON.stringify([id])}::jsonb)`;
    const rows = (await db.select().from(this.o.table).where(and(this.o.scope?.(), cond)).limit(5)) as Record<string, unknown>[];
    return rows.map((r) => {
      const s = this.toStored(r);
      return { id: s.id, name: String(s.values[nameFieldOf(def)] ?? s.id) };
    });
  }
}
