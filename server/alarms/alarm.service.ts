import { and, asc, desc, eq, gt, gte, ilike, isNotNull, isNull, lt, lte, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { alarm } from '../../db/schema.js';
import { AppError } from '../errors/AppError.js';
import { pexipTime } from '../rest/tastypie.js';
import type { AlarmRow } from './AlarmManager.js';

export const STATUS_ALARM_BASE = '/api/admin/status/v1/alarm/';
export const HISTORY_ALARM_BASE = '/api/admin/history/v1/alarm/';

/** The fields status/v1 and history/v1 `alarm` share. */
function alarmFields(a: AlarmRow) {
  return {
    id: a.id,
    name: a.name,
    identifier: a.identifier,
    level: a.level,
    details: a.details,
    instance: a.instance,
    node: a.node,
    time_raised: pexipTime(a.timeRaised.toISOString()),
  };
}

/** status/v1 `alarm`: an active alarm. */
export function statusAlarmObject(a: AlarmRow) {
  return { ...alarmFields(a), acknowledged: a.acknowledged, resource_uri: `${STATUS_ALARM_BASE}${a.id}/` };
}

/** history/v1 `alarm`: any alarm, with when it was lowered (null while active). */
export function historyAlarmObject(a: AlarmRow) {
  return {
    ...alarmFields(a),
    time_lowered: a.timeLowered ? pexipTime(a.timeLowered.toISOString()) : null,
    resource_uri: `${HISTORY_ALARM_BASE}${a.id}/`,
  };
}

type Kind = 'string' | 'int' | 'time' | 'bool';
const FIELDS = {
  id: { col: alarm.id, kind: 'int' },
  name: { col: alarm.name, kind: 'string' },
  identifier: { col: alarm.identifier, kind: 'int' },
  level: { col: alarm.level, kind: 'string' },
  details: { col: alarm.details, kind: 'string' },
  instance: { col: alarm.instance, kind: 'string' },
  node: { col: alarm.node, kind: 'string' },
  time_raised: { col: alarm.timeRaised, kind: 'time' },
  time_lowered: { col: alarm.timeLowered, kind: 'time' },
  acknowledged: { col: alarm.acknowledged, kind: 'bool' },
} as const satisfies Record<string, { col: unknown; kind: Kind }>;
type FieldName = keyof typeof FIELDS;
const isField = (k: string): k is FieldName => Object.hasOwn(FIELDS, k);
const LOOKUPS = ['exact', 'gte', 'gt', 'lte', 'lt', 'icontains', 'isnull'] as const;
type Lookup = (typeof LOOKUPS)[number];

function value(key: string, kind: Kind, raw: string): string | number | Date | boolean {
  const bad = () => new AppError('BAD_REQUEST', `Invalid value '${raw.slice(0, 40)}' for the filter '${key.slice(0, 60)}'.`);
  switch (kind) {
    case 'int':
      if (!/^-?\d{1,9}$/.test(raw)) throw bad();
      return Number(raw);
    case 'bool':
      if (!/^(true|false|1|0)$/i.test(raw)) throw bad();
      return /^(true|1)$/i.test(raw);
    case 'time': {
      // Pexip's naive datetimes are UTC.
      const iso = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?$/.test(raw) ? `${raw.length === 10 ? `${raw}T00:00:00` : raw}Z` : raw;
      const d = new Date(iso);
      // A four-digit year first (as history's filters): Date takes '99999-01-01', which the database cannot.
      // Year 0 parses in JavaScript (1 BC) but is no year to the database.
      if (raw.length > 40 || !/^\d{4}-\d\d-\d\d/.test(raw) || Number.isNaN(d.getTime()) || d.getUTCFullYear() < 1) throw bad();
      return d;
    }
    default:
      if (raw.length > 250) throw bad();
      return raw;
  }
}

/** Tastypie filters (`field`, `field__gte`…) over the alarm's fields; parameters that name no field are left alone. */
function filters(q: Record<string, string | undefined>): SQL[] {
  const out: SQL[] = [];
  for (const [param, raw] of Object.entries(q)) {
    if (raw === undefined) continue;
    const [field = '', lookup = 'exact', ...rest] = param.split('__');
    if (!isField(field)) continue;
    if (rest.length > 0 || !(LOOKUPS as readonly string[]).includes(lookup)) {
      throw new AppError('BAD_REQUEST', `The '${param.slice(0, 60)}' filter is not allowed.`);
    }
    const { col, kind } = FIELDS[field];
    const l = lookup as Lookup;
    if (l === 'isnull') {
      out.push(value(param, 'bool', raw) ? isNull(col) : isNotNull(col));
      continue;
    }
    if (l === 'icontains') {
      if (kind !== 'string') throw new AppError('BAD_REQUEST', `The '${param.slice(0, 60)}' filter is not allowed on this field.`);
      out.push(ilike(col, `%${String(value(param, kind, raw)).replace(/[\\%_]/g, (c) => `\\${c}`)}%`));
      continue;
    }
    const v = value(param, kind, raw);
    const ops = { exact: eq, gte, gt, lte, lt } as const;
    out.push(ops[l](col, v as never));
  }
  return out;
}

const SCHEMA_TYPE = { string: 'string', int: 'integer', time: 'datetime', bool: 'boolean' } as const;

/** The Tastypie schema of status/v1 `alarm` (active, with acknowledged) or history/v1 `alarm` (with time_lowered). */
export function alarmSchema(which: 'active' | 'all') {
  const names = Object.keys(which === 'active' ? statusAlarmObject(SAMPLE) : historyAlarmObject(SAMPLE)).filter(isField);
  const field = (k: FieldName) => ({
    type: SCHEMA_TYPE[FIELDS[k].kind],
    nullable: k === 'time_lowered',
    blank: false,
    readonly: true,
    unique: k === 'id',
    default: null,
    help_text: '',
  });
  return {
    allowed_list_http_methods: ['get'],
    allowed_detail_http_methods: ['get'],
    default_limit: 20,
    filtering: Object.fromEntries(names.map((k) => [k, 2])),
    ordering: names,
    fields: { ...Object.fromEntries(names.map((k) => [k, field(k)])), resource_uri: { ...field('name'), unique: true } },
  };
}
/** Any alarm row: the schema takes its field names from the objects the API answers with. */
const SAMPLE: AlarmRow = {
  id: 0,
  name: '',
  identifier: 0,
  level: 'error',
  details: '',
  instance: '',
  node: '',
  timeRaised: new Date(0),
  timeLowered: null,
  acknowledged: false,
};

function ordering(raw: string | undefined): SQL[] {
  if (raw === undefined || raw === '') return [desc(alarm.timeRaised), desc(alarm.id)];
  const key = raw.replace(/^-/, '');
  if (!isField(key)) throw new AppError('BAD_REQUEST', `No matching '${key.slice(0, 40)}' field for ordering on.`);
  const dir = raw.startsWith('-') ? desc : asc;
  return [dir(FIELDS[key].col), dir(alarm.id)];
}

/** One page of alarms: the active ones (status) or all of them (history). */
export async function listAlarms(
  db: Database,
  q: Record<string, string | undefined>,
  { limit, offset }: { limit: number; offset: number },
  which: 'active' | 'all',
): Promise<{ total: number; rows: AlarmRow[] }> {
  const conds = filters(q);
  if (which === 'active') conds.push(isNull(alarm.timeLowered));
  const where = conds.length ? and(...conds) : undefined;
  const [counted] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(alarm)
    .where(where);
  const rows = await db
    .select()
    .from(alarm)
    .where(where)
    .orderBy(...ordering(q.order_by))
    .limit(limit)
    .offset(offset);
  return { total: counted?.n ?? 0, rows };
}

export async function getAlarm(db: Database, id: number, which: 'active' | 'all'): Promise<AlarmRow | null> {
  const [row] = await db
    .select()
    .from(alarm)
    .where(which === 'active' ? and(eq(alarm.id, id), isNull(alarm.timeLowered)) : eq(alarm.id, id));
  return row ?? null;
}
