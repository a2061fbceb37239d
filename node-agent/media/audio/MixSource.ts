import type { MixCodec } from './AudioMixerTypes.js';
import { G711Decoder } from './G711.js';
import { G722Decoder } from './G722.js';
import { JitterBuffer, type JitterPushResult } from './JitterBuffer.js';
import { OpusDecoder } from './OpusDecoder.js';
import type { RtpView } from './rtpPacket.js';

/** Frames concealed (PLC) after a source's audio stops before it counts as silent. */
const MAX_CONCEAL_FRAMES = 3;
/** Packets of another payload type in a row after which a learnt payload type is re-learnt. */
const RELEARN_PT_AFTER = 50;
/** Level reported for silence / an inactive source (RFC 6464's floor). */
export const SILENT_DBOV = -127;

export interface MixSourceTimings {
  decodes: number;
  decodeErrors: number;
  concealed: number;
  decodeMs: number;
}

/**
 * One source of the mix: its jitter buffer, its decoder (Opus, G.711 or G.722) and a small PCM queue (a packet may
 * carry more than one frame). pull() yields the next frame or reports silence. Internal to AudioMixer.
 */
export class MixSource {
  /** Monotonic number, unique within the mixer, used in listener group keys. */
  readonly serial: number;
  private readonly jitter: JitterBuffer;
  private readonly decoder: OpusDecoder | G711Decoder | G722Decoder;
  private readonly fifo: Int16Array;
  private fifoLen = 0;
  private learntPt: number | undefined;
  private otherPtRun = 0;
  private concealRun = MAX_CONCEAL_FRAMES;
  /** The last frame pulled (valid when `active`). */
  readonly frame: Int16Array;
  /** Whether the last pull() produced audio. */
  active = false;
  /** dBov of the last frame. */
  level = SILENT_DBOV;

  constructor(
    readonly id: string,
    serial: number,
    private readonly fixedPt: number | undefined,
    sampleRate: 8000 | 12000 | 16000 | 24000 | 48000,
    private readonly channels: 1 | 2,
    /** Interleaved samples in one frame (samples per channel × channels). */
    private readonly frameLen: number,
    jitterTargetPackets: number,
    jitterMaxPackets: number,
    codec: MixCodec = 'opus',
  ) {
    this.serial = serial;
    this.jitter = new JitterBuffer({ targetPackets: jitterTargetPackets, maxPackets: jitterMaxPackets });
    this.decoder =
      codec === 'opus'
        ? new OpusDecoder(sampleRate, channels)
        : codec === 'g722'
          ? new G722Decoder(sampleRate, channels)
          : new G711Decoder(codec, sampleRate, channels);
    // Room for the longest Opus packet (120 ms) plus a frame.
    this.fifo = new Int16Array((sampleRate / 1000) * 120 * channels + frameLen);
    this.frame = new Int16Array(frameLen);
  }

  /** Files one parsed packet. Returns what happened, or 'payloadType' when it is not this source's audio. */
  push(rtp: RtpView): JitterPushResult | 'payloadType' {
    const expected = this.fixedPt ?? this.learntPt;
    if (expected === undefined) {
      this.learntPt = rtp.payloadType;
    } else if (rtp.payloadType !== expected) {
      if (this.fixedPt !== undefined || ++this.otherPtRun < RELEARN_PT_AFTER) return 'payloadType';
      this.learntPt = rtp.payloadType;
    }
    this.otherPtRun = 0;
    return this.jitter.push(rtp.sequenceNumber, rtp.timestamp, rtp.ssrc, rtp.payload);
  }

  /** Fills `frame` with the next frame; sets `active` and `level`. Never throws. */
  pull(t: MixSourceTimings): void {
    const frameSamples = this.frameLen / this.channels;
    while (this.fifoLen < this.frameLen) {
      const payload = this.jitter.pop();
      if (payload === undefined) break;
      const t0 = performance.now();
      let pcm: Int16Array | null = null;
      if (payload !== null) {
        try {
          pcm = this.decoder.decode(payload);
          t.decodes++;
          this.concealRun = 0;
        } catch {
          t.decodeErrors++;
        }
      }
      if (pcm === null) pcm = this.concealOrNull(frameSamples, t);
      t.decodeMs += performance.now() - t0;
      if (pcm === null) continue;
      this.append(pcm);
    }
    if (this.fifoLen < this.frameLen) {
      // Ran dry: bridge a short gap with PLC, then fall silent.
      const t0 = performance.now();
      const pcm = this.concealOrNull(frameSamples, t);
      t.decodeMs += performance.now() - t0;
      if (pcm !== null) this.append(pcm);
    }
    if (this.fifoLen < this.frameLen) {
      this.fifoLen = 0;
      this.active = false;
      this.level = SILENT_DBOV;
      return;
    }
    this.frame.set(this.fifo.subarray(0, this.frameLen));
    this.fifo.copyWithin(0, this.frameLen, this.fifoLen);
    this.fifoLen -= this.frameLen;
    this.active = true;
    this.level = dbov(this.frame);
  }

  /** After the mixer skipped frames: bring the jitter buffer back to its target delay. */
  trim(packets: number): void {
    this.jitter.trimTo(packets);
  }

  close(): void {
    this.decoder.close();
    this.jitter.reset();
  }

  private concealOrNull(frameSamples: number, t: MixSourceTimings): Int16Array | null {
    if (this.concealRun >= MAX_CONCEAL_FRAMES) return null;
    this.concealRun++;
    try {
      const pcm = this.decoder.conceal(frameSamples);
      t.concealed++;
      return pcm;
    } catch {
      t.decodeErrors++;
      return null;
    }
  }

  private append(pcm: Int16Array): void {
    const room = this.fifo.length - this.fifoLen;
    const n = Math.min(room, pcm.length);
    this.fifo.set(n === pcm.length ? pcm : pcm.subarray(0, n), this.fifoLen);
    this.fifoLen += n;
  }
}

/** RMS level of a frame in dBov (0 = full-scale square wave), floored at -127. */
export function dbov(pcm: Int16Array): number {
  let sum = 0;
  for (let i = 0; i < pcm.length; i++) {
    const s = pcm[i]!;
    sum += s * s;
  }
  if (sum === 0) return SILENT_DBOV;
  const db = 10 * Math.log10(sum / pcm.length / (32768 * 32768));
  return Math.max(SILENT_DBOV, Math.min(0, db));
}
