import { createHash, randomInt, randomUUID } from 'node:crypto';
import nunjucks from 'nunjucks';
import type { Logger } from 'pino';

/**
 * Local policy scripts (guide-digest-1 §22, guide-digest-4 §6): Jinja2 templates rendered by
 * nunjucks in a limited environment. The guide's Jinja2 environment is sandboxed; nunjucks is not,
 * so this module makes it so:
 *
 * - no loaders: `include`, `import` and `extends` find nothing (no filesystem access);
 * - autoescape off (the output is JSON, not HTML);
 * - only the guide's standard filters plus Pexip's `pex_*` filters;
 * - a runtime whose member and variable lookups only reach JSON-like data: no `constructor`,
 *   `__proto__`, no properties of functions — so `range.constructor("…")()` and the like, which
 *   reach `Function` in stock nunjucks, get `undefined`;
 * - a budget of loop iterations, calls and lookups, and a wall-clock deadline, so a runaway script
 *   fails (and the caller falls back) instead of blocking the node's event loop for long.
 */

/** The guide's list of standard filters available to scripts; all others are disabled. */
const STANDARD_FILTERS = [
  'abs',
  'capitalize',
  'default',
  'd',
  'first',
  'float',
  'int',
  'join',
  'last',
  'length',
  'lower',
  'replace',
  'round',
  'striptags',
  'trim',
  'truncate',
  'upper',
];

/** Lookups that reach JavaScript internals (and from there `Function`). */
const DENIED = new Set([
  'constructor',
  '__proto__',
  'prototype',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
  'caller',
  'callee',
  'arguments',
  'apply',
  'call',
  'bind',
]);

export interface TemplateLimits {
  /** Loop iterations + calls + lookups, in total. */
  maxSteps: number;
  /** Longest `range()`. */
  maxRange: number;
  /** Wall-clock limit for one render. */
  deadlineMs: number;
}

export const DEFAULT_TEMPLATE_LIMITS: TemplateLimits = { maxSteps: 100_000, maxRange: 10_000, deadlineMs: 1_000 };

export class PolicyTemplateError extends Error {}

type Fn = (...args: unknown[]) => unknown;
const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};
const bind =
  (obj: unknown, fn: Fn): Fn =>
  (...args: unknown[]) =>
    fn.apply(obj, args);

/** Python-style methods scripts written for Jinja2 use on strings, lists and dicts. */
function pythonMethod(obj: unknown, key: string): Fn | undefined {
  if (typeof obj === 'string') {
    const s = obj;
    const methods: Record<string, Fn> = {
      lower: () => s.toLowerCase(),
      upper: () => s.toUpperCase(),
      strip: (chars) => (typeof chars === 'string' ? stripChars(s, chars) : s.trim()),
      lstrip: () => s.trimStart(),
      rstrip: () => s.trimEnd(),
      startswith: (p) => (Array.isArray(p) ? p.some((x) => s.startsWith(String(x))) : s.startsWith(String(p))),
      endswith: (p) => (Array.isArray(p) ? p.some((x) => s.endsWith(String(x))) : s.endsWith(String(p))),
      split: (sep, max) => pySplit(s, sep, max),
      replace: (a, b) => s.split(String(a)).join(String(b)),
      find: (sub) => s.indexOf(String(sub)),
      count: (sub) => (String(sub) === '' ? s.length + 1 : s.split(String(sub)).length - 1),
      isdigit: () => /^[0-9]+$/.test(s),
      format: (...args) => {
        let i = 0;
        return s.replace(/\{\}/g, () => String(args[i++] ?? ''));
      },
    };
    return methods[key];
  }
  if (Array.isArray(obj)) {
    const a = obj;
    const methods: Record<string, Fn> = {
      append: (v) => {
        a.push(v);
        return '';
      },
      index: (v) => a.indexOf(v),
      count: (v) => a.filter((x) => x === v).length,
    };
    return methods[key];
  }
  if (isPlainObject(obj)) {
    const d = obj;
    const methods: Record<string, Fn> = {
      get: (k, dflt = null) => (typeof k === 'string' && Object.hasOwn(d, k) ? d[k] : dflt),
      items: () => Object.entries(d),
      keys: () => Object.keys(d),
      values: () => Object.values(d),
      update: (other) => {
        if (isPlainObject(other)) Object.assign(d, other);
        return '';
      },
    };
    return methods[key];
  }
  return undefined;
}

function stripChars(s: string, chars: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && chars.includes(s[a]!)) a++;
  while (b > a && chars.includes(s[b - 1]!)) b--;
  return s.slice(a, b);
}

