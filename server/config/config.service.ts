import { randomUUID } from 'node:crypto';
import { and, eq, inArray } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { conference, conferencingNode, configObject, ivrTheme, systemLocation } from '../../db/schema.js';
import { ALIAS_MESSAGES, type AliasInput } from '../../shared/alias/alias.schema.js';
import { fieldErrors } from '../../shared/config/fieldErrors.js';
import { fieldDefault, MSG } from '../../shared/config/field.js';
import { findResource, RESOURCES } from '../../shared/config/registry.js';
import { nameFieldOf, schemasOf, type ResourceDef } from '../../shared/config/resource.js';
import { recordChange } from '../audit/adminLog.service.js';
import { actorOf, isUniqueViolation, type Domain } from '../domain.js';
import { AppError } from '../errors/AppError.js';
import { ConferenceStore } from './store/ConferenceStore.js';
import { JsonStore } from './store/JsonStore.js';
import { NodeStore } from './store/NodeStore.js';
import type { ResourceStore, StoredObject } from './store/ResourceStore.js';
import { TableStore } from './store/TableStore.js';

/**
 * The generic domain layer for every configuration object declared in shared/config: validation
 * with the definition's zod schema and cross-field rules, references and uniqueness checked in the
 * same transaction as the write, the administrator log, and a push to the conferencing nodes.
 */

/** An object as the domain returns it: field values by API name, plus id and creation time. */
export interface ConfigRecord {
  id: number;
  creation_time: string;
  [field: string]: unknown;
}

export interface ListObjectsQuery {
  search?: string;
  offset?: number;
  limit?: number;
  orderBy?: string;
  equals?: Record<string, string | number | boolean>;
  ids?: number[];
}

const jsonStore = new JsonStore();
const conferenceStores = new Map<string, ConferenceStore>();
const locationStore = new TableStore({
  table: systemLocation,
  id: systemLocation.id,
  createdAt: systemLocation.createdAt,
  settings: systemLocation.settings,
  columns: {
    name: { column: systemLocation.name, property: 'name' },
    description: { column: systemLocation.description, property: 'description' },
    mtu: { column: systemLocation.mtu, property: 'mtu' },
  },
});
const nodeStore = new NodeStore(new TableStore({
  table: conferencingNode,
  id: conferencingNode.id,
  createdAt: conferencingNode.createdAt,
  settings: conferencingNode.settings,
  columns: {
    name: { column: conferencingNode.name, property: 'name' },
    hostname: { column: conferencingNode.hostname, property: 'hostname' },
    address: { column: conferencingNode.address, property: 'address' },
    node_type: {
      column: conferencingNode.role,
      property: 'role',
      toDb: (v) => (v === 'PROXYING' ? 'proxying' : 'transcoding'),
      fromDb: (v) => (v === 'proxying' ? 'PROXYING' : 'CONFERENCING'),
    },
    maintenance_mode: { column: conferencingNode.maintenanceMode, property: 'maintenanceMode' },
    system_location: { column: conferencingNode.systemLocationId, property: 'systemLocationId' },
  },
}));

export function storeOf(def: ResourceDef): ResourceStore {
  switch (def.store ?? 'json') {
    case 'conference': {
      const t = def.serviceType ?? 'conference';
      let s = conferenceStores.get(t);
      if (!s) conferenceStores.set(t, (s = new ConferenceStore(t)));
      return s;
    }
    case 'system_location':
      return locationStore;
    case 'worker_vm':
      return nodeStore;
    default:
      return jsonStore;
  }
}

export function resourceDef(name: string): ResourceDef {
  const def = findResource(name);
  if (!def) throw AppError.notFound(`Resource ${name}`);
  return def;
}

function toRecord(def: ResourceDef, s: StoredObject): ConfigRecord {
  const values: Record<string, unknown> = {};
  // Fields added to a definition after an object was stored read as their defaults.
  for (const [k, f] of Object.entries(def.fields)) values[k] = k in s.values ? s.values[k] : fieldDefault(f);
  if (def.hasAliases) values.aliases = s.values.aliases ?? [];
  return {
    id: s.id,
    ...(def.serviceType ? { service_type: def.serviceType } : {}),
    ...values,
    creation_time: s.createdAt.toISOString(),
  };
}

