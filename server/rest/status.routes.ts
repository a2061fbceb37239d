import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { toPexipMediaStream, toPexipWorkerVmLoad } from '../../shared/node-protocol/mediaStatus.js';
import type { Domain } from '../domain.js';
import type { LiveStatus } from '../status/LiveStatus.js';
import { configuredLocations, configuredNodes, locationLoadViews, nodeLoadViews } from '../status/liveView.service.js';
import { statusList, type StatusObject } from '../status/statusList.js';
import { requireApiPermission } from './basicAuth.js';
import { pexipTime } from './tastypie.js';

const BASE = '/api/admin/status/v1';

/** Each resource's fields ([sch] names) that lists filter and order on; objects omit what is not known. */
const FIELDS = {
  conference: ['id', 'name', 'service_type', 'tag', 'start_time', 'is_started', 'is_locked', 'guests_muted'],
  conference_shard: ['id', 'conference', 'node', 'system_location', 'service_type', 'tag', 'start_time', 'is_started', 'is_locked', 'guests_muted'],
  participant: [
    'id',
    'conference',
    'display_name',
    'destination_alias',
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
  ],
  media_stream: ['id', 'participant', 'type', 'node', 'start_time', 'end_time'],
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

/**
 * status/v1 in Pexip's shapes (management-api.md §7): live conferences and their per-node shards,
 * participants with their media streams and call quality, conferencing nodes' load and locations'
 * capacity. Read with "May view conference status"; fields the platform cannot know are omitted.
 */
export function registerStatusRoutes(app: FastifyInstance, dom: Domain, status: LiveStatus): void {
  const locationOf = () => new Map(status.liveNodes().map((n) => [n.name, n.location]));
  const omitUndefined = (o: Record<string, unknown>): StatusObject => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

  const conferences = (): StatusObject[] =>
    status.conferences().map((c) =>
      omitUndefined({
        id: c.id,
        name: c.name,
        service_type: c.serviceType,
        tag: c.tag,
        start_time: pexipTime(c.startTime),
        is_started: c.participants.some((p) => p.role === 'chair'),
        is_locked: c.isLocked,
        guests_muted: c.guestsMuted,
        resource_uri: `${BASE}/conference/${c.id}/`,
      }),
    );

  const shards = (): StatusObject[] => {
    const names = new Map(status.liveNodes().map((n) => [n.id, n]));
    return status.shards().map(({ nodeId, conference: c }) =>
      omitUndefined({
        id: c.id,
        conference: c.name,
        node: names.get(nodeId)?.name ?? c.participants[0]?.node,
        system_location: names.get(nodeId)?.location,
        service_type: c.serviceType,
        tag: c.tag,
        start_time: pexipTime(c.startTime),
        is_started: c.participants.some((p) => p.role === 'chair'),
        is_locked: c.isLocked,
        guests_muted: c.guestsMuted,
        resource_uri: `${BASE}/conference_shard/${c.id}/`,
      }),
    );
  };

  const participants = (): StatusObject[] => {
    const locations = locationOf();
    const serviceTypes = new Map(status.conferences().map((c) => [c.name, c.serviceType]));
    return status.participants().map((p) => {
      const media = status.media.get(p.id)?.media;
      const rx = media ? Math.round(media.rxBandwidth) : undefined;
      const tx = media ? Math.round(media.txBandwidth) : undefined;
      return omitUndefined({
        id: p.id,
        conference: p.conference,
        display_name: p.displayName,
        destination_alias: p.alias,
        role: p.role,
        service_type: p.isOnHold ? 'waiting_room' : serviceTypes.get(p.conference),
        protocol: p.protocol,
        call_direction: 'in',
        call_quality: media?.callQuality,
        call_tag: p.callTag || undefined,
        connect_time: pexipTime(p.connectTime),
        // WebRTC and the client API run over DTLS-SRTP and HTTPS only.
        encryption: p.protocol === 'sip' ? undefined : 'On',
        has_media: media ? media.streams.length > 0 : undefined,
        is_muted: p.isMuted,
        is_client_muted: p.isClientMuted,
        is_presenting: p.isPresenting,
        is_on_hold: p.isOnHold,
        is_mute_supported: true,
        is_disconnect_supported: true,
        is_transfer_supported: true,
        bandwidth: rx !== undefined && tx !== undefined ? rx + tx : undefined,
        rx_bandwidth: rx,
        tx_bandwidth: tx,
        media_node: p.node,
        signalling_node: p.node,
        system_location: locations.get(p.node),
        remote_address: p.remoteAddress,
        resource_uri: `${BASE}/participant/${p.id}/`,
      });
    });
  };

  const streamsOf = (participantId: string): StatusObject[] => {
    const e = status.media.get(participantId);
    if (!e) return [];
    const node = status.liveNodes().find((n) => n.id === e.nodeId)?.name ?? '';
    return e.media.streams.map((s) => {
      const o: StatusObject = { ...toPexipMediaStream(s, node), participant: `${BASE}/participant/${participantId}/` };
      o.start_time = pexipTime(s.startTime);
      o.end_time = pexipTime(s.endTime ?? null);
      o.resource_uri = `${BASE}/participant_media_stream/${encodeURIComponent(s.id)}/`;
      return o;
    });
  };
  const allStreams = (): StatusObject[] => [...status.media.entries()].flatMap((e) => streamsOf(e.media.participantId));

  const workerVms = async (): Promise<StatusObject[]> => {
    const nodes = await configuredNodes(dom);
    const live = new Set(status.liveNodes().map((n) => n.id));
    return nodes.map((n) => {
      const load = live.has(n.id) ? status.loads.get(n.id) : undefined;
      return {
        id: n.id,
        name: n.name,
        node_type: 'CONFERENCING',
        system_location: n.location,
        configuration_id: n.id,
        ...(n.version ? { version: n.version } : {}),
        last_attempted_contact: pexipTime(n.lastContacted?.toISOString() ?? null),
        maintenance_mode: n.maintenanceMode,
        ...(load ? { ...toPexipWorkerVmLoad(load), last_updated: pexipTime(load.at) } : {}),
        resource_uri: `${BASE}/worker_vm/${n.id}/`,
      };
    });
  };

  const systemLocations = async (): Promise<StatusObject[]> => {
    const [nodes, locations] = await Promise.all([configuredNodes(dom), configuredLocations(dom)]);
    const ids = new Map(locations.map((l) => [l.name, l.id]));
    return locationLoadViews(
      locations.map((l) => l.name),
      nodeLoadViews(nodes, status),
      status,
    ).map((l) => ({
      id: ids.get(l.name)!,
      name: l.name,
      media_load: l.mediaLoad,
      media_tokens_used: l.mediaTokensUsed,
      max_media_tokens: l.maxMediaTokens,
      max_audio_calls: l.maxAudioCalls,
      max_sd_calls: l.maxSdCalls,
      max_hd_calls: l.maxHdCalls,
      max_full_hd_calls: l.maxFullHdCalls,
      resource_uri: `${BASE}/system_location/${ids.get(l.name)!}/`,
    }));
  };

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
    app.get<Query>(`${BASE}/${path}/:id/`, async (req, reply) => {
      if (!(await allowed(req, reply))) return reply;
      const found = (await all()).find((o) => String(o.id) === req.params.id);
      return found ?? reply.code(404).send({ error: 'Not found' });
    });
  };

  resource('conference', conferences);
  resource('conference_shard', shards);
  resource('participant', participants);
  resource('worker_vm', workerVms);
  resource('system_location', systemLocations);
  // The same streams two ways: under the participant (the [sch] path) and as a list filtered by participant URI (mcp's).
  resource('media_stream', allStreams, 'participant_media_stream');
  app.get<Query>(`${BASE}/participant/:id/media_stream/`, async (req, reply) => {
    if (!(await requireApiPermission(dom.db, req, reply, 'status', 'view'))) return reply;
    const id = req.params.id ?? '';
    if (!status.participants().some((p) => p.id === id)) return reply.code(404).send({ error: 'Not found' });
    return statusList(`${BASE}/participant/${id}/media_stream/`, req.query, FIELDS.media_stream, streamsOf(id));
  });
  for (const path of ['worker_vm', 'system_location'] as const) {
    app.get<Query>(`${BASE}/${path}/:id/statistics/`, async (req, reply) => {
      if (!(await requireApiPermission(dom.db, req, reply, 'status', 'view'))) return reply;
      const found = (await (path === 'worker_vm' ? workerVms() : systemLocations())).find((o) => String(o.id) === req.params.id);
      return found ? { media_load: found.media_load ?? 0 } : reply.code(404).send({ error: 'Not found' });
    });
  }
}
