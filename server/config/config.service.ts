import { randomUUID } from 'node:crypto';
import type { Database } from '../../db/client.js';
import { conferencingNode, ivrTheme, systemLocation } from '../../db/schema.js';
import { ALIAS_MESSAGES } from '../../shared/alias/alias.schema.js';
import { fieldErrors } from '../../shared/config/fieldErrors.js';
import { fieldDefault, MSG } from '../../shared/config/field.js';
import { findResource, RESOURCES } from '../../shared/config/registry.js';
import { nameFieldOf, schemasOf, type ResourceDef } from '../../shared/config/resource.js';
import { SERVICE_BY_TYPE, type ServiceDef, type ServiceRecord } from '../../shared/config/resources/services.js';
import type { ConfigRecord, InputOf, RecordOf, ValuesIn } from '../../shared/config/record.js';
import { recordChange, recordChanges } from '../audit/adminLog.service.js';
import { actorOf, isUniqueViolation, type Domain } from '../domain.js';
import { AppError } from '../errors/AppError.js';
import { ConferenceStore } from './store/ConferenceStore.js';
import { JsonStore } from './store/JsonStore.js';
import { NodeStore } from './store/NodeStore.js';
import type { Choice, ResourceStore, StoredKind, StoredObject } from './store/ResourceStore.js';
import { TableStore } from './store/TableStore.js';

/**
 * The generic domain layer for every configuration object declared in shared/config: validation
 * with the definition's zod schema and cross-field rules, references and uniqueness checked in the
 * same transaction as the write, the administrator log, and a push to the conferencing nodes.
 */

export type { ConfigRecord };

