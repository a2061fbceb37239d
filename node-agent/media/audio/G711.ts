/**
 * G.711 µ-law (PCMU) and A-law (PCMA) for SIP phones that offer nothing else: decoded to the
 * mixer's rate and encoded from it. Written here rather than taken from npm: the codec is a table
 * per direction (ITU-T G.711, as in Sun's reference g711.c), and the npm packages found either
 * decode only or carry a whole audio framework; the rate change is RateConverter's.
 */

import { Downsampler, Upsampler } from './RateConverter.js';

export type G711Law = 'pcmu' | 'pcma';

/** G.711's sampling rate (RTP clock 8000, RFC 3551). */
export const G711_RATE = 8_000;

const ULAW_DECODE = new Int16Array(256);
const ALAW_DECODE = new Int16Array(256);
for (let i = 0; i < 256; i++) {
  const u = ~i & 0xff;
  let t = ((u & 0x0f) << 3) + 0x84;
  t <<= (u & 0x70) >> 4;
  ULAW_DECODE[i] = u & 0x80 ? 0x84 - t : t - 0x84;
  const a = i ^ 0x55;
  let s = (a & 0x0f) << 4;
  const seg = (a & 0x70) >> 4;
  if (seg === 0) s += 8;
  else if (seg === 1) s += 0x108;
  else s = (s + 0x108) << (seg - 1);
  ALAW_DECODE[i] = a & 0x80 ? s : -s;
}

const SEG_UEND = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff];
const SEG_AEND = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];
const segment = (v: number, ends: number[]) => {
  for (let i = 0; i < ends.length; i++) if (v <= ends[i]!) return i;
  return ends.length;
};

export function linearToUlaw(sample: number): number {
  let v = sample >> 2;
  let mask = 0xff;
  if (v < 0) {
    v = -v;
    mask = 0x7f;
  }
  if (v > 8159) v = 8159;
  v += 0x21;
  const seg = segment(v, SEG_UEND);
  if (seg >= 8) return 0x7f ^ mask;
  return ((seg << 4) | ((v >> (seg + 1)) & 0x0f)) ^ mask;
}

export function linearToAlaw(sample: number): number {
  let v = sample >> 3;
  let mask = 0xd5;
  if (v < 0) {
    mask = 0x55;
    v = -v - 1;
  }
  const seg = segment(v, SEG_AEND);
  if (seg >= 8) return 0x7f ^ mask;
  const a = (seg << 4) | ((seg < 2 ? v >> 1 : v >> seg) & 0x0f);
  return a ^ mask;
}

export const ulawToLinear = (byte: number): number => ULAW_DECODE[byte & 0xff]!;
export const alawToLinear = (byte: number): number => ALAW_DECODE[byte & 0xff]!;

/** G.711 carries up to 4 kHz: the low-pass edge of its rate change. */
const converter = (mixerRate: number) => ({ codecRate: G711_RATE, mixerRate, cutoffHz: 3_600, codecName: 'G.711', tapsPerPhase: 8 });

/** One source's G.711 packets to interleaved PCM at the mixer's rate and channels. */
export class G711Decoder {
  private readonly up: Upsampler;

  constructor(
    private readonly law: G711Law,
    readonly sampleRate: number,
    readonly channels: 1 | 2,
  ) {
    this.up = new Upsampler(converter(sampleRate), channels);
  }

  /** PCM of one packet (any number of 8-kHz samples), a new array. */
  decode(payload: Uint8Array): Int16Array {
    if (payload.length === 0 || payload.length > 1_600) throw new Error('bad G.711 payload size');
    const table = this.law === 'pcmu' ? ULAW_DECODE : ALAW_DECODE;
    const narrow = new Float64Array(payload.length);
    for (let i = 0; i < payload.length; i++) narrow[i] = table[payload[i]!]!;
    return this.up.widen(narrow);
  }

  /** G.711 has no concealment: silence for the gap (the mixer stops after a few frames). */
  conceal(samples: number): Int16Array {
    this.up.reset();
    return new Int16Array(samples * this.channels);
  }

  close(): void {}
}

/** Encodes interleaved PCM at the mixer's rate to G.711 at 8 kHz (low-pass, then every F-th sample). */
export class G711Encoder {
  private readonly down: Downsampler;

  constructor(
    private readonly law: G711Law,
    readonly sampleRate: number,
    readonly channels: 1 | 2,
  ) {
    this.down = new Downsampler(converter(sampleRate), channels);
  }

  /** `pcm`: `samplesPerChannel` frames, interleaved. */
  encode(pcm: Int16Array, samplesPerChannel: number): Buffer {
    const narrow = this.down.narrow(pcm, samplesPerChannel);
    const encode = this.law === 'pcmu' ? linearToUlaw : linearToAlaw;
    const out = Buffer.allocUnsafe(narrow.length);
    for (let j = 0; j < narrow.length; j++) out[j] = encode(narrow[j]!);
    return out;
  }

  close(): void {}

  /** The payload of a silent frame (digital silence encodes to one constant byte). */
  silence(samplesPerChannel: number): Buffer {
    return Buffer.alloc(Math.floor(samplesPerChannel / this.down.factor), this.law === 'pcmu' ? linearToUlaw(0) : linearToAlaw(0));
  }
}