function pySplit(s: string, sep: unknown, max: unknown): string[] {
  const limit = typeof max === 'number' && max >= 0 ? max : -1;
  if (sep === undefined || sep === null) {
    const parts = s
      .trim()
      .split(/\s+/)
      .filter((p) => p !== '');
    return limit < 0 || parts.length <= limit + 1 ? parts : [...parts.slice(0, limit), parts.slice(limit).join(' ')];
  }
  const parts = s.split(String(sep));
  return limit < 0 || parts.length <= limit + 1 ? parts : [...parts.slice(0, limit), parts.slice(limit).join(String(sep))];
}

/** Per-render counters: every lookup, call and loop iteration costs a step. */
class Budget {
  private steps = 0;
  private nextClockCheck = 256;
  private readonly deadline: number;
  constructor(private readonly limits: TemplateLimits) {
    this.deadline = Date.now() + limits.deadlineMs;
  }
  spend(n = 1): void {
    this.steps += n;
    if (this.steps > this.limits.maxSteps) throw new PolicyTemplateError('script exceeded its step budget');
    if (this.steps >= this.nextClockCheck) {
      this.nextClockCheck = this.steps + 256;
      if (Date.now() > this.deadline) throw new PolicyTemplateError('script exceeded its time limit');
    }
  }
}

/** A nunjucks internal its type declarations leave out (runtime, an environment's filters and globals), checked to be an object. */
function internal(from: object, key: string): Record<string, unknown> {
  const v: unknown = Reflect.get(from, key);
  if (typeof v !== 'object' || v === null) throw new Error(`nunjucks has no ${key}`);
  return v as Record<string, unknown>;
}

/** The nunjucks runtime handed to compiled templates, with lookups restricted to data. */
function safeRuntime(budget: Budget): Record<string, unknown> {
  const base = internal(nunjucks, 'runtime');
  const memberLookup = (obj: unknown, key: unknown): unknown => {
    budget.spend();
    if (obj === undefined || obj === null || typeof obj === 'function') return undefined;
    const k = typeof key === 'number' ? key : String(key);
    if (typeof k === 'string' && DENIED.has(k)) return undefined;
    if (typeof obj === 'string') {
      if (typeof k === 'number' || /^-?[0-9]+$/.test(k)) return obj.at(Number(k));
      if (k === 'length') return obj.length;
      return pythonMethod(obj, k);
    }
    if (Array.isArray(obj)) {
      if (typeof k === 'number' || /^-?[0-9]+$/.test(k)) return obj.at(Number(k));
      if (k === 'length') return obj.length;
      return pythonMethod(obj, k);
    }
    if (isPlainObject(obj)) {
      if (Object.hasOwn(obj, k)) {
        const v = obj[k];
        return typeof v === 'function' ? bind(obj, v as Fn) : v;
      }
      return pythonMethod(obj, String(k));
    }
    return undefined;
  };
  const contextOrFrameLookup = (
    context: { ctx: Record<string, unknown>; env: { globals: Record<string, unknown> } },
    frame: { lookup(n: string): unknown },
    name: string,
  ): unknown => {
    budget.spend();
    if (DENIED.has(name)) return undefined;
    const v = frame.lookup(name);
    if (v !== undefined && v !== null) return v;
    if (Object.hasOwn(context.ctx, name)) return context.ctx[name];
    if (Object.hasOwn(context.env.globals, name)) return context.env.globals[name];
    return v ?? undefined;
  };
  const callWrap = (obj: unknown, name: string, context: unknown, args: unknown[]): unknown => {
    budget.spend();
    if (typeof obj !== 'function') throw new PolicyTemplateError(`Unable to call \`${name}\`, which is not a function`);
    return (obj as Fn).apply(context, args);
  };
  const fromIterator = (arr: unknown): unknown => {
    if (Array.isArray(arr)) budget.spend(arr.length + 1);
    else if (isPlainObject(arr)) budget.spend(Object.keys(arr).length + 1);
    else if (typeof arr === 'string') budget.spend(arr.length + 1);
    else return arr === null || arr === undefined ? arr : [];
    return arr;
  };
  return { ...base, memberLookup, contextOrFrameLookup, callWrap, fromIterator };
}

export interface PolicyTemplateOptions {
  log: Logger;
  limits?: Partial<TemplateLimits>;
}

/** Renders local policy scripts. One per node; stateless between renders. */
export class PolicyTemplateRenderer {
  private readonly env: nunjucks.Environment;
  private readonly limits: TemplateLimits;
  /** Compiled scripts by source text (the profile's script changes rarely). */
  private readonly compiled = new Map<string, nunjucks.Template>();