export interface ListObjectsQuery {
  search?: string;
  offset?: number;
  limit?: number;
  orderBy?: string;
  equals?: Record<string, string | number | boolean>;
  contains?: Record<string, string>;
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
const nodeStore = new NodeStore(
  new TableStore({
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
  }),
);

const conferenceStore = (serviceType: string): ConferenceStore => {
  let s = conferenceStores.get(serviceType);
  if (!s) conferenceStores.set(serviceType, (s = new ConferenceStore(serviceType)));
  return s;
};

export function storeOf(def: ResourceDef): ResourceStore {
  switch (def.store ?? 'json') {
    case 'conference':
      return conferenceStore(def.serviceType ?? 'conference');
    case 'system_location':
      return locationStore;
    case 'worker_vm':
      return nodeStore;
    default:
      return jsonStore;
  }
}

/** Every service whatever its type: the `conference` resource of the API and of reference fields. */
const allServicesStore = new ConferenceStore(null);
/** Themes are uploaded packages (server/theme); reference fields only read their ids and names. */
const themeStore = new TableStore({
  table: ivrTheme,
  id: ivrTheme.id,
  createdAt: ivrTheme.createdAt,
  columns: { name: { column: ivrTheme.name, property: 'name' }, description: { column: ivrTheme.description, property: 'description' } },
});

/** Where the objects a reference field's `resource` names are kept, and which field names them. */
function referenceTarget(target: string): { kind: StoredKind; store: ResourceStore } {
  switch (target) {
    case 'conference':
      return { kind: { name: target }, store: allServicesStore };
    case 'ivr_theme':
      return { kind: { name: target }, store: themeStore };
    default: {
      const def = findResource(target);
      return def ? { kind: def, store: storeOf(def) } : { kind: { name: target }, store: jsonStore };
    }
  }
}

/** The choices of a reference field: every object of the target, id and name. */
export function referenceOptions(dom: Domain, target: string): Promise<Choice[]> {
  const { kind, store } = referenceTarget(target);
  return store.options(dom.db, kind);
}

/** Names of the given objects of a reference target, for list pages. */
export function referenceNames(dom: Domain, target: string, ids: number[]): Promise<Map<number, string>> {
  const { kind, store } = referenceTarget(target);
  return store.names(dom.db, kind, ids);
}

/** Which of `ids` exist in a reference target (e.g. the nodes a certificate names). */
export function existingReferenceIds(db: Database, target: string, ids: number[]): Promise<Set<number>> {
  const { kind, store } = referenceTarget(target);
  return store.existingIds(db, kind, ids);
}

/** Every id of a reference target. */
export async function allReferenceIds(db: Database, target: string): Promise<Set<number>> {
  const { kind, store } = referenceTarget(target);
  return new Set((await store.options(db, kind)).map((o) => o.id));
}

/** The definition of the service with this id, whatever its type. */
export async function serviceDefOf(dom: Domain, id: number): Promise<ResourceDef> {
  const s = await allServicesStore.get(dom.db, SERVICE_BY_TYPE.get('conference')!, id);
  const def = s && SERVICE_BY_TYPE.get(String(s.values.service_type));
  if (!def) throw AppError.notFound('Conference');
  return def;
}

/**
 * Services of every type in one list (the API's `conference` resource), each read through its own
 * type's definition; `equals` and `contains` filter on columns shared by every type.
 */
export async function listServices(
  dom: Domain,
  q: ListObjectsQuery & { orderBy: string },
): Promise<{ total: number; items: { def: ServiceDef; record: ServiceRecord }[] }> {
  const r = await allServicesStore.list(dom.db, SERVICE_BY_TYPE.get('conference')!, {
    offset: q.offset ?? 0,
    limit: q.limit ?? 20,
    orderBy: q.orderBy,
    equals: q.equals,
    contains: q.contains,
  });
  return {
    total: r.total,
    items: r.rows.flatMap((s) => {
      const def = SERVICE_BY_TYPE.get(String(s.values.service_type));
      return def ? [{ def, record: toRecord(def, s) }] : [];
    }),
  };
}

/** listServices for server code: each service typed by its own type's definition. */
export async function listServiceRecords(dom: Domain, q: ListObjectsQuery & { orderBy: string }): Promise<{ total: number; items: ServiceRecord[] }> {
  const r = await listServices(dom, q);
  return { total: r.total, items: r.items.map(({ record }) => record) };
}

export function resourceDef(name: string): ResourceDef {
  const def = findResource(name);
  if (!def) throw AppError.notFound(`Resource ${name}`);
  return def;
}

/**
 * An object as the domain returns it, typed by its definition (`RecordOf<typeof def>`): every value
 * passed the definition's schema on write and missing fields read as their defaults, so the record
 * has the definition's shape; this is the one place that says so to the compiler.
 */
function recordOf<D extends ResourceDef>(def: D, id: number, values: Record<string, unknown>, createdAt: Date): RecordOf<D> {
  const record: ConfigRecord = {
    id,
    ...(def.serviceType ? { service_type: def.serviceType } : {}),
    ...values,
    creation_time: createdAt.toISOString(),
  };
  return record as RecordOf<D>;
}

function toRecord<D extends ResourceDef>(def: D, s: StoredObject<D>): RecordOf<D> {
  const stored: ValuesIn = s.values;
  const values: Record<string, unknown> = {};
  // Fields added to a definition after an object was stored read as their defaults.
  for (const [k, f] of Object.entries(def.fields)) values[k] = k in stored ? stored[k] : fieldDefault(f);
  if (def.hasAliases) values.aliases = stored.aliases ?? [];
  return recordOf(def, s.id, values, s.createdAt);
}

/** Objects of a definition, typed by it. */
export async function listRecords<D extends ResourceDef>(dom: Domain, def: D, q: ListObjectsQuery = {}): Promise<{ total: number; items: RecordOf<D>[] }> {
  const r = await storeOf(def).list(dom.db, def, {
    search: q.search,
    offset: q.offset ?? 0,
    limit: Math.min(q.limit ?? 20, 10_000),
    orderBy: q.orderBy ?? def.orderBy ?? nameFieldOf(def),
    equals: q.equals,
    contains: q.contains,
    ids: q.ids,
  });
  return { total: r.total, items: r.rows.map((s) => toRecord(def, s)) };
}

export async function getRecord<D extends ResourceDef>(dom: Domain, def: D, id: number): Promise<RecordOf<D>> {
  const s = await storeOf(def).get(dom.db, def, id);
  if (!s) throw AppError.notFound(def.label);
  return toRecord(def, s);
}

export async function createRecord<D extends ResourceDef>(dom: Domain, def: D, input: InputOf<D>): Promise<RecordOf<D>> {
  return getRecord(dom, def, await insertRecord(dom, def, input));
}

export async function updateRecord<D extends ResourceDef>(dom: Domain, def: D, id: number, patch: InputOf<D>): Promise<RecordOf<D>> {
  await changeRecord(dom, def, id, patch);
  return getRecord(dom, def, id);
}

/** Objects of a definition named at run time (the APIs, bulk import). */
export function listObjects(dom: Domain, resource: string, q: ListObjectsQuery = {}): Promise<{ total: number; items: ConfigRecord[] }> {
  return listRecords(dom, resourceDef(resource), q);
}

export function getObject(dom: Domain, resource: string, id: number): Promise<ConfigRecord> {
  return getRecord(dom, resourceDef(resource), id);
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

/** Values the definition's schema accepted. */
function parseOrThrow(def: ResourceDef, input: unknown): ValuesIn {
  const p = schemasOf(def).create.safeParse(input ?? {});
  if (!p.success) throw AppError.validation(fieldErrors(p.error.issues));
  return p.data;
}

/** The ids a reference field's value names (a ref's id, a ref list's ids). */
const refIds = (value: unknown): number[] =>
  typeof value === 'number' ? [value] : Array.isArray(value) ? value.filter((x): x is number => typeof x === 'number') : [];

async function checkReferences(db: Database, def: ResourceDef, v: ValuesIn, errors: Record<string, string[]>): Promise<void> {
  for (const [key, f] of Object.entries(def.fields)) {
    if (f.type !== 'ref' && f.type !== 'refList') continue;
    const ids = refIds(v[key]);
    if (ids.length === 0) continue;
    const { kind, store } = referenceTarget(f.resource);
    const found = await store.existingIds(db, kind, ids);
    if (ids.some((id) => !found.has(id))) (errors[key] ??= []).push(MSG.ref);
  }
}

const lowerKey = (values: unknown[]) => (values.some((x) => x === '' || x == null) ? null : values.map((x) => String(x).toLowerCase()).join('\u0001'));

function uniqueKeyOf(def: ResourceDef, v: ValuesIn): string | null {
  const rule = def.unique?.[0];
  if (!rule || (def.store !== undefined && def.store !== 'json')) return null;
  const key = lowerKey(rule.fields.map((f) => v[f]));
  return key === null ? null : key.slice(0, 500);
}

async function checkUnique(db: Database, def: ResourceDef, v: ValuesIn, ownId: number | null, errors: Record<string, string[]>): Promise<void> {
  const store = storeOf(def);
  for (const rule of def.unique ?? []) {
    const values = rule.fields.map((f) => v[f]);
    if (values.some((x) => x === '' || x == null)) continue;
    if ((await store.findClash(db, def, rule.fields, values.map(String), ownId)) !== null) (errors[rule.path ?? rule.fields[0]!] ??= []).push(rule.message);
  }
  if (def.hasAliases) {
    const clashes = await ConferenceStore.aliasClashes(db, v.aliases ?? [], ownId);
    for (const [i, service] of clashes) (errors[`aliases.${i}.alias`] ??= []).push(ALIAS_MESSAGES.inUse(service));
  }
}

/** Values as the administrator log records them: aliases by their text only. */
function auditShape(def: ResourceDef, v: ValuesIn): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(def.fields)) out[k] = v[k];
  if (def.hasAliases) out.aliases = (v.aliases ?? []).map((a) => a.alias);
  return out;
}
const secretFieldsOf = (def: ResourceDef) =>
  Object.entries(def.fields)
    .filter(([, f]) => f.type === 'text' && f.secret)
    .map(([k]) => k);

