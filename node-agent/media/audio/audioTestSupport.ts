/** Test helpers for the audio mixer's tests (real Opus tones, Goertzel). Not product code. */
import { OpusDecoder } from './OpusDecoder.js';
import { OpusEncoder } from './OpusEncoder.js';
import { parseRtp, writeRtp } from './rtpPacket.js';

export const RATE = 48_000;
export const FRAME = 960; // 20 ms
export const FREQ = { A: 440, B: 660, C: 880 } as const;
export type Name = keyof typeof FREQ;

/** A source's Opus stream: a sine tone encoded 20 ms at a time, as RTP. */
export class ToneSource {
  private readonly encoder = new OpusEncoder({ sampleRate: RATE, channels: 1, bitrate: 32_000, complexity: 5 });
  private n = 0;
  seq: number;
  ts: number;
  constructor(
    readonly freq: number,
    readonly ssrc: number,
    readonly pt = 111,
    readonly amplitude = 0.3,
    seq = 1000,
  ) {
    this.seq = seq;
    this.ts = ssrc * 7;
  }
  /** The next packet (sequence and timestamp advance). */
  next(): Buffer {
    const pcm = new Int16Array(FRAME);
    for (let i = 0; i < FRAME; i++) pcm[i] = Math.round(this.amplitude * 32767 * Math.sin((2 * Math.PI * this.freq * (this.n * FRAME + i)) / RATE));
    this.n++;
    const pkt = writeRtp(this.pt, false, this.seq, this.ts, this.ssrc, this.encoder.encode(pcm, FRAME));
    this.seq = (this.seq + 1) & 0xffff;
    this.ts = (this.ts + FRAME) >>> 0;
    return pkt;
  }
  close(): void {
    this.encoder.close();
  }
}

/** Goertzel: the squared amplitude (full scale = 1) of the `freq` sine in `pcm`. */
export function power(pcm: Int16Array, freq: number): number {
  const k = (2 * Math.PI * freq) / RATE;
  const coeff = 2 * Math.cos(k);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < pcm.length; i++) {
    const s0 = pcm[i]! / 32768 + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (4 * (s1 * s1 + s2 * s2 - coeff * s1 * s2)) / (pcm.length * pcm.length);
}
export const db = (p: number) => 10 * Math.log10(p + 1e-12);

/** Decodes a listener's packets (all of them, in order, so the decoder state is right) and
 * returns the PCM after `skipFrames`. */
export function decodeAll(packets: Buffer[], skipFrames = 0): Int16Array {
  const decoder = new OpusDecoder(RATE, 1);
  const chunks: Int16Array[] = [];
  for (const p of packets) {
    const rtp = parseRtp(p);
    if (!rtp) throw new Error('listener got a non-RTP packet');
    chunks.push(Int16Array.from(decoder.decode(rtp.payload)));
  }
  decoder.close();
  const kept = chunks.slice(skipFrames);
  const out = new Int16Array(kept.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of kept) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

export function tonesDb(pcm: Int16Array): Record<Name, number> {
  return { A: db(power(pcm, FREQ.A)), B: db(power(pcm, FREQ.B)), C: db(power(pcm, FREQ.C)) };
}
