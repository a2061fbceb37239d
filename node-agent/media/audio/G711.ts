/**
 * G.711 µ-law (PCMU) and A-law (PCMA) for SIP phones that offer nothing else: decoded to the
 * mixer's rate and encoded from it. Written here rather than taken from npm: the codec is a table
 * per direction (ITU-T G.711, as in Sun's reference g711.c), and the npm packages found either
 * decode only or carry a whole audio framework; the resampling is one small FIR filter.
 */

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

/** Low-pass FIR (windowed sinc, 3.6 kHz at 48 kHz) for changing rate by a whole factor. */
function lowPass(rate: number, taps: number): Float64Array {
  const cutoff = 3_600 / rate;
  const h = new Float64Array(taps);
  const mid = (taps - 1) / 2;
  let sum = 0;
  for (let i = 0; i < taps; i++) {
    const x = i - mid;
    const sinc = x === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x);
    const blackman = 0.42 - 0.5 * Math.cos((2 * Math.PI * i) / (taps - 1)) + 0.08 * Math.cos((4 * Math.PI * i) / (taps - 1));
    h[i] = sinc * blackman;
    sum += h[i]!;
  }
  for (let i = 0; i < taps; i++) h[i]! /= sum;
  return h;
}

const TAPS_PER_PHASE = 8;

/** The rate factor to 8 kHz and its low-pass filter (null at 8 kHz), one per mixer rate. */
const resamplers = new Map<number, { factor: number; filter: Float64Array | null }>();
function resamplerFor(rate: number): { factor: number; filter: Float64Array | null } {
  let r = resamplers.get(rate);
  if (!r) {
    const factor = rate / G711_RATE;
    if (!Number.isInteger(factor) || factor < 1) throw new Error(`G.711 needs a mixer rate that is a multiple of 8000 (not ${rate})`);
    r = { factor, filter: factor > 1 ? lowPass(rate, factor * TAPS_PER_PHASE) : null };
    resamplers.set(rate, r);
  }
  return r;
}

/** One source's G.711 packets to interleaved PCM at the mixer's rate and channels. */
export class G711Decoder {
  private readonly factor: number;
  private readonly filter: Float64Array | null;
  /** The last input samples (8 kHz), for the filter across packets. */
  private readonly history: Float64Array;

  constructor(
    private readonly law: G711Law,
    readonly sampleRate: number,
    readonly channels: 1 | 2,
  ) {
    ({ factor: this.factor, filter: this.filter } = resamplerFor(sampleRate));
    this.history = new Float64Array(TAPS_PER_PHASE);
  }

  /** PCM of one packet (any number of 8-kHz samples), a new array. */
  decode(payload: Uint8Array): Int16Array {
    if (payload.length === 0 || payload.length > 1_600) throw new Error('bad G.711 payload size');
    const table = this.law === 'pcmu' ? ULAW_DECODE : ALAW_DECODE;
    const narrow = new Float64Array(payload.length);
    for (let i = 0; i < payload.length; i++) narrow[i] = table[payload[i]!]!;
    return this.widen(narrow);
  }

  /** G.711 has no concealment: silence for the gap (the mixer stops after a few frames). */
  conceal(samples: number): Int16Array {
    this.history.fill(0);
    return new Int16Array(samples * this.channels);
  }

  close(): void {}

  /** Upsamples by zero-stuffing and filtering: out[n·F + p] = F · Σ_k h[k·F + p]·x[n − k]. */
  private widen(x: Float64Array): Int16Array {
    const F = this.factor;
    const out = new Int16Array(x.length * F * this.channels);
    const h = this.filter;
    const hist = this.history;
    const at = (n: number, k: number) => (n - k >= 0 ? x[n - k]! : hist[hist.length + (n - k)]!);
    for (let n = 0; n < x.length; n++) {
      for (let p = 0; p < F; p++) {
        let v: number;
        if (!h) v = x[n]!;
        else {
          v = 0;
          for (let k = 0; k < TAPS_PER_PHASE; k++) v += h[k * F + p]! * at(n, k);
          v *= F;
        }
        const s = clamp16(v);
        const o = (n * F + p) * this.channels;
        out[o] = s;
        if (this.channels === 2) out[o + 1] = s;
      }
    }
    const keep = Math.min(hist.length, x.length);
    hist.copyWithin(0, keep);
    hist.set(x.subarray(x.length - keep), hist.length - keep);
    return out;
  }
}

/** Encodes interleaved PCM at the mixer's rate to G.711 at 8 kHz (low-pass, then every F-th sample). */
export class G711Encoder {
  private readonly factor: number;
  private readonly filter: Float64Array | null;
  /** The last input samples (mixer rate, mono), for the filter across frames. */
  private readonly history: Float64Array;

  constructor(
    private readonly law: G711Law,
    readonly sampleRate: number,
    readonly channels: 1 | 2,
  ) {
    ({ factor: this.factor, filter: this.filter } = resamplerFor(sampleRate));
    this.history = new Float64Array(this.filter?.length ?? 1);
  }

  /** `pcm`: `samplesPerChannel` frames, interleaved. */
  encode(pcm: Int16Array, samplesPerChannel: number): Buffer {
    const F = this.factor;
    const mono = new Float64Array(samplesPerChannel);
    for (let i = 0; i < samplesPerChannel; i++) mono[i] = this.channels === 2 ? (pcm[2 * i]! + pcm[2 * i + 1]!) / 2 : pcm[i]!;
    const out = Buffer.allocUnsafe(Math.floor(samplesPerChannel / F));
    const h = this.filter;
    const hist = this.history;
    const at = (n: number) => (n >= 0 ? mono[n]! : hist[hist.length + n]!);
    const encode = this.law === 'pcmu' ? linearToUlaw : linearToAlaw;
    for (let j = 0; j < out.length; j++) {
      const n = j * F + F - 1;
      let v = 0;
      if (!h) v = mono[n]!;
      else for (let k = 0; k < h.length; k++) v += h[k]! * at(n - k);
      out[j] = encode(clamp16(v));
    }
    const keep = Math.min(hist.length, mono.length);
    hist.copyWithin(0, keep);
    hist.set(mono.subarray(mono.length - keep), hist.length - keep);
    return out;
  }

  close(): void {}

  /** The payload of a silent frame (digital silence encodes to one constant byte). */
  silence(samplesPerChannel: number): Buffer {
    return Buffer.alloc(Math.floor(samplesPerChannel / this.factor), this.law === 'pcmu' ? linearToUlaw(0) : linearToAlaw(0));
  }
}

function clamp16(v: number): number {
  const r = Math.round(v);
  return r > 32_767 ? 32_767 : r < -32_768 ? -32_768 : r;
}
