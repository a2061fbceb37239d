import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { stringify } from 'csv-stringify/sync';
import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { ivrTheme } from '../../db/schema.js';
import type { PermissionAction, PermissionArea } from '../../shared/admin/permissions.js';
import { persistentSecret } from '../auth/admin.service.js';
import { changeObject, createObject, findObjectByName, insertObject, listObjects, updateObject, type ConfigRecord } from '../config/config.service.js';
import type { Domain } from '../domain.js';
import { AppError } from '../errors/AppError.js';
import { ConfigBus } from '../platform/ConfigBus.js';
import {
  capErrors,
  cellOf,
  formulaSafe,
  CSV_COLUMNS,
  CSV_DEFINITIONS,
  CSV_MESSAGES,
  ENCRYPTED_PREFIX,
  isServiceKind,
  lineError,
  MAX_ERRORS,
  parseCsv,
  REF_COLUMNS,
  sortByLine,
  type CsvKind,
  type CsvRecord,
  type CsvRef,
} from './csvFormat.js';

/**
 * Bulk import/export of services, device aliases and Automatically Dialed Participants as CSV
 * (guide-digest-3 §15). An import is all or nothing: the whole file is applied in one
 * transaction, and any bad row rejects the file with every error found, each with its line.
 */

/** Largest CSV file accepted (characters). */
export const MAX_CSV_LENGTH = 20 * 1024 * 1024;

/** Services and ADPs are VMR configuration; device aliases are Users & Devices (system). */
export function bulkPermission(kind: CsvKind, write: boolean): [PermissionArea, PermissionAction] {
  if (kind === 'device') return ['system', write ? 'modify' : 'view'];
  return ['vmr', write ? 'add_remove' : 'view'];
}

export interface ImportResult {
  created: number;
  updated: number;
}

// ---------------------------------------------------------------------------------------------
// Exported passwords: AES-256-GCM under a key kept in the platform settings, so only this
// system (or one restored from its backup) can turn an exported password back into the original.

const SECRET_SETTING = 'csv_secret';

async function csvKey(db: Database): Promise<Buffer> {
  return createHash('sha256').update(await persistentSecret(db, SECRET_SETTING)).digest();
}

