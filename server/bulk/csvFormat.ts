import { parse } from 'csv-parse/sync';
import { CSV_KINDS, type CsvKind } from '../../shared/bulk/csvKinds.js';
import { pacer } from './pacer.js';
import { fieldDefault, MSG, type FieldSpec } from '../../shared/config/field.js';
import { schemasOf, type ResourceDef } from '../../shared/config/resource.js';
import { virtualAuditoriumResource, virtualReceptionResource, vmrResource } from '../../shared/config/resources/services.js';
import { automaticParticipantResource, deviceResource } from '../../shared/config/resources/usersDevices.js';

/**
 * The CSV files of the guide's bulk import/export (guide-digest-3 §15): five kinds, each with an
 * exact column order. This module is pure: text → records with the line they came from, typed
 * values and the names of referenced objects; the bulk service resolves the names and applies
 * the records in one transaction.
 */

export { CSV_KINDS, type CsvKind };

/** The column orders of §15.2, verbatim. Without a header row, files must use exactly this order. */
export const CSV_COLUMNS: Record<CsvKind, readonly string[]> = {
  vmr: 'name,description,pin,allow_guests,guest_pin,alias_alias,alias_description,tag,max_callrate_in,max_callrate_out,call_type,host_view,enable_overlay_text,ivr_theme_name,participant_limit,primary_owner_email_address,guests_can_present,enable_chat,crypto_mode,max_pixels_per_second'.split(
    ',',
  ),
  virtual_auditorium:
    'name,description,pin,allow_guests,guest_pin,alias_alias,alias_description,tag,max_callrate_in,max_callrate_out,call_type,host_view,guest_view,force_presenter_into_main,enable_overlay_text,ivr_theme_name,participant_limit,mute_all_guests,guests_can_present,enable_chat,crypto_mode,max_pixels_per_second'.split(
      ',',
    ),
  virtual_reception:
    'name,description,alias_alias,alias_description,tag,max_callrate_in,max_callrate_out,call_type,ivr_theme_name,mssip_proxy_name,teams_proxy_name,match_string,replace_string,system_location_name,post_match_string,post_replace_string,two_stage_dial_type,gms_access_token_name,crypto_mode,max_pixels_per_second'.split(
      ',',
    ),
  device: 'alias,tag,description,username,password,primary_owner_email_address'.split(','),
  automatic_participant:
    'alias,remote_display_name,description,protocol,dtmf_sequence,role,streaming,keep_conference_alive,call_type,routing,presentation_url,system_location_name,conference_name'.split(
      ',',
    ),
};

/** Header names accepted but ignored: the guide's own device example header shows `sync_tag` (an LDAP-managed, read-only field). */
const IGNORED_COLUMNS: Partial<Record<CsvKind, readonly string[]>> = { device: ['sync_tag'] };

export const CSV_DEFINITIONS: Record<CsvKind, ResourceDef> = {
  vmr: vmrResource,
  virtual_auditorium: virtualAuditoriumResource,
  virtual_reception: virtualReceptionResource,
  device: deviceResource,
  automatic_participant: automaticParticipantResource,
};

/** Columns naming another object: column → the field it sets and the resource it names. */
export const REF_COLUMNS: Record<string, { field: string; resource: string }> = {
  ivr_theme_name: { field: 'ivr_theme', resource: 'ivr_theme' },
  system_location_name: { field: 'system_location', resource: 'system_location' },
  conference_name: { field: 'conference', resource: 'conference' },
  mssip_proxy_name: { field: 'mssip_proxy', resource: 'mssip_proxy' },
  teams_proxy_name: { field: 'teams_proxy', resource: 'teams_proxy' },
  gms_access_token_name: { field: 'gms_access_token', resource: 'gms_access_token' },
};

export const CSV_MESSAGES = {
  unknownColumn: (c: string) => `Unknown column "${c}" in the header row.`,
  duplicateColumn: (c: string) => `Column "${c}" appears more than once in the header row.`,
  missingKeyColumn: (c: string) => `The header row must include the "${c}" column.`,
  tooManyFields: (n: number) => `Too many fields: expected at most ${n}.`,
  boolean: 'Must be either true or false.',
  unsupported: 'Not supported by this system; leave this field blank.',
  notFound: (what: string, name: string) => `No ${what} named "${name}" exists.`,
  changedMeanwhile: 'This object was deleted or renamed while the file was being checked; import the file again.',
  quoteNotClosed: 'A quoted value starts on this line but its closing quote is missing.',
  decrypt: 'The encrypted password could not be decrypted; export the file again from this system.',
  tooManyErrors: (n: number) => `…and ${n} more errors.`,
} as const;

