import { and, asc, desc, eq, gt, gte, ilike, inArray, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { backplaneHistory, conferenceHistory, mediaStreamHistory, participantHistory } from '../../db/schema.js';
import type { Database } from '../../db/client.js';
import { escapeLike } from '../config/store/ResourceStore.js';
import { AppError } from '../errors/AppError.js';
import { orderBy as checkOrderBy, pexipTime } from '../rest/tastypie.js';

export const HISTORY_BASE = '/api/admin/history/v1';

/**
 * The conference history (history/v1 `conference`, `participant`, `media_stream`, `backplane`) read with
 * Tastypie's filters: `<field>=<v>` and `<field>__<lookup>=<v>` on the fields below, `order_by`,
 * limit and offset. Objects come out in Pexip's shapes ([sch] field names); fields OpenMeet does
 * not know are omitted, as Pexip omits them.
 */

type FieldKind = 'string' | 'datetime' | 'int';
interface Field {
  column: PgColumn;
  kind: FieldKind;
}

const CONFERENCE_FIELDS: Record<string, Field> = {
  id: { column: conferenceHistory.id, kind: 'string' },
  name: { column: conferenceHistory.name, kind: 'string' },
  service_type: { column: conferenceHistory.serviceType, kind: 'string' },
  tag: { column: conferenceHistory.tag, kind: 'string' },
  start_time: { column: conferenceHistory.startTime, kind: 'datetime' },
  end_time: { column: conferenceHistory.endTime, kind: 'datetime' },
  duration: { column: conferenceHistory.duration, kind: 'int' },
  participant_count: { column: conferenceHistory.participantCount, kind: 'int' },
};

const PARTICIPANT_FIELDS: Record<string, Field> = {
  id: { column: participantHistory.id, kind: 'string' },
  conference_name: { column: participantHistory.conferenceName, kind: 'string' },
  display_name: { column: participantHistory.displayName, kind: 'string' },
  local_alias: { column: participantHistory.localAlias, kind: 'string' },
  remote_alias: { column: participantHistory.remoteAlias, kind: 'string' },
  remote_address: { column: participantHistory.remoteAddress, kind: 'string' },
  role: { column: participantHistory.role, kind: 'string' },
  service_type: { column: participantHistory.serviceType, kind: 'string' },
  protocol: { column: participantHistory.protocol, kind: 'string' },
  call_direction: { column: participantHistory.callDirection, kind: 'string' },
  call_quality: { column: participantHistory.callQuality, kind: 'string' },
  start_time: { column: participantHistory.startTime, kind: 'datetime' },
  end_time: { column: participantHistory.endTime, kind: 'datetime' },
  duration: { column: participantHistory.duration, kind: 'int' },
  disconnect_reason: { column: participantHistory.disconnectReason, kind: 'string' },
  media_node: { column: participantHistory.mediaNode, kind: 'string' },
  signalling_node: { column: participantHistory.signallingNode, kind: 'string' },
  system_location: { column: participantHistory.systemLocation, kind: 'string' },
};

const MEDIA_STREAM_FIELDS: Record<string, Field> = {
  id: { column: mediaStreamHistory.id, kind: 'int' },
  stream_id: { column: mediaStreamHistory.streamId, kind: 'string' },
  stream_type: { column: mediaStreamHistory.streamType, kind: 'string' },
  node: { column: mediaStreamHistory.node, kind: 'string' },
  start_time: { column: mediaStreamHistory.startTime, kind: 'datetime' },
  end_time: { column: mediaStreamHistory.endTime, kind: 'datetime' },
};

const BACKPLANE_FIELDS: Record<string, Field> = {
  id: { column: backplaneHistory.id, kind: 'string' },
  conference: { column: backplaneHistory.conference, kind: 'string' },
  media_node: { column: backplaneHistory.mediaNode, kind: 'string' },
  remote_media_node: { column: backplaneHistory.remoteMediaNode, kind: 'string' },
  remote_conference_name: { column: backplaneHistory.remoteConferenceName, kind: 'string' },
  system_location: { column: backplaneHistory.systemLocation, kind: 'string' },
  type: { column: backplaneHistory.type, kind: 'string' },
  start_time: { column: backplaneHistory.startTime, kind: 'datetime' },
  end_time: { column: backplaneHistory.endTime, kind: 'datetime' },
  duration: { column: backplaneHistory.duration, kind: 'int' },
};

const LOOKUPS = ['exact', 'iexact', 'contains', 'icontains', 'startswith', 'istartswith', 'endswith', 'iendswith', 'lt', 'lte', 'gt', 'gte', 'in'] as const;
type Lookup = (typeof LOOKUPS)[number];
/** Query parameters that are no filter. */
const RESERVED = new Set(['limit', 'offset', 'order_by', 'format', 'username', 'api_key']);

export type HistoryQuery = Record<string, string | undefined>;

export interface HistoryPage<T> {
  total: number;
  limit: number;
  offset: number;
  objects: T[];
}

/** A filter value in its field's type: a 400 in Tastypie's manner, never a database error. */
function typed(key: string, kind: FieldKind, raw: string): string | number | Date {
  const bad = () => new AppError('BAD_REQUEST', `Invalid value '${raw.slice(0, 40)}' for the filter '${key.slice(0, 60)}'.`);
  if (kind === 'int') {
    // The columns are Postgres integers: a value past their range would be a database error.
    if (!/^-?\d{1,10}$/.test(raw) || Math.abs(Number(raw)) > 2_147_483_647) throw bad();
    return Number(raw);
  }
  if (kind === 'datetime') {
    // Pexip's datetimes are naive UTC; clients send RFC 3339 with an offset, or none. An offset's
    // '+' left unencoded in a query string arrives as a space.
    const given = raw.replace(/(T\d\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d:?\d\d)$/, '$1+$2');
    const iso = /[zZ]$|[+-]\d\d:?\d\d$/.test(given) ? given : `${given}Z`;
    const t = /^\d{4}-\d\d-\d\d/.test(given) ? Date.parse(iso.replace(' ', 'T')) : Number.NaN;
    // Year 0 parses in JavaScript (1 BC) but is no year to the database.
    if (Number.isNaN(t) || new Date(t).getUTCFullYear() < 1) throw bad();
    return new Date(t);
  }
  if (raw.length > 250) throw bad();
  return raw;
}

function condition(key: string, f: Field, lookup: Lookup, raw: string): SQL {
  const col = f.column;
  if (lookup === 'in') {
    const values = raw.split(',').map((v) => typed(key, f.kind, v));
    return values.length ? inArray(col, values) : sql`false`;
  }
  const v = typed(key, f.kind, raw);
  switch (lookup) {
    case 'exact':
      return eq(col, v);
    case 'lt':
      return lt(col, v);
    case 'lte':
      return lte(col, v);
    case 'gt':
      return gt(col, v);
    case 'gte':
      return gte(col, v);
    default: {
      if (f.kind !== 'string') throw new AppError('BAD_REQUEST', `The '${key.slice(0, 60)}' filter is not allowed on this field.`);
      const s = String(v);
      const esc = s.replace(/[\\%_]/g, (c) => `\\${c}`);
      const pattern = lookup === 'iexact' ? esc : lookup.endsWith('contains') ? escapeLike(s) : lookup.endsWith('startswith') ? `${esc}%` : `%${esc}`;
      // Case-sensitive lookups compare exactly; `like` is case-sensitive in Postgres.
      return lookup.startsWith('i') ? ilike(col, pattern) : sql`${col} like ${pattern}`;
    }
  }
}

/** The WHERE clause of a query's filters; unknown parameters are ignored, as the other APIs do. */
function where(fields: Record<string, Field>, q: HistoryQuery, extra: (field: string, lookup: Lookup, raw: string) => SQL | null | undefined): SQL | undefined {
  const parts: SQL[] = [];
  for (const [key, raw] of Object.entries(q)) {
    if (raw === undefined || RESERVED.has(key)) continue;
    const at = key.lastIndexOf('__');
    const named = at > 0 && (LOOKUPS as readonly string[]).includes(key.slice(at + 2));
    const field = named ? key.slice(0, at) : key;
    const lookup = (named ? key.slice(at + 2) : 'exact') as Lookup;
    const special = extra(field, lookup, raw);
    if (special) {
      parts.push(special);
      continue;
    }
    const f = Object.hasOwn(fields, field) ? fields[field] : undefined;
    if (f) parts.push(condition(key, f, lookup, raw));
  }
  return parts.length ? and(...parts) : undefined;
}

function ordering(fields: Record<string, Field>, raw: string | undefined, fallback: string): SQL[] {
  const o = checkOrderBy(raw, (k) => Object.hasOwn(fields, k)) ?? fallback;
  const f = fields[o.replace(/^-/, '')]!;
  const dir = o.startsWith('-') ? desc : asc;
  // The id breaks ties, so pages never overlap.
  return [dir(f.column), dir(fields.id!.column)];
}

const uuidOf = (resource: string, v: string) => new RegExp(`^${HISTORY_BASE}/${resource}/([^/]+)/?$`).exec(v)?.[1] ?? v;

const conferenceUri = (id: string) => `${HISTORY_BASE}/conference/${id}/`;
const participantUri = (id: string) => `${HISTORY_BASE}/participant/${id}/`;
const mediaStreamUri = (id: number) => `${HISTORY_BASE}/media_stream/${id}/`;
const time = (d: Date) => pexipTime(d.toISOString());

type ConferenceRow = typeof conferenceHistory.$inferSelect;
type ParticipantRow = typeof participantHistory.$inferSelect;
type MediaStreamRow = typeof mediaStreamHistory.$inferSelect;

function conferenceObject(c: ConferenceRow, participants: string[]) {
  return {
    id: c.id,
    name: c.name,
    service_type: c.serviceType,
    tag: c.tag,
    start_time: time(c.startTime),
    end_time: time(c.endTime),
    duration: c.duration,
    participant_count: c.participantCount,
    participants: participants.map(participantUri),
    instant_message_count: c.instantMessageCount,
    resource_uri: conferenceUri(c.id),
  };
}
export type HistoryConference = ReturnType<typeof conferenceObject>;

/** `details` keys a list shows; the quality windows only on a detail GET (as mcp notes of Pexip). */
const LIST_DETAILS = ['service_tag', 'call_tag', 'encryption', 'has_media', 'bandwidth', 'rx_bandwidth', 'tx_bandwidth'] as const;

/** Fields kept in `details`; absent when the node did not report them. */
interface ParticipantDetails {
  service_tag?: string;
  call_tag?: string;
  encryption?: string;
  has_media?: boolean;
  bandwidth?: number;
  rx_bandwidth?: number;
  tx_bandwidth?: number;
}

function participantObject(p: ParticipantRow, streams: number[], detail: boolean) {
  const d = p.details;
  const extra: ParticipantDetails = {};
  for (const k of LIST_DETAILS) if (d[k] !== undefined) Object.assign(extra, { [k]: d[k] });
  return {
    id: p.id,
    conference: conferenceUri(p.conferenceId),
    conference_name: p.conferenceName,
    display_name: p.displayName,
    local_alias: p.localAlias,
    remote_alias: p.remoteAlias,
    remote_address: p.remoteAddress,
    ...(p.remotePort !== null ? { remote_port: p.remotePort } : {}),
    role: p.role,
    service_type: p.serviceType,
    protocol: p.protocol,
    call_direction: p.callDirection,
    call_quality: p.callQuality,
    start_time: time(p.startTime),
    end_time: time(p.endTime),
    duration: p.duration,
    disconnect_reason: p.disconnectReason,
    media_node: p.mediaNode,
    signalling_node: p.signallingNode,
    system_location: p.systemLocation,
    ...extra,
    ...(detail && Array.isArray(d.historic_call_quality) ? { historic_call_quality: d.historic_call_quality as unknown[] } : {}),
    media_streams: streams.map(mediaStreamUri),
    resource_uri: participantUri(p.id),
  };
}
export type HistoryParticipant = ReturnType<typeof participantObject>;

/** A stream's figures (`toPexipMediaStream`'s rx_/tx_ fields); those the node did not measure are absent. */
type MediaStreamFigures = Partial<
  Record<
    | `${'rx' | 'tx'}_${'bitrate' | 'codec' | 'resolution' | 'fps' | 'jitter' | 'packet_loss' | 'windowed_packet_loss' | 'packets_lost'}`
    | 'rx_packets_received'
    | 'tx_packets_sent',
    string | number | null
  >
>;

function mediaStreamObject(s: MediaStreamRow) {
  return {
    id: s.id,
    participant: participantUri(s.participantId),
    stream_id: s.streamId,
    stream_type: s.streamType,
    node: s.node,
    start_time: time(s.startTime),
    end_time: time(s.endTime),
    ...(s.figures as MediaStreamFigures),
    resource_uri: mediaStreamUri(s.id),
  };
}
export type HistoryMediaStream = ReturnType<typeof mediaStreamObject>;

type BackplaneRow = typeof backplaneHistory.$inferSelect;
const backplaneUri = (id: string) => `${HISTORY_BASE}/backplane/${id}/`;

function backplaneObject(b: BackplaneRow) {
  return {
    id: b.id,
    conference: b.conference,
    media_node: b.mediaNode,
    remote_media_node: b.remoteMediaNode,
    remote_conference_name: b.remoteConferenceName,
    system_location: b.systemLocation,
    type: b.type,
    start_time: time(b.startTime),
    end_time: time(b.endTime),
    duration: b.duration,
    resource_uri: backplaneUri(b.id),
  };
}
export type HistoryBackplane = ReturnType<typeof backplaneObject>;

async function count(
  db: Database,
  table: typeof conferenceHistory | typeof participantHistory | typeof mediaStreamHistory | typeof backplaneHistory,
  w: SQL | undefined,
): Promise<number> {
  const [r] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(table)
    .where(w);
  return r?.n ?? 0;
}

export interface Paging {
  limit: number;
  offset: number;
}

/** `withParticipants`: false leaves each conference's `participants` empty (an export needs only the counts). */
export async function listConferences(
  db: Database,
  q: HistoryQuery,
  { limit, offset }: Paging,
  withParticipants = true,
): Promise<HistoryPage<HistoryConference>> {
  const w = where(CONFERENCE_FIELDS, q, () => null);
  const [total, rows] = await Promise.all([
    count(db, conferenceHistory, w),
    db
      .select()
      .from(conferenceHistory)
      .where(w)
      .orderBy(...ordering(CONFERENCE_FIELDS, q.order_by, '-start_time'))
      .limit(limit)
      .offset(offset),
  ]);
  const ids = rows.map((r) => r.id);
  const ps =
    ids.length && withParticipants
      ? await db
          .select({ id: participantHistory.id, conferenceId: participantHistory.conferenceId })
          .from(participantHistory)
          .where(inArray(participantHistory.conferenceId, ids))
          .orderBy(asc(participantHistory.startTime))
      : [];
  return {
    total,
    limit,
    offset,
    objects: rows.map((r) =>
      conferenceObject(
        r,
        ps.filter((p) => p.conferenceId === r.id).map((p) => p.id),
      ),
    ),
  };
}

export async function getConference(db: Database, id: string): Promise<HistoryConference | null> {
  const page = await listConferences(db, { id }, { limit: 1, offset: 0 });
  return page.objects[0] ?? null;
}

/** Deletes a conference's record with its participants and their media streams; false when there is none. */
export async function deleteConference(db: Database, id: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const gone = await tx.delete(conferenceHistory).where(eq(conferenceHistory.id, id)).returning({ id: conferenceHistory.id });
    if (gone.length === 0) return false;
    const ps = await tx.delete(participantHistory).where(eq(participantHistory.conferenceId, id)).returning({ id: participantHistory.id });
    if (ps.length)
      await tx.delete(mediaStreamHistory).where(
        inArray(
          mediaStreamHistory.participantId,
          ps.map((p) => p.id),
        ),
      );
    return true;
  });
}

