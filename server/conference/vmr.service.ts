import { and, asc, count, desc, eq, ilike, inArray, ne, or, sql } from 'drizzle-orm';
import { conference, conferenceAlias } from '../../db/schema.js';
import type { Database } from '../../db/client.js';
import { normaliseAlias } from '../../shared/alias/normalise.js';
import {
  ALIAS_MESSAGES,
  fieldErrors,
  vmrCreateSchema,
  vmrPatchSchema,
  type AliasInput,
  type Vmr,
  type VmrCreate,
} from '../../shared/conference/vmr.schema.js';
import type { ServiceConfig } from '../../shared/node-protocol/messages.js';
import { AppError } from '../errors/AppError.js';
import { actorOf, guardUnique, type Domain } from '../domain.js';
import { recordChange } from '../audit/adminLog.service.js';

type ConferenceRow = typeof conference.$inferSelect;
type AliasRow = typeof conferenceAlias.$inferSelect;

const NAME_TAKEN = 'A service with this name already exists.';
const OBJECT_TYPE = 'Virtual Meeting Room';

/** The fields the administrator log compares. */
function auditShape(v: Pick<VmrCreate, 'name' | 'description' | 'pin' | 'guest_pin' | 'allow_guests' | 'participant_limit'> & { aliases: { alias: string }[] }) {
  return {
    name: v.name,
    description: v.description,
    aliases: v.aliases.map((a) => a.alias),
    pin: v.pin,
    guest_pin: v.guest_pin,
    allow_guests: v.allow_guests,
    participant_limit: v.participant_limit,
  };
}
const RACE = { aliases: ['An alias or the name is already in use.'] };

function toVmr(row: ConferenceRow, aliases: AliasRow[]): Vmr {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    service_type: 'conference',
    aliases: aliases
      .filter((a) => a.conferenceId === row.id)
      .sort((a, b) => a.viewOrder - b.viewOrder || a.id - b.id)
      .map((a) => ({ id: a.id, alias: a.alias, description: a.description })),
    pin: row.pin,
    guest_pin: row.guestPin,
    allow_guests: row.allowGuests,
    participant_limit: row.participantLimit,
    creation_time: row.createdAt.toISOString(),
  };
}

async function aliasesOf(db: Database, ids: number[]): Promise<AliasRow[]> {
  if (ids.length === 0) return [];
  return db.select().from(conferenceAlias).where(inArray(conferenceAlias.conferenceId, ids));
}

export interface ListQuery {
  search?: string;
  offset?: number;
  limit?: number;
  orderBy?: 'name' | '-name' | 'id' | '-id' | 'creation_time' | '-creation_time';
  /** Exact name match (the REST API's `name=` filter). */
  name?: string;
}

