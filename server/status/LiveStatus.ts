import { EventEmitter } from 'node:events';
import type { LiveConference, LiveParticipant, NodeToServer } from '../../shared/node-protocol/messages.js';

export interface LiveStatusEvents {
  changed: [];
}

/** A live conference as the console shows it: one per service, merged across the nodes it spans. */
export interface ConferenceStatus {
  id: string;
  name: string;
  serviceType: string;
  startTime: string;
  nodes: string[];
  participants: LiveParticipant[];
}

/**
 * What is happening on every conferencing node right now, fed by the nodes' event streams.
 * In memory only: a node resends everything it has after each reconnection.
 */
export class LiveStatus extends EventEmitter<LiveStatusEvents> {
  private readonly byNode = new Map<number, Map<string, LiveConference>>();

  apply(nodeId: number, msg: NodeToServer): void {
    const confs = this.byNode.get(nodeId) ?? new Map<string, LiveConference>();
    this.byNode.set(nodeId, confs);
    switch (msg.type) {
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
        break;
      }
      default:
        return;
    }
    this.emit('changed');
  }

  /** A node went away: what it hosted is no longer known to be live. */
  dropNode(nodeId: number): void {
    if (this.byNode.delete(nodeId)) this.emit('changed');
  }

  conferences(): ConferenceStatus[] {
    const merged = new Map<string, ConferenceStatus>();
    for (const confs of this.byNode.values()) {
      for (const c of confs.values()) {
        const m = merged.get(c.name);
        const nodes = [...new Set(c.participants.map((p) => p.node))];
        if (!m) {
          merged.set(c.name, { id: c.id, name: c.name, serviceType: c.serviceType, startTime: c.startTime, nodes, participants: [...c.participants] });
        } else {
          m.participants.push(...c.participants);
          m.nodes = [...new Set([...m.nodes, ...nodes])];
          if (c.startTime < m.startTime) m.startTime = c.startTime;
        }
      }
    }
    return [...merged.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  participants(): (LiveParticipant & { conference: string })[] {
    return this.conferences().flatMap((c) => c.participants.map((p) => ({ ...p, conference: c.name })));
  }
}
