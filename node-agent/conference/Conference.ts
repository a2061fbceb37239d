import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { LiveConference, ServiceConfig } from '../../shared/node-protocol/messages.js';
import type { ConferenceMedia } from '../media/MediaTypes.js';
import type { Participant } from './Participant.js';

export interface ConferenceEvents {
  participantJoined: [Participant];
  participantUpdated: [Participant];
  participantLeft: [Participant, reason: string];
  ended: [];
}

/** A conference instance: created by the first participant of a service, ended by the last one leaving. */
export class Conference extends EventEmitter<ConferenceEvents> {
  readonly id = randomUUID();
  readonly startTime = new Date();
  private readonly members = new Map<string, Participant>();
  private ended = false;

  constructor(
    public service: ServiceConfig,
    readonly media: ConferenceMedia,
  ) {
    super();
  }

  get participants(): Participant[] {
    return [...this.members.values()];
  }

  get size(): number {
    return this.members.size;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Participant limit of the service (blank = unlimited). */
  isFull(): boolean {
    const limit = this.service.participantLimit;
    return limit !== null && this.members.size >= limit;
  }

  get(participantId: string): Participant | undefined {
    return this.members.get(participantId);
  }

  add(p: Participant): void {
    if (this.ended) throw new Error('conference has ended');
    this.members.set(p.id, p);
    this.emit('participantJoined', p);
  }

  updated(p: Participant): void {
    if (this.members.has(p.id)) this.emit('participantUpdated', p);
  }

  remove(participantId: string, reason: string): void {
    const p = this.members.get(participantId);
    if (!p) return;
    this.members.delete(participantId);
    p.leg?.close(reason);
    p.leg = null;
    this.media.removeParticipant(participantId);
    this.emit('participantLeft', p, reason);
    if (this.members.size === 0) this.end();
  }

  end(reason = 'Conference ended'): void {
    if (this.ended) return;
    for (const p of this.participants) this.remove(p.id, reason);
    this.ended = true;
    this.media.close();
    this.emit('ended');
  }

  toLive(node: string): LiveConference {
    return {
      id: this.id,
      name: this.service.name,
      serviceType: this.service.serviceType,
      startTime: this.startTime.toISOString(),
      participants: this.participants.map((p) => p.toLive(node)),
    };
  }
}
