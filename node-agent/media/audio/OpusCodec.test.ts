import { describe, expect, it } from 'vitest';
import { OpusDecoder } from './OpusDecoder.js';
import { OpusEncoder } from './OpusEncoder.js';
import { opusModule } from './opusscriptModule.js';
import { db, power } from './audioTestSupport.js';

function tone(freq: number, frame: number, amplitude = 0.3): Int16Array {
  const pcm = new Int16Array(960);
  for (let i = 0; i < 960; i++) pcm[i] = Math.round(amplitude * 32767 * Math.sin((2 * Math.PI * freq * (frame * 960 + i)) / 48_000));
  return pcm;
}

describe('Opus (opusscript WebAssembly, our wrapper)', () => {
  it('round-trips a tone', () => {
    const enc = new OpusEncoder({ sampleRate: 48_000, channels: 1, bitrate: 32_000, complexity: 5 });
    const dec = new OpusDecoder(48_000, 1);
    const out: number[] = [];
    for (let f = 0; f < 50; f++) out.push(...dec.decode(enc.encode(tone(1000, f), 960)));
    expect(out).toHaveLength(50 * 960);
    expect(db(power(Int16Array.from(out.slice(960 * 10)), 1000))).toBeGreaterThan(-12); // 0.3 FS = -10.5 dB
    enc.close();
    dec.close();
  });

  it('conceals exactly the asked length and decodes on afterwards', () => {
    const enc = new OpusEncoder({ sampleRate: 48_000, channels: 1, bitrate: 32_000, complexity: 5 });
    const dec = new OpusDecoder(48_000, 1);
    for (let f = 0; f < 10; f++) dec.decode(enc.encode(tone(500, f), 960));
    const plc = dec.conceal(960);
    expect(plc).toHaveLength(960);
    expect(db(power(plc, 500))).toBeGreaterThan(-30); // continues the tone, not silence
    expect(dec.decode(enc.encode(tone(500, 11), 960))).toHaveLength(960);
    expect(() => dec.decode(Buffer.alloc(0))).toThrow();
    expect(() => dec.decode(Buffer.alloc(4000))).toThrow();
    enc.close();
    dec.close();
    expect(() => dec.conceal(960)).toThrow();
  });

  it('keeps working when the WebAssembly heap grows (opusscript index.js does not)', () => {
    const enc = new OpusEncoder({ sampleRate: 48_000, channels: 1, bitrate: 32_000, complexity: 5 });
    const dec = new OpusDecoder(48_000, 1);
    const heapBefore = opusModule().HEAPU8.length;
    const many: { close(): void }[] = [];
    while (opusModule().HEAPU8.length === heapBefore && many.length < 2000) {
      many.push(new OpusEncoder({ sampleRate: 48_000, channels: 2, bitrate: 64_000, complexity: 5 }));
    }
    expect(opusModule().HEAPU8.length).toBeGreaterThan(heapBefore);
    let out: Int16Array = new Int16Array(0);
    for (let f = 0; f < 10; f++) out = dec.decode(enc.encode(tone(700, f), 960));
    expect(db(power(out, 700))).toBeGreaterThan(-15);
    for (const m of many) m.close();
    enc.close();
    dec.close();
  });
});