/** At most this many errors are reported for one file. */
export const MAX_ERRORS = 20;

export interface CsvAlias {
  alias: string;
  description: string;
  line: number;
}
export interface CsvRef {
  column: string;
  field: string;
  resource: string;
  name: string;
}
/** One object the file describes (several rows for services with several aliases or duplicates). */
export interface CsvRecord {
  /** Identity within the file: the name (services), the alias (devices), alias + conference (ADPs). */
  key: string;
  /** The line of the row whose fields are used: the last duplicate. */
  line: number;
  /** Field → typed value; blank cells hold the field's default. Named references are in `refs`. */
  input: Record<string, unknown>;
  /** Non-blank names of referenced objects, to resolve to ids. */
  refs: CsvRef[];
  /** Services: the union of the rows' aliases, in file order. */
  aliases: CsvAlias[];
}
/** Exported secrets (device passwords) carry this prefix; re-importing restores the original. */
export const ENCRYPTED_PREFIX = 'enc:';

export interface ParseOptions {
  /** Decrypts an exported secret (`enc:…`); null when it cannot be decrypted. */
  decrypt?: (value: string) => string | null;
}

export interface ParsedCsv {
  records: CsvRecord[];
  /** "Line N: column: message", in line order; empty when the file is well formed. */
  errors: string[];
  /** How many records (or, for an unreadable file, lines) have errors: all of them, though the messages are capped. */
  rejected: number;
}

export const isServiceKind = (k: CsvKind) => k === 'vmr' || k === 'virtual_auditorium' || k === 'virtual_reception';
export const keyColumnOf = (k: CsvKind) => (isServiceKind(k) ? 'name' : 'alias');
export const lineError = (line: number, column: string | null, message: string) => `Line ${line}: ${column ? `${column}: ` : ''}${message}`;

/** A cell → the field's value: blank takes the default, booleans any case, integers parsed; other text exactly as written. */
export function cellValue(f: FieldSpec, cell: string): { value: unknown } | { error: string } {
  if (cell === '') return { value: fieldDefault(f) };
  switch (f.type) {
    case 'bool':
      if (/^true$/i.test(cell)) return { value: true };
      if (/^false$/i.test(cell)) return { value: false };
      return { error: CSV_MESSAGES.boolean };
    case 'int':
      return /^[+-]?\d+$/.test(cell) ? { value: Number(cell) } : { error: MSG.integer };
    default:
      return { value: cell };
  }
}

interface Row {
  line: number;
  cells: Map<string, string>;
}

/** Characters per slice of text parsed at once: a large file is read in steps. */
const SLICE = 32 * 1024;
/** Rows (or records) handled per step; the caller decides when a turn is due. */
const STEP = 50;

/**
 * The text cut at record boundaries near every SLICE characters: a newline outside quotes (an
 * even number of `"` before it, as quotes inside quoted values are doubled). Each slice comes
 * with the line it starts on.
 */
function slicesOf(text: string): { text: string; firstLine: number }[] {
  const out: { text: string; firstLine: number }[] = [];
  let start = 0;
  let line = 1;
  let quotes = 0;
  let newlines = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) quotes++;
    else if (c === 10) {
      newlines++;
      if (i + 1 - start >= SLICE && quotes % 2 === 0) {
        out.push({ text: text.slice(start, i + 1), firstLine: line });
        line += newlines;
        newlines = 0;
        start = i + 1;
      }
    }
  }
  if (start < text.length) out.push({ text: text.slice(start), firstLine: line });
  return out;
}

/** The line of the quote that is never closed (the last one to open a quoted value). */
function unclosedQuoteLine(text: string, firstLine: number): number {
  let line = firstLine;
  let open = false;
  let openedOn = firstLine;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) line++;
    else if (c === 34) {
      open = !open;
      if (open) openedOn = line;
    }
  }
  return openedOn;
}

