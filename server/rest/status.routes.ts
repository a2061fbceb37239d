import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Domain } from '../domain.js';
import type { LiveStatus } from '../status/LiveStatus.js';
import { statusList, type StatusObject } from '../status/statusList.js';
import {
  allMediaStreamObjects,
  conferenceObjects,
  conferenceShardObjects,
  mediaStreamObjects,
  participantObjects,
  systemLocationObjects,
  workerVmObjects,
} from '../status/statusObjects.js';
import { requireApiPermission } from './basicAuth.js';

const BASE = '/api/admin/status/v1';

/** Each resource's fields ([sch] names) that lists filter and order on; objects omit what is not known. */
const FIELDS = {
  conference: ['id', 'name', 'service_type', 'tag', 'start_time', 'is_started', 'is_locked', 'guests_muted'],
  /** One link per direction between two nodes holding a conference (the guide's Backplanes tab). */
  backplane: ['id', 'conference', 'media_node', 'remote_media_node', 'remote_conference_name', 'system_location', 'type', 'start_time'],
  conference_shard: ['id', 'conference', 'node', 'system_location', 'service_type', 'tag', 'start_time', 'is_started', 'is_locked', 'guests_muted'],
  participant: [
    'id',
    'conference',
    'display_name',
    'destination_alias',
    'source_alias',
    'role',
    'service_type',
    'protocol',
    'call_direction',
    'call_quality',
    'call_tag',
    'connect_time',
    'encryption',
    'has_media',
    'is_muted',
    'is_client_muted',
    'is_presenting',
    'is_on_hold',
    'bandwidth',
    'rx_bandwidth',
    'tx_bandwidth',
    'media_node',
    'signalling_node',
    'system_location',
    'remote_address',
    'is_mute_supported',
    'is_disconnect_supported',
    'is_transfer_supported',
  ],
  media_stream: [
    'id',
    'participant',
    'type',
    'node',
    'start_time',
    'end_time',
    'rx_bitrate',
    'rx_codec',
    'rx_resolution',
    'rx_fps',
    'rx_jitter',
    'rx_packet_loss',
    'rx_windowed_packet_loss',
    'rx_packets_lost',
    'rx_packets_received',
    'tx_bitrate',
    'tx_codec',
    'tx_resolution',
    'tx_fps',
    'tx_jitter',
    'tx_packet_loss',
    'tx_windowed_packet_loss',
    'tx_packets_lost',
    'tx_packets_sent',
  ],
  worker_vm: [
    'id',
    'name',
    'node_type',
    'system_location',
    'configuration_id',
    'version',
    'last_updated',
    'last_attempted_contact',
    'maintenance_mode',
    'media_load',
    'media_tokens_used',
    'max_media_tokens',
    'signaling_count',
    'max_audio_calls',
    'max_sd_calls',
    'max_hd_calls',
    'max_full_hd_calls',
    'cpu_count',
    'cpu_model',
    'total_ram',
  ],
  registration_alias: ['id', 'alias', 'registration_id', 'username', 'protocol', 'node', 'remote_address', 'is_natted', 'start_time', 'vendor'],
  system_location: [
    'id',
    'name',
    'media_load',
    'media_tokens_used',
    'max_media_tokens',
    'max_audio_calls',
    'max_sd_calls',
    'max_hd_calls',
    'max_full_hd_calls',
  ],
} as const;

type Query = { Querystring: Record<string, string>; Params: { id?: string } };

/** A status field's Tastypie type, from its [sch] name. */
function fieldType(resource: keyof typeof FIELDS, field: string): 'string' | 'integer' | 'float' | 'boolean' | 'datetime' | 'related' {
  if (field === 'id') return resource === 'worker_vm' || resource === 'system_location' || resource === 'registration_alias' ? 'integer' : 'string';
  if (field === 'participant') return 'related';
  if (field === 'media_load') return 'float';
  if (/^(is_|has_)/.test(field) || field === 'maintenance_mode' || field === 'guests_muted') return 'boolean';
  if (field.endsWith('_time') || field === 'last_updated' || field === 'last_attempted_contact') return 'datetime';
  if (/_fps$|_jitter$|packet_loss$/.test(field)) return 'float';
  if (/^max_|_count$|^media_tokens_used$|bandwidth$|^total_ram$|^configuration_id$|_bitrate$|_packets_(lost|received|sent)$/.test(field)) return 'integer';
  return 'string';
}

/** A status resource's schema (`…/<resource>/schema/`): read-only fields, the filters and orderings it takes. */
function statusSchema(resource: keyof typeof FIELDS) {
  const fields = Object.fromEntries(
    [...FIELDS[resource], 'resource_uri'].map((f) => [
      f,
      { type: fieldType(resource, f), nullable: true, blank: false, readonly: true, unique: f === 'id', default: null, help_text: '' },
    ]),
  );
  return {
    allowed_list_http_methods: ['get'],
    allowed_detail_http_methods: ['get'],
    default_limit: 20,
    filtering: Object.fromEntries(FIELDS[resource].map((f) => [f, 2])),
    ordering: [...FIELDS[resource]],
    fields,
  };
}

