import { describe, expect, it } from 'vitest';
import { G722CoreDecoder, G722CoreEncoder, G722Decoder, G722Encoder } from './G722.js';

/** Level (dBFS) of `hz` in `pcm` at `rate` (Goertzel). */
function levelDb(pcm: ArrayLike<number>, rate: number, hz: number): number {
  const coeff = 2 * Math.cos((2 * Math.PI * hz) / rate);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < pcm.length; i++) {
    const s0 = pcm[i]! / 32_768 + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return 20 * Math.log10((2 * Math.sqrt(Math.max(0, s1 * s1 + s2 * s2 - coeff * s1 * s2))) / pcm.length + 1e-12);
}

/** Signal-to-noise ratio (dB) of `got` against a sine of `hz` fitted to it (least squares on sin and cos). */
function toneSnrDb(got: ArrayLike<number>, rate: number, hz: number): number {
  let ss = 0;
  let sc = 0;
  let cc = 0;
  let ys = 0;
  let yc = 0;
  for (let i = 0; i < got.length; i++) {
    const s = Math.sin((2 * Math.PI * hz * i) / rate);
    const c = Math.cos((2 * Math.PI * hz * i) / rate);
    ss += s * s;
    cc += c * c;
    sc += s * c;
    ys += got[i]! * s;
    yc += got[i]! * c;
  }
  const det = ss * cc - sc * sc;
  const a = (ys * cc - yc * sc) / det;
  const b = (yc * ss - ys * sc) / det;
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < got.length; i++) {
    const fit = a * Math.sin((2 * Math.PI * hz * i) / rate) + b * Math.cos((2 * Math.PI * hz * i) / rate);
    signal += fit * fit;
    noise += (got[i]! - fit) ** 2;
  }
  return 10 * Math.log10(signal / noise);
}

const sine = (hz: number, rate: number, n: number, amplitude = 10_000, from = 0) =>
  Int16Array.from({ length: n }, (_, i) => Math.round(amplitude * Math.sin((2 * Math.PI * hz * (from + i)) / rate)));

describe('G.722 (64 kbit/s SB-ADPCM)', () => {
  it('silence codes to the same bytes every time and decodes to silence', () => {
    const enc = new G722CoreEncoder();
    const codes = enc.encode(new Int16Array(320));
    expect(codes.length).toBe(160);
    const dec = new G722CoreDecoder();
    const pcm = dec.decode(codes);
    expect(pcm.length).toBe(320);
    expect(Math.max(...pcm.map(Math.abs))).toBeLessThan(64);
  });

  // Tones in the low band (carried by the 6-bit quantiser) and in the high band (2 bits, 4-7 kHz).
  for (const [hz, minSnr] of [
    [440, 25],
    [1_000, 25],
    [3_000, 20],
    [5_500, 8],
  ] as const) {
    it(`a ${hz} Hz tone at 16 kHz comes back as that tone (SNR > ${minSnr} dB, level within 1.5 dB)`, () => {
      const enc = new G722CoreEncoder();
      const dec = new G722CoreDecoder();
      const input = sine(hz, 16_000, 16_000);
      const out: number[] = [];
      for (let f = 0; f < 50; f++) out.push(...dec.decode(enc.encode(input.subarray(f * 320, f * 320 + 320))));
      // The QMF pair delays the signal by 22 samples: compare the settled second half.
      const got = out.slice(8_000);
      expect(toneSnrDb(got, 16_000, hz)).toBeGreaterThan(minSnr);
      expect(Math.abs(levelDb(got, 16_000, hz) - levelDb(input.subarray(8_000), 16_000, hz))).toBeLessThan(1.5);
    });
  }

  it('at the mixer rate: 20 ms of 48 kHz PCM is 160 bytes, and a 1 kHz tone decodes back to 48 kHz without images', () => {
    const enc = new G722Encoder(48_000, 1);
    const dec = new G722Decoder(48_000, 2);
    const decoded: number[] = [];
    for (let f = 0; f < 25; f++) {
      const payload = enc.encode(sine(1_000, 48_000, 960, 10_000, f * 960), 960);
      expect(payload.length).toBe(160);
      const stereo = dec.decode(payload);
      expect(stereo.length).toBe(1_920);
      for (let i = 0; i < stereo.length; i += 2) decoded.push(stereo[i]!);
    }
    const tail = decoded.slice(-9_600);
    const original = levelDb(sine(1_000, 48_000, 9_600), 48_000, 1_000);
    expect(Math.abs(levelDb(tail, 48_000, 1_000) - original)).toBeLessThan(1.5);
    expect(toneSnrDb(tail, 48_000, 1_000)).toBeGreaterThan(20);
    // Images of the 16 → 48 kHz step (15 and 17 kHz) stay far below the tone.
    expect(levelDb(tail, 48_000, 15_000)).toBeLessThan(original - 35);
    expect(levelDb(tail, 48_000, 17_000)).toBeLessThan(original - 35);
    expect(enc.silence(960).length).toBe(160);
  });

  it('a 10 kHz tone (above what 16 kHz carries) is filtered out before coding', () => {
    const enc = new G722Encoder(48_000, 1);
    const dec = new G722CoreDecoder();
    const out: number[] = [];
    for (let f = 0; f < 25; f++) out.push(...dec.decode(enc.encode(sine(10_000, 48_000, 960, 10_000, f * 960), 960)));
    // Folded back it would be at 6 kHz.
    expect(levelDb(out.slice(-4_000), 16_000, 6_000)).toBeLessThan(-40);
  });

  it('rejects an empty or oversized payload (the mixer counts a decode error and goes on)', () => {
    const dec = new G722Decoder(48_000, 1);
    expect(() => dec.decode(new Uint8Array(0))).toThrow(/payload size/);
    expect(() => dec.decode(new Uint8Array(2_000))).toThrow(/payload size/);
  });
});