export async function listVmrs(dom: Domain, q: ListQuery = {}): Promise<{ total: number; items: Vmr[] }> {
  const { db } = dom;
  const filters = [eq(conference.serviceType, 'conference')];
  if (q.name !== undefined) filters.push(eq(conference.name, q.name));
  if (q.search) {
    const like = `%${q.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    filters.push(
      or(
        ilike(conference.name, like),
        ilike(conference.description, like),
        sql`exists (select 1 from ${conferenceAlias} where ${conferenceAlias.conferenceId} = ${conference.id} and ${conferenceAlias.alias} ilike ${like})`,
      )!,
    );
  }
  const where = and(...filters);
  const order = q.orderBy ?? 'name';
  const column = order.replace('-', '') === 'name' ? conference.name : order.includes('creation') ? conference.createdAt : conference.id;
  const [totalRow] = await db.select({ n: count() }).from(conference).where(where);
  const rows = await db
    .select()
    .from(conference)
    .where(where)
    .orderBy(order.startsWith('-') ? desc(column) : asc(column), asc(conference.id))
    .limit(Math.min(q.limit ?? 20, 10_000))
    .offset(q.offset ?? 0);
  const aliases = await aliasesOf(db, rows.map((r) => r.id));
  return { total: totalRow?.n ?? 0, items: rows.map((r) => toVmr(r, aliases)) };
}

export async function getVmr(dom: Domain, id: number): Promise<Vmr> {
  const [row] = await dom.db.select().from(conference).where(and(eq(conference.id, id), eq(conference.serviceType, 'conference')));
  if (!row) throw AppError.notFound('Virtual Meeting Room');
  return toVmr(row, await aliasesOf(dom.db, [id]));
}

/** Aliases already held by another service, as field errors beside each offending alias. */
async function aliasClashes(db: Database, aliases: AliasInput[], ownId: number | null): Promise<Record<string, string[]>> {
  if (aliases.length === 0) return {};
  const normalised = aliases.map((a) => normaliseAlias(a.alias));
  const held = await db
    .select({ normalised: conferenceAlias.normalised, service: conference.name })
    .from(conferenceAlias)
    .innerJoin(conference, eq(conference.id, conferenceAlias.conferenceId))
    .where(and(inArray(conferenceAlias.normalised, normalised), ownId === null ? undefined : ne(conferenceAlias.conferenceId, ownId)));
  const errors: Record<string, string[]> = {};
  normalised.forEach((n, i) => {
    const clash = held.find((h) => h.normalised === n);
    if (clash) errors[`aliases.${i}.alias`] = [ALIAS_MESSAGES.inUse(clash.service)];
  });
  return errors;
}

async function nameClash(db: Database, name: string, ownId: number | null): Promise<boolean> {
  const rows = await db
    .select({ id: conference.id })
    .from(conference)
    .where(and(eq(conference.name, name), ownId === null ? undefined : ne(conference.id, ownId)));
  return rows.length > 0;
}

async function writeAliases(db: Database, conferenceId: number, aliases: AliasInput[]): Promise<void> {
  await db.delete(conferenceAlias).where(eq(conferenceAlias.conferenceId, conferenceId));
  if (aliases.length === 0) return;
  await db.insert(conferenceAlias).values(
    aliases.map((a, i) => ({
      alias: a.alias,
      normalised: normaliseAlias(a.alias),
      description: a.description,
      conferenceId,
      viewOrder: i,
    })),
  );
}

async function checkUnique(db: Database, v: VmrCreate, ownId: number | null): Promise<void> {
  const errors = await aliasClashes(db, v.aliases, ownId);
  if (await nameClash(db, v.name, ownId)) errors.name = [NAME_TAKEN];
  if (Object.keys(errors).length) throw AppError.validation(errors);
}

function parse(input: unknown): VmrCreate {
  const parsed = vmrCreateSchema.safeParse(input);
  if (!parsed.success) throw AppError.validation(fieldErrors(parsed.error.issues));
  return parsed.data;
}

export async function createVmr(dom: Domain, input: unknown): Promise<Vmr> {
  const v = parse(input);
  const id = await guardUnique(() =>
    dom.db.transaction(async (tx) => {
      await checkUnique(tx, v, null);
      const [row] = await tx
        .insert(conference)
        .values({
          name: v.name,
          description: v.description,
          serviceType: 'conference',
          pin: v.pin,
          guestPin: v.guest_pin,
          allowGuests: v.allow_guests,
          participantLimit: v.participant_limit,
        })
        .returning({ id: conference.id });
      await writeAliases(tx, row!.id, v.aliases);
      await recordChange(tx, actorOf(dom), { action: 'added', objectType: OBJECT_TYPE, objectId: row!.id, objectName: v.name, after: auditShape(v) });
      return row!.id;
    }),
    RACE,
  );
  dom.bus.notify('conference');
  return getVmr(dom, id);
}

export async function updateVmr(dom: Domain, id: number, patch: unknown): Promise<Vmr> {
  const p = vmrPatchSchema.safeParse(patch);
  if (!p.success) throw AppError.validation(fieldErrors(p.error.issues));
  const current = await getVmr(dom, id);
  const merged = parse({
    ...current,
    aliases: current.aliases.map(({ alias, description }) => ({ alias, description })),
    ...Object.fromEntries(Object.entries(p.data).filter(([, v]) => v !== undefined)),
  });
  await guardUnique(() =>
    dom.db.transaction(async (tx) => {
      await checkUnique(tx, merged, id);
      await tx
        .update(conference)
        .set({
          name: merged.name,
          description: merged.description,
          pin: merged.pin,
          guestPin: merged.guest_pin,
          allowGuests: merged.allow_guests,
          participantLimit: merged.participant_limit,
        })
        .where(eq(conference.id, id));
      if (p.data.aliases !== undefined) await writeAliases(tx, id, merged.aliases);
      await recordChange(tx, actorOf(dom), { action: 'changed', objectType: OBJECT_TYPE, objectId: id, objectName: merged.name, before: auditShape(current), after: auditShape(merged) });
    }),
    RACE,
  );
  dom.bus.notify('conference');
  return getVmr(dom, id);
}

export async function deleteVmr(dom: Domain, id: number): Promise<void> {
  const current = await getVmr(dom, id);
  await dom.db.transaction(async (tx) => {
    const deleted = await tx.delete(conference).where(and(eq(conference.id, id), eq(conference.serviceType, 'conference'))).returning({ id: conference.id });
    if (deleted.length === 0) throw AppError.notFound('Virtual Meeting Room');
    await recordChange(tx, actorOf(dom), { action: 'deleted', objectType: OBJECT_TYPE, objectId: id, objectName: current.name, before: auditShape(current) });
  });
  dom.bus.notify('conference');
}

/** Every service with its normalised aliases, as the node agents need them. */
export async function servicesForNodes(db: Database): Promise<ServiceConfig[]> {
  const rows = await db.select().from(conference).orderBy(asc(conference.id));
  const aliases = await db.select().from(conferenceAlias).orderBy(asc(conferenceAlias.conferenceId), asc(conferenceAlias.viewOrder));
  const byConference = new Map<number, string[]>();
  for (const a of aliases) {
    const list = byConference.get(a.conferenceId) ?? [];
    list.push(a.normalised);
    byConference.set(a.conferenceId, list);
  }
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    serviceType: 'conference' as const,
    pin: r.pin,
    guestPin: r.guestPin,
    allowGuests: r.allowGuests,
    participantLimit: r.participantLimit,
    aliases: byConference.get(r.id) ?? [],
  }));
}
