/**
 * G.722 (ITU-T, 64 kbit/s sub-band ADPCM, 16 kHz audio) for SIP room systems and desk phones that
 * offer it before G.711: decoded to the mixer's rate and encoded from it. Written here because no
 * npm package carries it (searched: none published); the blocks follow the Recommendation's own
 * names (QUANTL, INVQAL, LOGSCL, SCALEL, UPPOL1/2, UPZERO, FILTEP, FILTEZ) and its tables.
 * Only mode 1 (8 bits a sample, 64 kbit/s), the one SDP's `G722/8000` means (RFC 3551 §4.5.2).
 */

import { Downsampler, Upsampler } from './RateConverter.js';

/** G.722's sampling rate; its RTP clock is 8000 all the same (RFC 3551). */
export const G722_RATE = 16_000;

// The Recommendation's tables (G.722 §6: quantiser levels, scale factor adaptation, QMF).
const QMF = [3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11];
const Q6 = [
  0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714, 786, 858, 940, 1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919,
];
const ILN = [0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 0];
const ILP = [0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 0];
const QM6 = [
  -136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984, -13512, -12280, -11192, -10232, -9360, -8576, -7856, -7192, -6576, -6000, -5456, -4944, -4464,
  -4008, -3576, -3168, -2776, -2400, -2032, -1688, -1360, -1040, -728, 24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192, 10232, 9360, 8576, 7856, 7192,
  6576, 6000, 5456, 4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032, 1688, 1360, 1040, 728, 432, 136, -432, -136,
];
const QM4 = [0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584, 1200, 0];
const QM2 = [-7408, -1616, 7408, 1616];
const RL42 = [0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0];
const WL = [-60, -30, 58, 172, 334, 538, 1198, 3042];
const RH2 = [2, 1, 2, 1];
const WH = [0, -214, 798];
const IHN = [0, 1, 0];
const IHP = [0, 3, 2];
const ILB = [
  2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834, 2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520,
  3597, 3676, 3756, 3838, 3922, 4008,
];

const sat = (v: number): number => (v > 32_767 ? 32_767 : v < -32_768 ? -32_768 : v);
/** The sign of a 16-bit value as the Recommendation keeps it: 0 or -1. */
const sign = (v: number): number => (v < 0 ? -1 : 0);

/** One sub-band's adaptive predictor and scale factor (the Recommendation's per-band state). */
class SubBand {
  /** Predicted signal, its pole and zero parts. */
  s = 0;
  private sp = 0;
  private sz = 0;
  /** Reconstructed signals, pole coefficients (current and updated), partial reconstructions. */
  private readonly r = [0, 0, 0];
  private readonly a = [0, 0, 0];
  private readonly ap = [0, 0, 0];
  private readonly p = [0, 0, 0];
  /** Quantised differences, zero coefficients (current and updated). */
  private readonly d = [0, 0, 0, 0, 0, 0, 0];
  private readonly b = [0, 0, 0, 0, 0, 0, 0];
  private readonly bp = [0, 0, 0, 0, 0, 0, 0];
  /** Log scale factor and scale factor. */
  nb = 0;
  det: number;

  constructor(
    initialDet: number,
    /** LOGSCL/LOGSCH upper bound and the SCALEL/SCALEH shift. */
    private readonly nbMax: number,
    private readonly shift: number,
  ) {
    this.det = initialDet;
  }

  /** LOGSCL/LOGSCH then SCALEL/SCALEH: adapt the scale factor to the code's magnitude weight. */
  adaptScale(weight: number): void {
    const nb = ((this.nb * 127) >> 7) + weight;
    this.nb = nb < 0 ? 0 : nb > this.nbMax ? this.nbMax : nb;
    const wd1 = (this.nb >> 6) & 31;
    const wd2 = this.shift - (this.nb >> 11);
    const wd3 = wd2 < 0 ? ILB[wd1]! << -wd2 : ILB[wd1]! >> wd2;
    this.det = wd3 << 2;
  }

