import type { ServerResponse } from 'node:http';
import type { Conference } from '../conference/Conference.js';
import type { ConferenceManager } from '../conference/ConferenceManager.js';
import type { Participant } from '../conference/Participant.js';
import { remoteClientObject } from '../conference/remoteParticipant.js';
import { pinCallerClientObject } from '../conference/PinCaller.js';
import { LAYOUT_SHORT, type PresentationStartEvent, type StageEntry, type VideoCodecEvent } from '../../shared/client-api/media.js';
import type { StagePosition } from '../media/MediaTypes.js';
import { DEFAULT_CLIENT_API_LIMITS, type ClientApiLimits } from './ClientApiLimits.js';
import type {
  ConferenceStatus,
  LayoutEvent,
  MessageBody,
  MessageReceivedEvent,
  Participant as ClientParticipant,
  ReferEvent,
} from '../../shared/client-api/conference.js';

interface Stream {
  participantId: string;
  address: string;
  res: ServerResponse;
  keepAlive?: NodeJS.Timeout;
}

/**
 * Server-sent event streams of the client API (client-api-v2 §5), per conference instance.
 * Every message has an `event:` line and non-empty JSON data, as the Pexip client requires.
 */
export class EventHub {
  private readonly streams = new Map<string, Set<Stream>>();
  /** Open streams per remote address (the per-address cap). */
  private readonly perAddress = new Map<string, number>();

  constructor(
    manager: ConferenceManager,
    private readonly limits: Pick<ClientApiLimits, 'streamsPerParticipant' | 'streamsPerAddress' | 'streamBufferBytes'> = DEFAULT_CLIENT_API_LIMITS,
  ) {
    manager.on('participantJoined', (conf, p) => this.broadcast(conf, 'participant_create', clientObject(conf, p)));
    manager.on('participantLeft', (conf, p, reason) => {
      this.broadcast(conf, 'participant_delete', { uuid: p.id }, p.id);
      for (const s of this.streams.get(conf.id) ?? []) {
        if (s.participantId !== p.id) continue;
        this.write(s, 'disconnect', { reason });
        s.res.end();
        this.drop(s);
      }
    });
    manager.on('conferenceStarted', (conf) => {
      conf.on('participantUpdated', (p) => this.broadcast(conf, 'participant_update', clientObject(conf, p)));
      // Participants on other nodes (backplanes) are listed as Pexip lists them: like our own.
      conf.on('remoteJoined', (r) => this.broadcast(conf, 'participant_create', remoteClientObject(r, conf.clientServiceType())));
      conf.on('remoteUpdated', (r) => this.broadcast(conf, 'participant_update', remoteClientObject(r, conf.clientServiceType())));
      conf.on('remoteLeft', (r) => this.broadcast(conf, 'participant_delete', { uuid: r.id }));
      // Callers at the PIN entry screen, listed so that a Host can let them in (guide §20.6).
      conf.on('pinCallerJoined', (c) => this.broadcast(conf, 'participant_create', pinCallerClientObject(c)));
      conf.on('pinCallerLeft', (c) => this.broadcast(conf, 'participant_delete', { uuid: c.id }));
      conf.on('splashScreen', (p) => this.sendTo(conf, p.id, 'splash_screen', p.splash));
      conf.on('statusChanged', () => this.broadcast(conf, 'conference_update', conferenceStatus(conf)));
      conf.media.on('stage', (stage) => this.broadcast(conf, 'stage', stageEvent(conf, stage)));
      // Only multi-stream clients send their own camera producer; Pexip's clients never see this event.
      conf.media.on('videoCodec', (codec) => {
        const event: VideoCodecEvent = { mime_type: codec };
        for (const s of this.streams.get(conf.id) ?? [])
          if (conf.media.session(s.participantId) || conf.get(s.participantId)?.remoteSession) this.write(s, 'media_video_codec', event);
      });
      conf.on('stageChanged', () => this.broadcast(conf, 'stage', stageEvent(conf, conf.media.stage())));
      conf.on('layoutChanged', () => {
        for (const s of this.streams.get(conf.id) ?? []) {
          const p = conf.get(s.participantId);
          if (p) this.write(s, 'layout', layoutEvent(conf, p));
        }
      });
      conf.on('refreshToken', (p) => this.sendTo(conf, p.id, 'refresh_token', {}));
      conf.on('refer', (p, refer) => this.sendTo(conf, p.id, 'refer', { alias: refer.alias, token: refer.token, target: 'conference' } satisfies ReferEvent));
      let presenting: Participant | null = null;
      conf.on('presentation', (presenter) => {
        if (presenter) this.broadcast(conf, 'presentation_start', presentationStart(presenter), presenter.id);
        else this.broadcast(conf, 'presentation_stop', null);
        // is_presenting changed for the one who stopped and the one who started.
        const before = presenting;
        presenting = presenter;
        for (const p of [before, presenter]) if (p && conf.get(p.id)) this.broadcast(conf, 'participant_update', clientObject(conf, p));
      });
    });
    manager.on('conferenceEnded', (conf) => {
      for (const s of this.streams.get(conf.id) ?? []) {
        s.res.end();
        this.drop(s);
      }
    });
  }

