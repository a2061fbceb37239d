/**
 * A multi-stream client for media tests, as our meeting client is to the node (a send and a
 * receive transport, one consumer per stream it is given), made of two werift peer connections:
 * one publishes a microphone (real Opus of the client's own tone) and a camera (VP8 packets whose
 * payload names the sender, its counter and send time); the other receives every consumer,
 * offered to it as SDP. Signalling goes through `SessionSignalling`: in-process over a
 * MultiStreamSession, or over IPC from another process (a client in a network namespace).
 */
import { MediaStreamTrack, RTCPeerConnection, RtpHeader, RtpPacket, useNACK, useOPUS, usePLI, useREMB, useVP8 } from 'werift';
import { z } from 'zod';
import type { ConsumerInfo, MediaJson, MediaKind, MediaSourceKind, MultiStreamSession, TransportInfo } from '../media/MediaTypes.js';
import { OpusDecoder } from '../media/audio/OpusDecoder.js';
import { OpusEncoder } from '../media/audio/OpusEncoder.js';
import { dtlsParameters, iceCandidate, iceParameters, rtpParameters } from '../media/mediasoup/mediasoupParameters.js';
import { weriftPeerConfig } from './MediaTestClient.js';
import { answerDtls, consumerOffer, publisherAnswer, WERIFT_RTP_CAPABILITIES } from './consumerSdp.js';

/** The signalling a multi-stream client needs (a subset of the client API's media routes). */
export interface SessionSignalling {
  join(rtpCapabilities: MediaJson): Promise<{ send: TransportInfo; recv: TransportInfo }>;
  connectTransport(transportId: string, dtlsParameters: MediaJson): Promise<void>;
  produce(transportId: string, opts: { kind: MediaKind; rtpParameters: MediaJson; source: MediaSourceKind }): Promise<string>;
  resumeConsumer(consumerId: string): Promise<void>;
  /** The consumers the node has given this client so far. */
  consumers(): Promise<ConsumerInfo[]>;
}

/** Signalling straight to a session in this process. */
export function sessionSignalling(session: MultiStreamSession): SessionSignalling {
  const consumers = new Map<string, ConsumerInfo>();
  session.on('consumerAdded', (c) => consumers.set(c.consumerId, c));
  session.on('consumerRemoved', (id) => consumers.delete(id));
  return {
    join: (caps) => session.join(caps),
    connectTransport: (id, dtls) => session.connectTransport(id, dtls),
    produce: (id, opts) => session.produce(id, opts),
    resumeConsumer: (id) => session.resumeConsumer(id),
    consumers: async () => [...consumers.values()],
  };
}

const MARKER = 'OMTEST|';

/** One RTP packet received: from whom (the consumer's participant), its RTP sequence number, and for video the sender's marker. */
export interface StreamPacket {
  kind: MediaKind;
  from: string;
  seq: number;
  receivedAt: number;
  /** Video: when the sender wrote it (Date.now() on the same machine). */
  sentAt?: number;
}

/** What one receiver got from one sender over a time window. */
export interface StreamFigures {
  packets: number;
  /** Packets per second. */
  rate: number;
  /** Share of the packets in the sequence-number span that did not arrive. */
  loss: number;
  /** Video: send → receive delay p50 and p95 (ms), and RFC 3550-style jitter of that delay (ms). */
  delayP50Ms?: number;
  delayP95Ms?: number;
  jitterMs?: number;
}

export class MultiStreamTestClient {
  readonly packets: StreamPacket[] = [];
  private readonly sendPc: RTCPeerConnection;
  private recvPc: RTCPeerConnection | null = null;
  private readonly tracks: Record<MediaKind, MediaStreamTrack> = {
    audio: new MediaStreamTrack({ kind: 'audio' }),
    video: new MediaStreamTrack({ kind: 'video' }),
  };
  private readonly sent: Record<MediaKind, number> = { audio: 0, video: 0 };
  private sendTimer: NodeJS.Timeout | undefined;
  /** Receive SSRC → whose stream it is. */
  private readonly ssrcOwner = new Map<number, { from: string; kind: MediaKind }>();
  private readonly encoder: OpusEncoder;
  private readonly decoders = new Map<string, OpusDecoder>();
  /** Decoded audio per sender (mono, 48 kHz), newest last, about the last 2 s. */
  private readonly heard = new Map<string, Int16Array[]>();
  private phase = 0;
  private readonly peerConfig: ConstructorParameters<typeof RTCPeerConnection>[0];