export async function listObjects(dom: Domain, resource: string, q: ListObjectsQuery = {}): Promise<{ total: number; items: ConfigRecord[] }> {
  const def = resourceDef(resource);
  const r = await storeOf(def).list(dom.db, def, {
    search: q.search,
    offset: q.offset ?? 0,
    limit: Math.min(q.limit ?? 20, 10_000),
    orderBy: q.orderBy ?? def.orderBy ?? nameFieldOf(def),
    equals: q.equals,
    ids: q.ids,
  });
  return { total: r.total, items: r.rows.map((s) => toRecord(def, s)) };
}

export async function getObject(dom: Domain, resource: string, id: number): Promise<ConfigRecord> {
  const def = resourceDef(resource);
  const s = await storeOf(def).get(dom.db, def, id);
  if (!s) throw AppError.notFound(def.label);
  return toRecord(def, s);
}

/** The object whose name field equals `name` (case-insensitively), if any. */
export async function findObjectByName(dom: Domain, resource: string, name: string): Promise<ConfigRecord | null> {
  const def = resourceDef(resource);
  const store = storeOf(def);
  const id = await store.findClash(dom.db, def, [nameFieldOf(def)], [name], null);
  if (id === null) return null;
  const s = await store.get(dom.db, def, id);
  return s ? toRecord(def, s) : null;
}

function parseOrThrow(def: ResourceDef, input: unknown): Record<string, unknown> {
  const p = schemasOf(def).create.safeParse(input ?? {});
  if (!p.success) throw AppError.validation(fieldErrors(p.error.issues));
  return p.data as Record<string, unknown>;
}

/** Ids that exist in the target resource of a reference. */
async function existingIds(db: Database, target: string, ids: number[]): Promise<Set<number>> {
  if (ids.length === 0) return new Set();
  const pick = async (rows: Promise<{ id: number }[]>) => new Set((await rows).map((r) => r.id));
  switch (target) {
    case 'system_location':
      return pick(db.select({ id: systemLocation.id }).from(systemLocation).where(inArray(systemLocation.id, ids)));
    case 'worker_vm':
      return pick(db.select({ id: conferencingNode.id }).from(conferencingNode).where(inArray(conferencingNode.id, ids)));
    case 'conference':
      return pick(db.select({ id: conference.id }).from(conference).where(inArray(conference.id, ids)));
    case 'ivr_theme':
      return pick(db.select({ id: ivrTheme.id }).from(ivrTheme).where(inArray(ivrTheme.id, ids)));
    default: {
      const def = findResource(target);
      if (def && def.store === 'conference') return pick(db.select({ id: conference.id }).from(conference).where(inArray(conference.id, ids)));
      return pick(db.select({ id: configObject.id }).from(configObject).where(and(eq(configObject.resource, target), inArray(configObject.id, ids))));
    }
  }
}

async function checkReferences(db: Database, def: ResourceDef, v: Record<string, unknown>, errors: Record<string, string[]>): Promise<void> {
  for (const [key, f] of Object.entries(def.fields)) {
    if (f.type !== 'ref' && f.type !== 'refList') continue;
    const ids = f.type === 'ref' ? (v[key] == null ? [] : [v[key] as number]) : ((v[key] as number[]) ?? []);
    if (ids.length === 0) continue;
    const found = await existingIds(db, f.resource, ids);
    if (ids.some((id) => !found.has(id))) (errors[key] ??= []).push(MSG.ref);
  }
}

const lowerKey = (values: unknown[]) => (values.some((x) => x === '' || x == null) ? null : values.map((x) => String(x).toLowerCase()).join('\u0001'));

function uniqueKeyOf(def: ResourceDef, v: Record<string, unknown>): string | null {
  const rule = def.unique?.[0];
  if (!rule || def.store !== undefined && def.store !== 'json') return null;
  const key = lowerKey(rule.fields.map((f) => v[f]));
  return key === null ? null : key.slice(0, 500);
}

async function checkUnique(db: Database, def: ResourceDef, v: Record<string, unknown>, ownId: number | null, errors: Record<string, string[]>): Promise<void> {
  const store = storeOf(def);
  for (const rule of def.unique ?? []) {
    const values = rule.fields.map((f) => v[f]);
    if (values.some((x) => x === '' || x == null)) continue;
    if ((await store.findClash(db, def, rule.fields, values.map(String), ownId)) !== null) (errors[rule.path ?? rule.fields[0]!] ??= []).push(rule.message);
  }
  if (def.hasAliases) {
    const clashes = await ConferenceStore.aliasClashes(db, (v.aliases as AliasInput[]) ?? [], ownId);
    for (const [i, service] of clashes) (errors[`aliases.${i}.alias`] ??= []).push(ALIAS_MESSAGES.inUse(service));
  }
}