/** `conference=` names the conference by its URI, its id or its service name. */
function participantSpecial(field: string, lookup: Lookup, raw: string): SQL | null {
  if (field !== 'conference' || lookup !== 'exact') return null;
  if (raw.length > 300) throw new AppError('BAD_REQUEST', `Invalid value '${raw.slice(0, 40)}' for the filter 'conference'.`);
  const id = uuidOf('conference', raw);
  return or(eq(participantHistory.conferenceId, id), eq(participantHistory.conferenceName, raw))!;
}

export async function listParticipants(db: Database, q: HistoryQuery, { limit, offset }: Paging, detail = false): Promise<HistoryPage<HistoryParticipant>> {
  const w = where(PARTICIPANT_FIELDS, q, participantSpecial);
  const [total, rows] = await Promise.all([
    count(db, participantHistory, w),
    db
      .select()
      .from(participantHistory)
      .where(w)
      .orderBy(...ordering(PARTICIPANT_FIELDS, q.order_by, '-start_time'))
      .limit(limit)
      .offset(offset),
  ]);
  const ids = rows.map((r) => r.id);
  const streams = ids.length
    ? await db
        .select({ id: mediaStreamHistory.id, participantId: mediaStreamHistory.participantId })
        .from(mediaStreamHistory)
        .where(inArray(mediaStreamHistory.participantId, ids))
        .orderBy(asc(mediaStreamHistory.id))
    : [];
  return {
    total,
    limit,
    offset,
    objects: rows.map((r) =>
      participantObject(
        r,
        streams.filter((s) => s.participantId === r.id).map((s) => s.id),
        detail,
      ),
    ),
  };
}

