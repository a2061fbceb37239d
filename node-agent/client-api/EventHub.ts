import type { ServerResponse } from 'node:http';
import type { Conference } from '../conference/Conference.js';
import type { ConferenceManager } from '../conference/ConferenceManager.js';
import type { Participant } from '../conference/Participant.js';
import { LAYOUT_SHORT, type PresentationStartEvent, type StageEntry } from '../../shared/client-api/media.js';
import type { StagePosition } from '../media/MediaTypes.js';
import type { ConferenceStatus, LayoutEvent, MessageBody, MessageReceivedEvent, Participant as ClientParticipant, ReferEvent } from '../../shared/client-api/conference.js';

interface Stream {
  participantId: string;
  res: ServerResponse;
}

/**
 * Server-sent event streams of the client API (client-api-v2 §5), per conference instance.
 * Every message has an `event:` line and non-empty JSON data, as the Pexip client requires.
 */
export class EventHub {
  private readonly streams = new Map<string, Set<Stream>>();

  constructor(manager: ConferenceManager) {
    manager.on('participantJoined', (conf, p) => this.broadcast(conf, 'participant_create', clientObject(conf, p)));
    manager.on('participantLeft', (conf, p, reason) => {
      this.broadcast(conf, 'participant_delete', { uuid: p.id }, p.id);
      for (const s of this.streams.get(conf.id) ?? []) {
        if (s.participantId !== p.id) continue;
        write(s.res, 'disconnect', { reason });
        s.res.end();
      }
    });
    manager.on('conferenceStarted', (conf) => {
      conf.on('participantUpdated', (p) => this.broadcast(conf, 'participant_update', clientObject(conf, p)));
      conf.on('splashScreen', (p) => this.sendTo(conf, p.id, 'splash_screen', p.splash));
      conf.on('statusChanged', () => this.broadcast(conf, 'conference_update', conferenceStatus(conf)));
      conf.media.on('stage', (stage) => this.broadcast(conf, 'stage', stageEvent(conf, stage)));
      conf.on('stageChanged', () => this.broadcast(conf, 'stage', stageEvent(conf, conf.media.stage())));
      conf.on('layoutChanged', () => {
        for (const s of this.streams.get(conf.id) ?? []) {
          const p = conf.get(s.participantId);
          if (p) write(s.res, 'layout', layoutEvent(conf, p));
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
      for (const s of this.streams.get(conf.id) ?? []) s.res.end();
      this.streams.delete(conf.id);
    });
  }

  /** Opens a stream: sync of the current participant list, then live changes. */
  open(conf: Conference, participant: Participant, res: ServerResponse): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    const stream: Stream = { participantId: participant.id, res };
    const set = this.streams.get(conf.id) ?? new Set<Stream>();
    set.add(stream);
    this.streams.set(conf.id, set);
    write(res, 'participant_sync_begin', null);
    for (const p of conf.participants) write(res, 'participant_create', clientObject(conf, p));
    write(res, 'participant_sync_end', null);
    write(res, 'conference_update', conferenceStatus(conf));
    write(res, 'layout', layoutEvent(conf, participant));
    write(res, 'stage', stageEvent(conf, conf.media.stage()));
    const presenter = conf.announcedPresenter;
    if (presenter && presenter.id !== participant.id) write(res, 'presentation_start', presentationStart(presenter));
    // A reconnected stream missed consumer events: announce the live ones again (clients ignore repeats).
    conf.media.session(participant.id)?.replayConsumers();
    // The splash set at join (waiting for Host, test call) predates the stream: show it now.
    if (participant.splash) write(res, 'splash_screen', participant.splash);
    const keepAlive = setInterval(() => res.write(':keepalive\n\n'), 15_000);
    res.on('close', () => {
      clearInterval(keepAlive);
      set.delete(stream);
    });
  }

  /** An event for one participant only (splash_screen, refer, media consumers). */
  sendTo(conf: Conference, participantId: string, event: string, data: unknown): void {
    for (const s of this.streams.get(conf.id) ?? []) if (s.participantId === participantId) write(s.res, event, data);
  }

  /** A chat or application message to everyone else in the conference (SSE `message_received`). */
  message(conf: Conference, from: Participant, msg: MessageBody): void {
    this.broadcast(conf, 'message_received', { type: msg.type, payload: msg.payload, uuid: from.id, origin: from.displayName, direct: false } satisfies MessageReceivedEvent, from.id);
  }

  /** A message to one participant only (participant `message`). */
  direct(conf: Conference, from: Participant, to: Participant, msg: MessageBody): void {
    this.sendTo(conf, to.id, 'message_received', { type: msg.type, payload: msg.payload, uuid: from.id, origin: from.displayName, direct: true } satisfies MessageReceivedEvent);
  }

  /** The participant's media leg ended without them hanging up (SSE `call_disconnected`). */
  callDisconnected(conf: Conference, p: Participant, callId: string, reason: string): void {
    this.sendTo(conf, p.id, 'call_disconnected', { call_uuid: callId, reason });
  }

  private broadcast(conf: Conference, event: string, data: unknown, except?: string): void {
    for (const s of this.streams.get(conf.id) ?? []) if (s.participantId !== except) write(s.res, event, data);
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
    .filter((s) => conf.get(s.participantId))
    .map((s, i) => ({ participant_uuid: s.participantId, stage_index: i, vad: s.speaking ? 100 : 0 }));
}

/** Pexip's `layout`: the view this participant's role gets (the service's Host view or Guest view). */
function layoutEvent(conf: Conference, p: Participant): LayoutEvent {
  const host = conf.layout.host ?? conf.service.hostView;
  const guest = conf.layout.guest ?? conf.service.guestView;
  return {
    view: LAYOUT_SHORT[conf.layoutFor(p)],
    participants: conf.stageOrder(conf.media.stage()).map((s) => s.participantId).filter((id) => id !== p.id),
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

function write(res: ServerResponse, event: string, data: unknown): void {
  if (!res.writableEnded) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}