/** CSV text → rows keyed by column name, with the line each row starts on; yields between slices. */
function* readRows(kind: CsvKind, text: string, errors: string[]): Generator<void, Row[]> {
  const columns = CSV_COLUMNS[kind];
  const withLines: { line: number; record: string[] }[] = [];
  for (const slice of slicesOf(text.replace(/\r\n?/g, '\n'))) {
    let parsed: { record: string[]; info: { lines: number } }[];
    try {
      // Only quoting is interpreted: values are case-sensitive and kept exactly (no trimming).
      parsed = parse(slice.text, { bom: slice.firstLine === 1, relax_column_count: true, skip_empty_lines: true, info: true }) as never;
    } catch (err) {
      // Lines in the parser's message count from the slice's end: an unclosed quote is reported where it opens.
      const e = err as { message?: string; lines?: number; code?: string };
      if (e.code === 'CSV_QUOTE_NOT_CLOSED') errors.push(lineError(unclosedQuoteLine(slice.text, slice.firstLine), null, CSV_MESSAGES.quoteNotClosed));
      else errors.push(lineError(slice.firstLine - 1 + (e.lines ?? 1), null, String(e.message ?? err)));
      return [];
    }
    for (const { record, info } of parsed) {
      // info.lines is where the record ends; quoted values may span lines.
      withLines.push({ line: slice.firstLine - 1 + info.lines - record.reduce((n, c) => n + (c.match(/\n/g)?.length ?? 0), 0), record });
    }
    yield;
  }
  if (withLines.length === 0) return [];

  // A first row holding the key column's name, all of whose non-blank cells are identifiers, is a header.
  const first = withLines[0]!;
  const isHeader = first.record.includes(keyColumnOf(kind)) && first.record.every((c) => c === '' || /^[a-z][a-z0-9_]*$/.test(c));
  let order: (string | null)[] = [...columns];
  let body = withLines;
  if (isHeader) {
    body = withLines.slice(1);
    const seen = new Set<string>();
    order = first.record.map((name) => {
      if (name === '' || IGNORED_COLUMNS[kind]?.includes(name)) return null;
      if (!columns.includes(name)) errors.push(lineError(first.line, null, CSV_MESSAGES.unknownColumn(name)));
      else if (seen.has(name)) errors.push(lineError(first.line, null, CSV_MESSAGES.duplicateColumn(name)));
      seen.add(name);
      return name;
    });
    if (errors.length) return [];
  }
  const rows: Row[] = [];
  for (const { line, record } of body) {
    if (rows.length % STEP === 0) yield;
    const cells = new Map<string, string>();
    record.forEach((cell, i) => {
      const name = order[i];
      if (name) cells.set(name, fromFormulaSafe(cell));
    });
    // Trailing blank cells are harmless; a value beyond the last column is a misaligned row.
    if (record.slice(order.length).some((c) => c !== '')) errors.push(lineError(line, null, CSV_MESSAGES.tooManyFields(order.length)));
    rows.push({ line, cells });
  }
  return rows;
}

/** The field a (non-reference, non-alias) column sets. */
function fieldOf(def: ResourceDef, column: string): FieldSpec | undefined {
  return def.fields[column];
}

/**
 * Parses one file of `kind`: an optional header row (then columns may be in any order), one row
 * per service alias, the last duplicate winning (§15.4-15.6). Every row's cells are checked, and
 * each resulting record is validated against the object's schema, so all errors are reported
 * with their line before anything is stored.
 */
export function parseCsv(kind: CsvKind, text: string, opts: ParseOptions = {}): ParsedCsv {
  const steps = parseSteps(kind, text, opts);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** parseCsv in steps, giving the event loop a turn between them (a large file takes a few hundred ms). */
export async function parseCsvInSteps(kind: CsvKind, text: string, opts: ParseOptions = {}): Promise<ParsedCsv> {
  const steps = parseSteps(kind, text, opts);
  const pace = pacer();
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await pace();
  }
}