export async function getParticipant(db: Database, id: string): Promise<HistoryParticipant | null> {
  const page = await listParticipants(db, { id }, { limit: 1, offset: 0 }, true);
  return page.objects[0] ?? null;
}

/** `participant=` names the participant by its URI or id. */
function mediaStreamSpecial(field: string, lookup: Lookup, raw: string): SQL | null {
  if (field !== 'participant' || lookup !== 'exact') return null;
  if (raw.length > 300) throw new AppError('BAD_REQUEST', `Invalid value '${raw.slice(0, 40)}' for the filter 'participant'.`);
  return eq(mediaStreamHistory.participantId, uuidOf('participant', raw));
}

export async function listMediaStreams(db: Database, q: HistoryQuery, { limit, offset }: Paging): Promise<HistoryPage<HistoryMediaStream>> {
  const w = where(MEDIA_STREAM_FIELDS, q, mediaStreamSpecial);
  const [total, rows] = await Promise.all([
    count(db, mediaStreamHistory, w),
    db
      .select()
      .from(mediaStreamHistory)
      .where(w)
      .orderBy(...ordering(MEDIA_STREAM_FIELDS, q.order_by, 'id'))
      .limit(limit)
      .offset(offset),
  ]);
  return { total, limit, offset, objects: rows.map(mediaStreamObject) };
}

