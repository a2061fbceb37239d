import type { types } from 'mediasoup';
import type { Logger } from 'pino';
import type { MixCodec } from '../audio/AudioMixerTypes.js';
import { findKeyframeRequests } from '../rtp/Rtcp.js';
import { RtpRewriter } from '../rtp/RtpRewriter.js';

/**
 * Media the node itself handles in JavaScript, through one DirectTransport per conference: taps
 * (a producer's RTP delivered to a callback) and feeds (producers whose RTP the node writes: the
 * Test Call loopback, a single-stream leg's mix and voice-switched video). Only what must be
 * touched goes through here; plain forwarding stays inside the mediasoup worker.
 */
export class DirectMedia {
  private transport: Promise<types.DirectTransport> | null = null;
  /** Feed SSRC → what to do when a receiver asks it for a keyframe (PLI/FIR). */
  private readonly keyframeWanted = new Map<number, () => void>();

  /**
   * `router` is the conference's home router; `bring` makes a producer from another of the
   * conference's routers consumable on it (a pipe).
   */
  constructor(
    private readonly router: Promise<types.Router>,
    private readonly log: Logger,
    private readonly bring: (producer: types.Producer, router: types.Router) => Promise<void> = async () => undefined,
  ) {}

  private direct(): Promise<types.DirectTransport> {
    this.transport ??= this.router.then(async (r) => {
      const t = await r.createDirectTransport({ maxMessageSize: 262_144 });
      // RTCP from the feeds' receivers: PLI (PSFB FMT 1) and FIR (FMT 4) ask for a keyframe.
      t.on('rtcp', (packet) => {
        for (const { mediaSsrc } of findKeyframeRequests(packet)) this.keyframeWanted.get(mediaSsrc)?.();
      });
      return t;
    });
    return this.transport;
  }

  /**
   * Delivers a producer's RTP (one simulcast layer: the highest) to `onRtp`. `requestKeyFrame`
   * asks the sender for one. Closing the producer closes the tap.
   */
  async tap(producer: types.Producer, onRtp: (rtp: Buffer) => void): Promise<Tap> {
    const [router, transport] = await Promise.all([this.router, this.direct()]);
    await this.bring(producer, router);
    const consumer = await transport.consume({
      producerId: producer.id,
      rtpCapabilities: router.rtpCapabilities,
      preferredLayers: { spatialLayer: 2 },
      enableRtx: false,
    });
    consumer.on('rtp', (rtp) => {
      try {
        onRtp(rtp);
      } catch (err) {
        this.log.debug({ err }, 'tap handler failed');
      }
    });
    return new Tap(consumer);
  }

  /**
   * A producer fed from JavaScript with the codec of `like` (a tap's or a consumer's parameters),
   * sending with `ssrc`. `onKeyframeRequest` is called when one of its receivers asks for a keyframe.
   */
  async feed(kind: types.MediaKind, like: types.RtpParameters, ssrc: number, appData: Record<string, unknown>, onKeyframeRequest?: () => void): Promise<Feed> {
    const transport = await this.direct();
    const codec = like.codecs.find((c) => !/\/rtx$/i.test(c.mimeType));
    if (!codec) throw new Error('no media codec to feed');
    const producer = await transport.produce({
      kind,
      rtpParameters: {
        mid: undefined,
        codecs: [codec],
        headerExtensions: like.headerExtensions?.filter((h) => /sdes:mid|abs-send-time|ssrc-audio-level|video-orientation/.test(h.uri)),
        encodings: [{ ssrc }],
        rtcp: { cname: `feed-${ssrc}`, reducedSize: true },
      },
      appData,
    });
    if (onKeyframeRequest) {
      this.keyframeWanted.set(ssrc, onKeyframeRequest);
      producer.observer.once('close', () => this.keyframeWanted.delete(ssrc));
    }
    return new Feed(producer, codec.payloadType, ssrc);
  }

  close(): void {
    void this.transport?.then((t) => t.close()).catch(() => undefined);
  }
}

/** A producer's RTP delivered to the node. */
export class Tap {
  private lastKeyframeRequest = 0;
  /** The stream's codec, lower case (`video/vp8`, `video/h264`, `audio/opus`...): read per packet, so kept. */
  readonly codec: string;

  constructor(readonly consumer: types.Consumer) {
    this.codec = consumer.rtpParameters.codecs[0]!.mimeType.toLowerCase();
  }

  get payloadType(): number {
    return this.consumer.rtpParameters.codecs[0]!.payloadType;
  }

  /** What the mixer decodes this stream with. */
  get mixCodec(): MixCodec {
    return mixCodecOf(this.consumer.rtpParameters.codecs[0]!.mimeType);
  }

  /** Asks the sender for a keyframe, at most every 300 ms. */
  requestKeyFrame(): void {
    const now = Date.now();
    if (now - this.lastKeyframeRequest < 300) return;
    this.lastKeyframeRequest = now;
    void this.consumer.requestKeyFrame().catch(() => undefined);
  }

  close(): void {
    this.consumer.close();
  }
}

/** A producer the node writes RTP into. */
export class Feed {
  /** Splices the RTP of several writers (the mix, a voice prompt) into one stream (`sendFrom`). */
  private splice: RtpRewriter | null = null;

  constructor(
    readonly producer: types.Producer,
    readonly payloadType: number,
    readonly ssrc: number,
  ) {}

  /** What the mixer encodes for this feed. */
  get mixCodec(): MixCodec {
    return mixCodecOf(this.producer.rtpParameters.codecs[0]!.mimeType);
  }

  /** The feed's codec (`video/VP8`, `video/H264`, `audio/opus`...). */
  get mimeType(): string {
    return this.producer.rtpParameters.codecs[0]!.mimeType;
  }

  send(rtp: Buffer): void {
    if (!this.producer.closed) this.producer.send(rtp);
  }

  /**
   * RTP from one of several writers taking turns on this feed (the conference's mix, a voice prompt):
   * each has its own sequence numbers and timestamps, which a receiver's jitter buffer would take for
   * a jump back or far ahead at each turn; spliced here into one continuous stream.
   */
  sendFrom(writer: string, rtp: Buffer): void {
    this.splice ??= new RtpRewriter({
      ssrc: this.ssrc,
      payloadTypes: { [this.payloadType]: this.payloadType },
      clockRate: this.producer.rtpParameters.codecs[0]!.clockRate,
      waitForKeyframe: false,
    });
    this.splice.switchTo(writer);
    const out = this.splice.rewrite(writer, rtp);
    if (out) this.send(out);
  }

  close(): void {
    this.producer.close();
  }
}

/** The mixer's name for an audio codec: G.711 µ-law or A-law, G.722, else Opus. */
export function mixCodecOf(mimeType: string): MixCodec {
  const m = mimeType.toLowerCase();
  return m === 'audio/pcmu' ? 'pcmu' : m === 'audio/pcma' ? 'pcma' : m === 'audio/g722' ? 'g722' : 'opus';
}

/**
 * A camera stream that is on and has sent: mediasoup keeps a scored stream once packets arrived,
 * so an offered but silent video m-line (an audio-only caller) does not count.
 */
export function isLiveVideo(producer: types.Producer): boolean {
  return !producer.closed && !producer.paused && producer.score.length > 0;
}
