import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { MediaStreamTrack, PictureLossIndication, RtcpPayloadSpecificFeedback, RTCPeerConnection, RTCRtpTransceiver, RtpPacket } from 'werift';
import type { Logger } from 'pino';
import type { CallLeg, CallLegEvents, CallLegStats, MediaEngineOptions, MediaKind } from '../../../node-agent/media/MediaTypes.js';
import { weriftPeerConfig } from '../../../node-agent/testing/MediaTestClient.js';

export interface LegHooks {
  /** The leg's first RTP packet of `kind` arrived: it now publishes that kind. */
  onPublish(kind: MediaKind, track: MediaStreamTrack, requestKeyframe: () => void): void;
  /** The client asked for a keyframe (PLI) on the video it receives. */
  onKeyframeWanted(): void;
}

/**
 * One participant's WebRTC leg on werift: the first audio and video m-lines of the client's offer
 * are answered sendrecv; what the client sends is published through `hooks.onPublish`, and what
 * it receives is written by the conference through `forward`.
 */
export class WeriftCallLeg extends EventEmitter<CallLegEvents> implements CallLeg {
  readonly id = randomUUID();
  private readonly pc: RTCPeerConnection;
  private readonly out: Record<MediaKind, MediaStreamTrack> = {
    audio: new MediaStreamTrack({ kind: 'audio' }),
    video: new MediaStreamTrack({ kind: 'video' }),
  };
  private readonly counters: CallLegStats = { packetsIn: { audio: 0, video: 0 }, packetsOut: { audio: 0, video: 0 } };
  private readonly wired = new Set<RTCRtpTransceiver>();
  private closed = false;

  constructor(
    readonly participantId: string,
    opts: MediaEngineOptions,
    private readonly log: Logger,
    private readonly hooks: LegHooks,
  ) {
    super();
    this.pc = new RTCPeerConnection(weriftPeerConfig(opts.announcedAddress, opts.portRange));
    this.pc.connectionStateChange.subscribe((state) => {
      if (state === 'connected') this.emit('connected');
      if (state === 'failed') this.close('Ice failure');
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  async negotiate(offerSdp: string): Promise<string> {
    if (this.closed) throw new Error('call is closed');
    await this.pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
    // The first audio and the first video m-line are "main"; others (slides) stay inactive for now.
    const seen = new Set<MediaKind>();
    for (const t of this.pc.getTransceivers()) {
      const kind = t.kind as MediaKind | 'application';
      if (kind !== 'audio' && kind !== 'video') continue;
      if (seen.has(kind)) {
        t.setDirection('inactive');
        continue;
      }
      seen.add(kind);
      // werift answers with this direction ANDed with what the offer allows.
      t.setDirection('sendrecv');
      if (!this.wired.has(t)) this.wire(t, kind);
    }
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    await this.gathered();
    return this.pc.localDescription!.sdp;
  }

  private wire(t: RTCRtpTransceiver, kind: MediaKind): void {
    this.wired.add(t);
    void t.sender.replaceTrack(this.out[kind]).catch((err: unknown) => this.log.debug({ err }, 'replaceTrack failed'));
    if (kind === 'video') {
      t.sender.onPictureLossIndication.subscribe(() => this.hooks.onKeyframeWanted());
      // werift routes an incoming PLI by its *sender* SSRC first; a sendrecv client (Chrome, werift)
      // puts its own sending SSRC there, which is our receiver's, so the PLI lands on the receiver
      // and the sender never sees it. Catch it there when it names our sending SSRC.
      t.receiver.onRtcp.subscribe((packet) => {
        if (packet instanceof RtcpPayloadSpecificFeedback && packet.feedback instanceof PictureLossIndication && packet.feedback.mediaSsrc === t.sender.ssrc)
          this.hooks.onKeyframeWanted();
      });
    }
    // werift announces the remote track during setRemoteDescription, before we get here; the
    // receiver's track is the same object, so subscribe to it directly.
    const track = t.receiver.track;
    track.onReceiveRtp.subscribe(() => this.counters.packetsIn[kind]++);
    track.onReceiveRtp.once((rtp) => {
      const ssrc = rtp.header.ssrc;
      this.hooks.onPublish(kind, track, () => {
        if (!this.closed) void t.receiver.sendRtcpPLI(ssrc).catch(() => {});
      });
    });
  }

  private gathered(): Promise<void> {
    if (this.pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, 2_000);
      this.pc.iceGatheringStateChange.subscribe((s) => {
        if (s === 'complete') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  forward(kind: MediaKind, rtp: RtpPacket): void {
    if (this.closed) return;
    this.counters.packetsOut[kind]++;
    this.out[kind].writeRtp(rtp);
  }

  /**
   * The next packet of `kind` comes from another source: werift's sender then keeps sequence
   * numbers and timestamps continuous for the client instead of jumping to the new source's.
   */
  sourceChanged(kind: MediaKind): void {
    if (this.closed) return;
    const last = this.out[kind].header;
    this.out[kind].notifySourceChanged({ sequenceNumber: last?.sequenceNumber ?? 0, timestamp: last?.timestamp ?? 0 });
  }

  async addRemoteCandidate(candidate: string, mid: string | undefined): Promise<void> {
    if (this.closed || candidate === '') return;
    const line = candidate.startsWith('candidate:') ? candidate : `candidate:${candidate.replace(/^a=candidate:/, '')}`;
    await this.pc.addIceCandidate({ candidate: line, sdpMid: mid ?? '0' }).catch((err: unknown) => {
      this.log.debug({ err }, 'addIceCandidate failed');
    });
  }

  stats(): CallLegStats {
    return structuredClone(this.counters);
  }

  close(reason = 'Call disconnected'): void {
    if (this.closed) return;
    this.closed = true;
    // Guard werift: a rejection on a closing connection must never reach the process.
    void Promise.resolve()
      .then(() => this.pc.close())
      .catch(() => {});
    this.emit('closed', reason);
  }
}
