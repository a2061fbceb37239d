/**
 * One continuous outgoing RTP stream made from changing sources: voice-switched video on a
 * single-stream leg (the leg sees one video stream; whose picture it carries changes with the
 * active speaker), or a delayed loopback. The output has one SSRC, payload types mapped from the
 * input ones, sequence numbers without a hole at a switch (holes inside a source are kept, so the
 * receiver still NACKs real losses) and timestamps that keep advancing across a switch by the
 * wall-clock time that passed. Header extensions, CSRCs and padding are left as they are.
 *
 * Video waits for a keyframe of the new source before it forwards anything from it (the
 * receiver could not decode the inter frames that came before); `wantsKeyframe` tells the caller
 * to ask the new source for one (PLI). Audio needs no wait (`waitForKeyframe: false`).
 * Pure: no sockets, no timers; the clock is injectable.
 */
import { isKeyframe } from './Keyframe.js';
import { parseRtpHeader, rtpPayload, seqDiff, setPayloadType, setSequenceNumber, setSsrc, setTimestamp } from './RtpPacket.js';

export { isKeyframe, h264NalTypes, parseVp8Descriptor, videoCodecName } from './Keyframe.js';
export type { VideoCodecName, Vp8Descriptor } from './Keyframe.js';

export interface RtpRewriterOptions {
  /** The output SSRC. */
  ssrc: number;
  /** Input payload type → output payload type. Packets with an unmapped payload type are dropped. */
  payloadTypes: ReadonlyMap<number, number> | Readonly<Record<number, number>>;
  /** RTP clock rate of the stream (90000 video, 48000 Opus): converts elapsed time to a timestamp step. */
  clockRate: number;
  /**
   * Input payload type → codec (mimeType such as 'video/VP8' or 'video/H264'), to recognise
   * keyframes. A payload type without a known codec cannot be inspected and starts a source at
   * once, keyframe or not.
   */
  codecs?: ReadonlyMap<number, string> | Readonly<Record<number, string>>;
  /** Wait for a keyframe after a switch (default: true when `codecs` is given, else false). */
  waitForKeyframe?: boolean;
  /** Smallest timestamp step at a switch (default: one 30 fps frame for video, 20 ms for audio). */
  minTimestampStep?: number;
  /** Largest timestamp step at a switch (default: 10 s worth). */
  maxTimestampStep?: number;
  /** First output sequence number and timestamp (default: random, RFC 3550 §5.1). */
  initialSequenceNumber?: number;
  initialTimestamp?: number;
  /** Wall clock in ms (default Date.now); injectable for tests. */
  now?: () => number;
  /** Called when the rewriter starts waiting for a keyframe of `sourceKey` (send a PLI). */
  onKeyframeNeeded?: (sourceKey: string) => void;
}

export type RtpDropReason = 'malformed' | 'notSelected' | 'unmappedPayloadType' | 'waitingForKeyframe' | 'late';

export interface RtpRewriterStats {
  forwarded: number;
  switches: number;
  dropped: Record<RtpDropReason, number>;
}

/** The splice of the current source stream onto the output. */
interface Splice {
  ssrc: number;
  /** Extended (unwrapped) input sequence number of the first forwarded packet, and the highest seen. */
  startExt: number;
  highestExt: number;
  /** outputExt = inputExt + seqOffset. */
  seqOffset: number;
  /** output timestamp = input timestamp + tsOffset (mod 2^32). */
  tsOffset: number;
}

export class RtpRewriter {
  readonly ssrc: number;
  private readonly ptMap: ReadonlyMap<number, number>;
  private readonly codecs: ReadonlyMap<number, string>;
  private readonly waitForKeyframe: boolean;
  private readonly clockRate: number;
  private readonly minStep: number;
  private readonly maxStep: number;
  private readonly now: () => number;
  private readonly onKeyframeNeeded: ((sourceKey: string) => void) | undefined;
  private current: string | undefined;
  private splice: Splice | undefined;
  private waiting = false;
  /** Highest output sequence number (extended), its timestamp, and when it went out. */
  private lastOutExt: number;
  private lastOutTs: number;
  private lastOutAt: number | undefined;
  private readonly counters: RtpRewriterStats = {
    forwarded: 0,
    switches: 0,
    dropped: { malformed: 0, notSelected: 0, unmappedPayloadType: 0, waitingForKeyframe: 0, late: 0 },
  };

