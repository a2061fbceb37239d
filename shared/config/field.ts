import { z } from 'zod';

/**
 * Field specifications: each configuration object's fields are declared once (label, type,
 * default, range, help) and everything else is derived from them — the zod schema the console,
 * tRPC and the management REST API validate with, the console's form and list, and the
 * administrator log's before/after. Field keys are the management API's names.
 */

interface Base {
  /** The field's label in the console, in the guide's words. */
  label: string;
  help?: string;
  /** Form section heading; fields without one go first. */
  section?: string;
  /** Changing it restarts the conferencing nodes (global settings marked so in the guide). */
  restartsNodes?: boolean;
  /** Shown but not settable (e.g. computed values). */
  readOnly?: boolean;
  /**
   * Stored, validated and served by the APIs, but nothing in OpenMeet acts on it yet (e.g. SIP, H.323,
   * RTMP, cloud bursting): the console marks it "Not acted on yet" and the API schema says so.
   */
  notYetActive?: boolean;
}

export type TextFormat =
  'host' | 'ip' | 'ipv4' | 'ipv6' | 'ipOrHost' | 'email' | 'url' | 'regex' | 'alias' | 'domain' | 'cidr' | 'netmask' | 'hostname' | 'uuid';

export interface TextField extends Base {
  type: 'text';
  max: number;
  min?: number;
  required?: boolean;
  default?: string;
  format?: TextFormat;
  /** Extra pattern the value must match (after the format), with its message. */
  pattern?: { re: RegExp; message: string };
  multiline?: boolean;
  /** Passwords and PINs: never written to the log, shown as a password input. */
  secret?: boolean;
  /**
   * Never returned by the API or to the console (the management API's write-only secrets); a blank
   * value in a change keeps the stored one. Default: `secret`. PINs are secret but readable.
   */
  writeOnly?: boolean;
}
export interface IntField extends Base {
  type: 'int';
  min?: number;
  max?: number;
  /** `null` default means blank is allowed and stored as null. */
  default?: number | null;
  required?: boolean;
}
export interface BoolField extends Base {
  type: 'bool';
  default: boolean;
}
export interface ChoiceField extends Base {
  type: 'choice';
  choices: readonly (readonly [value: string, label: string])[];
  default: string | null;
  /** Blank (null) allowed, e.g. "Use global setting". */
  nullable?: boolean;
  nullLabel?: string;
}
/** A reference to another configuration object; stored as its id, shown in the API as its URI. */
export interface RefField extends Base {
  type: 'ref';
  resource: string;
  required?: boolean;
  /** What blank means, e.g. "Any location", "Use DNS". */
  nullLabel?: string;
}
export interface RefListField extends Base {
  type: 'refList';
  resource: string;
}
/** A list of strings (e.g. DNS servers by address, disabled codecs). */
export interface ListField extends Base {
  type: 'list';
  item: Omit<TextField, keyof Base | 'type'>;
  maxItems?: number;
  choices?: readonly (readonly [value: string, label: string])[];
  /** The list on create when not given (e.g. the codecs disabled by default). */
  default?: readonly string[];
}

export type FieldSpec = TextField | IntField | BoolField | ChoiceField | RefField | RefListField | ListField;
export type FieldSpecs = Record<string, FieldSpec>;

export const MSG = {
  required: 'This field is required.',
  maxLength: (n: number) => `Ensure this value has at most ${n} characters.`,
  minLength: (n: number) => `Ensure this value has at least ${n} characters.`,
  min: (n: number) => `Ensure this value is greater than or equal to ${n}.`,
  max: (n: number) => `Ensure this value is less than or equal to ${n}.`,
  integer: 'Enter a whole number.',
  choice: (v: unknown) => `Select a valid choice. ${String(v)} is not one of the available choices.`,
  ref: 'Select a valid choice. That choice is not one of the available choices.',
  boolean: "'Must be either true or false.'",
  ip: 'Enter a valid IPv4 or IPv6 address.',
  ipv4: 'Enter a valid IPv4 address.',
  ipv6: 'Enter a valid IPv6 address.',
  host: 'Enter a valid IP address, hostname or FQDN.',
  hostname: 'Enter a valid hostname (letters, digits and hyphens; at most 63 characters; not starting or ending with a hyphen).',
  domain: 'Enter a valid domain name.',
  email: 'Enter a valid email address.',
  url: 'Enter a valid URL.',
  cidr: 'Enter a valid network address in the form address/prefix.',
  netmask: 'Enter a valid network mask.',
  uuid: 'Enter a valid UUID.',
  alias: 'Aliases may contain only letters, numbers, dashes, dots, underscores, spaces and @.',
  regex: (detail: string) => `Invalid regular expression: ${detail}`,
} as const;

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;

