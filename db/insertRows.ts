import { getTableColumns, sql, type Column } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import type { Database } from './client.js';

/** Rows per statement. */
const BATCH = 500;

const returned = z.object({ rows: z.array(z.object({ id: z.coerce.number() })) });

/** The columns the rows set (by drizzle property name), the same for every row. */
function columnsOf(table: PgTable, rows: Record<string, unknown>[]): { properties: string[]; cols: Column[] } {
  const columns = getTableColumns(table);
  const properties = Object.keys(rows[0]!).filter((p) => rows[0]![p] !== undefined);
  for (const p of properties) if (!columns[p]) throw new Error(`${p} is not a column`);
  return { properties, cols: properties.map((p) => columns[p]!) };
}

/** One batch as the JSON array jsonb_to_recordset reads, and the record shape it reads it with. */
function recordset(cols: Column[], properties: string[], batch: Record<string, unknown>[]) {
  const json = JSON.stringify(batch.map((r) => Object.fromEntries(cols.map((c, i) => [c.name, toJson(r[properties[i]!])]))));
  return sql`jsonb_to_recordset(${json}::jsonb) as x(${sql.raw(cols.map((c) => `"${c.name}" ${c.getSQLType()}`).join(', '))})`;
}

/**
 * Many rows in one statement per batch, passed as one JSON parameter and expanded by the database
 * (jsonb_to_recordset): building a 500-row VALUES list costs the query builder and the embedded
 * database more than the insert itself. Rows are keyed by drizzle property names (as in
 * `insert().values()`) and must all set the same properties; columns not set keep their defaults.
 * Answers the new ids in the order given (a function scan feeds the insert in order).
 */
export async function insertRows(db: Database, table: PgTable, rows: Record<string, unknown>[]): Promise<number[]> {
  if (rows.length === 0) return [];
  const { properties, cols } = columnsOf(table, rows);
  const names = sql.join(
    cols.map((c) => sql.identifier(c.name)),
    sql`, `,
  );
  const ids: number[] = [];
  for (let i = 0; i < rows.length; i += BATCH) {
    const r = await db.execute(sql`insert into ${table} (${names}) select ${names} from ${recordset(cols, properties, rows.slice(i, i + BATCH))} returning id`);
    ids.push(...returned.parse(r).rows.map((x) => x.id));
  }
  return ids;
}

/**
 * Many rows changed in one statement per batch, the same way: each row names its `id` and the
 * properties it sets (the same for every row). Columns with an update default (updated_at) get it.
 */
export async function updateRows(db: Database, table: PgTable, rows: ({ id: number } & Record<string, unknown>)[]): Promise<void> {
  if (rows.length === 0) return;
  const all = getTableColumns(table);
  const stamped = Object.entries(all).filter(([p, c]) => c.onUpdateFn && !(p in rows[0]!));
  const withDefaults = stamped.length ? rows.map((r) => ({ ...r, ...Object.fromEntries(stamped.map(([p, c]) => [p, c.onUpdateFn!()])) })) : rows;
  const { properties, cols } = columnsOf(table, withDefaults);
  const set = sql.join(
    cols.filter((c) => c.name !== 'id').map((c) => sql`${sql.identifier(c.name)} = x.${sql.identifier(c.name)}`),
    sql`, `,
  );
  for (let i = 0; i < withDefaults.length; i += BATCH) {
    await db.execute(sql`update ${table} as t set ${set} from ${recordset(cols, properties, withDefaults.slice(i, i + BATCH))} where t.id = x.id`);
  }
}

/** Values as jsonb_to_recordset reads them back into their column types. */
const toJson = (v: unknown): unknown => (v instanceof Date ? v.toISOString() : v === undefined ? null : v);
