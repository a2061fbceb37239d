import { ClientApi, type ChatMessage, type ClientParticipant, type ServiceType, type TokenResult } from '../client/ClientApi.js';

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
  remoteStream: (stream: MediaStream) => void;
  ended: (reason: string) => void;
  splash?: (splash: Splash | null) => void;
  /** The node transfers this participant (Virtual Reception → VMR): re-join `alias` with the one-time `token`. */
  refer?: (refer: { alias: string; token: string }) => void;
  message?: (message: ChatMessage) => void;
  /** Where this participant is now, e.g. `waiting_room` → `conference` once a Host joins. */
  serviceType?: (type: ServiceType) => void;
}

/** The RTCPeerConnection configuration the token asks for (client-api-v2.md §1.2). */
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
 * One joined participant: the event stream, the WebRTC call (client offers, node answers,
 * trickle ICE both ways as the Pexip client does) and the token refresh loop.
 */
export class MeetingCall {
  readonly pc: RTCPeerConnection;
  private es: EventSource | null = null;
  private callUuid: string | null = null;
  private pendingCandidates: RTCIceCandidate[] = [];
  private refreshTimer: number | undefined;
  private readonly roster = new Map<string, ClientParticipant>();
  private readonly remote = new MediaStream();
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
    this.pc = new RTCPeerConnection(rtcConfiguration(token));
    this.serviceType = token.current_service_type;
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

  async start(): Promise<void> {
    const audio = this.local.getAudioTracks()[0];
    const video = this.local.getVideoTracks()[0];
    this.pc.addTransceiver(audio ?? 'audio', { direction: audio ? 'sendrecv' : 'recvonly', streams: [this.local] });
    this.pc.addTransceiver(video ?? 'video', { direction: video ? 'sendrecv' : 'recvonly', streams: [this.local] });
    this.pc.addTransceiver('video', { direction: 'inactive' }); // presentation (slides), unused for now
    this.pc.ontrack = (e) => {
      this.remote.getTracks().filter((t) => t.kind === e.track.kind).forEach((t) => this.remote.removeTrack(t));
      this.remote.addTrack(e.track);
      this.on.remoteStream(this.remote);
    };
    this.pc.onicecandidate = (e) => {
      if (!e.candidate) return;
      if (this.callUuid) this.enqueue(() => this.sendCandidate(e.candidate!));
      else this.pendingCandidates.push(e.candidate);
    };
    this.pc.onconnectionstatechange = () => {
      if (this.pc.connectionState === 'failed') void this.end('WebRTC connection failed');
    };

    // The event stream must be open before the call (as the Pexip client does); the offer is
    // prepared meanwhile.
    await Promise.all([this.openEvents(), this.pc.setLocalDescription()]);
    const refreshMs = (Number(this.token.expires) * 1000) / 3;
    this.refreshTimer = window.setInterval(() => void this.api.refresh().catch(() => this.end('Could not reconnect to the meeting')), refreshMs);

    const answer = await this.api.call(this.token.participant_uuid, this.pc.localDescription!.sdp);
    this.callUuid = answer.call_uuid;
    // Same order on the wire as the Pexip client: buffered candidates, then ack; the answer is
    // applied at once rather than after those round trips.
    for (const c of this.pendingCandidates.splice(0)) this.enqueue(() => this.sendCandidate(c));
    this.enqueue(() => this.api.ack(this.token.participant_uuid, answer.call_uuid));
    await this.pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
  }

  /** One request at a time, in order (candidates and ack), like the Pexip client's queue. */
  private queue: Promise<unknown> = Promise.resolve();
  private enqueue(job: () => Promise<unknown>): void {
    this.queue = this.queue.then(job).catch(() => null);
  }

  private sendCandidate(c: RTCIceCandidate): Promise<unknown> {
    return this.api.newCandidate(this.token.participant_uuid, this.callUuid!, c.candidate, c.sdpMid ?? '0').catch(() => null);
  }

  private openEvents(): Promise<void> {
    return new Promise((resolve, reject) => {
      const es = this.api.events();
      this.es = es;
      let opened = false;
      es.onopen = () => {
        opened = true;
        resolve();
      };
      es.onerror = () => {
        if (!opened) reject(new Error('Could not open the event stream'));
      };
      const emit = () => this.on.participants([...this.roster.values()]);
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
      es.addEventListener('participant_sync_begin', () => this.roster.clear());
      es.addEventListener('participant_sync_end', emit);
      for (const name of ['participant_create', 'participant_update']) {
        es.addEventListener(name, (ev) => {
          const p = data<ClientParticipant>(ev);
          this.roster.set(p.uuid, p);
          self(p);
          emit();
        });
      }
      es.addEventListener('participant_delete', (ev) => {
        this.roster.delete((JSON.parse((ev as MessageEvent<string>).data) as { uuid: string }).uuid);
        emit();
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
      listen('refer', (ev) => {
        const r = data<{ alias?: string; token?: string } | null>(ev);
        if (!r || typeof r.alias !== 'string' || typeof r.token !== 'string' || this.ended) return;
        this.transferring = true;
        this.on.refer?.({ alias: r.alias, token: r.token });
      });
      es.addEventListener('disconnect', (ev) => {
        const { reason } = JSON.parse((ev as MessageEvent<string>).data) as { reason: string };
        if (this.transferring) void this.finish(reason, false, false);
        else void this.end(reason, false);
      });
    });
  }

  /** Leaves: disconnect the call, release the token, stop everything. */
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
    if (tellNode) {
      if (this.callUuid) await this.api.disconnectCall(this.token.participant_uuid, this.callUuid).catch(() => null);
      await this.api.release().catch(() => null);
    }
    this.pc.close();
    if (!final) return;
    this.local.getTracks().forEach((t) => t.stop());
    this.on.ended(reason);
  }

  releaseOnUnload(): void {
    if (!this.ended) this.api.releaseBeacon();
  }
}
