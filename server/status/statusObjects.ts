import { toPexipMediaStream, toPexipWorkerVmLoad } from '../../shared/node-protocol/mediaStatus.js';
import type { LiveParticipant } from '../../shared/node-protocol/messages.js';
import type { Domain } from '../domain.js';
import { pexipTime } from '../rest/tastypie.js';
import type { LiveStatus } from './LiveStatus.js';
import { configuredLocations, configuredNodes, locationLoadViews, nodeLoadViews } from './liveView.service.js';
import type { StatusObject } from './statusList.js';

// The objects of status/v1 (management-api.md §7, [sch] field names) built from the live state:
// fields the platform cannot know are omitted, as Pexip omits them.

const BASE = '/api/admin/status/v1';

const locationOf = (status: LiveStatus) => new Map(status.liveNodes().map((n) => [n.name, n.location]));
const omitUndefined = (o: Record<string, unknown>): StatusObject => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** status/v1 `conference`: one per service, merged across the nodes it spans. */
export const conferenceObjects = (status: LiveStatus): StatusObject[] =>
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

/** status/v1 `conference_shard`: each node's piece of a conference. */
export const conferenceShardObjects = (status: LiveStatus): StatusObject[] => {
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

/** status/v1 `participant`, with what the node measured of each call. */
export const participantObjects = (status: LiveStatus): StatusObject[] => {
  const locations = locationOf(status);
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
      source_alias: p.remoteAlias,
      role: p.role,
      service_type: p.isOnHold ? 'waiting_room' : serviceTypes.get(p.conference),
      protocol: p.protocol,
      call_direction: p.callDirection ?? 'in',
      call_quality: media?.callQuality,
      call_tag: p.callTag || undefined,
      connect_time: pexipTime(p.connectTime),
      encryption: encryptionOf(p),
      has_media: media ? media.streams.length > 0 : undefined,
      is_muted: p.isMuted,
      is_client_muted: p.isClientMuted,
      is_presenting: p.isPresenting,
      is_on_hold: p.isOnHold,
      is_mute_supported: true,
      is_disconnect_supported: true,
      is_transfer_supported: p.transferSupported ?? true,
      bandwidth: rx !== undefined && tx !== undefined ? rx + tx : undefined,
      rx_bandwidth: rx,
      tx_bandwidth: tx,
      media_node: p.mediaNode ?? p.node,
      signalling_node: p.node,
      ...(p.proxyNode ? { proxy_node: p.proxyNode } : {}),
      system_location: locations.get(p.node),
      remote_address: p.remoteAddress,
      resource_uri: `${BASE}/participant/${p.id}/`,
    });
  });
};

/** status/v1 `participant/<id>/media_stream`: a participant's streams as its node measured them. */
export const mediaStreamObjects = (status: LiveStatus, participantId: string): StatusObject[] => {
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
/** status/v1 `participant_media_stream`: every live participant's streams. */
export const allMediaStreamObjects = (status: LiveStatus): StatusObject[] =>
  [...status.media.entries()].flatMap((e) => mediaStreamObjects(status, e.media.participantId));

/** status/v1 `worker_vm`: every configured node, with its load while it is up. */
export const workerVmObjects = async (dom: Domain, status: LiveStatus): Promise<StatusObject[]> => {
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

/** status/v1 `system_location`: every location, with the load and capacity of its nodes that are up. */
export const systemLocationObjects = async (dom: Domain, status: LiveStatus): Promise<StatusObject[]> => {
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

/**
 * A participant's `encryption` (status and history): WebRTC and the client API run over DTLS-SRTP
 * and HTTPS only; a SIP call's is its media's (SRTP or plain RTP), omitted until it has media.
 */
export function encryptionOf(p: Pick<LiveParticipant, 'protocol' | 'encrypted'>): 'On' | 'Off' | undefined {
  if (p.encrypted !== undefined) return p.encrypted ? 'On' : 'Off';
  return p.protocol === 'sip' ? undefined : 'On';
}
