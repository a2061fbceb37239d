import { describe, expect, it } from 'vitest';
import type { LoadedTheme } from '../../theme/ThemeCache.js';
import { promptAudio } from './prompts.js';
import { themePrompt, themeWavPcm } from './themePrompts.js';

/** A WAV with the given format fields and samples. */
function wav(samples: number[], { rate = 48_000, channels = 1, bits = 16, format = 1 } = {}): Uint8Array {
  const data = Buffer.alloc(samples.length * 2);
  samples.forEach((v, i) => data.writeInt16LE(v, i * 2));
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(format, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE((rate * channels * bits) / 8, 28);
  h.writeUInt16LE((channels * bits) / 8, 32);
  h.writeUInt16LE(bits, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(data.length, 40);
  return new Uint8Array(Buffer.concat([h, data]));
}

const layer = (files: Record<string, Uint8Array>): LoadedTheme => ({ files: new Map(Object.entries(files)), config: {} as LoadedTheme['config'] });

describe('theme prompts', () => {
  it('reads PCM 16-bit mono 48 kHz and refuses other formats and garbage', () => {
    expect([...themeWavPcm(wav([1, -2, 3]))!]).toEqual([1, -2, 3]);
    expect(themeWavPcm(wav([1], { rate: 8_000 }))).toBeUndefined();
    expect(themeWavPcm(wav([1], { channels: 2 }))).toBeUndefined();
    expect(themeWavPcm(wav([1], { format: 3 }))).toBeUndefined();
    expect(themeWavPcm(new Uint8Array(0))).toBeUndefined();
    expect(themeWavPcm(new TextEncoder().encode('RIFF....WAVEjunk'))).toBeUndefined();
  });

  it("takes the first layer with a non-empty WAV of the prompt's name, else the tone", () => {
    const name = 'conf-getpin_48kHz_mono.wav';
    const own = layer({ [name]: wav([7, 7]) });
    const empty = layer({ [name]: new Uint8Array(0) });
    const other = layer({ [name]: wav([9]) });
    expect([...themePrompt({ layersFor: () => [empty, own, other] }, null, name)]).toEqual([7, 7]);
    expect(themePrompt({ layersFor: () => [empty] }, null, name)).toEqual(promptAudio(name));
    expect(themePrompt(null, null, name)).toEqual(promptAudio(name));
  });
});
