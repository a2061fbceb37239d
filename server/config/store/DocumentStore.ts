import { and, asc, eq } from 'drizzle-orm';
import type { Database } from '../../../db/client.js';
import { configObject } from '../../../db/schema.js';

/** One stored document with its id, creation time and unique key. */
export interface Document<T> {
  id: number;
  createdAt: Date;
  uniqueKey: string | null;
  data: T;
}

/**
 * Objects of one kind kept as JSON documents of a known type in `config_object`, for kinds with a
 * service of their own instead of field definitions (certificates). The type is the caller's
 * promise about what it wrote; this is the one place the stored JSON is read as that type.
 */
export class DocumentStore<T extends Record<string, unknown>> {
  constructor(readonly resource: string) {}

  private of(row: typeof configObject.$inferSelect): Document<T> {
    return { id: row.id, createdAt: row.createdAt, uniqueKey: row.uniqueKey, data: row.data as T };
  }

  async all(db: Database): Promise<Document<T>[]> {
    const rows = await db.select().from(configObject).where(eq(configObject.resource, this.resource)).orderBy(asc(configObject.id));
    return rows.map((r) => this.of(r));
  }

  async get(db: Database, id: number): Promise<Document<T> | null> {
    const [row] = await db
      .select()
      .from(configObject)
      .where(and(eq(configObject.resource, this.resource), eq(configObject.id, id)));
    return row ? this.of(row) : null;
  }

  async insert(db: Database, data: T, uniqueKey: string | null): Promise<Document<T>> {
    const [row] = await db.insert(configObject).values({ resource: this.resource, uniqueKey, data }).returning();
    return this.of(row!);
  }

  async update(db: Database, id: number, data: T, uniqueKey?: string | null): Promise<void> {
    await db
      .update(configObject)
      .set(uniqueKey === undefined ? { data } : { data, uniqueKey })
      .where(and(eq(configObject.resource, this.resource), eq(configObject.id, id)));
  }

  async remove(db: Database, id: number): Promise<Document<T> | null> {
    const [row] = await db
      .delete(configObject)
      .where(and(eq(configObject.resource, this.resource), eq(configObject.id, id)))
      .returning();
    return row ? this.of(row) : null;
  }
}
