/**
 * Changes PCM between a narrow codec rate (G.711's 8 kHz, G.722's 16 kHz) and the mixer's rate
 * by a whole factor: a windowed-sinc low-pass, then zero-stuffing up or keeping every F-th sample
 * down. One small FIR filter, computed once per (codec rate, mixer rate); written here because it
 * is a dozen lines and the npm resamplers bring whole audio frameworks.
 */

interface Filter {
  factor: number;
  tapsPerPhase: number;
  /** Null when the rates are equal. */
  taps: Float64Array | null;
}

/** Low-pass FIR (Blackman-windowed sinc) at `cutoffHz` for `rate`, unit gain at DC. */
function lowPass(rate: number, cutoffHz: number, length: number): Float64Array {
  const cutoff = cutoffHz / rate;
  const h = new Float64Array(length);
  const mid = (length - 1) / 2;
  let sum = 0;
  for (let i = 0; i < length; i++) {
    const x = i - mid;
    const sinc = x === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x);
    const blackman = 0.42 - 0.5 * Math.cos((2 * Math.PI * i) / (length - 1)) + 0.08 * Math.cos((4 * Math.PI * i) / (length - 1));
    h[i] = sinc * blackman;
    sum += h[i]!;
  }
  for (let i = 0; i < length; i++) h[i]! /= sum;
  return h;
}

const filters = new Map<string, Filter>();
function filterFor({ codecRate, mixerRate, cutoffHz, codecName, tapsPerPhase }: RateConverterOptions): Filter {
  const key = `${codecRate}:${mixerRate}:${cutoffHz}:${tapsPerPhase}`;
  let f = filters.get(key);
  if (!f) {
    const factor = mixerRate / codecRate;
    if (!Number.isInteger(factor) || factor < 1) throw new Error(`${codecName} needs a mixer rate that is a multiple of ${codecRate} (not ${mixerRate})`);
    f = { factor, tapsPerPhase, taps: factor > 1 ? lowPass(mixerRate, cutoffHz, factor * tapsPerPhase) : null };
    filters.set(key, f);
  }
  return f;
}

export interface RateConverterOptions {
  codecRate: number;
  mixerRate: number;
  /** The low-pass edge, a little under half the codec rate. */
  cutoffHz: number;
  /** For the error message when the rates do not fit. */
  codecName: string;
  /** Filter taps per output phase (the filter is factor × this long): more for a steeper edge. */
  tapsPerPhase: number;
}

/** Codec rate → mixer rate (decoding side), mono in, interleaved `channels` out. */
export class Upsampler {
  readonly factor: number;
  private readonly taps: Float64Array | null;
  private readonly tapsPerPhase: number;
  /** The last input samples, for the filter across packets. */
  private readonly history: Float64Array;

  constructor(
    opts: RateConverterOptions,
    private readonly channels: 1 | 2,
  ) {
    ({ factor: this.factor, taps: this.taps, tapsPerPhase: this.tapsPerPhase } = filterFor(opts));
    this.history = new Float64Array(this.tapsPerPhase);
  }

  /** out[n·F + p] = F · Σ_k h[k·F + p]·x[n − k] (zero-stuffing and filtering in one). */
  widen(x: ArrayLike<number>): Int16Array {
    const F = this.factor;
    const out = new Int16Array(x.length * F * this.channels);
    const h = this.taps;
    const hist = this.history;
    const at = (n: number, k: number) => (n - k >= 0 ? x[n - k]! : hist[hist.length + (n - k)]!);
    for (let n = 0; n < x.length; n++) {
      for (let p = 0; p < F; p++) {
        let v: number;
        if (!h) v = x[n]!;
        else {
          v = 0;
          for (let k = 0; k < this.tapsPerPhase; k++) v += h[k * F + p]! * at(n, k);
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
    for (let i = 0; i < keep; i++) hist[hist.length - keep + i] = x[x.length - keep + i]!;
    return out;
  }

  /** A gap: the filter forgets what came before it. */
  reset(): void {
    this.history.fill(0);
  }
}

/** Mixer rate → codec rate (encoding side), interleaved `channels` in, mono out. */
export class Downsampler {
  readonly factor: number;
  private readonly taps: Float64Array | null;
  /** The last input samples (mixer rate, mono), for the filter across frames. */
  private readonly history: Float64Array;

  constructor(
    opts: RateConverterOptions,
    private readonly channels: 1 | 2,
  ) {
    ({ factor: this.factor, taps: this.taps } = filterFor(opts));
    this.history = new Float64Array(this.taps?.length ?? 1);
  }

  /** `pcm`: `samplesPerChannel` frames, interleaved; returns floor(samplesPerChannel / F) samples, clamped to 16 bits. */
  narrow(pcm: Int16Array, samplesPerChannel: number): Int16Array {
    const F = this.factor;
    const mono = new Float64Array(samplesPerChannel);
    for (let i = 0; i < samplesPerChannel; i++) mono[i] = this.channels === 2 ? (pcm[2 * i]! + pcm[2 * i + 1]!) / 2 : pcm[i]!;
    const out = new Int16Array(Math.floor(samplesPerChannel / F));
    const h = this.taps;
    const hist = this.history;
    const at = (n: number) => (n >= 0 ? mono[n]! : hist[hist.length + n]!);
    for (let j = 0; j < out.length; j++) {
      const n = j * F + F - 1;
      let v = 0;
      if (!h) v = mono[n]!;
      else for (let k = 0; k < h.length; k++) v += h[k]! * at(n - k);
      out[j] = clamp16(v);
    }
    const keep = Math.min(hist.length, mono.length);
    hist.copyWithin(0, keep);
    hist.set(mono.subarray(mono.length - keep), hist.length - keep);
    return out;
  }
}

export function clamp16(v: number): number {
  const r = Math.round(v);
  return r > 32_767 ? 32_767 : r < -32_768 ? -32_768 : r;
}