  constructor(
    readonly name: string,
    private readonly opts: { portRange: [number, number]; toneHz: number; address?: string },
  ) {
    this.encoder = new OpusEncoder({ sampleRate: 48_000, channels: 1, bitrate: 32_000, complexity: 5 });
    // Chrome's payload types (Opus 111, VP8 96), as the node's routers use (routerCodecs.ts).
    this.peerConfig = {
      ...weriftPeerConfig(opts.address ?? '127.0.0.1', opts.portRange),
      codecs: {
        audio: [useOPUS({ payloadType: 111 })],
        video: [useVP8({ payloadType: 96, rtcpFeedback: [useNACK(), usePLI(), useREMB()] })],
      },
    };
    this.sendPc = new RTCPeerConnection(this.peerConfig);
  }

  /** Joins: transports, then the microphone and camera published on the send transport. */
  async join(sig: SessionSignalling, timeoutMs = 20_000): Promise<void> {
    this.sig = sig;
    const { send, recv } = await sig.join(json(WERIFT_RTP_CAPABILITIES));
    this.recvInfo = recv;
    this.sendPc.addTransceiver(this.tracks.audio, { direction: 'sendonly' });
    this.sendPc.addTransceiver(this.tracks.video, { direction: 'sendonly' });
    await this.sendPc.setLocalDescription(await this.sendPc.createOffer());
    await gathered(this.sendPc);
    const pub = publisherAnswer(transportInput(send), this.sendPc.localDescription!.sdp);
    await sig.connectTransport(send.id, json(pub.dtlsParameters));
    await this.sendPc.setRemoteDescription({ type: 'answer', sdp: pub.answer });
    await connected(this.sendPc, `${this.name} send`, timeoutMs);
    for (const p of pub.produce) {
      await sig.produce(send.id, { kind: p.kind, rtpParameters: json(p.rtpParameters), source: p.kind === 'audio' ? 'mic' : 'camera' });
    }
  }

  private sig: SessionSignalling | null = null;
  private recvInfo: TransportInfo | null = null;

