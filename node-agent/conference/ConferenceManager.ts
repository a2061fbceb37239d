import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { decideRole } from '../../shared/conference/pin-check.js';
import type { LiveConference, NodeConfigSnapshot, ServiceConfig } from '../../shared/node-protocol/messages.js';
import type { ConferenceMedia } from '../media/MediaTypes.js';
import { Conference } from './Conference.js';
import { Participant, type ParticipantInit } from './Participant.js';
import { ServiceDirectory } from './ServiceDirectory.js';

export interface ConferenceManagerEvents {
  conferenceStarted: [Conference];
  conferenceEnded: [Conference];
  participantJoined: [Conference, Participant];
  participantLeft: [Conference, Participant, reason: string];
}

export type JoinResult =
  | { kind: 'joined'; conference: Conference; participant: Participant; token: string }
  | { kind: 'not_found' }
  | { kind: 'pin_required'; hostPin: boolean; guestPin: boolean }
  | { kind: 'invalid_pin' }
  | { kind: 'full' };

export interface JoinRequest extends Omit<ParticipantInit, 'role'> {
  pin: string | undefined;
}

/** Every conference instance on this node, the alias lookup and the client API tokens. */
export class ConferenceManager extends EventEmitter<ConferenceManagerEvents> {
  readonly directory = new ServiceDirectory();
  private readonly instances = new Map<number, Conference>();
  private readonly tokens = new Map<string, { conference: Conference; participant: Participant }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly createMedia: (service: ServiceConfig) => ConferenceMedia,
    readonly nodeName: string,
    private readonly log: Logger,
  ) {
    super();
    this.sweeper = setInterval(() => this.expireTokens(), 1_000);
    this.sweeper.unref();
  }

  applyConfig(snapshot: NodeConfigSnapshot): void {
    this.directory.load(snapshot);
    for (const [serviceId, conf] of this.instances) {
      const service = this.directory.byServiceId(serviceId);
      if (service) conf.service = service;
    }
  }

  join(req: JoinRequest): JoinResult {
    const service = this.directory.lookup(req.alias);
    if (!service) return { kind: 'not_found' };
    const decision = decideRole({ pin: service.pin, guestPin: service.guestPin, allowGuests: service.allowGuests }, req.pin);
    if (decision.kind === 'pin_required') return decision;
    if (decision.kind === 'invalid_pin') return decision;
    let conference = this.instances.get(service.id);
    if (conference?.isFull()) return { kind: 'full' };
    if (!conference) conference = this.start(service);
    const participant = new Participant({ ...req, role: decision.role });
    const token = participant.issueToken();
    this.tokens.set(token, { conference, participant });
    conference.add(participant);
    return { kind: 'joined', conference, participant, token };
  }

  private start(service: ServiceConfig): Conference {
    const conference = new Conference(service, this.createMedia(service));
    this.instances.set(service.id, conference);
    conference.on('participantJoined', (p) => this.emit('participantJoined', conference, p));
    conference.on('participantLeft', (p, reason) => {
      for (const t of p.tokens) this.tokens.delete(t);
      this.emit('participantLeft', conference, p, reason);
    });
    conference.on('ended', () => {
      if (this.instances.get(service.id) === conference) this.instances.delete(service.id);
      this.log.info({ conference: service.name }, 'conference instance ended');
      this.emit('conferenceEnded', conference);
    });
    this.log.info({ conference: service.name }, 'conference instance started');
    this.emit('conferenceStarted', conference);
    return conference;
  }

  byToken(token: string | undefined): { conference: Conference; participant: Participant } | undefined {
    if (!token) return undefined;
    const entry = this.tokens.get(token);
    if (!entry || entry.participant.tokenExpiresAt < Date.now()) return undefined;
    return entry;
  }

  refreshToken(conference: Conference, participant: Participant): string {
    const dropped = participant.tokens[1];
    if (dropped) this.tokens.delete(dropped);
    const token = participant.issueToken();
    this.tokens.set(token, { conference, participant });
    return token;
  }

  private expireTokens(): void {
    const now = Date.now();
    for (const conf of this.instances.values()) {
      for (const p of conf.participants) {
        if (p.tokenExpiresAt < now) conf.remove(p.id, 'Timer expired awaiting token refresh');
      }
    }
  }

  conferences(): Conference[] {
    return [...this.instances.values()];
  }

  liveStatus(): LiveConference[] {
    return this.conferences().map((c) => c.toLive(this.nodeName));
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const c of this.conferences()) c.end('Conferencing node shutting down');
  }
}