  /**
   * Whether a stream from this address may open now. A participant's own further stream always may
   * (it replaces their oldest); others count against the address's cap.
   */
  admits(conf: Conference, participant: Participant, address: string): boolean {
    if (this.ofParticipant(conf, participant.id).length >= this.limits.streamsPerParticipant) return true;
    return (this.perAddress.get(address) ?? 0) < this.limits.streamsPerAddress;
  }

  /** Opens a stream: sync of the current participant list, then live changes. */
  open(conf: Conference, participant: Participant, res: ServerResponse, address: string): void {
    // A reconnect while the old stream lingers: the oldest goes, so one token holds only a few.
    const own = this.ofParticipant(conf, participant.id);
    for (const old of own.slice(0, Math.max(0, own.length - this.limits.streamsPerParticipant + 1))) {
      old.res.end();
      this.drop(old);
    }
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    const stream: Stream = { participantId: participant.id, address, res };
    const set = this.streams.get(conf.id) ?? new Set<Stream>();
    set.add(stream);
    this.streams.set(conf.id, set);
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    res.on('close', () => this.drop(stream));
    this.write(stream, 'participant_sync_begin', null);
    for (const p of conf.participants) this.write(stream, 'participant_create', clientObject(conf, p));
    for (const r of conf.remoteParticipants) this.write(stream, 'participant_create', remoteClientObject(r, conf.clientServiceType()));
    for (const c of conf.pinCallers) this.write(stream, 'participant_create', pinCallerClientObject(c));
    this.write(stream, 'participant_sync_end', null);
    this.write(stream, 'conference_update', conferenceStatus(conf));
    this.write(stream, 'layout', layoutEvent(conf, participant));
    this.write(stream, 'stage', stageEvent(conf, conf.media.stage()));
    const presenter = conf.announcedPresenter;
    if (presenter && presenter.id !== participant.id) this.write(stream, 'presentation_start', presentationStart(presenter));
    // A reconnected stream missed consumer events: announce the live ones again (clients ignore repeats).
    (participant.remoteSession ?? conf.media.session(participant.id))?.replayConsumers();
    // The splash set at join (waiting for Host, test call) predates the stream: show it now.
    if (participant.splash) this.write(stream, 'splash_screen', participant.splash);
    if (!set.has(stream)) return; // dropped while syncing
    stream.keepAlive = setInterval(() => this.send(stream, ':keepalive\n\n'), 15_000);
  }

  /** What the hub holds: conferences with streams, open streams, addresses counted (tests check it empties). */
  get size(): { conferences: number; streams: number; addresses: number } {
    let streams = 0;
    for (const set of this.streams.values()) streams += set.size;
    return { conferences: this.streams.size, streams, addresses: this.perAddress.size };
  }

  /** An event for one participant only (splash_screen, refer, media consumers). */
  sendTo(conf: Conference, participantId: string, event: string, data: unknown): void {
    for (const s of this.streams.get(conf.id) ?? []) if (s.participantId === participantId) this.write(s, event, data);
  }

