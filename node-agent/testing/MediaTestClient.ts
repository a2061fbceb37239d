/**
 * A real WebRTC client for media tests: a werift RTCPeerConnection over loopback that offers one
 * sendrecv audio and one sendrecv video m-line (as a Pexip-style client does), publishes synthetic
 * Opus/VP8 RTP whose payload names its sender, and records every RTP packet it receives. The
 * SFU rewrites SSRC, sequence numbers and timestamps, so the payload marker is what tells us whose
 * media arrived. Used by the node-agent/media tests only.
 */
import { toneLevelDb } from './toneLevel.js';
import {
  MediaStreamTrack,
  PictureLossIndication,
  RtcpPayloadSpecificFeedback,
  RTCPeerConnection,
  RTCRtpTransceiver,
  RtpHeader,
  RtpPacket,
  useNACK,
  useOPUS,
  usePLI,
  useAbsSendTime,
  useREMB,
  useSdesMid,
  useVP8,
} from 'werift';
import type { CallLeg, MediaKind } from '../media/MediaTypes.js';
import { OpusDecoder } from '../media/audio/OpusDecoder.js';
import { OpusEncoder } from '../media/audio/OpusEncoder.js';

/** werift peer connection settings for a loopback test peer (also the werift SFU's legs in bench/support/werift). */
export function weriftPeerConfig(address: string, portRange: [number, number]): ConstructorParameters<typeof RTCPeerConnection>[0] {
  return {
    iceServers: [],
    bundlePolicy: 'max-bundle',
    iceUseIpv6: false,
    icePortRange: portRange,
    iceAdditionalHostAddresses: [address],
    iceInterfaceAddresses: { udp4: address },
    codecs: {
      audio: [useOPUS()],
      // No transport-cc: werift's TWCC feedback starves Chrome's send rate (DESIGN.md).
      video: [useVP8({ rtcpFeedback: [useNACK(), usePLI(), useREMB()] })],
    },
    headerExtensions: { audio: [useSdesMid(), useAbsSendTime()], video: [useSdesMid(), useAbsSendTime()] },
  };
}

const MARKER = 'OMTEST|';

/** One RTP packet a client received, decoded from the sender's payload marker. */
export interface ReceivedPacket {
  kind: MediaKind;
  /** The participant whose client sent it. */
  from: string;
  /** The sender's packet counter for that kind. */
  n: number;
  /** When the sender wrote it, and when this client received it (Date.now()). */
  sentAt: number;
  receivedAt: number;
}

export class MediaTestClient {
  readonly received: ReceivedPacket[] = [];
  /** Keyframe requests (PLI) the SFU sent to this client's video publisher. */
  pliCount = 0;
  private readonly pc: RTCPeerConnection;
  private readonly tracks: Record<MediaKind, MediaStreamTrack> = {
    audio: new MediaStreamTrack({ kind: 'audio' }),
    video: new MediaStreamTrack({ kind: 'video' }),
  };
  private readonly sent: Record<MediaKind, number> = { audio: 0, video: 0 };
  private sendTimer: NodeJS.Timeout | undefined;
  private videoTransceiver: RTCRtpTransceiver | undefined;
  private receivedVideoSsrc: number | undefined;
  private readonly ssrcBase = Math.floor(Math.random() * 0x7fff_0000);

  /** With `toneHz`, audio is real Opus of a sine at that frequency and received audio is decoded. */
  private readonly encoder: OpusEncoder | null;
  private readonly decoder: OpusDecoder | null;
  /** Decoded received audio (mono, 48 kHz), newest last, about the last 2 s. */
  private heard: Int16Array[] = [];
  private phase = 0;