/**
 * status/v1 in Pexip's shapes (management-api.md §7): live conferences and their per-node shards,
 * participants with their media streams and call quality, conferencing nodes' load and locations'
 * capacity. Read with "May view conference status"; fields the platform cannot know are omitted.
 */
export function registerStatusRoutes(
  app: FastifyInstance,
  dom: Domain,
  status: LiveStatus,
  backplanes: () => StatusObject[] = () => [],
  /** A backplane link's media streams as its node measured them; null for an unknown link. */
  backplaneStreams: (linkId: string) => StatusObject[] | null = () => null,
): void {
  /** A list, its detail and (for nodes and locations) `statistics`, read with the status permission. */
  const resource = (name: keyof typeof FIELDS, all: () => StatusObject[] | Promise<StatusObject[]>, path = name as string) => {
    const allowed = async (req: FastifyRequest, reply: FastifyReply) => requireApiPermission(dom.db, req, reply, 'status', 'view');
    app.get<Query>(`${BASE}/${path}/`, async (req, reply) => {
      if (!(await allowed(req, reply))) return reply;
      const q = { ...req.query };
      // A participant given by its id alone is taken as its URI.
      if (name === 'media_stream' && q.participant && !q.participant.startsWith('/')) q.participant = `${BASE}/participant/${q.participant}/`;
      return statusList(`${BASE}/${path}/`, q, FIELDS[name], await all());
    });
    app.get(`${BASE}/${path}/schema/`, async (req, reply) => {
      if (!(await allowed(req, reply))) return reply;
      return statusSchema(name);
    });
    app.get<Query>(`${BASE}/${path}/:id/`, async (req, reply) => {
      if (!(await allowed(req, reply))) return reply;
      const found = (await all()).find((o) => String(o.id) === req.params.id);
      return found ?? reply.code(404).send({ error: 'Not found' });
    });
  };

  // The API root: each resource's list and schema (pexshell and the SDK's schema download start here).
  app.get(`${BASE}/`, async (req, reply) => {
    if (!(await requireApiPermission(dom.db, req, reply, 'status', 'view'))) return reply;
    // alarm and break_in_block have their own routes (alarm.routes.ts, breakIn.routes.ts), each with its schema.
    const names = [
      'conference',
      'conference_shard',
      'backplane',
      'participant',
      'participant_media_stream',
      'worker_vm',
      'system_location',
      'registration_alias',
      'alarm',
      'break_in_block',
    ];
    return Object.fromEntries(names.map((r) => [r, { list_endpoint: `${BASE}/${r}/`, schema: `${BASE}/${r}/schema/` }]));
  });
  resource('conference', () => conferenceObjects(status));
  resource('conference_shard', () => conferenceShardObjects(status));
  resource('backplane', backplanes);
  resource('participant', () => participantObjects(status));
  resource('worker_vm', () => workerVmObjects(dom, status));
  resource('system_location', () => systemLocationObjects(dom, status));
  resource('registration_alias', () => {
    const names = new Map(status.liveNodes().map((n) => [n.id, n.name]));
    return status.registrations
      .list((id) => names.get(id) ?? String(id))
      .map((r): StatusObject => ({ ...r, resource_uri: `${BASE}/registration_alias/${r.id}/` }));
  });
  // The same streams two ways: under the participant (the [sch] path) and as a list filtered by participant URI (mcp's).
  resource('media_stream', () => allMediaStreamObjects(status), 'participant_media_stream');
  app.get<Query>(`${BASE}/participant/:id/media_stream/`, async (req, reply) => {
    if (!(await requireApiPermission(dom.db, req, reply, 'status', 'view'))) return reply;
    const id = req.params.id ?? '';
    if (!status.participants().some((p) => p.id === id)) return reply.code(404).send({ error: 'Not found' });
    return statusList(`${BASE}/participant/${id}/media_stream/`, req.query, FIELDS.media_stream, mediaStreamObjects(status, id));
  });
  // A backplane link's streams (the guide's Backplanes tab, media statistics): `participant` is its `backplane` here.
  app.get<Query>(`${BASE}/backplane/:id/media_stream/`, async (req, reply) => {
    if (!(await requireApiPermission(dom.db, req, reply, 'status', 'view'))) return reply;
    const id = req.params.id ?? '';
    const streams = backplaneStreams(id);
    if (!streams) return reply.code(404).send({ error: 'Not found' });
    return statusList(`${BASE}/backplane/${id}/media_stream/`, req.query, FIELDS.media_stream, streams);
  });
  for (const path of ['worker_vm', 'system_location'] as const) {
    app.get<Query>(`${BASE}/${path}/:id/statistics/`, async (req, reply) => {
      if (!(await requireApiPermission(dom.db, req, reply, 'status', 'view'))) return reply;
      const found = (await (path === 'worker_vm' ? workerVmObjects(dom, status) : systemLocationObjects(dom, status))).find(
        (o) => String(o.id) === req.params.id,
      );
      return found ? { media_load: found.media_load ?? 0 } : reply.code(404).send({ error: 'Not found' });
    });
  }
}