  /** A chat or application message to everyone else in the conference (SSE `message_received`). */
  message(conf: Conference, from: Participant, msg: MessageBody): void {
    this.broadcast(
      conf,
      'message_received',
      { type: msg.type, payload: msg.payload, uuid: from.id, origin: from.displayName, direct: false } satisfies MessageReceivedEvent,
      from.id,
    );
  }

  /** A message to one participant only (participant `message`). */
  direct(conf: Conference, from: Participant, to: Participant, msg: MessageBody): void {
    this.sendTo(conf, to.id, 'message_received', {
      type: msg.type,
      payload: msg.payload,
      uuid: from.id,
      origin: from.displayName,
      direct: true,
    } satisfies MessageReceivedEvent);
  }

  /** The participant's media leg ended without them hanging up (SSE `call_disconnected`). */
  callDisconnected(conf: Conference, p: Participant, callId: string, reason: string): void {
    this.sendTo(conf, p.id, 'call_disconnected', { call_uuid: callId, reason });
  }

  private broadcast(conf: Conference, event: string, data: unknown, except?: string): void {
    for (const s of this.streams.get(conf.id) ?? []) if (s.participantId !== except) this.write(s, event, data);
  }

  private ofParticipant(conf: Conference, participantId: string): Stream[] {
    return [...(this.streams.get(conf.id) ?? [])].filter((s) => s.participantId === participantId);
  }

  private write(s: Stream, event: string, data: unknown): void {
    this.send(s, `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /** A reader that lets more than the bound wait unread is dropped rather than buffered without end. */
  private send(s: Stream, chunk: string): void {
    if (s.res.writableEnded || s.res.destroyed) return;
    s.res.write(chunk);
    if (s.res.writableLength > this.limits.streamBufferBytes) {
      s.res.destroy();
      this.drop(s);
    }
  }

  /** Forgets a stream everywhere; safe to call more than once. */
  private drop(s: Stream): void {
    clearInterval(s.keepAlive);
    s.keepAlive = undefined;
    for (const [confId, set] of this.streams) {
      if (!set.delete(s)) continue;
      if (set.size === 0) this.streams.delete(confId);
      const n = (this.perAddress.get(s.address) ?? 1) - 1;
      if (n > 0) this.perAddress.set(s.address, n);
      else this.perAddress.delete(s.address);
      return;
    }
  }
}

/** The participant object as everyone sees it (client-api-v2 §5.1). */
export function clientObject(conf: Conference, p: Participant): ClientParticipant {
  return p.toClientObject(conf.clientServiceType(), conf.announcedPresenter === p);
}

/** Pexip's `stage`: spotlit participants first, then the active-speaker order; participants of this conference only. */
function stageEvent(conf: Conference, stage: StagePosition[]): StageEntry[] {
  return conf
    .stageOrder(stage)
    .filter((s) => conf.get(s.participantId) || conf.isRemote(s.participantId))
    .map((s, i) => ({ participant_uuid: s.participantId, stage_index: i, vad: s.speaking ? 100 : 0 }));
}

/** Pexip's `layout`: the view this participant's role gets (the service's Host view or Guest view). */
function layoutEvent(conf: Conference, p: Participant): LayoutEvent {
  const host = conf.layout.host ?? conf.service.hostView;
  const guest = conf.layout.guest ?? conf.service.guestView;
  return {
    view: LAYOUT_SHORT[conf.layoutFor(p)],
    participants: conf
      .stageOrder(conf.media.stage())
      .map((s) => s.participantId)
      .filter((id) => id !== p.id),
    requested_layout: { primary_screen: { chair_layout: host, guest_layout: guest } },
  };
}

function presentationStart(p: Participant): PresentationStartEvent {
  return { presenter_name: p.displayName, presenter_uri: p.alias, presenter_uuid: p.id, status: 'start' };
}

export function conferenceStatus(conf: Conference): ConferenceStatus {
  const everyone = conf.participants;
  return {
    locked: conf.locked,
    guests_muted: conf.guestsMuted,
    started: conf.hasHost,
    all_muted: everyone.length > 0 && everyone.every((p) => p.isMuted),
    guests_can_unmute: conf.guestsCanUnmute,
    guests_can_present: conf.service.guestsCanPresent,
    presentation_allowed: true,
    direct_media: false,
  };
}
