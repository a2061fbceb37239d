import { inArray, sql } from 'drizzle-orm';
import { ivrTheme } from '../../db/schema.js';
import { ALIAS_MESSAGES } from '../../shared/alias/alias.schema.js';
import { normaliseAlias } from '../../shared/alias/normalise.js';
import { nameFieldOf, type ResourceDef } from '../../shared/config/resource.js';
import type { ValuesIn } from '../../shared/config/record.js';
import {
  changeObjects,
  existingObjectIds,
  findObjectIdsByName,
  getObjects,
  insertObjects,
  listObjects,
  missingReferences,
  resourceDef,
  validateChangedObject,
  validateNewObject,
  type ConfigRecord,
} from '../config/config.service.js';
import { isUniqueViolation, type Domain } from '../domain.js';
import { AppError } from '../errors/AppError.js';
import { ConferenceStore } from '../config/store/ConferenceStore.js';
import { csvKey, decryptSecret } from './bulk.service.js';
import { pacer } from './pacer.js';
import {
  capErrors,
  CSV_DEFINITIONS,
  CSV_MESSAGES,
  isServiceKind,
  lineError,
  parseCsvInSteps,
  REF_COLUMNS,
  sortByLine,
  type CsvKind,
  type CsvRecord,
  type CsvRef,
} from './csvFormat.js';

/**
 * Importing one CSV file (guide-digest-3 §15), all or nothing, without freezing the API: the file
 * is parsed and every row validated outside any transaction, in steps that give the event loop a
 * turn, with one query per lookup (names, aliases, references) rather than one per row. Only then
 * does one short transaction write the objects in multi-row statements. On the embedded database
 * (one connection) other requests wait only for that write.
 */

export interface ImportResult {
  created: number;
  updated: number;
}

/** Where an import is: rows (objects) validated, then written. */
export interface ImportProgress {
  stage: 'reading' | 'validating' | 'writing' | 'done' | 'failed';
  /** Objects the file describes (known once it is read). */
  total: number;
  validated: number;
  written: number;
  /** A rejected file: how many of its objects had errors. */
  rejected?: number;
}

export interface ImportOptions {
  onProgress?: (p: ImportProgress) => void;
}

/** Objects validated between two looks at the clock (pacer). */
const STEP = 25;
/** Objects written per step of the write (a progress report after each). */
const WRITE_STEP = 2_000;

/** What a reference column's name must denote, in the words of the "not found" message. */
const REF_WHAT: Record<string, string> = {
  ivr_theme: 'theme',
  system_location: 'location',
  conference: 'Virtual Meeting Room or Virtual Auditorium',
};

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

/** Ids of the objects named in reference columns: one query per referenced resource. */
async function resolveNames(dom: Domain, def: ResourceDef, records: CsvRecord[]): Promise<(ref: CsvRef) => number | null> {
  const byResource = new Map<string, Set<string>>();
  // Columns of fields this system lacks are reported, not looked up.
  for (const r of records)
    for (const ref of r.refs)
      if (ref.field in def.fields) (byResource.get(ref.resource) ?? byResource.set(ref.resource, new Set()).get(ref.resource)!).add(ref.name);
  const found = new Map<string, Map<string, number>>();
  for (const [resource, names] of byResource) {
    const list = [...names];
    const ids = new Map<string, number>();
    if (resource === 'ivr_theme') {
      // Themes are stored by the theme service (their ZIP packages), not as definition-driven objects.
      const lowered = [...new Set(list.map((n) => n.toLowerCase()))];
      const rows = await dom.db
        .select({ id: ivrTheme.id, name: ivrTheme.name })
        .from(ivrTheme)
        .where(inArray(sql`lower(${ivrTheme.name})`, lowered));
      const byLower = new Map(rows.map((t) => [t.name.toLowerCase(), t.id]));
      for (const n of list) if (byLower.has(n.toLowerCase())) ids.set(n, byLower.get(n.toLowerCase())!);
    } else {
      // An ADP's conference_name names a Virtual Meeting Room or a Virtual Auditorium.
      for (const r of resource === 'conference' ? ['vmr', 'virtual_auditorium'] : [resource]) {
        const def = resourceDef(r);
        const clashes = await findObjectIdsByName(
          dom.db,
          def,
          list.filter((n) => !ids.has(n)),
        );
        const mine = await getObjects(dom, def, [...new Set(clashes.values())]);
        for (const [n, id] of clashes) if (mine.has(id)) ids.set(n, id);
      }
    }
    found.set(resource, ids);
  }
  return (ref) => found.get(ref.resource)?.get(ref.name) ?? null;
}