  /** Block 4: reconstruct, adapt the pole and zero predictors, predict the next sample. */
  update(dq: number): void {
    const { r, a, ap, p, d, b, bp } = this;
    d[0] = dq;
    r[0] = sat(this.s + dq);
    p[0] = sat(this.sz + dq);
    // UPPOL2
    let wd1 = sat(a[1]! << 2);
    let wd2 = sign(p[0]) === sign(p[1]!) ? -wd1 : wd1;
    if (wd2 > 32_767) wd2 = 32_767;
    let wd3 = (sign(p[0]) === sign(p[2]!) ? 128 : -128) + (wd2 >> 7) + ((a[2]! * 32_512) >> 15);
    ap[2] = wd3 > 12_288 ? 12_288 : wd3 < -12_288 ? -12_288 : wd3;
    // UPPOL1
    wd1 = sign(p[0]) === sign(p[1]!) ? 192 : -192;
    wd2 = (a[1]! * 32_640) >> 15;
    ap[1] = sat(wd1 + wd2);
    wd3 = sat(15_360 - ap[2]);
    if (ap[1] > wd3) ap[1] = wd3;
    else if (ap[1] < -wd3) ap[1] = -wd3;
    // UPZERO
    wd1 = dq === 0 ? 0 : 128;
    const sg0 = sign(dq);
    for (let i = 1; i < 7; i++) {
      wd2 = sign(d[i]!) === sg0 ? wd1 : -wd1;
      wd3 = (b[i]! * 32_640) >> 15;
      bp[i] = sat(wd2 + wd3);
    }
    // DELAYZ, DELAYL, DELAYA
    for (let i = 6; i > 0; i--) {
      d[i] = d[i - 1]!;
      b[i] = bp[i]!;
    }
    for (let i = 2; i > 0; i--) {
      r[i] = r[i - 1]!;
      p[i] = p[i - 1]!;
      a[i] = ap[i]!;
    }
    // FILTEP, FILTEZ, PREDIC
    this.sp = sat(((a[1]! * sat(r[1]! + r[1]!)) >> 15) + ((a[2]! * sat(r[2]! + r[2]!)) >> 15));
    let sz = 0;
    for (let i = 6; i > 0; i--) sz += (b[i]! * sat(d[i]! + d[i]!)) >> 15;
    this.sz = sat(sz);
    this.s = sat(this.sp + this.sz);
  }
}

const lowBand = () => new SubBand(32, 18_432, 8);
const highBand = () => new SubBand(8, 22_528, 10);

/** G.722 at its own rate: 16-kHz PCM pairs in, one code byte per pair out. */
export class G722CoreEncoder {
  private readonly low = lowBand();
  private readonly high = highBand();
  /** The transmit QMF's last 24 input samples. */
  private readonly x = new Array<number>(24).fill(0);

  /** `pcm`: an even number of 16-kHz samples. */
  encode(pcm: ArrayLike<number>): Buffer {
    const out = Buffer.allocUnsafe(pcm.length >> 1);
    const x = this.x;
    for (let j = 0; j < out.length; j++) {
      // Transmit QMF: split into a low and a high band at 8 kHz each.
      x.copyWithin(0, 2);
      x[22] = pcm[2 * j]!;
      x[23] = pcm[2 * j + 1]!;
      let sumOdd = 0;
      let sumEven = 0;
      for (let i = 0; i < 12; i++) {
        sumOdd += x[2 * i]! * QMF[i]!;
        sumEven += x[2 * i + 1]! * QMF[11 - i]!;
      }
      const xlow = (sumEven + sumOdd) >> 14;
      const xhigh = (sumEven - sumOdd) >> 14;
      out[j] = (this.encodeHigh(xhigh) << 6) | this.encodeLow(xlow);
    }
    return out;
  }

  private encodeLow(xlow: number): number {
    const band = this.low;
    // SUBTRA, QUANTL (6 bits)
    const el = sat(xlow - band.s);
    const wd = el >= 0 ? el : -(el + 1);
    let i = 1;
    for (; i < 30; i++) if (wd < (Q6[i]! * band.det) >> 12) break;
    const ilow = el < 0 ? ILN[i]! : ILP[i]!;
    // INVQAL on the 4-bit truncation, LOGSCL, SCALEL, then the predictor
    const ril = ilow >> 2;
    const dlow = (band.det * QM4[ril]!) >> 15;
    band.adaptScale(WL[RL42[ril]!]!);
    band.update(dlow);
    return ilow;
  }

  private encodeHigh(xhigh: number): number {
    const band = this.high;
    // SUBTRA, QUANTH (2 bits)
    const eh = sat(xhigh - band.s);
    const wd = eh >= 0 ? eh : -(eh + 1);
    const mih = wd >= (564 * band.det) >> 12 ? 2 : 1;
    const ihigh = eh < 0 ? IHN[mih]! : IHP[mih]!;
    // INVQAH, LOGSCH, SCALEH, then the predictor
    const dhigh = (band.det * QM2[ihigh]!) >> 15;
    band.adaptScale(WH[RH2[ihigh]!]!);
    band.update(dhigh);
    return ihigh;
  }
}