  /**
   * Receives: waits until the node has given `count` consumers, then connects the receive
   * transport with all of them and resumes each (mediasoup's rule: consumers start paused).
   */
  async receive(count: number, timeoutMs = 20_000): Promise<ConsumerInfo[]> {
    const sig = this.sig!;
    const deadline = Date.now() + timeoutMs;
    let consumers = await sig.consumers();
    while (consumers.length < count) {
      if (Date.now() > deadline) throw new Error(`${this.name}: ${consumers.length} of ${count} consumers after ${timeoutMs} ms`);
      await sleep(100);
      consumers = await sig.consumers();
    }
    const pc = new RTCPeerConnection(this.peerConfig);
    this.recvPc = pc;
    for (const c of consumers) {
      const ssrc = rtpParameters.parse(c.rtpParameters).encodings?.[0]?.ssrc;
      if (ssrc !== undefined) this.ssrcOwner.set(ssrc, { from: c.participantId, kind: c.kind });
    }
    pc.onTrack.subscribe((track) => track.onReceiveRtp.subscribe((rtp) => this.record(rtp)));
    const offer = consumerOffer({
      ...transportInput(this.recvInfo!),
      consumers: consumers.map((c) => ({
        kind: c.kind,
        rtpParameters: rtpParameters.parse(c.rtpParameters),
        streamId: c.participantId,
        trackId: c.consumerId,
      })),
    });
    await pc.setRemoteDescription({ type: 'offer', sdp: offer });
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc);
    await sig.connectTransport(this.recvInfo!.id, json(answerDtls(pc.localDescription!.sdp)));
    await connected(pc, `${this.name} receive`, timeoutMs);
    for (const c of consumers) await sig.resumeConsumer(c.consumerId);
    return consumers;
  }

  /** Sends one Opus and one VP8 packet every `intervalMs` until `stopSending`. */
  startSending(intervalMs = 20): void {
    this.stopSending();
    this.sendTimer = setInterval(() => {
      this.sendAudio();
      this.sendVideo();
    }, intervalMs);
  }

  stopSending(): void {
    clearInterval(this.sendTimer);
    this.sendTimer = undefined;
  }

  /**
   * Leaves out this percentage of the packets it would send (their sequence numbers are still
   * used up, so the node sees gaps it cannot repair: a lossy uplink). Spread evenly, every 100.
   */
  sendLossPercent = 0;

  private dropped(n: number): boolean {
    // 7 and 100 are coprime: n·7 mod 100 visits every residue once per 100 packets.
    return this.sendLossPercent > 0 && (n * 7) % 100 < this.sendLossPercent;
  }

  /** Packets of `kind` this client has sent so far. */
  sentCount(kind: MediaKind): number {
    return this.sent[kind];
  }

  /** Packets received from `from` (of `kind`) since `since`. */
  receivedFrom(from: string, kind: MediaKind, since = 0): StreamPacket[] {
    return this.packets.filter((p) => p.from === from && p.kind === kind && p.receivedAt >= since);
  }

  /** Figures for the stream from `from` of `kind` between `since` and `until`. */
  figures(from: string, kind: MediaKind, since: number, until = Date.now()): StreamFigures {
    const ps = this.packets.filter((p) => p.from === from && p.kind === kind && p.receivedAt >= since && p.receivedAt < until);
    const seconds = (until - since) / 1_000;
    if (ps.length === 0) return { packets: 0, rate: 0, loss: 1 };
    // Sequence numbers unwrapped in arrival order (a window is far shorter than a wrap).
    let last = ps[0]!.seq;
    let ext = last;
    let lo = ext;
    let hi = ext;
    const seen = new Set<number>([ext]);
    for (const p of ps.slice(1)) {
      let d = p.seq - last;
      if (d < -0x8000) d += 0x10000;
      else if (d > 0x8000) d -= 0x10000;
      ext += d;
      last = p.seq;
      seen.add(ext);
      lo = Math.min(lo, ext);
      hi = Math.max(hi, ext);
    }
    const out: StreamFigures = { packets: ps.length, rate: ps.length / seconds, loss: 1 - seen.size / (hi - lo + 1) };
    const delays = ps.flatMap((p) => (p.sentAt === undefined ? [] : [p.receivedAt - p.sentAt]));
    if (delays.length > 0) {
      const sorted = [...delays].sort((a, b) => a - b);
      out.delayP50Ms = sorted[Math.floor(sorted.length * 0.5)]!;
      out.delayP95Ms = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))]!;
      let j = 0;
      for (let i = 1; i < delays.length; i++) j += (Math.abs(delays[i]! - delays[i - 1]!) - j) / 16;
      out.jitterMs = j;
    }
    return out;
  }

  /** Level (dBFS) at `hz` in the audio received from `from` over the last `ms`. */
  toneLevelDb(from: string, hz: number, ms = 500): number {
    const heard = this.heard.get(from) ?? [];
    const want = Math.round((48_000 * ms) / 1_000);
    const parts: Int16Array[] = [];
    let have = 0;
    for (let i = heard.length - 1; i >= 0 && have < want; i--) {
      parts.unshift(heard[i]!);
      have += heard[i]!.length;
    }
    if (have === 0) return -Infinity;
    // Goertzel: the power of one frequency bin.
    const coeff = 2 * Math.cos((2 * Math.PI * hz) / 48_000);
    let s1 = 0;
    let s2 = 0;
    for (const p of parts) {
      for (const v of p) {
        const s0 = v / 32_768 + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
      }
    }
    const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    return 20 * Math.log10((2 * Math.sqrt(Math.max(power, 0))) / have + 1e-12);
  }

  /** Resolves once `predicate` holds (polled), or rejects after `timeoutMs`. */
  async waitFor(what: string, predicate: () => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`${this.name}: timed out waiting for ${what}`);
      await sleep(50);
    }
  }

  async close(): Promise<void> {
    this.stopSending();
    this.encoder.close();
    for (const d of this.decoders.values()) d.close();
    await Promise.all([this.sendPc.close().catch(() => {}), this.recvPc?.close().catch(() => {})]);
  }

  private sendAudio(): void {
    const n = this.sent.audio++;
    const pcm = new Int16Array(960);
    const step = (2 * Math.PI * this.opts.toneHz) / 48_000;
    for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(Math.sin((this.phase += step)) * 8_000);
    const header = new RtpHeader({ payloadType: 111, sequenceNumber: n & 0xffff, timestamp: (n * 960) >>> 0, ssrc: 1, marker: false });
    if (this.dropped(n)) return;
    this.write('audio', new RtpPacket(header, this.encoder.encode(pcm, 960)));
  }

  private sendVideo(): void {
    const n = this.sent.video++;
    // VP8 payload descriptor (S=1, partition 0) then a key frame's header (P=0, start code 9d 01 2a).
    const prefix = Buffer.from([0x10, 0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a]);
    const marker = Buffer.from(`${MARKER}${this.name}|${n}|${Date.now()}|`);
    const header = new RtpHeader({ payloadType: 96, sequenceNumber: n & 0xffff, timestamp: (n * 1_800) >>> 0, ssrc: 2, marker: true });
    if (this.dropped(n)) return;
    this.write('video', new RtpPacket(header, Buffer.concat([prefix, marker, Buffer.alloc(400)])));
  }

  private write(kind: MediaKind, packet: RtpPacket): void {
    try {
      this.tracks[kind].writeRtp(packet);
    } catch {
      // The connection closed under us: the test decides what that means.
    }
  }

  private record(rtp: RtpPacket): void {
    const owner = this.ssrcOwner.get(rtp.header.ssrc);
    if (!owner) return;
    const packet: StreamPacket = { kind: owner.kind, from: owner.from, seq: rtp.header.sequenceNumber, receivedAt: Date.now() };
    if (owner.kind === 'audio') {
      let decoder = this.decoders.get(owner.from);
      if (!decoder) this.decoders.set(owner.from, (decoder = new OpusDecoder(48_000, 1)));
      const heard = this.heard.get(owner.from) ?? [];
      this.heard.set(owner.from, heard);
      try {
        heard.push(decoder.decode(rtp.payload));
        if (heard.length > 100) heard.shift();
      } catch {
        // Not Opus: nothing to hear.
      }
    } else {
      const text = rtp.payload.toString('latin1');
      const at = text.indexOf(MARKER);
      if (at >= 0) packet.sentAt = Number(text.slice(at + MARKER.length).split('|')[2]);
    }
    this.packets.push(packet);
  }
}

/** mediasoup's parameters as the client API carries them (plain JSON objects). */
function json(value: object): MediaJson {
  return { ...value };
}

function transportInput(t: TransportInfo) {
  return {
    iceParameters: iceParameters.parse(t.iceParameters),
    iceCandidates: z.array(iceCandidate).parse(t.iceCandidates),
    dtlsParameters: dtlsParameters.parse(t.dtlsParameters),
  };
}

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

function gathered(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 3_000);
    pc.iceGatheringStateChange.subscribe((s) => {
      if (s === 'complete') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

function connected(pc: RTCPeerConnection, what: string, timeoutMs: number): Promise<void> {
  if (pc.connectionState === 'connected') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: not connected after ${timeoutMs} ms`)), timeoutMs);
    pc.connectionStateChange.subscribe((s) => {
      if (s === 'connected') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}
