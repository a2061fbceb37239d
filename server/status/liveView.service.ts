import { asc, eq } from 'drizzle-orm';
import { conferencingNode, systemLocation } from '../../db/schema.js';
import type { LiveCounters, LocationLoadView, NodeLoadView, ParticipantMediaView, ParticipantRowView } from '../../shared/status/liveView.js';
import type { Domain } from '../domain.js';
import type { LiveStatus } from './LiveStatus.js';

/** A configured conferencing node as status needs it. */
export interface ConfiguredNode {
  id: number;
  name: string;
  location: string;
  maintenanceMode: boolean;
  version: string;
  lastContacted: Date | null;
}

export async function configuredNodes(dom: Domain): Promise<ConfiguredNode[]> {
  const rows = await dom.db
    .select({
      id: conferencingNode.id,
      name: conferencingNode.name,
      location: systemLocation.name,
      maintenanceMode: conferencingNode.maintenanceMode,
      version: conferencingNode.version,
      lastContacted: conferencingNode.lastContacted,
    })
    .from(conferencingNode)
    .innerJoin(systemLocation, eq(systemLocation.id, conferencingNode.systemLocationId))
    .orderBy(asc(conferencingNode.name));
  return rows;
}

export async function configuredLocations(dom: Domain): Promise<{ id: number; name: string }[]> {
  return dom.db.select({ id: systemLocation.id, name: systemLocation.name }).from(systemLocation).orderBy(asc(systemLocation.name));
}

/** Every configured node with its latest load (null fields until it has reported, or once it is gone). */
export function nodeLoadViews(nodes: ConfiguredNode[], status: LiveStatus): NodeLoadView[] {
  const live = new Set(status.liveNodes().map((n) => n.id));
  return nodes.map((n) => {
    const l = live.has(n.id) ? status.loads.get(n.id) : undefined;
    return {
      id: n.id,
      name: n.name,
      location: n.location,
      up: live.has(n.id),
      maintenanceMode: l?.maintenanceMode ?? n.maintenanceMode,
      mediaLoad: l ? Math.round(l.mediaLoad * 100) / 100 : null,
      mediaTokensUsed: l?.mediaTokensUsed ?? null,
      maxMediaTokens: l?.capacity.maxMediaTokens ?? null,
      capacity: l?.capacity ?? null,
      cpuPercent: l ? Math.round(l.cpu.percent * 10) / 10 : null,
      cpuCount: l?.cpu.count ?? null,
      memoryUsedBytes: l?.memory.usedBytes ?? null,
      memoryTotalBytes: l?.memory.totalBytes ?? null,
      mediaPortsInUse: l?.mediaPorts.inUse ?? null,
      mediaPortsTotal: l?.mediaPorts.total ?? null,
      calls: l?.calls ?? null,
      signalingCount: l?.signalingCount ?? null,
      lastUpdated: l?.at ?? null,
    };
  });
}

/** Each location's load: the sums over its nodes that are up, with what they host. */
export function locationLoadViews(locations: string[], nodes: NodeLoadView[], status: LiveStatus): LocationLoadView[] {
  const byName = new Map<string, LocationLoadView>(
    locations.map((name) => [
      name,
      {
        name,
        nodesUp: 0,
        nodesDown: 0,
        mediaLoad: 0,
        mediaTokensUsed: 0,
        maxMediaTokens: 0,
        maxFullHdCalls: 0,
        maxHdCalls: 0,
        maxSdCalls: 0,
        maxAudioCalls: 0,
        conferences: 0,
        participants: 0,
      },
    ]),
  );
  const nodeIds = new Map<number, LocationLoadView>();
  for (const n of nodes) {
    const loc = byName.get(n.location);
    if (!loc) continue;
    if (!n.up) {
      loc.nodesDown++;
      continue;
    }
    loc.nodesUp++;
    nodeIds.set(n.id, loc);
    loc.mediaTokensUsed += n.mediaTokensUsed ?? 0;
    loc.maxMediaTokens += n.maxMediaTokens ?? 0;
    loc.maxFullHdCalls += n.capacity?.maxFullHdCalls ?? 0;
    loc.maxHdCalls += n.capacity?.maxHdCalls ?? 0;
    loc.maxSdCalls += n.capacity?.maxSdCalls ?? 0;
    loc.maxAudioCalls += n.capacity?.maxAudioCalls ?? 0;
  }
  for (const { nodeId, conference } of status.shards()) {
    const loc = nodeIds.get(nodeId);
    if (!loc) continue;
    loc.conferences++;
    loc.participants += conference.participants.length;
  }
  for (const loc of byName.values()) loc.mediaLoad = loc.maxMediaTokens > 0 ? Math.round((loc.mediaTokensUsed / loc.maxMediaTokens) * 10_000) / 100 : 0;
  return [...byName.values()];
}

/** The live view's counters now. */
export async function liveCounters(dom: Domain, status: LiveStatus): Promise<LiveCounters> {
  const [nodes, locations] = await Promise.all([configuredNodes(dom), configuredLocations(dom)]);
  const loads = nodeLoadViews(nodes, status);
  const conferences = status.conferences();
  const byProtocol: Record<string, number> = {};
  const byRole = { chair: 0, guest: 0, unknown: 0 };
  let participants = 0;
  for (const c of conferences) {
    for (const p of c.participants) {
      participants++;
      byProtocol[p.protocol] = (byProtocol[p.protocol] ?? 0) + 1;
      byRole[p.role]++;
    }
  }
  const up = loads.filter((n) => n.up).length;
  return {
    at: new Date().toISOString(),
    conferences: conferences.length,
    participants,
    byProtocol,
    byRole,
    nodes: { up, down: loads.length - up },
    nodeLoads: loads,
    locations: locationLoadViews(
      locations.map((l) => l.name),
      loads,
      status,
    ),
  };
}

/** A participant's media streams, call quality and recent history; null when not live (or not measured yet). */
export function participantMediaView(status: LiveStatus, participantId: string): ParticipantMediaView | null {
  const e = status.media.get(participantId);
  if (!e) return null;
  const node = status.liveNodes().find((n) => n.id === e.nodeId)?.name ?? '';
  return {
    participantId,
    conferenceId: e.media.conferenceId,
    node,
    callQuality: e.media.callQuality,
    rxBandwidth: e.media.rxBandwidth,
    txBandwidth: e.media.txBandwidth,
    streams: e.media.streams,
    qualityWindows: [...e.windows],
    samples: [...e.samples],
    at: e.at,
  };
}

/** A conference's participants (by service name) with their call quality and bandwidth. */
export function conferenceParticipantRows(status: LiveStatus, conference: string): ParticipantRowView[] {
  const c = status.conferences().find((x) => x.name === conference);
  if (!c) return [];
  const locations = new Map(status.liveNodes().map((n) => [n.name, n.location]));
  return c.participants.map((p) => {
    const m = status.media.get(p.id)?.media;
    return {
      ...p,
      conference: c.name,
      callQuality: m?.callQuality ?? null,
      rxBandwidth: m ? Math.round(m.rxBandwidth) : null,
      txBandwidth: m ? Math.round(m.txBandwidth) : null,
      systemLocation: locations.get(p.node) ?? null,
    };
  });
}
