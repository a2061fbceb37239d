/**
 * The voice prompts a keypad caller hears, by the theme's audio file names (guide-digest-3 §1.8).
 * They come from the theme (ivr/themePrompts.ts; the Base theme's are tones too); these tone
 * patterns stand in where no theme layer holds the file (a node that has not got the Base theme).
 */
export type PromptName =
  | 'conf-getpin_48kHz_mono.wav'
  | 'conf-waitforleader_48kHz_mono.wav'
  | 'conf-getpin_pound-key_48kHz_mono.wav'
  | 'conf-invalidpin_48kHz_mono.wav'
  | 'conf-capacity_exceeded_48kHz_mono.wav'
  | '2sd-number-pound-key_48kHz_mono.wav'
  | '2sd-number-not-valid-try-again_48kHz_mono.wav'
  | '2sd-invalid-number-three-times-disconnect_48kHz_mono.wav';

export const PROMPT_RATE = 48_000;

/** Tone, beeps and beep length of each prompt: PIN requests high, invalid entries low. */
export const PROMPT_TONES: Record<PromptName, { hz: number; beeps: number; ms: number }> = {
  'conf-getpin_48kHz_mono.wav': { hz: 800, beeps: 2, ms: 300 },
  'conf-waitforleader_48kHz_mono.wav': { hz: 700, beeps: 1, ms: 600 },
  'conf-getpin_pound-key_48kHz_mono.wav': { hz: 800, beeps: 3, ms: 300 },
  'conf-invalidpin_48kHz_mono.wav': { hz: 350, beeps: 3, ms: 200 },
  'conf-capacity_exceeded_48kHz_mono.wav': { hz: 300, beeps: 3, ms: 300 },
  '2sd-number-pound-key_48kHz_mono.wav': { hz: 900, beeps: 2, ms: 300 },
  '2sd-number-not-valid-try-again_48kHz_mono.wav': { hz: 350, beeps: 2, ms: 200 },
  '2sd-invalid-number-three-times-disconnect_48kHz_mono.wav': { hz: 350, beeps: 4, ms: 200 },
};

/** The prompt's audio: its beeps (half amplitude, 10 ms ramps) with 200 ms between them. */
export function promptAudio(name: PromptName): Int16Array {
  const { hz, beeps, ms } = PROMPT_TONES[name];
  const beep = Math.round((PROMPT_RATE * ms) / 1000);
  const gap = Math.round(PROMPT_RATE * 0.2);
  const ramp = Math.round(PROMPT_RATE * 0.01);
  const out = new Int16Array(beeps * (beep + gap));
  for (let b = 0; b < beeps; b++) {
    const start = b * (beep + gap);
    for (let i = 0; i < beep; i++) {
      const envelope = Math.min(1, i / ramp, (beep - i) / ramp);
      out[start + i] = Math.round(16_000 * envelope * Math.sin((2 * Math.PI * hz * i) / PROMPT_RATE));
    }
  }
  return out;
}