/** A record's input with its named references as ids, or its errors. */
function withReferences(
  def: ResourceDef,
  r: CsvRecord,
  idOf: (ref: CsvRef) => number | null,
): { input: Record<string, unknown>; conferenceId: number | null } | { errors: string[] } {
  const input: Record<string, unknown> = { ...r.input };
  const errors: string[] = [];
  let conferenceId: number | null = null;
  for (const ref of r.refs) {
    if (!(ref.field in def.fields)) {
      errors.push(lineError(r.line, ref.column, CSV_MESSAGES.unsupported));
      continue;
    }
    const id = idOf(ref);
    if (id === null) errors.push(lineError(r.line, ref.column, CSV_MESSAGES.notFound(REF_WHAT[ref.resource] ?? ref.resource, ref.name)));
    else if (ref.field === 'conference') conferenceId = id;
    else input[ref.field] = id;
  }
  return errors.length ? { errors } : { input, conferenceId };
}

/** Fails the import with its errors (capped, in line order) and the number of objects rejected. */
class Rejected {
  readonly errors: string[] = [];
  readonly lines = new Set<number>();
  add(r: CsvRecord, errors: string[]): void {
    this.errors.push(...errors);
    this.lines.add(r.line);
  }
}

/**
 * Imports one CSV file of `kind`. Rows naming an existing object (services by name, device
 * aliases by alias, ADPs by alias and conference) overwrite it; the others are created.
 */
export async function importCsv(dom: Domain, kind: CsvKind, text: string, opts: ImportOptions = {}): Promise<ImportResult> {
  const progress: ImportProgress = { stage: 'reading', total: 0, validated: 0, written: 0 };
  const report = (p: Partial<ImportProgress>) => opts.onProgress?.(Object.assign(progress, p));
  report({});
  const key = kind === 'device' ? await csvKey(dom.db) : null;
  const parsed = await parseCsvInSteps(kind, text, { decrypt: key ? (v) => decryptSecret(key, v) : undefined });
  const failed = (file: string[], rejected: number) => {
    report({ stage: 'failed', rejected });
    return AppError.validation({ file });
  };
  // The reader's messages are already in line order and capped.
  if (parsed.errors.length) throw failed(parsed.errors, parsed.rejected);
  report({ stage: 'validating', total: parsed.records.length });
  try {
    const result = await importInBatches(dom, kind, parsed.records, report);
    report({ stage: 'done', validated: parsed.records.length, written: parsed.records.length });
    return result;
  } catch (err) {
    if (err instanceof Rejected) throw failed(capErrors(sortByLine(err.errors)), err.lines.size);
    report({ stage: 'failed' });
    throw err;
  }
}

type Report = (p: Partial<ImportProgress>) => void;

/** Validated in steps against one read of what exists, then written in multi-row statements. */
async function importInBatches(dom: Domain, kind: CsvKind, records: CsvRecord[], report: Report): Promise<ImportResult> {
  const def = CSV_DEFINITIONS[kind];
  const nameField = nameFieldOf(def);
  const rejected = new Rejected();
  const idOf = await resolveNames(dom, def, records);

  // What the file overwrites: one lookup of every name, one read of those objects. ADPs are
  // matched by (alias, conference) instead, against all of them (one may belong to several conferences).
  const adp = kind === 'automatic_participant';
  const names = adp ? [] : records.map((r) => String(r.input[nameField] ?? '')).filter((n) => n !== '');
  const holders = await findObjectIdsByName(dom.db, def, names);
  const existing = await getObjects(dom, def, [...new Set(holders.values())]);
  const adps = byAlias(adp ? await listAll(dom, kind) : []);
  const changed = new Map<number, number>();

  const pace = pacer();
  const creates: { r: CsvRecord; values: ValuesIn }[] = [];
  const changes: { r: CsvRecord; before: ConfigRecord; values: ValuesIn }[] = [];
  for (const [n, r] of records.entries()) {
    if (n % STEP === STEP - 1 && (await pace())) report({ validated: n });
    // Every record is checked, so the summary counts every rejected one (the messages are capped).
    const resolved = withReferences(def, r, idOf);
    if ('errors' in resolved) {
      rejected.add(r, resolved.errors);
      continue;
    }
    const { input, conferenceId } = resolved;
    if (isServiceKind(kind)) input.aliases = r.aliases.map((a) => ({ alias: a.alias, description: a.description }));
    try {
      let before: ConfigRecord | undefined;
      if (adp) {
        before = matchAdp(adps, String(input.alias ?? ''), conferenceId);
        input.conference = before ? idsOf(before.conference) : conferenceId === null ? [] : [conferenceId];
      } else {
        const holder = holders.get(String(input[nameField] ?? ''));
        before = holder === undefined ? undefined : existing.get(holder);
        // The name belongs to an object of another kind (a service of another type).
        if (holder !== undefined && !before) throw AppError.validation({ [nameField]: [def.unique?.[0]?.message ?? 'This name is already in use.'] });
      }
      if (!before) creates.push({ r, values: validateNewObject(def, input) });
      else {
        const change = { r, before, values: validateChangedObject(def, before, input) };
        // An ADP in two conferences may be matched by two rows: the later one wins, as it would one row at a time.
        const earlier = changed.get(before.id);
        if (earlier === undefined) changed.set(before.id, changes.push(change) - 1);
        else changes[earlier] = change;
      }
    } catch (err) {
      if (!(err instanceof AppError) || err.code === 'INTERNAL') throw err;
      rejected.add(r, recordErrors(r, err));
    }
  }
  report({ validated: records.length });
  if (def.hasAliases) await checkAliases([...changes, ...creates], rejected, dom);
  if (rejected.errors.length) throw rejected;

  // One transaction; nodes hear of the changes only once it commits.
  report({ stage: 'writing' });
  try {
    await dom.db.transaction(async (tx) => {
      const tdom: Domain = { ...dom, db: tx };
      // A referenced object deleted while the file was checked rejects it.
      const all = [...changes, ...creates];
      const gone = await missingReferences(
        tx,
        def,
        all.map((x) => x.values),
      );
      for (const [i, fields] of gone)
        rejected.add(all[i]!.r, recordErrors(all[i]!.r, AppError.validation(Object.fromEntries(fields.map((f) => [f, ['This object no longer exists.']])))));
      // So does an object it overwrites that was deleted meanwhile.
      const still = await existingObjectIds(
        tx,
        def,
        changes.map((c) => c.before.id),
      );
      for (const c of changes) if (!still.has(c.before.id)) rejected.add(c.r, [lineError(c.r.line, null, CSV_MESSAGES.changedMeanwhile)]);
      if (rejected.errors.length) throw rejected;
      await changeObjects(tdom, def, changes);
      report({ written: changes.length });
      for (let i = 0; i < creates.length; i += WRITE_STEP) {
        await insertObjects(
          tdom,
          def,
          creates.slice(i, i + WRITE_STEP).map((c) => c.values),
        );
        report({ written: changes.length + Math.min(creates.length, i + WRITE_STEP) });
      }
    });
  } catch (err) {
    // Another administrator took a name or an alias between the check and the write.
    if (isUniqueViolation(err))
      throw AppError.validation({ file: ['A name or an alias in this file was taken while the file was being checked; import it again.'] });
    throw err;
  }
  dom.bus.notify(def.name);
  return { created: creates.length, updated: changes.length };
}

