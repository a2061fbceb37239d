import { parseLayout, type LayoutKind } from '../media/layout.js';
import { MediaSession } from '../media/MediaSession.js';
import { conferenceStatus, disconnectEvent, participantDeleteEvent, referEvent } from '../../../shared/client-api/conference.js';
import {
  ClientApi,
  clientParticipant,
  type ChatMessage,
  type ClientParticipant,
  type ConferenceStatus,
  type ServiceType,
  type TokenResult,
} from '../client/ClientApi.js';
import { applyRosterEvent, EMPTY_ROSTER, type Notice, type RosterEvent, type RosterState } from './roster.js';

/** SSE `splash_screen`: which theme screen to show now (null: none). */
export interface Splash {
  screen_key: string;
  display_duration?: number;
  conference_name?: string;
  /** The digits entered so far into a Virtual Reception (on its entry screen). */
  conference_id?: string;
}

export interface MeetingCallEvents {
  participants: (list: ClientParticipant[]) => void;
  ended: (reason: string) => void;
  splash?: (splash: Splash | null) => void;
  /** The node transfers this participant (Virtual Reception → VMR): re-join `alias` with the one-time `token`. */
  refer?: (refer: { alias: string; token: string }) => void;
  message?: (message: ChatMessage) => void;
  /** Where this participant is now, e.g. `waiting_room` → `conference` once a Host joins. */
  serviceType?: (type: ServiceType) => void;
  /** Pexip's `layout` event: the layout this participant's role is given (its `view`, e.g. `1:7`). */
  layout?: (layout: LayoutKind) => void;
  /** Joins, leaves, raised hands, lobby arrivals, what a Host did to this participant. */
  notice?: (notice: Notice) => void;
  /** SSE `conference_update`: locked, Guests muted… */
  conference?: (status: ConferenceStatus) => void;
}

/**
 * What tests and diagnostics read of the call's media as they did of its one RTCPeerConnection:
 * the stats of both transports, and the ICE configuration handed to them.
 */
export interface MediaPeer {
  getStats(): Promise<RTCStatsReport>;
  getConfiguration(): RTCConfiguration;
}

/** The RTCPeerConnection configuration the token asks for (client-api-v2.md §1.2): ICE servers and policy of both media transports. */
export function rtcConfiguration(token: TokenResult): RTCConfiguration {
  const iceServers: RTCIceServer[] = [];
  const stun = (token.stun ?? []).map((s) => s.url).filter((u): u is string => typeof u === 'string' && u.length > 0);
  if (stun.length) iceServers.push({ urls: stun });
  for (const t of token.turn ?? []) {
    const urls = Array.isArray(t.urls) ? t.urls : [t.urls];
    if (!urls.length) continue;
    const server: RTCIceServer = { urls };
    if (t.username !== undefined) server.username = t.username;
    if (t.credential !== undefined) server.credential = t.credential;
    iceServers.push(server);
  }
  return { bundlePolicy: 'max-bundle', iceServers, iceTransportPolicy: token.use_relay_candidates_only ? 'relay' : 'all' };
}

/**
 * One joined participant: the event stream, the multi-stream media session (mediasoup-client;
 * the node decides what each service type receives: a test call its own media, a reception
 * nothing) and the token refresh loop.
 */
export class MeetingCall {
  readonly media: MediaSession;
  /** Stats and ICE configuration of the media (kept for tests and diagnostics). */
  readonly pc: MediaPeer;
  private es: EventSource | null = null;
  private refreshTimer: number | undefined;
  private roster: RosterState = EMPTY_ROSTER;
  private ended = false;
  private serviceType: ServiceType | undefined;
  /** Set on `refer`: the node may drop this leg now; the app is already joining the next one. */
  private transferring = false;

  constructor(
    readonly api: ClientApi,
    readonly token: TokenResult,
    private readonly local: MediaStream,
    private readonly on: MeetingCallEvents,
  ) {
    const rtc = rtcConfiguration(token);
    const participant = token.participant_uuid;
    this.media = new MediaSession(
      { get: (path) => api.participantGet(participant, path), post: (path, body) => api.participantPost(participant, path, body) },
      rtc,
      local,
    );
    this.media.on('failed', (reason) => void this.end(reason));
    this.pc = { getStats: () => this.media.getStats(), getConfiguration: () => ({ ...rtc }) };
    this.serviceType = token.current_service_type;
  }

  /** The participants as the event stream last gave them. */
  get participants(): ClientParticipant[] {
    return [...this.roster.participants.values()];
  }

  /** The camera and microphone this call sends (kept across a transfer). */
  get localStream(): MediaStream {
    return this.local;
  }

  /** Where this participant is now (from request_token, then from its own participant record). */
  get currentServiceType(): ServiceType | undefined {
    return this.serviceType;
  }