export function isIpv4(s: string): boolean {
  return IPV4.test(s);
}
export function isIpv6(s: string): boolean {
  if (!/^[0-9a-f:.]+$/i.test(s) || !s.includes(':')) return false;
  const parts = s.split('::');
  if (parts.length > 2) return false;
  const groups = (p: string) => (p === '' ? [] : p.split(':'));
  const all = [...groups(parts[0]!), ...(parts.length === 2 ? groups(parts[1]!) : [])];
  let count = 0;
  for (const [i, g] of all.entries()) {
    if (i === all.length - 1 && g.includes('.')) {
      if (!isIpv4(g)) return false;
      count += 2;
    } else if (/^[0-9a-f]{1,4}$/i.test(g)) count += 1;
    else return false;
  }
  return parts.length === 2 ? count < 8 : count === 8;
}
export const isIp = (s: string) => isIpv4(s) || isIpv6(s);
export function isFqdn(s: string): boolean {
  if (s.length > 253) return false;
  const labels = s.replace(/\.$/, '').split('.');
  return labels.length > 0 && labels.every((l) => LABEL.test(l)) && !/^\d+$/.test(labels[labels.length - 1]!);
}
function isNetmask(s: string): boolean {
  if (!isIpv4(s)) return false;
  const bits = s
    .split('.')
    .map((o) => Number(o).toString(2).padStart(8, '0'))
    .join('');
  return /^1*0*$/.test(bits);
}

/** Pluggable regex check (the guide's Python-style syntax); set by shared/routing when loaded. */
export let regexValidator: (pattern: string) => string | null = (pattern) => {
  try {
    new RegExp(pattern);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
};
export function setRegexValidator(fn: (pattern: string) => string | null): void {
  regexValidator = fn;
}

function formatError(format: TextFormat, v: string): string | null {
  switch (format) {
    case 'ip':
      return isIp(v) ? null : MSG.ip;
    case 'ipv4':
      return isIpv4(v) ? null : MSG.ipv4;
    case 'ipv6':
      return isIpv6(v) ? null : MSG.ipv6;
    case 'host':
    case 'ipOrHost':
      return isIp(v) || isFqdn(v) ? null : MSG.host;
    case 'hostname':
      return LABEL.test(v) ? null : MSG.hostname;
    case 'domain':
      return isFqdn(v) ? null : MSG.domain;
    case 'email':
      return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v) ? null : MSG.email;
    case 'url':
      try {
        const u = new URL(v);
        return u.protocol === 'http:' || u.protocol === 'https:' ? null : MSG.url;
      } catch {
        return MSG.url;
      }
    case 'cidr': {
      const m = /^(.+)\/(\d{1,3})$/.exec(v);
      if (!m) return MSG.cidr;
      const max = isIpv4(m[1]!) ? 32 : isIpv6(m[1]!) ? 128 : -1;
      return max >= 0 && Number(m[2]) <= max ? null : MSG.cidr;
    }
    case 'netmask':
      return isNetmask(v) ? null : MSG.netmask;
    case 'uuid':
      return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v) ? null : MSG.uuid;
    case 'alias':
      return /^[\p{L}\p{N}\-._@ :+*#]+$/u.test(v) ? null : MSG.alias;
    case 'regex': {
      const err = regexValidator(v);
      return err ? MSG.regex(err) : null;
    }
  }
}

