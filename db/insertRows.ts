import { getTableColumns, sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import type { Database } from './client.js';

/** Rows per statement. */
const BATCH = 500;

const returned = z.object({ rows: z.array(z.object({ id: z.coerce.number() })) });

/**
 * Many rows in one statement per batch, passed as one JSON parameter and expanded by the database
 * (jsonb_to_recordset): building a 500-row VALUES list costs the query builder and the embedded
 * database more than the insert itself. Rows are keyed by drizzle property names (as in
 * `insert().values()`) and must all set the same properties; columns not set keep their defaults.
 * Answers the new ids in the order given (a function scan feeds the insert in order).
 */
export async function insertRows(db: Database, table: PgTable, rows: Record<string, unknown>[]): Promise<number[]> {
  if (rows.length === 0) return [];
  const columns = getTableColumns(table);
  const properties = Object.keys(rows[0]!).filter((p) => rows[0]![p] !== undefined);
  for (const p of properties) if (!columns[p]) throw new Error(`insertRows: ${p} is not a column`);
  const cols = properties.map((p) => columns[p]!);
  const names = sql.join(cols.map((c) => sql.identifier(c.name)), sql`, `);
  const shape = sql.raw(cols.map((c) => `"${c.name}" ${c.getSQLType()}`).join(', '));
  const ids: number[] = [];
  for (let i = 0; i < rows.length; i += BATCH) {
    const batch = rows.slice(i, i + BATCH);
    const json = JSON.stringify(batch.map((r) => Object.fromEntries(cols.map((c, i) => [c.name, toJson(r[properties[i]!])]))));
    const r = await db.execute(sql`insert into ${table} (${names}) select ${names} from jsonb_to_recordset(${json}::jsonb) as x(${shape}) returning id`);
    ids.push(...returned.parse(r).rows.map((x) => x.id));
  }
  return ids;
}

/** Values as jsonb_to_recordset reads them back into their column types. */
const toJson = (v: unknown): unknown => (v instanceof Date ? v.toISOString() : v === undefined ? null : v);
