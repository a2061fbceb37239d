import { and, asc, count, desc, eq, inArray, ne, or, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../../db/client.js';
import { insertRows, updateRows } from '../../../db/insertRows.js';
import { configObject } from '../../../db/schema.js';
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

type Row = typeof configObject.$inferSelect;
const toStored = <D extends ResourceDef>(r: Row): StoredObject<D> => ({ id: r.id, createdAt: r.createdAt, values: storedAs<D>(r.data) });
const field = (key: string) => sql`(${configObject.data} ->> ${key})`;

/** Configuration objects as validated JSON documents in `config_object`, one row each. */
export class JsonStore implements ResourceStore {
  async list<D extends ResourceDef>(db: Database, def: D, q: StoreListQuery) {
    const filters: (SQL | undefined)[] = [eq(configObject.resource, def.name)];
    if (q.search) {
      const like = escapeLike(q.search);
      const keys = def.searchFields ?? [nameFieldOf(def), ...('description' in def.fields ? ['description'] : [])];
      filters.push(or(...keys.map((k) => sql`${field(k)} ilike ${like}`)));
    }
    for (const [k, v] of Object.entries(q.equals ?? {})) filters.push(sql`${field(k)} = ${String(v)}`);
    for (const [k, v] of Object.entries(q.contains ?? {})) filters.push(sql`${field(k)} ilike ${escapeLike(v)}`);
    if (q.ids) filters.push(q.ids.length ? inArray(configObject.id, q.ids) : sql`false`);
    const where = and(...filters);
    const key = q.orderBy.replace(/^-/, '');
    const spec = def.fields[key];
    const sortExpr =
      key === 'id'
        ? configObject.id
        : key === 'creation_time'
          ? configObject.createdAt
          : spec?.type === 'int'
            ? sql`(${field(key)})::numeric`
            : sql`lower(${field(key)})`;
    const [total] = await db.select({ n: count() }).from(configObject).where(where);
    const rows = await db
      .select()
      .from(configObject)
      .where(where)
      .orderBy(q.orderBy.startsWith('-') ? desc(sortExpr) : asc(sortExpr), asc(configObject.id))
      .limit(q.limit)
      .offset(q.offset);
    return { total: total?.n ?? 0, rows: rows.map((r) => toStored<D>(r)) };
  }

  private async choices(db: Database, kind: StoredKind, ids?: number[]): Promise<Choice[]> {
    const rows = await db
      .select({ id: configObject.id, data: configObject.data })
      .from(configObject)
      .where(and(eq(configObject.resource, kind.name), ids ? inArray(configObject.id, ids) : undefined))
      .orderBy(asc(configObject.id))
      .limit(5000);
    return rows.map((r) => ({ id: r.id, name: String(r.data[nameFieldOf(kind)] ?? r.data.name ?? r.id) }));
  }

  options(db: Database, kind: StoredKind) {
    return this.choices(db, kind);
  }

  async names(db: Database, kind: StoredKind, ids: number[]) {
    if (ids.length === 0) return new Map<number, string>();
    return new Map((await this.choices(db, kind, ids)).map((c) => [c.id, c.name]));
  }

  async existingIds(db: Database, kind: StoredKind, ids: number[]) {
    if (ids.length === 0) return new Set<number>();
    const rows = await db
      .select({ id: configObject.id })
      .from(configObject)
      .where(and(eq(configObject.resource, kind.name), inArray(configObject.id, ids)));
    return new Set(rows.map((r) => r.id));
  }

  async get<D extends ResourceDef>(db: Database, def: D, id: number) {
    const [r] = await db
      .select()
      .from(configObject)
      .where(and(eq(configObject.resource, def.name), eq(configObject.id, id)));
    return r ? toStored<D>(r) : null;
  }

  /** A singleton's object (global settings, the management node): null until it is first changed. */
  async singleton<D extends ResourceDef>(db: Database, def: D) {
    const [r] = await db.select().from(configObject).where(eq(configObject.resource, def.name)).limit(1);
    return r ? toStored<D>(r) : null;
  }

  async insert<D extends ResourceDef>(db: Database, def: D, values: ValuesInOf<D>, uniqueKey: string | null) {
    const [r] = await db
      .insert(configObject)
      .values({ resource: def.name, data: plainValues(values), uniqueKey })
      .returning({ id: configObject.id });
    return r!.id;
  }

  async insertMany<D extends ResourceDef>(db: Database, def: D, rows: StoreRow<D>[]) {
    return insertRows(
      db,
      configObject,
      rows.map((r) => ({ resource: def.name, data: plainValues(r.values), uniqueKey: r.uniqueKey })),
    );
  }

  async updateMany<D extends ResourceDef>(db: Database, _def: D, rows: (StoreRow<D> & { id: number })[]) {
    // The ids are this resource's (the caller read them); each row keeps its resource.
    await updateRows(
      db,
      configObject,
      rows.map((r) => ({ id: r.id, data: plainValues(r.values), uniqueKey: r.uniqueKey })),
    );
  }

  async findClashes(db: Database, def: ResourceDef, key: string, values: string[]) {
    const out = new Map<string, number>();
    const found = new Map<string, number>();
    const lowered = [...new Set(values.map((v) => v.toLowerCase()))];
    for (const batch of chunks(lowered, 5000)) {
      const rows = await db
        .select({ id: configObject.id, value: sql<string>`lower(${field(key)})` })
        .from(configObject)
        .where(and(eq(configObject.resource, def.name), inArray(sql`lower(${field(key)})`, batch)));
      for (const r of rows) found.set(r.value, r.id);
    }
    for (const v of values) if (found.has(v.toLowerCase())) out.set(v, found.get(v.toLowerCase())!);
    return out;
  }

  async update<D extends ResourceDef>(db: Database, def: D, id: number, values: ValuesInOf<D>, uniqueKey: string | null) {
    await db
      .update(configObject)
      .set({ data: plainValues(values), uniqueKey })
      .where(and(eq(configObject.resource, def.name), eq(configObject.id, id)));
  }

  async remove(db: Database, def: ResourceDef, id: number) {
    const gone = await db
      .delete(configObject)
      .where(and(eq(configObject.resource, def.name), eq(configObject.id, id)))
      .returning({ id: configObject.id });
    return gone.length > 0;
  }

  async findClash(db: Database, def: ResourceDef, fields: string[], values: string[], ownId: number | null) {
    const [r] = await db
      .select({ id: configObject.id })
      .from(configObject)
      .where(
        and(
          eq(configObject.resource, def.name),
          ownId === null ? undefined : ne(configObject.id, ownId),
          ...fields.map((f, i) => sql`lower(${field(f)}) = lower(${values[i]!})`),
        ),
      )
      .limit(1);
    return r?.id ?? null;
  }

  async referencing(db: Database, def: ResourceDef, key: string, id: number) {
    const rows = await db
      .select({ id: configObject.id, data: configObject.data })
      .from(configObject)
      .where(
        and(
          eq(configObject.resource, def.name),
          sql`(${configObject.data} -> ${key} = ${JSON.stringify(id)}::jsonb or ${configObject.data} -> ${key} @> ${JSON.stringify([id])}::jsonb)`,
        ),
      )
      .limit(5);
    return rows.map((r) => ({ id: r.id, name: String(r.data[nameFieldOf(def)] ?? r.id) }));
  }
}