/** Values as the administrator log records them: aliases by their text only. */
function auditShape(def: ResourceDef, v: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(def.fields)) out[k] = v[k];
  if (def.hasAliases) out.aliases = ((v.aliases as { alias: string }[]) ?? []).map((a) => a.alias);
  return out;
}
const secretFieldsOf = (def: ResourceDef) => Object.entries(def.fields).filter(([, f]) => f.type === 'text' && f.secret).map(([k]) => k);

/** Fills values a definition generates when left blank (e.g. a user's UUID). */
function generated(def: ResourceDef, v: Record<string, unknown>): Record<string, unknown> {
  for (const [k, f] of Object.entries(def.fields)) {
    if (f.type === 'text' && f.format === 'uuid' && k === 'uuid' && !v[k]) v[k] = randomUUID();
  }
  return v;
}

const uniqueRace = (def: ResourceDef) => {
  const rule = def.unique?.[0];
  return rule ? { [rule.path ?? rule.fields[0]!]: [rule.message] } : { __all__: ['This object conflicts with another one; please try again.'] };
};

async function write<T>(dom: Domain, def: ResourceDef, fn: (db: Database) => Promise<T>): Promise<T> {
  try {
    return await dom.db.transaction(fn);
  } catch (err) {
    if (isUniqueViolation(err)) throw AppError.validation(def.hasAliases ? { aliases: ['An alias or the name is already in use.'] } : uniqueRace(def));
    throw err;
  }
}

async function validateAgainstDb(db: Database, def: ResourceDef, v: Record<string, unknown>, ownId: number | null): Promise<void> {
  const errors: Record<string, string[]> = {};
  await checkReferences(db, def, v, errors);
  await checkUnique(db, def, v, ownId, errors);
  if (Object.keys(errors).length) throw AppError.validation(errors);
}

export async function createObject(dom: Domain, resource: string, input: unknown): Promise<ConfigRecord> {
  return getObject(dom, resource, await insertObject(dom, resource, input));
}

/** createObject without reading the object back (bulk import): the new id. */
export async function insertObject(dom: Domain, resource: string, input: unknown): Promise<number> {
  const def = resourceDef(resource);
  if (def.singleton) throw new AppError('BAD_REQUEST', `${def.label} cannot be added; change it instead.`);
  const v = generated(def, parseOrThrow(def, input));
  const store = storeOf(def);
  const id = await write(dom, def, async (tx) => {
    await validateAgainstDb(tx, def, v, null);
    const id = await store.insert(tx, def, v, uniqueKeyOf(def, v));
    await recordChange(tx, actorOf(dom), {
      action: 'added',
      objectType: def.label,
      objectId: id,
      objectName: String(v[nameFieldOf(def)] ?? ''),
      after: auditShape(def, v),
      secretFields: secretFieldsOf(def),
    });
    return id;
  });
  dom.bus.notify(def.name);
  return id;
}

/** A partial update: omitted fields keep their values; every rule is checked on the result. */
export async function updateObject(dom: Domain, resource: string, id: number, patch: unknown): Promise<ConfigRecord> {
  await changeObject(dom, resource, id, patch);
  return getObject(dom, resource, id);
}

/** updateObject without reading the object back (bulk import). */
export async function changeObject(dom: Domain, resource: string, id: number, patch: unknown): Promise<void> {
  const def = resourceDef(resource);
  const p = schemasOf(def).patch.safeParse(patch ?? {});
  if (!p.success) throw AppError.validation(fieldErrors(p.error.issues));
  const changes = Object.fromEntries(Object.entries(p.data as Record<string, unknown>).filter(([, x]) => x !== undefined));
  const store = storeOf(def);
  await write(dom, def, async (tx) => {
    const current = await store.get(tx, def, id);
    if (!current) throw AppError.notFound(def.label);
    const before = toRecord(def, current);
    const merged = { ...before, ...changes } as Record<string, unknown>;
    if (def.hasAliases) merged.aliases = ((merged.aliases as AliasInput[]) ?? []).map(({ alias, description }) => ({ alias, description }));
    const v = generated(def, parseOrThrow(def, merged));
    await validateAgainstDb(tx, def, v, id);
    if (def.hasAliases && changes.aliases === undefined) delete v.aliases;
    await store.update(tx, def, id, v, uniqueKeyOf(def, v));
    await recordChange(tx, actorOf(dom), {
      action: 'changed',
      objectType: def.label,
      objectId: id,
      objectName: String(v[nameFieldOf(def)] ?? ''),
      before: auditShape(def, before),
      after: auditShape(def, { ...v, aliases: v.aliases ?? before.aliases }),
      secretFields: secretFieldsOf(def),
    });
  });
  dom.bus.notify(def.name);
}