function* parseSteps(kind: CsvKind, text: string, opts: ParseOptions): Generator<void, ParsedCsv> {
  const def = CSV_DEFINITIONS[kind];
  const errors: string[] = [];
  const rows = yield* readRows(kind, text, errors);
  const service = isServiceKind(kind);
  const byKey = new Map<string, CsvRecord>();

  for (const [n, row] of rows.entries()) {
    if (n % STEP === STEP - 1) yield;
    const input: Record<string, unknown> = {};
    const refs: CsvRef[] = [];
    let alias: CsvAlias | null = null;
    // Columns absent from a header (or a short row) count as blank.
    for (const column of CSV_COLUMNS[kind]) {
      const cell = row.cells.get(column) ?? '';
      if (service && column === 'alias_alias') {
        if (cell !== '') alias = { alias: cell, description: row.cells.get('alias_description') ?? '', line: row.line };
        continue;
      }
      if (service && column === 'alias_description') continue;
      const ref = REF_COLUMNS[column];
      if (ref) {
        if (cell !== '') refs.push({ column, ...ref, name: cell });
        continue;
      }
      const f = fieldOf(def, column);
      if (!f) continue;
      let text = cell;
      if (f.type === 'text' && f.secret && opts.decrypt && cell.startsWith(ENCRYPTED_PREFIX)) {
        const plain = opts.decrypt(cell);
        if (plain === null) {
          errors.push(lineError(row.line, column, CSV_MESSAGES.decrypt));
          continue;
        }
        text = plain;
      }
      const v = cellValue(f, text);
      if ('error' in v) errors.push(lineError(row.line, column, v.error));
      else input[column] = v.value;
    }
    const keyCell = row.cells.get(keyColumnOf(kind)) ?? '';
    // Names and aliases are unique case-insensitively, so duplicates are found the same way.
    const key =
      kind === 'automatic_participant' ? `${keyCell.toLowerCase()}\0${(row.cells.get('conference_name') ?? '').toLowerCase()}` : keyCell.toLowerCase();
    // A row without its key makes its own record, so the missing name is reported on its line.
    const mapKey = keyCell === '' ? `\0line${row.line}` : key;
    const prev = byKey.get(mapKey);
    const aliases = prev ? prev.aliases : [];
    if (alias) {
      const i = aliases.findIndex((a) => a.alias === alias.alias);
      if (i >= 0) aliases[i] = alias;
      else aliases.push(alias);
    }
    // Last duplicate wins: re-inserting moves the record to its last position in the file.
    byKey.delete(mapKey);
    byKey.set(mapKey, { key, line: row.line, input, refs, aliases });
  }

  const records = [...byKey.values()];
  const { create } = schemasOf(def);
  for (const [n, r] of records.entries()) {
    if (n % STEP === STEP - 1) yield;
    // References are checked against the database later; here only their presence matters.
    const res = create.safeParse(r.input);
    if (res.success) continue;
    for (const issue of res.error.issues) {
      const field = String(issue.path[0] ?? '');
      const column = Object.entries(REF_COLUMNS).find(([, v]) => v.field === field)?.[0] ?? field;
      errors.push(lineError(r.line, column || null, issue.message));
    }
  }
  return { records, errors: capErrors(sortByLine(errors)), rejected: new Set(errors.map(lineOf)).size };
}

const lineOf = (e: string) => Number(/^Line (\d+)/.exec(e)?.[1] ?? 0);
export function sortByLine(errors: string[]): string[] {
  return [...new Set(errors)].sort((a, b) => lineOf(a) - lineOf(b));
}
export function capErrors(errors: string[]): string[] {
  return errors.length > MAX_ERRORS ? [...errors.slice(0, MAX_ERRORS), CSV_MESSAGES.tooManyErrors(errors.length - MAX_ERRORS)] : errors;
}

/**
 * CSV injection (OWASP): a cell starting with =, +, -, @, a tab or a carriage return is a formula to
 * a spreadsheet (`=HYPERLINK(...)` once went out unchanged). Exported, such a cell gets a leading
 * single quote, which spreadsheets show as text; one more quote goes before values that already
 * start with quotes and then such a character, so `fromFormulaSafe` gives back exactly what was stored.
 */
const FORMULA_START = /^'*[=+\-@\t\r]/;
export function formulaSafe(cell: string): string {
  return FORMULA_START.test(cell) ? `'${cell}` : cell;
}
/** The import side: one leading quote before a formula character is ours (or a spreadsheet's) and goes. */
export function fromFormulaSafe(cell: string): string {
  return /^'+[=+\-@\t\r]/.test(cell) ? cell.slice(1) : cell;
}

/** A stored value → its CSV cell: booleans as true/false, blank for null. */
export function cellOf(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return String(value);
}