/** Fills values a definition generates when left blank (e.g. a user's UUID). */
function generated(def: ResourceDef, v: ValuesIn): ValuesIn {
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

async function validateAgainstDb(db: Database, def: ResourceDef, v: ValuesIn, ownId: number | null): Promise<void> {
  const errors: Record<string, string[]> = {};
  await checkReferences(db, def, v, errors);
  await checkUnique(db, def, v, ownId, errors);
  if (Object.keys(errors).length) throw AppError.validation(errors);
}

export async function createObject(dom: Domain, resource: string, input: unknown): Promise<ConfigRecord> {
  return getObject(dom, resource, await insertObject(dom, resource, input));
}

/** createObject without reading the object back (bulk import): the new id. */
export function insertObject(dom: Domain, resource: string, input: unknown): Promise<number> {
  return insertRecord(dom, resourceDef(resource), input);
}

async function insertRecord(dom: Domain, def: ResourceDef, input: unknown): Promise<number> {
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
export function changeObject(dom: Domain, resource: string, id: number, patch: unknown): Promise<void> {
  return changeRecord(dom, resourceDef(resource), id, patch);
}

async function changeRecord(dom: Domain, def: ResourceDef, id: number, patch: unknown): Promise<void> {
  const p = schemasOf(def).patch.safeParse(patch ?? {});
  if (!p.success) throw AppError.validation(fieldErrors(p.error.issues));
  const changes = Object.fromEntries(Object.entries(p.data).filter(([, x]) => x !== undefined));
  const store = storeOf(def);
  await write(dom, def, async (tx) => {
    const current = await store.get(tx, def, id);
    if (!current) throw AppError.notFound(def.label);
    const before = toRecord(def, current);
    const merged: ValuesIn = { ...before, ...changes };
    if (def.hasAliases) merged.aliases = (merged.aliases ?? []).map(({ alias, description }) => ({ alias, description }));
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

// ---------------------------------------------------------------------------------------------
// Bulk import (server/bulk): the checks split from the write, so a large file is validated outside
// any transaction and then written in a few multi-row statements, one log entry per object.

/** A new object's values, checked against the definition (the database checks are the caller's). */
export function validateNewObject(def: ResourceDef, input: unknown): ValuesIn {
  return generated(def, parseOrThrow(def, input));
}

/** `current` with `patch` applied, checked as changeObject checks it (aliases absent: kept). */
export function validateChangedObject(def: ResourceDef, current: ConfigRecord, patch: unknown): ValuesIn {
  const p = schemasOf(def).patch.safeParse(patch ?? {});
  if (!p.success) throw AppError.validation(fieldErrors(p.error.issues));
  const changes = Object.fromEntries(Object.entries(p.data).filter(([, x]) => x !== undefined));
  const merged: ValuesIn = { ...current, ...changes };
  if (def.hasAliases) merged.aliases = (merged.aliases ?? []).map(({ alias, description }) => ({ alias, description }));
  const v = generated(def, parseOrThrow(def, merged));
  if (def.hasAliases && changes.aliases === undefined) delete v.aliases;
  return v;
}

/** For each name, the id of the object holding it in the definition's unique name rule (any service type for services). */
export async function findObjectIdsByName(db: Database, def: ResourceDef, names: string[]): Promise<Map<string, number>> {
  const store = storeOf(def);
  const field = nameFieldOf(def);
  if (store.findClashes) return store.findClashes(db, def, field, names);
  const out = new Map<string, number>();
  for (const n of names) {
    const id = await store.findClash(db, def, [field], [n], null);
    if (id !== null) out.set(n, id);
  }
  return out;
}

/** The objects of this resource among `ids` (ids of other kinds are left out). */
export async function getObjects(dom: Domain, def: ResourceDef, ids: number[]): Promise<Map<number, ConfigRecord>> {
  const out = new Map<number, ConfigRecord>();
  for (let i = 0; i < ids.length; i += 500) {
    const batch = ids.slice(i, i + 500);
    const r = await storeOf(def).list(dom.db, def, { ids: batch, offset: 0, limit: batch.length, orderBy: 'id' });
    for (const s of r.rows) out.set(s.id, toRecord(def, s));
  }
  return out;
}

/** Which of `ids` are still objects of this resource (one query per 5,000). */
export async function existingObjectIds(db: Database, def: ResourceDef, ids: number[]): Promise<Set<number>> {
  const out = new Set<number>();
  for (let i = 0; i < ids.length; i += 5000) for (const id of await storeOf(def).existingIds(db, def, ids.slice(i, i + 5000))) out.add(id);
  return out;
}

/** Indexes of `values` whose references name no object (checked in one query per reference field): index → fields. */
export async function missingReferences(db: Database, def: ResourceDef, values: ValuesIn[]): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  for (const [key, f] of Object.entries(def.fields)) {
    if (f.type !== 'ref' && f.type !== 'refList') continue;
    const idsOf = (v: ValuesIn) => refIds(v[key]);
    const all = [...new Set(values.flatMap(idsOf))];
    if (all.length === 0) continue;
    const { kind, store } = referenceTarget(f.resource);
    const found = await store.existingIds(db, kind, all);
    values.forEach((v, i) => {
      if (idsOf(v).some((id) => !found.has(id))) out.set(i, [...(out.get(i) ?? []), key]);
    });
  }
  return out;
}

/** Inserts validated objects in the caller's transaction (dom.db); the caller tells the nodes once it commits. */
export async function insertObjects(dom: Domain, def: ResourceDef, values: ValuesIn[]): Promise<number[]> {
  if (values.length === 0) return [];
  const store = storeOf(def);
  const rows = values.map((v) => ({ values: v, uniqueKey: uniqueKeyOf(def, v) }));
  const ids = store.insertMany
    ? await store.insertMany(dom.db, def, rows)
    : await Promise.all(rows.map((r) => store.insert(dom.db, def, r.values, r.uniqueKey)));
  await recordChanges(
    dom.db,
    actorOf(dom),
    values.map((v, i) => ({
      action: 'added',
      objectType: def.label,
      objectId: ids[i]!,
      objectName: String(v[nameFieldOf(def)] ?? ''),
      after: auditShape(def, v),
      secretFields: secretFieldsOf(def),
    })),
  );
  return ids;
}

/** Writes validated changes (from validateChangedObject) in the caller's transaction, aliases replaced before any is added. */
export async function changeObjects(dom: Domain, def: ResourceDef, items: { before: ConfigRecord; values: ValuesIn }[]): Promise<void> {
  if (items.length === 0) return;
  const store = storeOf(def);
  const rows = items.map(({ before, values }) => ({ id: before.id, values, uniqueKey: uniqueKeyOf(def, values) }));
  if (store.updateMany) await store.updateMany(dom.db, def, rows);
  else for (const r of rows) await store.update(dom.db, def, r.id, r.values, r.uniqueKey);
  await recordChanges(
    dom.db,
    actorOf(dom),
    items.map(({ before, values: v }) => ({
      action: 'changed',
      objectType: def.label,
      objectId: before.id,
      objectName: String(v[nameFieldOf(def)] ?? ''),
      before: auditShape(def, before),
      after: auditShape(def, { ...v, aliases: v.aliases ?? before.aliases }),
      secretFields: secretFieldsOf(def),
    })),
  );
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

/** A singleton's row is unique by this key, so two first changes at once cannot both insert one. */
const SINGLETON_KEY = 'singleton';

/** Singletons (global settings, the management node) always exist: stored values over defaults. */
export function getSingleton(dom: Domain, resource: string): Promise<ConfigRecord> {
  return getSingletonRecord(dom, resourceDef(resource));
}

export async function getSingletonRecord<D extends ResourceDef>(dom: Domain, def: D): Promise<RecordOf<D>> {
  const row = await jsonStore.singleton(dom.db, def);
  return recordOf(def, 1, parseOrThrowLenient(def, row?.values ?? {}), row?.createdAt ?? new Date(0));
}

/** Stored values, with fields that no longer validate (e.g. after a range change) back at their defaults. */
function parseOrThrowLenient(def: ResourceDef, data: ValuesIn): Record<string, unknown> {
  const p = schemasOf(def).plain.safeParse(data);
  if (p.success) return p.data;
  const bad = new Set(p.error.issues.map((i) => String(i.path[0])));
  const cleaned = Object.fromEntries(Object.entries(data).filter(([k]) => !bad.has(k)));
  return schemasOf(def).plain.parse(cleaned);
}

export function updateSingleton(dom: Domain, resource: string, patch: unknown): Promise<ConfigRecord> {
  return updateSingletonRecord(dom, resourceDef(resource), patch);
}

export async function updateSingletonRecord<D extends ResourceDef>(dom: Domain, def: D, patch: InputOf<D>): Promise<RecordOf<D>> {
  const p = schemasOf(def).patch.safeParse(patch ?? {});
  if (!p.success) throw AppError.validation(fieldErrors(p.error.issues));
  const changes = Object.fromEntries(Object.entries(p.data).filter(([, x]) => x !== undefined));
  await write(dom, def, async (tx) => {
    const row = await jsonStore.singleton(tx, def);
    const before = parseOrThrowLenient(def, row?.values ?? {});
    const v = parseOrThrow(def, { ...before, ...changes });
    await validateAgainstDb(tx, def, v, row?.id ?? null);
    if (row) await jsonStore.update<ResourceDef>(tx, def, row.id, v, SINGLETON_KEY);
    else await jsonStore.insert<ResourceDef>(tx, def, v, SINGLETON_KEY);
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
  return getSingletonRecord(dom, def);
}
