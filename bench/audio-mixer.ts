/**
 * CPU cost of the single-stream audio mixer (node-agent/media/audio/AudioMixer), driven frame by
 * frame (clock 'manual') with pre-encoded Opus RTP, so only the mixer's own work is measured:
 * parsing and jitter-buffering, Opus decode per source, mixing, limiter, Opus encode per distinct
 * mix, RTP packetizing. Prints JSON.
 *
 *   npx tsx bench/audio-mixer.ts [seconds=10] [repeats=3]
 *
 * Each source is speech-like (harmonics + noise, amplitude-modulated at syllable rate). Listener i
 * is participant i mod S (mix-minus: it hears every source but its own), so with more listeners
 * than sources several listeners share a mix and its encoder (`encoders` says how many ran).
 * cpuUsPerListenerPerSec = process CPU (user+system) / listeners / seconds of audio mixed;
 * coreShare = fraction of one core the whole mix takes in real time. Each figure is the minimum of
 * `repeats` runs (the best estimate of the intrinsic cost on a shared, loaded machine).
 *
 * `realTime` then runs 16 sources × 12 listeners for a few seconds on the mixers' own clocks, fed
 * every 20 ms, once in the calling thread (AudioMixer) and once in a worker (WorkerAudioMixer),
 * and reports the main thread's event-loop utilisation and delay (what the node's signaling and
 * REST API would feel).
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { AudioMixer } from '../node-agent/media/audio/AudioMixer.js';
import type { AudioMixerApi } from '../node-agent/media/audio/AudioMixerTypes.js';
import { WorkerAudioMixer } from '../node-agent/media/audio/WorkerAudioMixer.js';
import { OpusDecoder } from '../node-agent/media/audio/OpusDecoder.js';
import { OpusEncoder } from '../node-agent/media/audio/OpusEncoder.js';
import { writeRtp } from '../node-agent/media/audio/rtpPacket.js';

const SECONDS = Number(process.argv[2] ?? 10);
const REPEATS = Math.max(1, Number(process.argv[3] ?? 3));
const FRAME = 960;
const FRAMES = Math.round(SECONDS * 50);
const WARMUP = 50;
const SOURCE_COUNTS = [4, 8, 16];
const LISTENER_COUNTS = [1, 4, 12];

/** Pseudo-random but reproducible. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) / 2 ** 32) * 2 - 1;
  };
}

function speechLikeFrame(source: number, n: number, rand: () => number): Int16Array {
  const f0 = 110 + source * 23;
  const pcm = new Int16Array(FRAME);
  for (let i = 0; i < FRAME; i++) {
    const t = (n * FRAME + i) / 48_000;
    const env = 0.5 + 0.5 * Math.sin(2 * Math.PI * (3 + source * 0.3) * t); // syllables
    let v = 0;
    for (let h = 1; h <= 8; h++) v += Math.sin(2 * Math.PI * f0 * h * t) / h;
    v = 0.25 * env * (0.6 * v + 0.2 * rand());
    pcm[i] = Math.max(-32768, Math.min(32767, Math.round(v * 32767)));
  }
  return pcm;
}

/** Per source: all its RTP packets for the run (warm-up included). */
function encodeSources(count: number, frames: number): Buffer[][] {
  const out: Buffer[][] = [];
  for (let s = 0; s < count; s++) {
    const enc = new OpusEncoder({ sampleRate: 48_000, channels: 1, bitrate: 32_000, complexity: 9 });
    const rand = rng(s + 1);
    const pkts: Buffer[] = [];
    for (let n = 0; n < frames; n++) pkts.push(writeRtp(111, false, n & 0xffff, n * FRAME, 1000 + s, enc.encode(speechLikeFrame(s, n, rand), FRAME)));
    enc.close();
    out.push(pkts);
  }
  return out;
}

function cpuUs(): number {
  const c = process.cpuUsage();
  return c.user + c.system;
}

/** Raw codec cost per 20 ms mono frame at 48 kHz, µs. */
function codecFigures(): Record<string, number> {
  const all = Array.from({ length: REPEATS }, codecFiguresOnce);
  const out: Record<string, number> = {};
  for (const key of Object.keys(all[0]!)) out[key] = Math.min(...all.map((r) => r[key]!));
  return out;
}

function codecFiguresOnce(): Record<string, number> {
  const rand = rng(99);
  const frames = Array.from({ length: 500 }, (_, n) => speechLikeFrame(0, n, rand));
  const result: Record<string, number> = {};
  for (const complexity of [5, 9]) {
    const enc = new OpusEncoder({ sampleRate: 48_000, channels: 1, bitrate: 32_000, complexity });
    for (let i = 0; i < 100; i++) enc.encode(frames[i]!, FRAME);
    const pkts: Buffer[] = [];
    const t0 = cpuUs();
    for (const f of frames) pkts.push(enc.encode(f, FRAME));
    result[`encodeUsPerFrame_complexity${complexity}`] = round((cpuUs() - t0) / frames.length);
    enc.close();
    const dec = new OpusDecoder(48_000, 1);
    for (let i = 0; i < 100; i++) dec.decode(pkts[i]!);
    const t1 = cpuUs();
    for (const p of pkts) dec.decode(p);
    result[`decodeUsPerFrame_from_complexity${complexity}`] = round((cpuUs() - t1) / pkts.length);
    const t2 = cpuUs();
    for (let i = 0; i < 100; i++) dec.conceal(FRAME);
    result.concealUsPerFrame = round((cpuUs() - t2) / 100);
    dec.close();
  }
  return result;
}