  constructor(
    readonly name: string,
    portRange: [number, number],
    /** `address`: the local address to use (default 127.0.0.1). */
    private readonly opts: { toneHz?: number; address?: string } = {},
  ) {
    this.encoder = opts.toneHz ? new OpusEncoder({ sampleRate: 48_000, channels: 1, bitrate: 32_000, complexity: 5 }) : null;
    this.decoder = opts.toneHz ? new OpusDecoder(48_000, 1) : null;
    // Chrome's payload types (Opus 111, VP8 96), as the node's routers use (routerCodecs.ts).
    this.pc = new RTCPeerConnection({
      ...weriftPeerConfig(opts.address ?? '127.0.0.1', portRange),
      codecs: {
        audio: [useOPUS({ payloadType: 111 })],
        video: [useVP8({ payloadType: 96, rtcpFeedback: [useNACK(), usePLI(), useREMB()] })],
      },
    });
    this.pc.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((rtp) => this.record(track.kind as MediaKind, rtp));
    });
  }

  /** Joins `media` as `participantId`: createLeg, offer → negotiate → answer, wait until connected. */
  async join<L extends Pick<CallLeg, 'negotiate'> = CallLeg>(
    media: { createLeg(participantId: string): L },
    participantId = this.name,
    timeoutMs = 20_000,
  ): Promise<L> {
    const video: RTCRtpTransceiver = this.pc.addTransceiver(this.tracks.video, { direction: 'sendrecv' });
    this.pc.addTransceiver(this.tracks.audio, { direction: 'sendrecv' });
    video.sender.onPictureLossIndication.subscribe(() => this.pliCount++);
    // werift delivers a PLI to the receiver when its sender SSRC is a receive SSRC here (see
    // WeriftCallLeg): count those too.
    video.receiver.onRtcp.subscribe((packet) => {
      if (packet instanceof RtcpPayloadSpecificFeedback && packet.feedback instanceof PictureLossIndication && packet.feedback.mediaSsrc === video.sender.ssrc)
        this.pliCount++;
    });
    await this.pc.setLocalDescription(await this.pc.createOffer());
    await this.gathered();
    const leg = media.createLeg(participantId);
    const answer = await leg.negotiate(this.pc.localDescription!.sdp);
    const connected = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: not connected after ${timeoutMs} ms`)), timeoutMs);
      this.pc.connectionStateChange.subscribe((s) => {
        if (s === 'connected') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    connected.catch(() => {}); // awaited below only when not yet connected
    await this.pc.setRemoteDescription({ type: 'answer', sdp: answer });
    if (this.pc.connectionState !== 'connected') await connected;
    this.videoTransceiver = video;
    return leg;
  }

  /** Asks the SFU for a keyframe of the video this client receives (a PLI, as a decoder would). */
  async requestKeyframe(): Promise<void> {
    const t = this.videoTransceiver;
    if (!t || this.receivedVideoSsrc === undefined) throw new Error(`${this.name}: no video received yet`);
    await t.receiver.sendRtcpPLI(this.receivedVideoSsrc);
  }

  /** Sends one Opus and/or one VP8 packet every `intervalMs` until `stopSending`. */
  startSending(intervalMs = 20, kinds: MediaKind[] = ['audio', 'video']): void {
    this.stopSending();
    this.sendTimer = setInterval(() => {
      for (const kind of kinds) this.sendOne(kind);
    }, intervalMs);
  }

  stopSending(): void {
    if (this.sendTimer) clearInterval(this.sendTimer);
    this.sendTimer = undefined;
  }

  /** Packets received from `from` (of `kind`, if given) since `since` (Date.now()). */
  receivedFrom(from: string, kind?: MediaKind, since = 0): ReceivedPacket[] {
    return this.received.filter((p) => p.from === from && (!kind || p.kind === kind) && p.receivedAt >= since);
  }

  /** Resolves once `predicate` holds (polled), or rejects after `timeoutMs`. */
  async waitFor(what: string, predicate: () => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`${this.name}: timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async close(): Promise<void> {
    this.stopSending();
    this.encoder?.close();
    this.decoder?.close();
    await this.pc.close().catch(() => {});
  }

  /** Level (dB relative to full scale) at `hz` in the audio received over the last `ms`. */
  toneLevelDb(hz: number, ms = 500): number {
    const want = Math.round((48_000 * ms) / 1_000);
    const parts: Int16Array[] = [];
    let have = 0;
    for (let i = this.heard.length - 1; i >= 0 && have < want; i--) {
      parts.unshift(this.heard[i]!);
      have += this.heard[i]!.length;
    }
    const samples = new Int16Array(have);
    let o = 0;
    for (const p of parts) {
      samples.set(p, o);
      o += p.length;
    }
    // Blockwise (see toneLevelDb): a frame skipped or repeated under load does not read as a quieter tone.
    return toneLevelDb({ sampleRate: 48_000, samples }, hz, 0, (have / 48_000) * 1_000);
  }

  private sendOne(kind: MediaKind): void {
    const n = this.sent[kind]++;
    if (kind === 'audio' && this.encoder) {
      const pcm = new Int16Array(960);
      const step = (2 * Math.PI * this.opts.toneHz!) / 48_000;
      for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(Math.sin((this.phase += step)) * 8_000);
      const header = new RtpHeader({ payloadType: 111, sequenceNumber: n & 0xffff, timestamp: (n * 960) >>> 0, ssrc: this.ssrcBase, marker: false });
      try {
        this.tracks.audio.writeRtp(new RtpPacket(header, this.encoder.encode(pcm, 960)));
      } catch {
        // The connection closed under us.
      }
      return;
    }
    const marker = Buffer.from(`${MARKER}${this.name}|${n}|${Date.now()}|`);
    // Opus: any bytes; VP8: payload descriptor (S=1, partition 0) then a key frame's header (frame
    // tag with P=0, start code 9d 01 2a): a voice switch waits for a key frame of its new source.
    const prefix = kind === 'video' ? Buffer.from([0x10, 0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a]) : Buffer.from([0xfc]);
    const header = new RtpHeader({
      payloadType: kind === 'video' ? 96 : 111,
      sequenceNumber: n & 0xffff,
      timestamp: (n * (kind === 'video' ? 1_800 : 960)) >>> 0,
      ssrc: this.ssrcBase + (kind === 'video' ? 1 : 0),
      marker: kind === 'video',
    });
    try {
      this.tracks[kind].writeRtp(new RtpPacket(header, Buffer.concat([prefix, marker, Buffer.alloc(100)])));
    } catch {
      // The connection closed under us: the test decides what that means.
    }
  }

  private record(kind: MediaKind, rtp: RtpPacket): void {
    if (kind === 'video') this.receivedVideoSsrc = rtp.header.ssrc;
    if (kind === 'audio' && this.decoder) {
      try {
        this.heard.push(this.decoder.decode(rtp.payload));
        if (this.heard.length > 100) this.heard.shift();
      } catch {
        // Not Opus (a test sending markers): nothing to hear.
      }
    }
    const text = rtp.payload.toString('latin1');
    const at = text.indexOf(MARKER);
    if (at < 0) return;
    const [from, n, sentAt] = text.slice(at + MARKER.length).split('|');
    if (from === undefined || n === undefined || sentAt === undefined) return;
    this.received.push({ kind, from, n: Number(n), sentAt: Number(sentAt), receivedAt: Date.now() });
  }

  private gathered(): Promise<void> {
    if (this.pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, 3_000);
      this.pc.iceGatheringStateChange.subscribe((s) => {
        if (s === 'complete') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }
}