/** G.722 at its own rate: one code byte in, two 16-kHz samples out. */
export class G722CoreDecoder {
  private readonly low = lowBand();
  private readonly high = highBand();
  /** The receive QMF's last 24 values. */
  private readonly x = new Array<number>(24).fill(0);

  decode(codes: Uint8Array): Int16Array {
    const out = new Int16Array(codes.length * 2);
    const x = this.x;
    for (let j = 0; j < codes.length; j++) {
      const code = codes[j]!;
      const rlow = this.decodeLow(code & 0x3f);
      const rhigh = this.decodeHigh((code >> 6) & 0x03);
      // Receive QMF: the two bands back to 16 kHz.
      x.copyWithin(0, 2);
      x[22] = rlow + rhigh;
      x[23] = rlow - rhigh;
      let xout1 = 0;
      let xout2 = 0;
      for (let i = 0; i < 12; i++) {
        xout2 += x[2 * i]! * QMF[i]!;
        xout1 += x[2 * i + 1]! * QMF[11 - i]!;
      }
      out[2 * j] = sat(xout1 >> 11);
      out[2 * j + 1] = sat(xout2 >> 11);
    }
    return out;
  }

  private decodeLow(ilow: number): number {
    const band = this.low;
    // INVQBL (all 6 bits) for the output, RECONS, LIMIT
    const r = band.s + ((band.det * QM6[ilow]!) >> 15);
    const rlow = r > 16_383 ? 16_383 : r < -16_384 ? -16_384 : r;
    // INVQAL (4 bits) for the predictor, as the encoder did
    const ril = ilow >> 2;
    const dlow = (band.det * QM4[ril]!) >> 15;
    band.adaptScale(WL[RL42[ril]!]!);
    band.update(dlow);
    return rlow;
  }

  private decodeHigh(ihigh: number): number {
    const band = this.high;
    const dhigh = (band.det * QM2[ihigh]!) >> 15;
    const r = dhigh + band.s;
    const rhigh = r > 16_383 ? 16_383 : r < -16_384 ? -16_384 : r;
    band.adaptScale(WH[RH2[ihigh]!]!);
    band.update(dhigh);
    return rhigh;
  }
}

/** G.722 carries up to 7 kHz: the low-pass edge of its rate change, steep enough that nothing above 8 kHz folds back. */
const converter = (mixerRate: number) => ({ codecRate: G722_RATE, mixerRate, cutoffHz: 7_000, codecName: 'G.722', tapsPerPhase: 16 });

/** One source's G.722 packets to interleaved PCM at the mixer's rate and channels. */
export class G722Decoder {
  private readonly core = new G722CoreDecoder();
  private readonly up: Upsampler;

  constructor(
    readonly sampleRate: number,
    readonly channels: 1 | 2,
  ) {
    this.up = new Upsampler(converter(sampleRate), channels);
  }

  /** PCM of one packet (one byte per two 16-kHz samples), a new array. */
  decode(payload: Uint8Array): Int16Array {
    if (payload.length === 0 || payload.length > 1_600) throw new Error('bad G.722 payload size');
    return this.up.widen(this.core.decode(payload));
  }

  /** No concealment in G.722: silence for the gap (the mixer stops after a few frames). */
  conceal(samples: number): Int16Array {
    this.up.reset();
    return new Int16Array(samples * this.channels);
  }

  close(): void {}
}

/** Encodes interleaved PCM at the mixer's rate to G.722 (low-pass to 16 kHz, then the codec). */
export class G722Encoder {
  private readonly core = new G722CoreEncoder();
  private readonly down: Downsampler;

  constructor(
    readonly sampleRate: number,
    readonly channels: 1 | 2,
  ) {
    this.down = new Downsampler(converter(sampleRate), channels);
  }

  /** `pcm`: `samplesPerChannel` frames, interleaved. */
  encode(pcm: Int16Array, samplesPerChannel: number): Buffer {
    return this.core.encode(this.down.narrow(pcm, samplesPerChannel));
  }

  close(): void {}

  /** A silent frame, coded from a fresh state (G.722 is adaptive: there is no one silent byte). */
  silence(samplesPerChannel: number): Buffer {
    return new G722CoreEncoder().encode(new Int16Array(Math.floor(samplesPerChannel / this.down.factor)));
  }
}
