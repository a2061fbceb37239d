import { asc } from 'drizzle-orm';
import { systemLocation } from '../../db/schema.js';
import type { SystemLocation } from '../../shared/conference/location.schema.js';
import { createObject, deleteObject, getObject, listObjects, updateObject } from '../config/config.service.js';
import type { Domain } from '../domain.js';

/** System locations through the generic configuration layer (definition: shared/config/resources/platform.ts). */
const asLocation = (r: unknown) => r as SystemLocation;

export async function listLocations(dom: Domain): Promise<SystemLocation[]> {
  return (await listObjects(dom, 'system_location', { limit: 10_000, orderBy: 'name' })).items.map(asLocation);
}
export const getLocation = async (dom: Domain, id: number) => asLocation(await getObject(dom, 'system_location', id));
export const createLocation = async (dom: Domain, input: unknown) => asLocation(await createObject(dom, 'system_location', input));
export const updateLocation = async (dom: Domain, id: number, input: unknown) => asLocation(await updateObject(dom, 'system_location', id, input));
export const deleteLocation = (dom: Domain, id: number): Promise<void> => deleteObject(dom, 'system_location', id);

/** The location a self-enrolling node lands in when none is named: the first one, created if needed. */
export async function defaultLocationId(dom: Domain): Promise<number> {
  const [first] = await dom.db.select().from(systemLocation).orderBy(asc(systemLocation.id)).limit(1);
  if (first) return first.id;
  const [r] = await dom.db.insert(systemLocation).values({ name: 'Default location' }).returning();
  return r!.id;
}