  sendDtmf(digits: string): Promise<boolean> {
    return this.api.dtmf(this.token.participant_uuid, digits);
  }

  sendMessage(text: string): Promise<boolean> {
    return this.api.message(text);
  }

  /**
   * Opens the event stream (consumers come over it, so it is open before the media join; the
   * device loads meanwhile), starts the token refresh, then joins the media. A media set-up that
   * fails ends the call with the reason.
   */
  async start(): Promise<void> {
    const preparing = this.media.prepare();
    preparing.catch(() => null); // reported by start() below
    await this.openEvents();
    if (this.ended) return;
    const refreshMs = (Number(this.token.expires) * 1000) / 3;
    this.refreshTimer = window.setInterval(() => void this.api.refresh().catch(() => this.end('Could not reconnect to the meeting')), refreshMs);
    try {
      await this.media.start();
    } catch (err) {
      if (!this.ended) await this.end(`Could not start media: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private openEvents(): Promise<void> {
    return new Promise((resolve, reject) => {
      const es = this.api.events();
      this.es = es;
      this.media.attach(es);
      let opened = false;
      es.onopen = () => {
        opened = true;
        resolve();
      };
      es.onerror = () => {
        if (!opened) reject(new Error('Could not open the event stream'));
      };
      const apply = (ev: RosterEvent) => {
        const { state, notices } = applyRosterEvent(this.roster, ev, this.token.participant_uuid);
        this.roster = state;
        for (const n of notices) this.on.notice?.(n);
        if (!state.syncing) this.on.participants([...state.participants.values()]);
      };
      const data = <T>(ev: Event): T => JSON.parse((ev as MessageEvent<string>).data) as T;
      /** A listener whose malformed payloads are dropped (as the Pexip client swallows them). */
      const listen = (name: string, fn: (ev: Event) => void) =>
        es.addEventListener(name, (ev) => {
          try {
            fn(ev);
          } catch {
            /* ignore a malformed event */
          }
        });
      const self = (p: ClientParticipant) => {
        if (p.uuid !== this.token.participant_uuid || !p.service_type || p.service_type === this.serviceType) return;
        this.serviceType = p.service_type;
        this.on.serviceType?.(p.service_type);
      };
      listen('participant_sync_begin', () => apply({ type: 'sync_begin' }));
      listen('participant_sync_end', () => apply({ type: 'sync_end' }));
      for (const name of ['participant_create', 'participant_update'] as const) {
        listen(name, (ev) => {
          const p = clientParticipant.parse(data(ev));
          apply({ type: name === 'participant_create' ? 'create' : 'update', participant: p });
          self(p);
        });
      }
      listen('participant_delete', (ev) => {
        apply({ type: 'delete', uuid: participantDeleteEvent.parse(data(ev)).uuid });
      });
      listen('conference_update', (ev) => {
        this.on.conference?.(conferenceStatus.parse(data(ev)));
      });
      listen('splash_screen', (ev) => {
        const s = data<Splash | null>(ev);
        this.on.splash?.(s && typeof s.screen_key === 'string' ? s : null);
      });
      listen('message_received', (ev) => {
        const m = data<ChatMessage>(ev);
        if (!m || typeof m.payload !== 'string' || m.uuid === this.token.participant_uuid) return;
        if (!(m.type ?? 'text/plain').startsWith('text/plain')) return; // application/json: not chat
        this.on.message?.(m);
      });
      listen('layout', (ev) => {
        const l = parseLayout(data<{ view?: unknown } | null>(ev)?.view);
        if (l) this.on.layout?.(l);
      });
      listen('refer', (ev) => {
        const r = referEvent.parse(data(ev));
        if (this.ended) return;
        this.transferring = true;
        this.on.refer?.({ alias: r.alias, token: r.token });
      });
      listen('disconnect', (ev) => {
        const { reason } = disconnectEvent.parse(data(ev));
        if (this.transferring) void this.finish(reason, false, false);
        else void this.end(reason, false);
      });
    });
  }

  /** Leaves: leave the media, release the token, stop everything. */
  async end(reason = 'You left the meeting', tellNode = true): Promise<void> {
    return this.finish(reason, tellNode, true);
  }

  /**
   * Hands over to the next call after a transfer (`refer`): the node is told this leg is gone,
   * the camera and microphone stay on for the new call, and no "ended" is reported.
   */
  async handOver(): Promise<void> {
    return this.finish('Transferred', true, false);
  }

  private async finish(reason: string, tellNode: boolean, final: boolean): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    window.clearInterval(this.refreshTimer);
    this.es?.close();
    await this.media.close(tellNode);
    if (tellNode) await this.api.release().catch(() => null);
    if (!final) return;
    this.local.getTracks().forEach((t) => t.stop());
    this.on.ended(reason);
  }

  releaseOnUnload(): void {
    if (!this.ended) this.api.releaseBeacon();
  }
}