  constructor(opts: RtpRewriterOptions) {
    if (!Number.isInteger(opts.clockRate) || opts.clockRate <= 0) throw new RangeError('clockRate must be a positive integer');
    this.ssrc = opts.ssrc >>> 0;
    this.ptMap = toMap(opts.payloadTypes);
    this.codecs = toMap(opts.codecs ?? {});
    this.waitForKeyframe = opts.waitForKeyframe ?? opts.codecs !== undefined;
    this.clockRate = opts.clockRate;
    this.minStep = Math.max(1, Math.round(opts.minTimestampStep ?? (this.waitForKeyframe ? opts.clockRate / 30 : opts.clockRate / 50)));
    this.maxStep = Math.max(this.minStep, Math.round(opts.maxTimestampStep ?? opts.clockRate * 10));
    this.now = opts.now ?? Date.now;
    this.onKeyframeNeeded = opts.onKeyframeNeeded;
    // The "previous" output packet is virtual: the first spliced packet gets exactly the initial values.
    this.lastOutExt = ((opts.initialSequenceNumber ?? randomInt(0x10000)) & 0xffff) - 1;
    this.lastOutTs = ((opts.initialTimestamp ?? randomInt(0x1_0000_0000)) >>> 0) - this.minStep;
  }

  /** The source currently forwarded (or waited for), if any. */
  get source(): string | undefined {
    return this.current;
  }

  /** True while the selected source must send a keyframe before anything is forwarded. */
  get wantsKeyframe(): boolean {
    return this.waiting && this.current !== undefined;
  }

  get stats(): RtpRewriterStats {
    return { ...this.counters, dropped: { ...this.counters.dropped } };
  }

  /** The next output sequence number (what the next forwarded packet will carry). */
  get nextSequenceNumber(): number {
    return (this.lastOutExt + 1) & 0xffff;
  }

  /**
   * Selects the source to forward (undefined: forward nothing). Returns whether it changed.
   * The new source starts at its next keyframe (video) or its next packet (audio).
   */
  switchTo(sourceKey: string | undefined): boolean {
    if (sourceKey === this.current) return false;
    this.current = sourceKey;
    this.splice = undefined;
    this.waiting = this.waitForKeyframe;
    if (sourceKey !== undefined) {
      this.counters.switches++;
      if (this.waiting) this.onKeyframeNeeded?.(sourceKey);
    }
    return true;
  }

  /**
   * Rewrites one RTP packet of `sourceKey`: a new Buffer for the output stream, or undefined when
   * the packet is dropped (not the selected source, malformed, unmapped payload type, before the
   * keyframe, or older than the switch point). The input buffer is not modified.
   */
  rewrite(sourceKey: string, packet: Buffer): Buffer | undefined {
    const h = parseRtpHeader(packet);
    if (!h) return this.drop('malformed');
    if (sourceKey !== this.current) return this.drop('notSelected');
    const outPt = this.ptMap.get(h.payloadType);
    if (outPt === undefined) return this.drop('unmappedPayloadType');

    let s = this.splice;
    if (s && s.ssrc !== h.ssrc) {
      // Same source, new SSRC (its sender restarted): new sequence and timestamp spaces.
      s = this.splice = undefined;
      if (this.waitForKeyframe && !this.waiting) {
        this.waiting = true;
        this.onKeyframeNeeded?.(sourceKey);
      }
    }
    let inExt: number;
    if (!s) {
      if (this.waiting) {
        const codec = this.codecs.get(h.payloadType);
        if (codec !== undefined && !isKeyframe(codec, rtpPayload(packet, h))) return this.drop('waitingForKeyframe');
      }
      this.waiting = false;
      inExt = h.sequenceNumber;
      const at = this.now();
      const elapsed = this.lastOutAt === undefined ? 0 : Math.max(0, at - this.lastOutAt);
      const step = Math.min(this.maxStep, Math.max(this.minStep, Math.round((elapsed * this.clockRate) / 1000)));
      s = this.splice = {
        ssrc: h.ssrc,
        startExt: inExt,
        highestExt: inExt,
        seqOffset: this.lastOutExt + 1 - inExt,
        tsOffset: (this.lastOutTs + step - h.timestamp) >>> 0,
      };
    } else {
      inExt = s.highestExt + seqDiff(h.sequenceNumber, s.highestExt & 0xffff);
      if (inExt < s.startExt) return this.drop('late');
      if (inExt > s.highestExt) s.highestExt = inExt;
    }

    const outExt = inExt + s.seqOffset;
    const outTs = (h.timestamp + s.tsOffset) >>> 0;
    if (outExt > this.lastOutExt) {
      this.lastOutExt = outExt;
      this.lastOutTs = outTs;
      this.lastOutAt = this.now();
    }
    const out = Buffer.from(packet);
    setSsrc(out, this.ssrc);
    setPayloadType(out, outPt);
    setSequenceNumber(out, outExt);
    setTimestamp(out, outTs);
    this.counters.forwarded++;
    return out;
  }

  private drop(reason: RtpDropReason): undefined {
    this.counters.dropped[reason]++;
    return undefined;
  }
}

function toMap<V>(m: ReadonlyMap<number, V> | Readonly<Record<number, V>>): ReadonlyMap<number, V> {
  if (m instanceof Map) return m;
  return new Map(Object.entries(m as Record<string, V>).map(([k, v]) => [Number(k), v] as const));
}

function randomInt(bound: number): number {
  return Math.floor(Math.random() * bound);
}