/**
 * Aliases are unique across every service: none may be held by another record of the file, nor
 * by a service outside it. An alias a service of the file gives up may go to another one.
 */
async function checkAliases(items: { r: CsvRecord; before?: ConfigRecord; values: ValuesIn }[], rejected: Rejected, dom: Domain): Promise<void> {
  const aliasesOf = (v: ValuesIn) => v.aliases ?? [];
  const held = await ConferenceStore.aliasHolders(
    dom.db,
    items.flatMap((x) => aliasesOf(x.values).map((a) => normaliseAlias(a.alias))),
  );
  // What the file's services will hold once it is applied (the services it changes give up their old aliases).
  const updatedIds = new Set(items.flatMap((x) => (x.before ? [x.before.id] : [])));
  const inFile = new Map<string, string>();
  // Records in line order, so a clash is reported on the later line.
  for (const x of [...items].sort((a, b) => a.r.line - b.r.line)) {
    const name = String(x.values.name ?? '');
    const errors: string[] = [];
    aliasesOf(x.values).forEach((a, i) => {
      const n = normaliseAlias(a.alias);
      const line = x.r.aliases[i]?.line ?? x.r.line;
      const other = inFile.get(n);
      const holder = held.get(n);
      if (other !== undefined && other !== name) errors.push(lineError(line, 'alias_alias', ALIAS_MESSAGES.inUse(other)));
      else if (holder && holder.id !== x.before?.id && !updatedIds.has(holder.id))
        errors.push(lineError(line, 'alias_alias', ALIAS_MESSAGES.inUse(holder.name)));
      else inFile.set(n, name);
    });
    if (errors.length) rejected.add(x.r, errors);
  }
}

const idsOf = (v: unknown): number[] => (Array.isArray(v) ? v.filter((x): x is number => typeof x === 'number') : []);

/** The ADP with this alias in this conference (or in none, without one); `adps` by lower-cased alias. */
function matchAdp(adps: Map<string, ConfigRecord[]>, alias: string, conferenceId: number | null): ConfigRecord | undefined {
  return adps.get(alias.toLowerCase())?.find((a) => (conferenceId === null ? idsOf(a.conference).length === 0 : idsOf(a.conference).includes(conferenceId)));
}

function byAlias(adps: ConfigRecord[]): Map<string, ConfigRecord[]> {
  const out = new Map<string, ConfigRecord[]>();
  for (const a of adps) {
    const k = String(a.alias).toLowerCase();
    (out.get(k) ?? out.set(k, []).get(k)!).push(a);
  }
  return out;
}

/** Every object of a kind, page by page. */
async function listAll(dom: Domain, kind: CsvKind): Promise<ConfigRecord[]> {
  const all: ConfigRecord[] = [];
  for (;;) {
    const { total, items } = await listObjects(dom, kind, { offset: all.length, limit: 500, orderBy: 'id' });
    all.push(...items);
    if (items.length === 0 || all.length >= total) return all;
  }
}
