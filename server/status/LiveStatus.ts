import { EventEmitter } from 'node:events';
import type { LiveConference, LiveParticipant, NodeToServer } from '../../shared/node-protocol/messages.js';
import type { ConferenceStatus } from '../../shared/status/conferenceStatus.js';
import type { TimeSeriesPoint } from '../../shared/status/liveView.js';
import { BreakInBlocks } from './BreakInBlocks.js';
import { NodeLoads } from './NodeLoads.js';
import { ParticipantMediaStatus, worstLoss } from './ParticipantMediaStatus.js';
import { Registrations } from './Registrations.js';
import { TimeSeries } from './TimeSeries.js';

export type { ConferenceStatus };

export interface LiveStatusEvents {
  changed: [];
  /** A node reported its participants' media statistics. */
  media: [];
  /** A node reported its load. */
  load: [];
  /** A new point of the time series (every 2 s while sampling, and at once when the conference or participant count changes). */
  sampled: [TimeSeriesPoint];
  /** For live views: at each sample, and within LIVE_VIEW_DELAY_MS of any change (changes coalesced). */
  live: [];
}

/** How soon after a change the live views refresh (bursts of joins coalesce into one refresh). */
export const LIVE_VIEW_DELAY_MS = 200;
/** Listeners per event the open live views may hold (several per console tab) before Node warns of a leak. */
export const LIVE_VIEW_LISTENERS = 500;

/** A connected node and its system location (the node registry knows). */
export interface LiveNode {
  id: number;
  name: string;
  location: string;
}

/**
 * What is happening on every conferencing node right now, fed by the nodes' event streams.
 * In memory only: a node resends everything it has after each reconnection.
 */
export class LiveStatus extends EventEmitter<LiveStatusEvents> {
  private readonly byNode = new Map<number, Map<string, LiveConference>>();
  /** Nodes gone silent (heartbeat timeout): their conferences are kept but shown stale. */
  private readonly staleNodes = new Set<number>();
  /** When each node's conference last reported a speaker (a sequence number), to merge across nodes. */
  private readonly spokeAt = new WeakMap<LiveConference, number>();
  private speakerSeq = 0;
  /** The nodes' break-in blocks (their own 'changed' event: they are not conference status). */
  readonly breakIn = new BreakInBlocks();
  /** The devices registered to each node (status `registration_alias`). */
  readonly registrations = new Registrations();
  /** Each node's latest load report. */
  readonly loads = new NodeLoads();
  /** Each live participant's media statistics and call quality. */
  readonly media = new ParticipantMediaStatus();
  /** The live graphs' history (hour, day, 7 days). */
  readonly series = new TimeSeries();
  private sampler: NodeJS.Timeout | null = null;
  /** The connected nodes with their locations (the node registry's, once sampling starts). */
  liveNodes: () => LiveNode[] = () => [];
  private liveSoon: NodeJS.Timeout | null = null;

  constructor() {
    super();
    // Every console live view listens here, so more than 10 at once is normal; a bound still warns of a leak.
    this.setMaxListeners(LIVE_VIEW_LISTENERS);
    this.on('changed', () => {
      this.liveSoon ??= setTimeout(() => {
        this.liveSoon = null;
        // A new count is a graph point now, not at the next tick (the live view's graphs move within 2 s of a join).
        if (this.sampler && this.countsChanged()) this.emit('sampled', this.sample(this.liveNodes()));
        else this.emit('live');
      }, LIVE_VIEW_DELAY_MS).unref();
    });
    this.on('sampled', () => this.emit('live'));
  }