export function encryptSecret(key: Buffer, plain: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return ENCRYPTED_PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

export function decryptSecret(key: Buffer, value: string): string | null {
  try {
    const raw = Buffer.from(value.slice(ENCRYPTED_PREFIX.length), 'base64url');
    if (raw.length < 28) return null;
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------

const PAGE = 500;

/** Every object of a resource, page by page. */
async function listAll(dom: Domain, resource: string): Promise<ConfigRecord[]> {
  const all: ConfigRecord[] = [];
  for (;;) {
    const { total, items } = await listObjects(dom, resource, { offset: all.length, limit: PAGE, orderBy: 'id' });
    all.push(...items);
    if (items.length === 0 || all.length >= total) return all;
  }
}

// Themes are stored by the theme service (their ZIP packages), not as definition-driven objects.
async function idByName(dom: Domain, resource: string, name: string): Promise<number | null> {
  if (resource === 'ivr_theme') {
    const [t] = await dom.db.select({ id: ivrTheme.id }).from(ivrTheme).where(sql`lower(${ivrTheme.name}) = lower(${name})`).limit(1);
    return t?.id ?? null;
  }
  return (await findObjectByName(dom, resource, name))?.id ?? null;
}

/** id → name of every object of the given resources. */
async function namesById(dom: Domain, ...resources: string[]): Promise<Map<number, string>> {
  const m = new Map<number, string>();
  for (const r of resources) {
    if (r === 'ivr_theme') for (const t of await dom.db.select({ id: ivrTheme.id, name: ivrTheme.name }).from(ivrTheme)) m.set(t.id, t.name);
    else for (const o of await listAll(dom, r)) m.set(o.id, String(o.name ?? ''));
  }
  return m;
}

const idsOf = (v: unknown): number[] => (Array.isArray(v) ? v.filter((x): x is number => typeof x === 'number') : []);

/** What a reference column's name must denote, in the words of the "not found" message. */
const REF_WHAT: Record<string, string> = {
  ivr_theme: 'theme',
  system_location: 'location',
  conference: 'Virtual Meeting Room or Virtual Auditorium',
};

/** Resolves names in reference columns to ids, once per name. */
class NameResolver {
  private cache = new Map<string, number | null>();
  constructor(private dom: Domain) {}

  async resolve(ref: CsvRef): Promise<number | null> {
    const k = `${ref.resource}\0${ref.name.toLowerCase()}`;
    if (this.cache.has(k)) return this.cache.get(k)!;
    // An ADP's conference_name names a Virtual Meeting Room or a Virtual Auditorium.
    const resources = ref.resource === 'conference' ? ['vmr', 'virtual_auditorium'] : [ref.resource];
    let id: number | null = null;
    for (const r of resources) {
      id = await idByName(this.dom, r, ref.name);
      if (id !== null) break;
    }
    this.cache.set(k, id);
    return id;
  }
}

/** A domain error of one record → "Line N: column: message" lines, aliases at their own rows. */
function recordErrors(r: CsvRecord, err: AppError): string[] {
  if (!err.fields) return [lineError(r.line, null, err.message)];
  const out: string[] = [];
  for (const [path, messages] of Object.entries(err.fields)) {
    const m = /^aliases(?:\.(\d+))?(?:\.(alias|description))?$/.exec(path);
    let line = r.line;
    let column = path;
    if (m) {
      const a = m[1] !== undefined ? r.aliases[Number(m[1])] : undefined;
      line = a?.line ?? r.line;
      column = m[2] === 'description' ? 'alias_description' : 'alias_alias';
    } else {
      const ref = Object.entries(REF_COLUMNS).find(([, v]) => v.field === path);
      if (ref) column = ref[0];
    }
    for (const msg of messages) out.push(lineError(line, column === '__all__' ? null : column, msg));
  }
  return out;
}

/**
 * Imports one CSV file of `kind`. Rows naming an existing object (services by name, device
 * aliases by alias, ADPs by alias and conference) overwrite it; the others are created.
 */
export async function importCsv(dom: Domain, kind: CsvKind, text: string): Promise<ImportResult> {
  const def = CSV_DEFINITIONS[kind];
  const key = kind === 'device' ? await csvKey(dom.db) : null;
  const parsed = parseCsv(kind, text, { decrypt: key ? (v) => decryptSecret(key, v) : undefined });
  if (parsed.errors.length) throw AppError.validation({ file: parsed.errors });

  // Nodes hear of the changes only once they are committed.
  const changed: string[] = [];
  const bus = new ConfigBus();
  bus.on('changed', (what) => changed.push(what));

  const result = await dom.db.transaction(async (tx) => {
    const tdom: Domain = { ...dom, db: tx, bus };
    const names = new NameResolver(tdom);
    const errors: string[] = [];
    const created = new Set<number>();
    const updated = new Set<number>();
    // ADPs are matched by (alias, conference); one ADP may belong to several conferences.
    const adps = kind === 'automatic_participant' ? await listAll(tdom, kind) : [];

    for (const r of parsed.records) {
      if (errors.length >= MAX_ERRORS) break;
      const input: Record<string, unknown> = { ...r.input };
      let conferenceId: number | null = null;
      let resolved = true;
      for (const ref of r.refs) {
        if (!(ref.field in def.fields)) {
          errors.push(lineError(r.line, ref.column, CSV_MESSAGES.unsupported));
          resolved = false;
          continue;
        }
        const id = await names.resolve(ref);
        if (id === null) {
          errors.push(lineError(r.line, ref.column, CSV_MESSAGES.notFound(REF_WHAT[ref.resource] ?? ref.resource, ref.name)));
          resolved = false;
        } else if (ref.field === 'conference') conferenceId = id;
        else input[ref.field] = id;
      }
      if (!resolved) continue;
      if (isServiceKind(kind)) input.aliases = r.aliases.map((a) => ({ alias: a.alias, description: a.description }));

      try {
        let existing: ConfigRecord | null;
        if (kind === 'automatic_participant') {
          const alias = String(input.alias).toLowerCase();
          existing =
            adps.find((a) => String(a.alias).toLowerCase() === alias && (conferenceId === null ? idsOf(a.conference).length === 0 : idsOf(a.conference).includes(conferenceId))) ?? null;
          const confs = idsOf(existing?.conference);
          input.conference = conferenceId === null || confs.includes(conferenceId) ? confs : [...confs, conferenceId];
        } else {
          existing = await findObjectByName(tdom, kind, String(input[kind === 'device' ? 'alias' : 'name']));
        }
        // ADPs are matched against the objects as saved; other kinds need no read-back.
        if (existing && kind === 'automatic_participant') {
          Object.assign(existing, await updateObject(tdom, kind, existing.id, input));
          if (!created.has(existing.id)) updated.add(existing.id);
        } else if (existing) {
          await changeObject(tdom, kind, existing.id, input);
          if (!created.has(existing.id)) updated.add(existing.id);
        } else if (kind === 'automatic_participant') {
          const saved = await createObject(tdom, kind, input);
          created.add(saved.id);
          adps.push(saved);
        } else {
          created.add(await insertObject(tdom, kind, input));
        }
      } catch (err) {
        if (!(err instanceof AppError) || err.code === 'INTERNAL') throw err;
        errors.push(...recordErrors(r, err));
      }
    }
    // Throwing rolls the whole file back.
    if (errors.length) throw AppError.validation({ file: capErrors(sortByLine(errors)) });
    return { created: created.size, updated: updated.size };
  });
  for (const what of new Set(changed)) dom.bus.notify(what);
  return result;
}

/** All objects of `kind` as CSV in the import format, with a header row (services: one row per alias). */
export async function exportCsv(dom: Domain, kind: CsvKind): Promise<string> {
  const columns = CSV_COLUMNS[kind];
  const items = await listAll(dom, kind);
  const def = CSV_DEFINITIONS[kind];
  const refNames: Record<string, Map<number, string>> = {};
  for (const c of columns) {
    const ref = REF_COLUMNS[c];
    if (!ref || !(ref.field in def.fields)) continue;
    refNames[c] = ref.resource === 'conference' ? await namesById(dom, 'vmr', 'virtual_auditorium') : await namesById(dom, ref.resource);
  }
  const key = kind === 'device' ? await csvKey(dom.db) : null;

  const rows: string[][] = [[...columns]];
  for (const item of items) {
    const cell = (c: string, extra: { alias?: { alias: string; description: string }; conference?: number }): string => {
      if (c === 'alias_alias') return extra.alias?.alias ?? '';
      if (c === 'alias_description') return extra.alias?.description ?? '';
      const ref = REF_COLUMNS[c];
      if (ref) {
        const id = ref.field === 'conference' ? extra.conference : item[ref.field];
        return typeof id === 'number' ? (refNames[c]?.get(id) ?? '') : '';
      }
      const v = item[c];
      if (key && c === 'password' && typeof v === 'string' && v !== '') return encryptSecret(key, v);
      return cellOf(v);
    };
    if (isServiceKind(kind)) {
      const aliases = (item.aliases as { alias: string; description: string }[] | undefined) ?? [];
      for (const alias of aliases.length ? aliases : [undefined]) rows.push(columns.map((c) => cell(c, { alias })));
    } else if (kind === 'automatic_participant') {
      const confs = idsOf(item.conference);
      for (const conference of confs.length ? confs : [undefined]) rows.push(columns.map((c) => cell(c, { conference })));
    } else rows.push(columns.map((c) => cell(c, {})));
  }
  // Neutralised cells are quoted too, as OWASP advises.
  return stringify(rows.map((r) => r.map(formulaSafe)), { quoted_match: /^'+[=+\-@\t\r]/ });
}
