import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import {
  MediaStreamTrack,
  RTCPeerConnection,
  RTCRtpTransceiver,
  RtpPacket,
  useAbsSendTime,
  useNACK,
  useOPUS,
  usePLI,
  useREMB,
  useSdesMid,
  useVP8,
} from 'werift';
import type { Logger } from 'pino';
import type { CallLeg, CallLegEvents, CallLegStats, ConferenceMedia, MediaEngineOptions, MediaKind, MediaParticipantState } from './MediaTypes.js';

const KINDS: MediaKind[] = ['audio', 'video'];
const PLI_MIN_INTERVAL_MS = 300;
/** After a leg connects, its sources are asked for keyframes at these delays (a PLI sent before
 * DTLS is up, or answered before the sender runs, is lost). */
const KEYFRAME_RETRIES_MS = [0, 400, 1_200, 3_000];

/** A participant's incoming media, as the forwarding logic sees it. */
interface Publisher {
  participantId: string;
  joinedAt: number;
  requestKeyframe: () => void;
  lastPli: number;
}

/**
 * Single-stream forwarding SFU on werift: each participant receives one audio and one video
 * stream (the "main" m-lines of a Pexip-style offer), taken from the other participant it is
 * currently watching. With two participants that is exactly "each sees and hears the other";
 * with more it is voice switching without audio mixing yet (see README: known limits).
 */
export class WeriftConferenceMedia implements ConferenceMedia {
  private readonly legs = new Map<string, WeriftCallLeg>();
  /** participantId → kind → publisher of that kind. */
  private readonly publishers = new Map<string, Partial<Record<MediaKind, Publisher>>>();

  constructor(
    private readonly opts: MediaEngineOptions,
    private readonly log: Logger,
  ) {}

  createLeg(participantId: string): CallLeg {
    // A new call from the same participant (e.g. reconnect) replaces the old leg.
    this.legs.get(participantId)?.close('Replaced by a new call');
    const leg = new WeriftCallLeg(participantId, this.opts, this.log, {
      onPublish: (kind, track, requestKeyframe) => this.publish(participantId, kind, track, requestKeyframe),
      onKeyframeWanted: () => this.keyframeFor(participantId),
    });
    this.legs.set(participantId, leg);
    leg.on('connected', () => {
      for (const ms of KEYFRAME_RETRIES_MS) setTimeout(() => this.legs.get(participantId) === leg && this.keyframeFor(participantId), ms).unref();
    });
    leg.on('closed', () => {
      if (this.legs.get(participantId) === leg) this.removeParticipant(participantId);
    });
    return leg;
  }

  setParticipant(_participantId: string, _state: MediaParticipantState): void {
    // TODO(helper C): roles, hold and modes.
  }

  removeParticipant(participantId: string): void {
    const leg = this.legs.get(participantId);
    this.legs.delete(participantId);
    this.publishers.delete(participantId);
    leg?.close('Participant left');
    // Whoever watched this participant now watches someone else: ask that one for a keyframe.
    for (const other of this.legs.values()) this.keyframeFor(other.participantId);
  }

  close(): void {
    for (const leg of this.legs.values()) leg.close('Conference ended');
    this.legs.clear();
    this.publishers.clear();
  }

  /** Who `viewer` receives `kind` from: the earliest-joined other participant publishing it. */
  private sourceFor(viewer: string, kind: MediaKind): Publisher | undefined {
    let best: Publisher | undefined;
    for (const [pid, pubs] of this.publishers) {
      const p = pubs[kind];
      if (pid === viewer || !p) continue;
      if (!best || p.joinedAt < best.joinedAt) best = p;
    }
    return best;
  }

  private keyframeFor(viewer: string): void {
    const src = this.sourceFor(viewer, 'video');
    if (!src) return;
    const now = Date.now();
    if (now - src.lastPli < PLI_MIN_INTERVAL_MS) return;
    src.lastPli = now;
    src.requestKeyframe();
  }

  private publish(participantId: string, kind: MediaKind, track: MediaStreamTrack, requestKeyframe: () => void): void {
    const pubs = this.publishers.get(participantId) ?? {};
    const pub: Publisher = { participantId, joinedAt: Date.now(), requestKeyframe, lastPli: 0 };
    pubs[kind] = pub;
    this.publishers.set(participantId, pubs);
    track.onReceiveRtp.subscribe((rtp) => {
      for (const leg of this.legs.values()) {
        if (leg.participantId !== participantId && this.sourceFor(leg.participantId, kind) === pub) leg.forward(kind, rtp);
      }
    });
    if (kind === 'video') for (const leg of this.legs.values()) if (leg.participantId !== participantId) this.keyframeFor(leg.participantId);
  }
}

interface LegHooks {
  onPublish(kind: MediaKind, track: MediaStreamTrack, requestKeyframe: () => void): void;
  onKeyframeWanted(): void;
}

class WeriftCallLeg extends EventEmitter<CallLegEvents> implements CallLeg {
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
    this.pc = new RTCPeerConnection({
      iceServers: [],
      bundlePolicy: 'max-bundle',
      iceUseIpv6: false,
      icePortRange: opts.portRange,
      iceAdditionalHostAddresses: [opts.announcedAddress],
      iceInterfaceAddresses: { udp4: opts.announcedAddress },
      codecs: {
        audio: [useOPUS()],
        // No transport-cc: werift's TWCC feedback starves Chrome's send rate (DESIGN.md).
        video: [useVP8({ rtcpFeedback: [useNACK(), usePLI(), useREMB()] })],
      },
      headerExtensions: { audio: [useSdesMid(), useAbsSendTime()], video: [useSdesMid(), useAbsSendTime()] },
    });
    this.pc.connectionStateChange.subscribe((state) => {
      if (state === 'connected') this.emit('connected');
      if (state === 'failed') this.close('Ice failure');
    });
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
    if (kind === 'video') t.sender.onPictureLossIndication.subscribe(() => this.hooks.onKeyframeWanted());
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
