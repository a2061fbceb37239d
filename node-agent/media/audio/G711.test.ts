import { describe, expect, it } from 'vitest';
import { alawToLinear, G711Decoder, G711Encoder, linearToAlaw, linearToUlaw, ulawToLinear } from './G711.js';

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

const sine = (hz: number, rate: number, n: number, amplitude = 10_000, from = 0) =>
  Int16Array.from({ length: n }, (_, i) => Math.round(amplitude * Math.sin((2 * Math.PI * hz * (from + i)) / rate)));

describe('G.711', () => {
  it('µ-law and A-law round-trip every 16-bit sample within the law’s step (ITU-T G.711 values)', () => {
    // Known code points: silence and full scale.
    expect(linearToUlaw(0)).toBe(0xff);
    expect(linearToAlaw(0)).toBe(0xd5);
    expect(ulawToLinear(0x00)).toBe(-32_124);
    expect(ulawToLinear(0x80)).toBe(32_124);
    expect(alawToLinear(0xd5)).toBe(8);
    expect(alawToLinear(0x2a)).toBe(-32_256);
    for (let s = -32_768; s <= 32_767; s += 7) {
      const step = Math.max(16, Math.abs(s) / 8); // 4 mantissa bits: relative error under 1/16, plus the smallest step
      expect(Math.abs(ulawToLinear(linearToUlaw(s)) - s)).toBeLessThanOrEqual(step);
      expect(Math.abs(alawToLinear(linearToAlaw(s)) - s)).toBeLessThanOrEqual(step);
    }
  });

  for (const law of ['pcmu', 'pcma'] as const) {
    it(`${law}: a 1 kHz tone at 48 kHz is encoded to 160 bytes per 20 ms and decodes back to the same tone, nothing at 4.4 kHz`, () => {
      const enc = new G711Encoder(law, 48_000, 1);
      const dec = new G711Decoder(law, 48_000, 1);
      const decoded: number[] = [];
      for (let f = 0; f < 25; f++) {
        const payload = enc.encode(sine(1_000, 48_000, 960, 10_000, f * 960), 960);
        expect(payload.length).toBe(160);
        decoded.push(...dec.decode(payload));
      }
      expect(decoded.length).toBe(25 * 960);
      const tail = decoded.slice(-9_600);
      const original = levelDb(sine(1_000, 48_000, 9_600), 48_000, 1_000);
      expect(Math.abs(levelDb(tail, 48_000, 1_000) - original)).toBeLessThan(1.5);
      // Aliases and images of the resampling stay far below the tone.
      expect(levelDb(tail, 48_000, 7_000)).toBeLessThan(original - 35);
      expect(levelDb(tail, 48_000, 9_000)).toBeLessThan(original - 35);
      expect(enc.silence(960)).toEqual(Buffer.alloc(160, law === 'pcmu' ? 0xff : 0xd5));
    });
  }

  it('a 6 kHz tone (above what 8 kHz carries) is filtered out, not folded back to 2 kHz', () => {
    const enc = new G711Encoder('pcmu', 48_000, 1);
    const narrow: number[] = [];
    for (let f = 0; f < 10; f++) narrow.push(...[...enc.encode(sine(6_000, 48_000, 960, 10_000, f * 960), 960)].map(ulawToLinear));
    expect(levelDb(narrow.slice(-800), 8_000, 2_000)).toBeLessThan(-45);
  });
});
