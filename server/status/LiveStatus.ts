import { EventEmitter } from 'node:events';
import type { LiveConference, LiveParticipant, NodeToServer } from '../../shared/node-protocol/messages.js';
import type { ConferenceStatus } from '../../shared/status/conferenceStatus.js';
import { BreakInBlocks } from './BreakInBlocks.js';

export type { ConferenceStatus };

export interface LiveStatusEvents {
  changed: [];
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

  apply(nodeId: number, msg: NodeToServer): void {
    const confs = this.byNode.get(nodeId) ?? new Map<string, LiveConference>();
    this.byNode.set(nodeId, confs);
    // The node speaks again: its resync (`status`) replaces whatever was stale.
    if (msg.type === 'status') this.staleNodes.delete(nodeId);
    switch (msg.type) {
      case 'break_in_blocks':
        this.breakIn.set(nodeId, msg.blocks);
        return;
      case 'status':
        confs.clear();
        for (const c of msg.conferences) confs.set(c.id, structuredClone(c));
        break;
      case 'conference_started':
        confs.set(msg.conference.id, structuredClone(msg.conference));
        break;
      case 'conference_ended':
        confs.delete(msg.conferenceId);
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
    this.staleNodes.delete(nodeId);
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
            ...(stale ? { stale: true } : {}),
          });
        } else {
          if (stale) m.stale = true;
          m.participants.push(...c.participants);
          m.nodes = [...new Set([...m.nodes, ...nodes])];
          if (c.startTime < m.startTime) m.startTime = c.startTime;
          if (newerSpeaker) m.activeSpeaker = c.activeSpeaker;
        }
      }
    }
    return [...merged.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  participants(): (LiveParticipant & { conference: string })[] {
    return this.conferences().flatMap((c) => c.participants.map((p) => ({ ...p, conference: c.name })));
  }
}
