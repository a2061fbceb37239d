import type { Database } from '../../../db/client.js';
import type { StoredValuesOf, ValuesIn, ValuesInOf } from '../../../shared/config/record.js';
import type { ResourceDef } from '../../../shared/config/resource.js';

/** One stored object of definition `D`: its id, creation time and field values under their API names. */
export interface StoredObject<D extends ResourceDef = ResourceDef> {
  id: number;
  createdAt: Date;
  values: StoredValuesOf<D>;
}

/** One object to write in a bulk import. */
export interface StoreRow<D extends ResourceDef> {
  values: ValuesInOf<D>;
  uniqueKey: string | null;
}

/** One choice of a reference field: an object's id and name. */
export interface Choice {
  id: number;
  name: string;
}

/** What the reference reads need of a kind: where it is stored and which field names an object. */
export type StoredKind = Pick<ResourceDef, 'name' | 'nameField'>;

export interface StoreListQuery {
  search?: string;
  offset: number;
  limit: number;
  /** Field key, `-` prefix for descending. */
  orderBy: string;
  /** Exact (case-sensitive) match of a field's value. */
  equals?: Record<string, string | number | boolean>;
  /** Only these ids (a page of mixed kinds read in one query per kind). */
  ids?: number[];
  /** Case-insensitive substring match of a field's value (the REST API's `__icontains`). */
  contains?: Record<string, string>;
}

/**
 * Where a kind of configuration object lives. The generic JSON store suits most kinds; services,
 * locations and nodes have typed tables. Every read and write of configuration goes through a store.
 * Reads and writes are typed by the definition given (`StoredValuesOf<typeof def>`,
 * `ValuesInOf<typeof def>`): each store reads its rows as that type in one place (`storedAs`), since
 * every value passed the definition's schema on its way in.
 */
export interface ResourceStore {
  list<D extends ResourceDef>(db: Database, def: D, q: StoreListQuery): Promise<{ total: number; rows: StoredObject<D>[] }>;
  get<D extends ResourceDef>(db: Database, def: D, id: number): Promise<StoredObject<D> | null>;
  insert<D extends ResourceDef>(db: Database, def: D, values: ValuesInOf<D>, uniqueKey: string | null): Promise<number>;
  update<D extends ResourceDef>(db: Database, def: D, id: number, values: ValuesInOf<D>, uniqueKey: string | null): Promise<void>;
  remove(db: Database, def: ResourceDef, id: number): Promise<boolean>;
  /** Bulk import: many objects in a few multi-row statements; their ids, in the order given. */
  insertMany?<D extends ResourceDef>(db: Database, def: D, rows: StoreRow<D>[]): Promise<number[]>;
  /** Bulk import: many changes, aliases replaced in a few statements. */
  updateMany?<D extends ResourceDef>(db: Database, def: D, rows: (StoreRow<D> & { id: number })[]): Promise<void>;
  /** Bulk import: findClash for many values of one field (no own id): each value that clashes → the id it clashes with. */
  findClashes?(db: Database, def: ResourceDef, field: string, values: string[]): Promise<Map<string, number>>;
  /** The id of another object whose `fields` equal `values` case-insensitively, if any. */
  findClash(db: Database, def: ResourceDef, fields: string[], values: string[], ownId: number | null): Promise<number | null>;
  /** Every object's id and name, the choices of a reference field. */
  options(db: Database, kind: StoredKind): Promise<Choice[]>;
  /** The names of the given objects (those that exist). */
  names(db: Database, kind: StoredKind, ids: number[]): Promise<Map<number, string>>;
  /** Which of `ids` exist. */
  existingIds(db: Database, kind: StoredKind, ids: number[]): Promise<Set<number>>;
  /** Ids of objects whose `field` references `id` (a ref equal to it or a ref list containing it). */
  referencing(db: Database, def: ResourceDef, field: string, id: number): Promise<{ id: number; name: string }[]>;
}

/** A stored row's values as definition `D` wrote them: the one place a store says so to the compiler. */
export const storedAs = <D extends ResourceDef>(values: Record<string, unknown>): StoredValuesOf<D> => values as StoredValuesOf<D>;

/** Values a store writes, field by field (the store keeps them whatever the definition). */
export const plainValues = <D extends ResourceDef>(values: ValuesInOf<D>): ValuesIn => values;

export const escapeLike = (s: string) => `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** Rows per multi-row statement: well under the protocol's 65,535 parameters for the widest row. */
export const BATCH_ROWS = 500;

export function chunks<T>(xs: readonly T[], size = BATCH_ROWS): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}
