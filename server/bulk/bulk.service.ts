import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { stringify } from 'csv-stringify/sync';
import type { Database } from '../../db/client.js';
import { ivrTheme } from '../../db/schema.js';
import type { PermissionAction, PermissionArea } from '../../shared/admin/permissions.js';
import { persistentSecret } from '../auth/admin.service.js';
import { listObjects, type ConfigRecord } from '../config/config.service.js';
import type { Domain } from '../domain.js';
import { cellOf, formulaSafe, CSV_COLUMNS, CSV_DEFINITIONS, ENCRYPTED_PREFIX, isServiceKind, REF_COLUMNS, type CsvKind } from './csvFormat.js';

/**
 * Bulk import/export of services, device aliases and Automatically Dialed Participants as CSV
 * (guide-digest-3 §15): permissions, exported passwords and the export; the import is csvImport.ts.
 */

/** Largest CSV file accepted (characters). */
export const MAX_CSV_LENGTH = 20 * 1024 * 1024;

/** Services and ADPs are VMR configuration; device aliases are Users & Devices (system). */
export function bulkPermission(kind: CsvKind, write: boolean): [PermissionArea, PermissionAction] {
  if (kind === 'device') return ['system', write ? 'modify' : 'view'];
  return ['vmr', write ? 'add_remove' : 'view'];
}

// ---------------------------------------------------------------------------------------------
// Exported passwords: AES-256-GCM under a key kept in the platform settings, so only this
// system (or one restored from its backup) can turn an exported password back into the original.

const SECRET_SETTING = 'csv_secret';

export async function csvKey(db: Database): Promise<Buffer> {
  return createHash('sha256')
    .update(await persistentSecret(db, SECRET_SETTING))
    .digest();
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
      const aliases = item.aliases ?? [];
      for (const alias of aliases.length ? aliases : [undefined]) rows.push(columns.map((c) => cell(c, { alias })));
    } else if (kind === 'automatic_participant') {
      const confs = idsOf(item.conference);
      for (const conference of confs.length ? confs : [undefined]) rows.push(columns.map((c) => cell(c, { conference })));
    } else rows.push(columns.map((c) => cell(c, {})));
  }
  // Neutralised cells are quoted too, as OWASP advises.
  return stringify(
    rows.map((r) => r.map(formulaSafe)),
    { quoted_match: /^'+[=+\-@\t\r]/ },
  );
}
