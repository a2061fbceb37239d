import type { Database } from '../../../db/client.js';
import type { ResourceDef } from '../../../shared/config/resource.js';

/** One stored object: its id, creation time and field values under their API names. */
export interface StoredObject {
  id: number;
  createdAt: Date;
  values: Record<string, unknown>;
}

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
}

/**
 * Where a kind of configuration object lives. The generic JSON store suits most kinds; services,
 * locations and nodes have typed tables that other parts of the server query directly.
 */
export interface ResourceStore {
  list(db: Database, def: ResourceDef, q: StoreListQuery): Promise<{ total: number; rows: StoredObject[] }>;
  get(db: Database, def: ResourceDef, id: number): Promise<StoredObject | null>;
  insert(db: Database, def: ResourceDef, values: Record<string, unknown>, uniqueKey: string | null): Promise<number>;
  update(db: Database, def: ResourceDef, id: number, values: Record<string, unknown>, uniqueKey: string | null): Promise<void>;
  remove(db: Database, def: ResourceDef, id: number): Promise<boolean>;
  /** The id of another object whose `fields` equal `values` case-insensitively, if any. */
  findClash(db: Database, def: ResourceDef, fields: string[], values: string[], ownId: number | null): Promise<number | null>;
  /** Ids of objects whose `field` references `id` (a ref equal to it or a ref list containing it). */
  referencing(db: Database, def: ResourceDef, field: string, id: number): Promise<{ id: number; name: string }[]>;
}

export const escapeLike = (s: string) => `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
