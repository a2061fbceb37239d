import { ClientApi, type ClientParticipant, type TokenResult } from '../client/ClientApi.js';

export interface MeetingCallEvents {
  participants: (list: ClientParticipant[]) => void;
  remoteStream: (stream: MediaStream) => void;
  ended: (reason: string) => void;
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

  constructor(
    private readonly api: ClientApi,
    readonly token: TokenResult,
    private readonly local: MediaStream,
    private readonly on: MeetingCallEvents,
  ) {
    this.pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', iceServers: [] });
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
      es.addEventListener('participant_sync_begin', () => this.roster.clear());
      es.addEventListener('participant_sync_end', emit);
      for (const name of ['participant_create', 'participant_update']) {
        es.addEventListener(name, (ev) => {
          const p = JSON.parse((ev as MessageEvent<string>).data) as ClientParticipant;
          this.roster.set(p.uuid, p);
          emit();
        });
      }
      es.addEventListener('participant_delete', (ev) => {
        this.roster.delete((JSON.parse((ev as MessageEvent<string>).data) as { uuid: string }).uuid);
        emit();
      });
      es.addEventListener('disconnect', (ev) => {
        const { reason } = JSON.parse((ev as MessageEvent<string>).data) as { reason: string };
        void this.end(reason, false);
      });
    });
  }

  /** Leaves: disconnect the call, release the token, stop everything. */
  async end(reason = 'You left the meeting', tellNode = true): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    window.clearInterval(this.refreshTimer);
    this.es?.close();
    if (tellNode) {
      if (this.callUuid) await this.api.disconnectCall(this.token.participant_uuid, this.callUuid).catch(() => null);
      await this.api.release().catch(() => null);
    }
    this.pc.close();
    this.local.getTracks().forEach((t) => t.stop());
    this.on.ended(reason);
  }

  releaseOnUnload(): void {
    if (!this.ended) this.api.releaseBeacon();
  }
}