  apply(nodeId: number, msg: NodeToServer): void {
    const confs = this.byNode.get(nodeId) ?? new Map<string, LiveConference>();
    this.byNode.set(nodeId, confs);
    // The node speaks again: its resync (`status`) replaces whatever was stale.
    if (msg.type === 'status') this.staleNodes.delete(nodeId);
    switch (msg.type) {
      case 'node_load':
        this.loads.set(nodeId, msg.load);
        this.emit('load');
        return;
      case 'media_statistics':
        this.media.report(nodeId, msg.at, msg.participants);
        this.emit('media');
        return;
      case 'break_in_blocks':
        this.breakIn.set(nodeId, msg.blocks);
        return;
      case 'registrations':
        this.registrations.set(nodeId, msg.registrations);
        return;
      case 'status':
        confs.clear();
        for (const c of msg.conferences) confs.set(c.id, structuredClone(c));
        this.media.keepOnly(nodeId, new Set(msg.conferences.flatMap((c) => c.participants.map((p) => p.id))));
        break;
      case 'conference_started':
        confs.set(msg.conference.id, structuredClone(msg.conference));
        break;
      case 'conference_ended':
        confs.delete(msg.conferenceId);
        this.media.dropConference(nodeId, msg.conferenceId);
        break;
      case 'participant_joined': {
        const c = confs.get(msg.conferenceId);
        if (!c) return;
        c.participants = c.participants.filter((p) => p.id !== msg.participant.id).concat(msg.participant);
        break;
      }
      case 'participant_left': {
        const c = confs.get(msg.conferenceId);
        if (!c) return;
        c.participants = c.participants.filter((p) => p.id !== msg.participantId);
        if (c.activeSpeaker === msg.participantId) c.activeSpeaker = null;
        this.media.dropParticipant(msg.participantId);
        break;
      }
      case 'participant_updated': {
        const c = confs.get(msg.conferenceId);
        const i = c?.participants.findIndex((p) => p.id === msg.participant.id) ?? -1;
        if (!c || i < 0) return;
        c.participants[i] = msg.participant;
        break;
      }
      case 'conference_updated': {
        const c = confs.get(msg.conferenceId);
        if (!c) return;
        c.isLocked = msg.isLocked;
        c.guestsMuted = msg.guestsMuted;
        break;
      }
      case 'active_speaker': {
        const c = confs.get(msg.conferenceId);
        if (!c || c.activeSpeaker === msg.participantId) return;
        c.activeSpeaker = msg.participantId;
        this.spokeAt.set(c, ++this.speakerSeq);
        break;
      }
      default:
        return;
    }
    this.emit('changed');
  }

  /** A node went away: what it hosted is no longer known to be live. */
  dropNode(nodeId: number): void {
    this.breakIn.dropNode(nodeId);
    this.registrations.dropNode(nodeId);
    this.staleNodes.delete(nodeId);
    this.loads.drop(nodeId);
    this.media.dropNode(nodeId);
    if (this.byNode.delete(nodeId)) this.emit('changed');
  }

  /** A node went silent: its conferences and participants stay listed, marked stale, until it reports again. */
  markStale(nodeId: number): void {
    this.staleNodes.add(nodeId);
    if (this.byNode.has(nodeId)) this.emit('changed');
  }

