import type { ServerResponse } from 'node:http';
import type { Conference } from '../conference/Conference.js';
import type { ConferenceManager } from '../conference/ConferenceManager.js';
import type { Participant } from '../conference/Participant.js';
import { LAYOUT_SHORT, type PresentationStartEvent, type StageEntry } from '../../shared/client-api/media.js';
import type { StagePosition } from '../media/MediaTypes.js';

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
    manager.on('participantJoined', (conf, p) => this.broadcast(conf, 'participant_create', p.toClientObject(conf.clientServiceType())));
    manager.on('participantLeft', (conf, p, reason) => {
      this.broadcast(conf, 'participant_delete', { uuid: p.id }, p.id);
      for (const s of this.streams.get(conf.id) ?? []) {
        if (s.participantId !== p.id) continue;
        write(s.res, 'disconnect', { reason });
        s.res.end();
      }
    });
    manager.on('conferenceStarted', (conf) => {
      conf.on('participantUpdated', (p) => this.broadcast(conf, 'participant_update', p.toClientObject(conf.clientServiceType())));
      conf.on('splashScreen', (p) => this.sendTo(conf, p.id, 'splash_screen', p.splash));
      conf.on('statusChanged', () => this.broadcast(conf, 'conference_update', conferenceStatus(conf)));
      conf.media.on('stage', (stage) => this.broadcast(conf, 'stage', stageEvent(conf, stage)));
      conf.on('presentation', (presenter) => {
        if (presenter) this.broadcast(conf, 'presentation_start', presentationStart(presenter), presenter.id);
        else this.broadcast(conf, 'presentation_stop', null);
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
    for (const p of conf.participants) write(res, 'participant_create', p.toClientObject(conf.clientServiceType()));
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
  message(conf: Conference, from: Participant, msg: { type: string; payload: string }): void {
    this.broadcast(conf, 'message_received', { type: msg.type, payload: msg.payload, uuid: from.id, origin: from.displayName, direct: false }, from.id);
  }

  private broadcast(conf: Conference, event: string, data: unknown, except?: string): void {
    for (const s of this.streams.get(conf.id) ?? []) if (s.participantId !== except) write(s.res, event, data);
  }
}

/** Pexip's `stage`: the active-speaker order, participants of this conference only. */
function stageEvent(conf: Conference, stage: StagePosition[]): StageEntry[] {
  return stage
    .filter((s) => conf.get(s.participantId))
    .map((s, i) => ({ participant_uuid: s.participantId, stage_index: i, vad: s.speaking ? 100 : 0 }));
}

/** Pexip's `layout`: the view this participant's role gets (the service's Host view or Guest view). */
function layoutEvent(conf: Conference, p: Participant) {
  const { hostView, guestView } = conf.service;
  return {
    view: LAYOUT_SHORT[p.role === 'HOST' ? hostView : guestView],
    participants: conf.media.stage().map((s) => s.participantId).filter((id) => id !== p.id),
    requested_layout: { primary_screen: { chair_layout: hostView, guest_layout: guestView } },
  };
}

function presentationStart(p: Participant): PresentationStartEvent {
  return { presenter_name: p.displayName, presenter_uri: p.alias, presenter_uuid: p.id, status: 'start' };
}

export function conferenceStatus(conf: Conference) {
  return {
    locked: false,
    guests_muted: false,
    started: conf.hasHost,
    all_muted: false,
    presentation_allowed: true,
    direct_media: false,
  };
}

function write(res: ServerResponse, event: string, data: unknown): void {
  if (!res.writableEnded) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}
