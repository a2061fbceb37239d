/**
 * Level (dBFS) of `hz` in `samples` between `fromMs` and `toMs`: Goertzel power on Hann-windowed
 * 100-ms blocks, averaged. Blocks rather than one long window because a jitter buffer that skips
 * or repeats a 20-ms frame under load makes a phase jump in a tone without whole cycles per frame
 * (440 Hz has 8.8), which one long window reads as a much quieter tone; the Hann window keeps the
 * other tones' leakage far below (its sidelobes fall 18 dB an octave).
 */
export function toneLevelDb(pcm: { sampleRate: number; samples: Int16Array | ArrayLike<number> }, hz: number, fromMs: number, toMs: number): number {
  const from = Math.max(0, Math.floor((pcm.sampleRate * fromMs) / 1000));
  const to = Math.min(pcm.samples.length, Math.floor((pcm.sampleRate * toMs) / 1000));
  const block = Math.floor(pcm.sampleRate / 10);
  const coeff = 2 * Math.cos((2 * Math.PI * hz) / pcm.sampleRate);
  let sum = 0;
  let blocks = 0;
  for (let b = from; b + block <= to; b += block) {
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < block; i++) {
      const hann = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (block - 1));
      const s0 = (hann * pcm.samples[b + i]!) / 32_768 + coeff * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    // Hann's coherent gain is 1/2: amplitude = 2 · 2·|X| / N.
    const amplitude = (4 * Math.sqrt(Math.max(0, s1 * s1 + s2 * s2 - coeff * s1 * s2))) / block;
    sum += amplitude * amplitude;
    blocks++;
  }
  return blocks === 0 ? -Infinity : 10 * Math.log10(sum / blocks + 1e-24);
}