export async function getMediaStream(db: Database, id: number): Promise<HistoryMediaStream | null> {
  const [row] = await db.select().from(mediaStreamHistory).where(eq(mediaStreamHistory.id, id)).limit(1);
  return row ? mediaStreamObject(row) : null;
}

export async function listBackplanes(db: Database, q: HistoryQuery, { limit, offset }: Paging): Promise<HistoryPage<HistoryBackplane>> {
  const w = where(BACKPLANE_FIELDS, q, () => null);
  const [total, rows] = await Promise.all([
    count(db, backplaneHistory, w),
    db
      .select()
      .from(backplaneHistory)
      .where(w)
      .orderBy(...ordering(BACKPLANE_FIELDS, q.order_by, '-start_time'))
      .limit(limit)
      .offset(offset),
  ]);
  return { total, limit, offset, objects: rows.map(backplaneObject) };
}

export async function getBackplane(db: Database, id: string): Promise<HistoryBackplane | null> {
  const [row] = await db.select().from(backplaneHistory).where(eq(backplaneHistory.id, id)).limit(1);
  return row ? backplaneObject(row) : null;
}

type SchemaType = 'string' | 'datetime' | 'integer' | 'boolean' | 'related' | 'list';
const kindType: Record<FieldKind, SchemaType> = { string: 'string', datetime: 'datetime', int: 'integer' };