  constructor(private readonly opts: PolicyTemplateOptions) {
    this.limits = { ...DEFAULT_TEMPLATE_LIMITS, ...opts.limits };
    const env = new nunjucks.Environment([], { autoescape: false, throwOnUndefined: false });
    const filters = internal(env, 'filters');
    for (const name of Object.keys(filters)) if (!STANDARD_FILTERS.includes(name)) delete filters[name];
    const globals = internal(env, 'globals');
    for (const name of Object.keys(globals)) delete globals[name];
    const debugLog = (...parts: unknown[]) => {
      this.opts.log.debug({ part: 'jinja2' }, parts.map((p) => (typeof p === 'string' ? p : toJson(p))).join(''));
      return '';
    };
    const maxRange = this.limits.maxRange;
    env.addGlobal('range', (start: number, stop?: number, step = 1) => {
      const [a, b] = stop === undefined ? [0, Number(start)] : [Number(start), Number(stop)];
      if (!Number.isFinite(a) || !Number.isFinite(b) || !Number.isFinite(step) || step === 0) throw new PolicyTemplateError('invalid range()');
      const n = Math.max(0, Math.ceil((b - a) / step));
      if (n > maxRange) throw new PolicyTemplateError(`range() longer than ${maxRange}`);
      return Array.from({ length: n }, (_, i) => a + i * step);
    });
    env.addGlobal('pex_debug_log', debugLog);
    env.addGlobal('pex_uuid4', () => randomUUID());
    env.addGlobal('pex_random_pin', (len: number) => Array.from({ length: Math.min(Math.max(Number(len) || 0, 1), 20) }, () => String(randomInt(10))).join(''));
    const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));
    const pexFilters: Record<string, Fn> = {
      pex_to_json: (v) => toJson(v),
      pex_debug_log: (v, ...parts) => debugLog(...parts, v),
      pex_update: (a, b) => ({ ...(isPlainObject(a) ? a : {}), ...(isPlainObject(b) ? b : {}) }),
      pex_base64: (v) => Buffer.from(str(v)).toString('base64'),
      pex_md5: (v) => createHash('md5').update(str(v)).digest('hex'),
      pex_hash: (v) => createHash('sha256').update(str(v)).digest('hex'),
      pex_clean_phone_number: (v) => str(v).replace(/[^+0-9]/g, ''),
      pex_head: (v, n) => str(v).slice(0, Number(n)),
      pex_tail: (v, n) => (Number(n) > 0 ? str(v).slice(-Number(n)) : ''),
      pex_reverse: (v) => [...str(v)].reverse().join(''),
      pex_strlen: (v) => str(v).length,
      pex_url_encode: (v) => (isPlainObject(v) ? new URLSearchParams(Object.entries(v).map(([k, x]) => [k, str(x)])).toString() : encodeURIComponent(str(v))),
      pex_require_min_length: (v, n) => {
        if (str(v).length < Number(n)) throw new PolicyTemplateError(`value shorter than ${Number(n)}`);
        return v;
      },
    };
    for (const [name, fn] of Object.entries(pexFilters)) env.addFilter(name, fn);
    this.env = env;
  }

  /** Renders a script with its context; throws a PolicyTemplateError (or a nunjucks syntax error) on failure. */
  render(script: string, context: Record<string, unknown>): string {
    let tmpl = this.compiled.get(script);
    if (!tmpl) {
      tmpl = new nunjucks.Template(script, this.env, 'local-policy', true);
      if (this.compiled.size > 16) this.compiled.clear();
      this.compiled.set(script, tmpl);
    }
    const budget = new Budget(this.limits);
    const runtime = safeRuntime(budget);
    // Hand the compiled template our runtime instead of nunjucks' module-wide one.
    const root: unknown = Reflect.get(tmpl, 'rootRenderFunc');
    if (typeof root !== 'function') throw new Error('nunjucks template has no rootRenderFunc');
    const wrapped = Object.create(tmpl) as { rootRenderFunc: (...a: unknown[]) => void; render(ctx: object): string };
    wrapped.rootRenderFunc = (env: unknown, ctx: unknown, frame: unknown, _runtime: unknown, cb: unknown) =>
      (root as (...a: unknown[]) => void)(env, ctx, frame, runtime, cb);
    // Plain JSON data only: the script sees copies, never live objects.
    return wrapped.render(JSON.parse(JSON.stringify(context)) as object);
  }
}

/** `pex_to_json`: JSON as Python's json.dumps writes it (`", "` and `": "` separators do not matter to parsers). */
function toJson(v: unknown): string {
  return JSON.stringify(v === undefined ? null : v, (_k, x: unknown) => (typeof x === 'function' ? undefined : x));
}