  conferences(): ConferenceStatus[] {
    const merged = new Map<string, ConferenceStatus>();
    const speakerAt = new Map<string, number>();
    for (const [nodeId, confs] of this.byNode) {
      const stale = this.staleNodes.has(nodeId);
      for (const live of confs.values()) {
        const c = stale ? { ...live, participants: live.participants.map((p) => ({ ...p, stale: true as const })) } : live;
        const m = merged.get(c.name);
        const nodes = [...new Set(c.participants.map((p) => p.node))];
        // Of the nodes' speakers, the most recently reported one (one from a resync counts as oldest).
        const spokeAt = this.spokeAt.get(live) ?? 0;
        const newerSpeaker = c.activeSpeaker !== null && spokeAt >= (speakerAt.get(c.name) ?? -1);
        if (newerSpeaker) speakerAt.set(c.name, spokeAt);
        if (!m) {
          merged.set(c.name, {
            id: c.id,
            name: c.name,
            serviceType: c.serviceType,
            startTime: c.startTime,
            nodes,
            participants: [...c.participants],
            activeSpeaker: c.activeSpeaker,
            ...(c.isLocked !== undefined ? { isLocked: c.isLocked } : {}),
            ...(c.guestsMuted !== undefined ? { guestsMuted: c.guestsMuted } : {}),
            ...(c.tag !== undefined ? { tag: c.tag } : {}),
            ...(stale ? { stale: true } : {}),
          });
        } else {
          if (stale) m.stale = true;
          m.participants.push(...c.participants);
          m.nodes = [...new Set([...m.nodes, ...nodes])];
          if (c.startTime < m.startTime) m.startTime = c.startTime;
          if (newerSpeaker) m.activeSpeaker = c.activeSpeaker;
          // Locked or Guests muted on any node: so for the conference.
          if (c.isLocked !== undefined) m.isLocked = (m.isLocked ?? false) || c.isLocked;
          if (c.guestsMuted !== undefined) m.guestsMuted = (m.guestsMuted ?? false) || c.guestsMuted;
        }
      }
    }
    return [...merged.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Each node's conferences as it reported them (Pexip's conference shards), with the node id. */
  shards(): { nodeId: number; conference: LiveConference; stale: boolean }[] {
    return [...this.byNode].flatMap(([nodeId, confs]) => [...confs.values()].map((conference) => ({ nodeId, conference, stale: this.staleNodes.has(nodeId) })));
  }

  /** Samples the live figures every `intervalMs` into the time series (and emits `sampled`). */
  startSampling(nodes: () => LiveNode[], intervalMs = 2_000): void {
    this.stopSampling();
    this.liveNodes = nodes;
    this.sampler = setInterval(() => this.emit('sampled', this.sample(nodes())), intervalMs);
    this.sampler.unref();
  }

  /** Whether the conferences or participants now differ from the graphs' latest point. */
  private countsChanged(): boolean {
    const last = this.series.latest;
    if (!last) return true;
    const conferences = this.conferences().length;
    let participants = 0;
    for (const confs of this.byNode.values()) for (const c of confs.values()) participants += c.participants.length;
    return last.conferences !== conferences || last.participants !== participants;
  }

  stopSampling(): void {
    if (this.sampler) clearInterval(this.sampler);
    this.sampler = null;
  }

  /** The live figures now, added to the time series. */
  sample(nodes: LiveNode[], now = Date.now()): TimeSeriesPoint {
    const point: TimeSeriesPoint = { t: now, conferences: this.conferences().length, participants: 0, packetLoss: 0, locations: {}, nodes: {} };
    const tokens = new Map<string, { used: number; max: number }>();
    for (const n of nodes) {
      const loc = (point.locations[n.location] ??= { conferences: 0, participants: 0, mediaLoad: 0, packetLoss: 0 });
      for (const c of this.byNode.get(n.id)?.values() ?? []) {
        loc.conferences++;
        loc.participants += c.participants.length;
      }
      const load = this.loads.get(n.id);
      if (!load) continue;
      point.nodes[n.name] = Math.round(load.mediaLoad * 100) / 100;
      const t = tokens.get(n.location) ?? { used: 0, max: 0 };
      t.used += load.mediaTokensUsed;
      t.max += load.capacity.maxMediaTokens;
      tokens.set(n.location, t);
    }
    for (const [name, t] of tokens) point.locations[name]!.mediaLoad = t.max > 0 ? Math.round((t.used / t.max) * 10_000) / 100 : 0;
    for (const confs of this.byNode.values()) for (const c of confs.values()) point.participants += c.participants.length;
    const locationOf = new Map(nodes.map((n) => [n.id, n.location]));
    const losses = new Map<string, { sum: number; n: number }>();
    let loss = 0;
    for (const e of this.media.entries()) {
      const worst = worstLoss(e.media);
      loss += worst;
      const where = locationOf.get(e.nodeId);
      if (where === undefined) continue;
      const l = losses.get(where) ?? { sum: 0, n: 0 };
      l.sum += worst;
      l.n++;
      losses.set(where, l);
    }
    const round2 = (x: number) => Math.round(x * 100) / 100;
    point.packetLoss = this.media.size > 0 ? round2(loss / this.media.size) : 0;
    for (const [name, l] of losses) point.locations[name]!.packetLoss = round2(l.sum / l.n);
    this.series.add(point);
    return point;
  }

  /**
   * Where a conference runs, by its status id (or name): each node hosting it and the conference's
   * id there (a conference spanning nodes has one instance on each). Empty when it is not live.
   */
  conferenceInstances(conferenceId: string): { nodeId: number; conferenceId: string }[] {
    const listed = this.conferences().find((c) => c.id === conferenceId || c.name === conferenceId);
    if (!listed) return [];
    const found: { nodeId: number; conferenceId: string }[] = [];
    for (const [nodeId, confs] of this.byNode) for (const c of confs.values()) if (c.name === listed.name) found.push({ nodeId, conferenceId: c.id });
    return found;
  }

  /** The node a participant (by status id) is on and its conference's id there. */
  participantInstance(participantId: string): { nodeId: number; conferenceId: string } | undefined {
    for (const [nodeId, confs] of this.byNode)
      for (const c of confs.values()) if (c.participants.some((p) => p.id === participantId)) return { nodeId, conferenceId: c.id };
    return undefined;
  }

  participants(): (LiveParticipant & { conference: string })[] {
    return this.conferences().flatMap((c) => c.participants.map((p) => ({ ...p, conference: c.name })));
  }
}