/** Fields each resource returns beyond the filterable ones, with their Tastypie types. */
const OTHER_FIELDS: Record<HistoryResource, Record<string, SchemaType>> = {
  conference: { participants: 'related', instant_message_count: 'integer', resource_uri: 'string' },
  participant: {
    conference: 'related',
    remote_port: 'integer',
    service_tag: 'string',
    call_tag: 'string',
    encryption: 'string',
    has_media: 'boolean',
    bandwidth: 'integer',
    rx_bandwidth: 'integer',
    tx_bandwidth: 'integer',
    historic_call_quality: 'list',
    media_streams: 'related',
    resource_uri: 'string',
  },
  media_stream: {
    participant: 'related',
    ...Object.fromEntries(
      (['rx', 'tx'] as const).flatMap((d) => [
        [`${d}_codec`, 'string'],
        [`${d}_resolution`, 'string'],
        [`${d}_bitrate`, 'integer'],
        [`${d}_fps`, 'integer'],
        [`${d}_jitter`, 'integer'],
        [`${d}_packet_loss`, 'integer'],
        [`${d}_windowed_packet_loss`, 'integer'],
        [`${d}_packets_lost`, 'integer'],
      ]),
    ),
    rx_packets_received: 'integer',
    tx_packets_sent: 'integer',
    resource_uri: 'string',
  },
  backplane: { resource_uri: 'string' },
};

