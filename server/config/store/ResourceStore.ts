import type { Database } from '../../../db/client.js';
import type { ResourceDef } from '../../../shared/config/resource.js';

/** One stored object: its id, creation time and field values under their API names. */
export interface StoredObject {
  id: number;
  createdAt: Date;
  values: Record<string, unknown>;
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
 */
export interface ResourceStore {
  list(db: Database, def: ResourceDef, q: StoreListQuery): Promise<{ total: number; rows: StoredObject[] }>;
  get(db: Database, def: ResourceDef, id: number): Promise<StoredObject | null>;
  insert(db: Database, def: ResourceDef, values: Record<string, unknown>, uniqueKey: string | null): Promise<number>;
  update(db: Database, def: ResourceDef, id: number, values: Record<string, unknown>, uniqueKey: string | null): Promise<void>;
  remove(db: Database, def: ResourceDef, id: number): Promise<boolean>;
  /** Bulk import: many objects in a few multi-row statements; their ids, in the order given. */
  insertMany?(db: Database, def: ResourceDef, rows: { values: Record<string, unknown>; uniqueKey: string | null }[]): Promise<number[]>;
  /** Bulk import: many changes, aliases replaced in a few statements. */
  updateMany?(db: Database, def: ResourceDef, rows: { id: number; values: Record<string, unknown>; uniqueKey: string | null }[]): Promise<void>;
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

export const escapeLike = (s: string) => `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** Rows per multi-row statement: well under the protocol's 65,535 parameters for the widest row. */
export const BATCH_ROWS = 500;

export function chunks<T>(xs: readonly T[], size = BATCH_ROWS): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}