function round(x: number, digits = 1): number {
  const m = 10 ** digits;
  return Math.round(x * m) / m;
}

const codec = codecFigures();
const packetsBySource = encodeSources(Math.max(...SOURCE_COUNTS), FRAMES + WARMUP);
const runs: Record<string, unknown>[] = [];

function runOnce(sources: number, listeners: number): Record<string, number> {
  const mixer = new AudioMixer({ clock: 'manual' });
  for (let s = 0; s < sources; s++) mixer.addSource(`s${s}`);
  let sent = 0;
  for (let l = 0; l < listeners; l++) {
    const self = `s${l % sources}`;
    mixer.addListener(`l${l}`, { payloadType: 111, ssrc: 5000 + l, includes: (id) => id !== self }, () => sent++);
  }
  const frame = (n: number) => {
    for (let s = 0; s < sources; s++) mixer.pushRtp(`s${s}`, packetsBySource[s]![n]!);
    mixer.tick();
  };
  for (let n = 0; n < WARMUP; n++) frame(n);
  const before = mixer.stats();
  const t0 = cpuUs();
  const w0 = performance.now();
  for (let n = WARMUP; n < WARMUP + FRAMES; n++) frame(n);
  const cpu = cpuUs() - t0;
  const wallMs = performance.now() - w0;
  const after = mixer.stats();
  mixer.close();
  if (sent !== listeners * (FRAMES + WARMUP)) throw new Error(`mixer sent ${sent} packets`);
  return {
    encoders: after.encoders,
    cpuUsPerListenerPerSec: round(cpu / listeners / SECONDS),
    cpuUsPerSec: round(cpu / SECONDS),
    coreShare: round(cpu / 1e6 / SECONDS, 4),
    meanFrameMs: round(wallMs / FRAMES, 3),
    decodeUs: round(((after.cpuMs.decode - before.cpuMs.decode) * 1000) / Math.max(1, after.decodes - before.decodes)),
    encodeUs: round(((after.cpuMs.encode - before.cpuMs.encode) * 1000) / Math.max(1, after.encodes - before.encodes)),
    concealed: after.concealed,
  };
}

for (const sources of SOURCE_COUNTS) {
  for (const listeners of LISTENER_COUNTS) {
    const all = Array.from({ length: REPEATS }, () => runOnce(sources, listeners));
    const best = all.reduce((a, b) => (b.cpuUsPerSec! < a.cpuUsPerSec! ? b : a));
    runs.push({ sources, listeners, ...best });
  }
}

async function realTime(kind: 'inThread' | 'worker', seconds: number): Promise<Record<string, number>> {
  const sources = 16;
  const listeners = 12;
  const mixer: AudioMixerApi = kind === 'worker' ? new WorkerAudioMixer() : new AudioMixer();
  for (let s = 0; s < sources; s++) mixer.addSource(`s${s}`);
  let sent = 0;
  for (let l = 0; l < listeners; l++) {
    const self = `s${l % sources}`;
    mixer.addListener(`l${l}`, { payloadType: 111, ssrc: 5000 + l, includes: (id) => id !== self }, () => sent++);
  }
  if (mixer instanceof WorkerAudioMixer) await mixer.settled();
  let n = 0;
  const total = packetsBySource[0]!.length;
  const feed = setInterval(() => {
    for (let s = 0; s < sources; s++) mixer.pushRtp(`s${s}`, packetsBySource[s]![n % total]!);
    n++;
  }, 20);
  await new Promise((r) => setTimeout(r, 500)); // settle
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const elu0 = performance.eventLoopUtilization();
  const sent0 = sent;
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const elu = performance.eventLoopUtilization(elu0);
  delay.disable();
  clearInterval(feed);
  const packetsPerSec = (sent - sent0) / seconds;
  mixer.close();
  return {
    mainThreadUtilisation: round(elu.utilization, 3),
    eventLoopDelayP50Ms: round(delay.percentile(50) / 1e6, 2),
    eventLoopDelayP99Ms: round(delay.percentile(99) / 1e6, 2),
    eventLoopDelayMaxMs: round(delay.max / 1e6, 2),
    packetsOutPerSec: round(packetsPerSec),
  };
}

const realTimeResults = {
  sources: 16,
  listeners: 12,
  inThread: await realTime('inThread', 4),
  worker: await realTime('worker', 4),
};

console.log(
  JSON.stringify(
    {
      library: 'opusscript 0.1.1 WebAssembly module (libopus 1.4) via node-agent/media/audio/opusscriptModule.ts',
      node: process.version,
      frameMs: 20,
      mixerDefaults: { bitrate: 32_000, complexity: 5, channels: 1 },
      secondsOfAudioPerRun: SECONDS,
      repeats: REPEATS,
      loadAverage: (await import('node:os')).loadavg().map((x) => round(x, 2)),
      codec,
      runs,
      realTime: realTimeResults,
    },
    null,
    2,
  ),
);
