import type { ServiceConfig } from '../../../shared/node-protocol/messages.js';
import type { LoadedTheme } from '../../theme/ThemeCache.js';
import { PROMPT_RATE, promptAudio, type PromptName } from './prompts.js';

/** Where a service's theme layers come from (ThemeCache): its own theme, the default theme, Base. */
export interface ThemeLayers {
  layersFor(service: Pick<ServiceConfig, 'themeId'> | null): LoadedTheme[];
}

/**
 * A prompt's audio for a service: the first of its theme layers holding a non-empty WAV of that
 * name in the themes' format (PCM 16-bit mono 48 kHz), else our tone pattern. An empty file is
 * skipped (entry and exit tones are empty to switch them off; a prompt is never switched off).
 */
export function themePrompt(layers: ThemeLayers | null, service: Pick<ServiceConfig, 'themeId'> | null, name: PromptName): Int16Array {
  for (const layer of layers?.layersFor(service) ?? []) {
    const file = layer.files.get(name);
    const pcm = file && file.length > 0 ? themeWavPcm(file) : undefined;
    if (pcm && pcm.length > 0) return pcm;
  }
  return promptAudio(name);
}

/** The samples of a theme WAV ("RIFF WAVE, Microsoft PCM, 16 bit, mono 48000 Hz"), else undefined. */
export function themeWavPcm(data: Uint8Array): Int16Array | undefined {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') return undefined;
  let offset = 12;
  let format = false;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('ascii', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > buf.length) return undefined;
      format =
        buf.readUInt16LE(body) === 1 && buf.readUInt16LE(body + 2) === 1 && buf.readUInt32LE(body + 4) === PROMPT_RATE && buf.readUInt16LE(body + 14) === 16;
      if (!format) return undefined;
    } else if (id === 'data') {
      if (!format) return undefined;
      const end = Math.min(buf.length, body + size);
      const samples = new Int16Array(Math.floor((end - body) / 2));
      for (let i = 0; i < samples.length; i++) samples[i] = buf.readInt16LE(body + i * 2);
      return samples;
    }
    offset = body + size + (size % 2);
  }
  return undefined;
}