function textSchema(f: Omit<TextField, keyof Base | 'type'>) {
  let s = z.string({ error: MSG.required }).max(f.max, MSG.maxLength(f.max));
  if (!f.secret) s = s.trim();
  if (f.required) s = s.min(Math.max(f.min ?? 1, 1), f.min && f.min > 1 ? MSG.minLength(f.min) : MSG.required);
  return s.superRefine((v, ctx) => {
    if (v === '') return;
    if (f.min && v.length < f.min) ctx.addIssue({ code: 'custom', message: MSG.minLength(f.min) });
    if (f.format) {
      const err = formatError(f.format, v);
      if (err) return ctx.addIssue({ code: 'custom', message: err });
    }
    if (f.pattern && !f.pattern.re.test(v)) ctx.addIssue({ code: 'custom', message: f.pattern.message });
  });
}

/** The zod schema of one field's value (no default applied). */
export function fieldSchema(f: FieldSpec): z.ZodType {
  switch (f.type) {
    case 'text':
      return textSchema(f);
    case 'int': {
      let n = z.number({ error: (iss) => (iss.input === undefined ? MSG.required : MSG.integer) }).int(MSG.integer);
      if (f.min !== undefined) n = n.min(f.min, MSG.min(f.min));
      if (f.max !== undefined) n = n.max(f.max, MSG.max(f.max));
      return f.required ? n : n.nullable();
    }
    case 'bool':
      return z.boolean({ error: MSG.boolean });
    case 'choice': {
      const values = f.choices.map(([v]) => v);
      const c = z.string({ error: MSG.required }).refine((v) => values.includes(v), { error: (iss) => MSG.choice(iss.input) });
      return f.nullable ? c.nullable() : c;
    }
    case 'ref': {
      const r = z.number({ error: MSG.ref }).int(MSG.ref).positive(MSG.ref);
      return f.required ? r : r.nullable();
    }
    case 'refList':
      return z.array(z.number({ error: MSG.ref }).int(MSG.ref).positive(MSG.ref));
    case 'list': {
      const item = f.choices
        ? z.string().refine((v) => f.choices!.some(([c]) => c === v), { error: (iss) => MSG.choice(iss.input) })
        : textSchema({ ...f.item, required: true });
      const a = z.array(item);
      return f.maxItems ? a.max(f.maxItems, `Ensure this list has at most ${f.maxItems} items.`) : a;
    }
  }
}

/** The value a field takes when it is not given on create. */
export function fieldDefault(f: FieldSpec): unknown {
  switch (f.type) {
    case 'text':
      return f.default ?? '';
    case 'int':
      return f.default === undefined ? null : f.default;
    case 'bool':
      return f.default;
    case 'choice':
      return f.default;
    case 'ref':
      return null;
    case 'refList':
      return [];
    case 'list':
      return f.default ? [...f.default] : [];
  }
}

export type Issue = { path: string; message: string };
export type Refine = (v: Record<string, unknown>, add: (path: string, message: string) => void) => void;

/**
 * The create schema (every field, defaults filled in) and the patch schema (every field
 * optional) of a set of fields. Cross-field rules run on the merged object in the domain layer
 * (and in the console's form), so a patch is checked against what will be stored.
 */
export function buildSchemas(fields: FieldSpecs, refine?: Refine, extra: Record<string, { schema: z.ZodType; default: unknown }> = {}) {
  const shape: Record<string, z.ZodType> = Object.fromEntries(Object.entries(extra).map(([k, e]) => [k, e.schema.default(e.default as never)]));
  // No defaults in a patch: an omitted field must stay omitted so the stored value is kept.
  const patchShape: Record<string, z.ZodType> = Object.fromEntries(Object.entries(extra).map(([k, e]) => [k, e.schema.optional()]));
  for (const [key, f] of Object.entries(fields)) {
    if (f.readOnly) continue;
    const s = fieldSchema(f);
    const required = (f.type === 'text' || f.type === 'int' || f.type === 'ref') && f.required;
    shape[key] = required ? s : s.default(fieldDefault(f) as never);
    patchShape[key] = s.optional();
  }
  const create = z
    .object(shape)
    .superRefine((v, ctx) => refine?.(v, (path, message) => ctx.addIssue({ code: 'custom', path: path.split('.'), message })), { when: () => true });
  return { create, patch: z.object(patchShape), plain: z.object(shape) };
}

/** A field whose value goes in but never comes back out (see `TextField.writeOnly`). */
export function isWriteOnly(f: FieldSpec): boolean {
  return f.type === 'text' && (f.writeOnly ?? !!f.secret);
}
