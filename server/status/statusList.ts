import { AppError } from '../errors/AppError.js';
import { listEnvelope, orderBy, paging } from '../rest/tastypie.js';

type Value = string | number | boolean | null | undefined;
export type StatusObject = Record<string, unknown>;

const LOOKUPS = ['exact', 'iexact', 'contains', 'icontains', 'startswith', 'istartswith', 'endswith', 'iendswith', 'lt', 'lte', 'gt', 'gte', 'in'] as const;
type Lookup = (typeof LOOKUPS)[number];
/** Query parameters that are not filters. */
const NOT_FILTERS = new Set(['limit', 'offset', 'order_by', 'format']);

/** A query value read as the field's type (booleans as Tastypie takes them). */
function typed(sample: Value, raw: string): Value {
  if (typeof sample === 'number') return raw.trim() === '' ? Number.NaN : Number(raw);
  if (typeof sample === 'boolean') return ['true', 'True', '1'].includes(raw) ? true : ['false', 'False', '0'].includes(raw) ? false : raw;
  return raw;
}

function matches(actual: Value, lookup: Lookup, raw: string): boolean {
  if (lookup === 'in') return raw.split(',').some((v) => matches(actual, 'exact', v));
  if (actual === null || actual === undefined) return lookup === 'exact' && (raw === '' || raw === 'null' || raw === 'None');
  const want = typed(actual, raw);
  const a = actual;
  const s = String(a);
  switch (lookup) {
    case 'exact':
      return a === want;
    case 'iexact':
      return s.toLowerCase() === raw.toLowerCase();
    case 'contains':
      return s.includes(raw);
    case 'icontains':
      return s.toLowerCase().includes(raw.toLowerCase());
    case 'startswith':
      return s.startsWith(raw);
    case 'istartswith':
      return s.toLowerCase().startsWith(raw.toLowerCase());
    case 'endswith':
      return s.endsWith(raw);
    case 'iendswith':
      return s.toLowerCase().endsWith(raw.toLowerCase());
    default: {
      const cmp = typeof a === 'number' ? a - Number(want) : s < raw ? -1 : s > raw ? 1 : 0;
      if (Number.isNaN(cmp)) return false;
      return lookup === 'lt' ? cmp < 0 : lookup === 'lte' ? cmp <= 0 : lookup === 'gt' ? cmp > 0 : cmp >= 0;
    }
  }
}

/**
 * A status list in Tastypie's way, over objects held in memory: `<field>` and `<field>__<lookup>`
 * filters on the resource's fields (others ignored, as the configuration lists do), `order_by`,
 * `limit`/`offset` and the envelope. `fields`: the resource's field names (objects may omit some).
 */
export function statusList(path: string, query: Record<string, string>, fields: readonly string[], objects: StatusObject[]) {
  const known = new Set(fields);
  let out = objects;
  for (const [key, raw] of Object.entries(query)) {
    if (NOT_FILTERS.has(key) || typeof raw !== 'string') continue;
    const [field = '', lookup = 'exact', ...rest] = key.split('__');
    if (!known.has(field)) continue;
    if (rest.length > 0 || !(LOOKUPS as readonly string[]).includes(lookup)) {
      throw new AppError('BAD_REQUEST', `Lookup '${lookup.slice(0, 40)}' is not valid for the '${field}' field.`);
    }
    out = out.filter((o) => matches(o[field] as Value, lookup as Lookup, raw));
  }
  const order = orderBy(query.order_by, (k) => known.has(k));
  if (order) {
    const key = order.replace(/^-/, '');
    const dir = order.startsWith('-') ? -1 : 1;
    out = [...out].sort((x, y) => {
      const a = x[key] as Value;
      const b = y[key] as Value;
      if (a === b) return 0;
      if (a === null || a === undefined) return -dir;
      if (b === null || b === undefined) return dir;
      return (a < b ? -1 : 1) * dir;
    });
  }
  const { limit, offset } = paging(query);
  return listEnvelope(path, query, limit, offset, out.length, out.slice(offset, offset + limit));
}