export type HistoryResource = 'conference' | 'participant' | 'media_stream' | 'backplane';
const FILTERABLE: Record<HistoryResource, Record<string, Field>> = {
  conference: CONFERENCE_FIELDS,
  participant: PARTICIPANT_FIELDS,
  media_stream: MEDIA_STREAM_FIELDS,
  backplane: BACKPLANE_FIELDS,
};

/** A history resource's Tastypie schema (`…/<resource>/schema/`): read-only fields, the filters and orderings it takes. */
export function historySchema(resource: HistoryResource) {
  const filterable = FILTERABLE[resource];
  const fields: Record<string, unknown> = {};
  const describe = (type: SchemaType) => ({ type, nullable: false, blank: false, readonly: true, unique: false, default: null, help_text: '' });
  for (const [k, f] of Object.entries(filterable)) fields[k] = { ...describe(kindType[f.kind]), unique: k === 'id' };
  for (const [k, t] of Object.entries(OTHER_FIELDS[resource]))
    fields[k] = { ...describe(t), ...(t === 'related' ? { related_type: k.endsWith('s') ? 'to_many' : 'to_one' } : {}) };
  const filtering: Record<string, number | string[]> = Object.fromEntries(Object.keys(filterable).map((k) => [k, 2]));
  if (resource === 'participant') filtering.conference = ['exact'];
  if (resource === 'media_stream') filtering.participant = ['exact'];
  return {
    allowed_list_http_methods: ['get'],
    allowed_detail_http_methods: resource === 'conference' ? ['get', 'delete'] : ['get'],
    default_limit: 20,
    filtering,
    ordering: Object.keys(filterable),
    fields,
  };
}