/** Objects of other kinds that reference this one; deleting it would leave them dangling. */
async function referencedBy(db: Database, def: ResourceDef, id: number): Promise<string[]> {
  const targetNames = new Set([def.name, ...(def.store === 'conference' ? ['conference'] : [])]);
  const out: string[] = [];
  for (const other of RESOURCES) {
    for (const [key, f] of Object.entries(other.fields)) {
      if ((f.type === 'ref' || f.type === 'refList') && targetNames.has(f.resource)) {
        for (const r of await storeOf(other).referencing(db, other, key, id)) {
          if (other.name === def.name && r.id === id) continue;
          out.push(`${other.label} "${r.name}"`);
        }
      }
    }
  }
  return out;
}

export async function deleteObject(dom: Domain, resource: string, id: number): Promise<void> {
  const def = resourceDef(resource);
  if (def.singleton) throw new AppError('BAD_REQUEST', `${def.label} cannot be deleted.`);
  const store = storeOf(def);
  await dom.db.transaction(async (tx) => {
    const current = await store.get(tx, def, id);
    if (!current) throw AppError.notFound(def.label);
    const users = await referencedBy(tx, def, id);
    if (users.length) throw new AppError('CONFLICT', `This ${def.label} cannot be deleted: it is used by ${users.slice(0, 5).join(', ')}.`);
    await store.remove(tx, def, id);
    const before = toRecord(def, current);
    await recordChange(tx, actorOf(dom), {
      action: 'deleted',
      objectType: def.label,
      objectId: id,
      objectName: String(before[nameFieldOf(def)] ?? ''),
      before: auditShape(def, before),
      secretFields: secretFieldsOf(def),
    });
  });
  dom.bus.notify(def.name);
}

/** Singletons (global settings, the management node) always exist: stored values over defaults. */
export async function getSingleton(dom: Domain, resource: string): Promise<ConfigRecord> {
  const def = resourceDef(resource);
  const [row] = await dom.db.select().from(configObject).where(eq(configObject.resource, def.name)).limit(1);
  const stored = { ...(parseOrThrowLenient(def, row?.data ?? {})) };
  return { id: 1, ...stored, creation_time: (row?.createdAt ?? new Date(0)).toISOString() };
}

/** Stored values, with fields that no longer validate (e.g. after a range change) back at their defaults. */
function parseOrThrowLenient(def: ResourceDef, data: Record<string, unknown>): Record<string, unknown> {
  const p = schemasOf(def).plain.safeParse(data);
  if (p.success) return p.data as Record<string, unknown>;
  const bad = new Set(p.error.issues.map((i) => String(i.path[0])));
  const cleaned = Object.fromEntries(Object.entries(data).filter(([k]) => !bad.has(k)));
  return schemasOf(def).plain.parse(cleaned) as Record<string, unknown>;
}

export async function updateSingleton(dom: Domain, resource: string, patch: unknown): Promise<ConfigRecord> {
  const def = resourceDef(resource);
  const p = schemasOf(def).patch.safeParse(patch ?? {});
  if (!p.success) throw AppError.validation(fieldErrors(p.error.issues));
  const changes = Object.fromEntries(Object.entries(p.data as Record<string, unknown>).filter(([, x]) => x !== undefined));
  await write(dom, def, async (tx) => {
    const [row] = await tx.select().from(configObject).where(eq(configObject.resource, def.name)).limit(1);
    const before = parseOrThrowLenient(def, row?.data ?? {});
    const v = parseOrThrow(def, { ...before, ...changes });
    await validateAgainstDb(tx, def, v, row?.id ?? null);
    if (row) await tx.update(configObject).set({ data: v }).where(eq(configObject.id, row.id));
    else await tx.insert(configObject).values({ resource: def.name, uniqueKey: 'singleton', data: v });
    await recordChange(tx, actorOf(dom), {
      action: 'changed',
      objectType: def.label,
      objectId: 1,
      objectName: def.label,
      before: auditShape(def, before),
      after: auditShape(def, v),
      secretFields: secretFieldsOf(def),
    });
  });
  dom.bus.notify(def.name);
  return getSingleton(dom, resource);
}
