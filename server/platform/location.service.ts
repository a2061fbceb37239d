import { asc } from 'drizzle-orm';
import { systemLocation } from '../../db/schema.js';
import type { Domain } from '../domain.js';

/** The location a self-enrolling node lands in when none is named: the first one, created if needed. */
export async function defaultLocationId(dom: Domain): Promise<number> {
  const [first] = await dom.db.select().from(systemLocation).orderBy(asc(systemLocation.id)).limit(1);
  if (first) return first.id;
  const [r] = await dom.db.insert(systemLocation).values({ name: 'Default location' }).returning();
  return r!.id;
}
