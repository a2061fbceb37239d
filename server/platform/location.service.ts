import { asc, count, eq } from 'drizzle-orm';
import { conferencingNode, systemLocation } from '../../db/schema.js';
import { fieldErrors } from '../../shared/conference/vmr.schema.js';
import { systemLocationPatchSchema, systemLocationSchema, type SystemLocation } from '../../shared/conference/location.schema.js';
import { AppError } from '../errors/AppError.js';
import { actorOf, isUniqueViolation, type Domain } from '../domain.js';
import { recordChange } from '../audit/adminLog.service.js';

type Row = typeof systemLocation.$inferSelect;
const toLocation = (r: Row): SystemLocation => ({ id: r.id, name: r.name, description: r.description, mtu: r.mtu });
const NAME_TAKEN = { name: ['A system location with this name already exists.'] };

export async function listLocations(dom: Domain): Promise<SystemLocation[]> {
  return (await dom.db.select().from(systemLocation).orderBy(asc(systemLocation.name))).map(toLocation);
}

export async function getLocation(dom: Domain, id: number): Promise<SystemLocation> {
  const [r] = await dom.db.select().from(systemLocation).where(eq(systemLocation.id, id));
  if (!r) throw AppError.notFound('System location');
  return toLocation(r);
}

export async function createLocation(dom: Domain, input: unknown): Promise<SystemLocation> {
  const p = systemLocationSchema.safeParse(input);
  if (!p.success) throw AppError.validation(fieldErrors(p.error.issues));
  try {
    const r = await dom.db.transaction(async (tx) => {
      const [row] = await tx.insert(systemLocation).values(p.data).returning();
      await recordChange(tx, actorOf(dom), { action: 'added', objectType: 'System location', objectId: row!.id, objectName: row!.name, after: toLocation(row!) });
      return row!;
    });
    dom.bus.notify('system_location');
    return toLocation(r);
  } catch (err) {
    if (isUniqueViolation(err)) throw AppError.validation(NAME_TAKEN);
    throw err;
  }
}

export async function updateLocation(dom: Domain, id: number, input: unknown): Promise<SystemLocation> {
  const p = systemLocationPatchSchema.safeParse(input);
  if (!p.success) throw AppError.validation(fieldErrors(p.error.issues));
  const before = await getLocation(dom, id);
  try {
    await dom.db.transaction(async (tx) => {
      const [row] = await tx.update(systemLocation).set(p.data).where(eq(systemLocation.id, id)).returning();
      await recordChange(tx, actorOf(dom), { action: 'changed', objectType: 'System location', objectId: id, objectName: row!.name, before, after: toLocation(row!) });
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw AppError.validation(NAME_TAKEN);
    throw err;
  }
  dom.bus.notify('system_location');
  return getLocation(dom, id);
}

export async function deleteLocation(dom: Domain, id: number): Promise<void> {
  const [used] = await dom.db.select({ n: count() }).from(conferencingNode).where(eq(conferencingNode.systemLocationId, id));
  if ((used?.n ?? 0) > 0) throw new AppError('CONFLICT', 'This system location is used by a conferencing node and cannot be deleted.');
  await dom.db.transaction(async (tx) => {
    const [row] = await tx.delete(systemLocation).where(eq(systemLocation.id, id)).returning();
    if (!row) throw AppError.notFound('System location');
    await recordChange(tx, actorOf(dom), { action: 'deleted', objectType: 'System location', objectId: id, objectName: row.name, before: toLocation(row) });
  });
}

/** The location a self-enrolling node lands in when none is named: the first one, created if needed. */
export async function defaultLocationId(dom: Domain): Promise<number> {
  const [first] = await dom.db.select().from(systemLocation).orderBy(asc(systemLocation.id)).limit(1);
  if (first) return first.id;
  const [r] = await dom.db.insert(systemLocation).values({ name: 'Default location' }).returning();
  return r!.id;
}
