/*
 * Opus library: `opusscript` (libopus 1.4 compiled to WebAssembly by Emscripten; ~1.9 M weekly
 * npm downloads, MIT), chosen over the alternatives tried on this machine (Node 20, 2-core EPYC):
 *
 * - `@discordjs/opus` (native N-API, 0.10.0): ~1.5-2× faster, but it installs through
 *   node-pre-gyp, which first tries to download a prebuilt binary from GitHub and otherwise
 *   compiles libopus with node-gyp (1.5 min here), which in turn downloads Node's headers unless
 *   `--nodedir=/usr` is passed. It would need its install script allowed under npm 11 and a
 *   committed nodedir setting for every install: too fragile for `npm start` on a fresh clone.
 * - `@evan/opus` (1.0.3): fastest natively, no install script, but it ships prebuilt .node
 *   binaries of unverifiable origin (and an undocumented libopus version) from one author with a
 *   small user base.
 * - `opusscript`: no install script, no native build, runs wherever Node runs, and a libopus bug
 *   triggered by a hostile packet stays inside the WebAssembly sandbox (a trap is a catchable
 *   exception) instead of corrupting the node process. Measured: encode ~85-130 µs (complexity
 *   5-9), decode ~25-40 µs per 20 ms mono frame — about 2× native, affordable (bench/audio-mixer.ts).
 *
 * We use opusscript's WebAssembly module but NOT its JavaScript wrapper (index.js): the wrapper
 * caches typed-array views of the WebAssembly heap when an instance is built, and when the heap
 * grows (after ~160 live instances, or during a constructor) those views are detached: every
 * older instance then fails for good ("detached ArrayBuffer", or garbage "Bad argument" encodes,
 * reproduced here). The wrapper below reads the heap views at each call, so growth is harmless,
 * and shares one scratch area per thread. Its module exposes only what index.js uses: an encoder
 * + decoder pair per handler (`OpusScriptHandler`), samples passed one byte per 16-bit slot,
 * decoding into a 120 ms maximum frame (so a packet-loss concealment call yields more than a
 * frame: we keep the first) and no FEC decoding. If we ever need FEC, a raw libopus build is
 * the next step; OpusEncoder/OpusDecoder are the only users of this file.
 */
import { createRequire } from 'node:module';

export interface OpusScriptHandler {
  _encode(inputPtr: number, bytes: number, outputPtr: number, frameSize: number): number;
  _decode(inputPtr: number, bytes: number, outputPtr: number): number;
  _encoder_ctl(ctl: number, arg: number): number;
  _decoder_ctl(ctl: number, arg: number): number;
}

interface EmscriptenModule {
  OpusScriptHandler: {
    new (sampleRate: number, channels: number, application: number): OpusScriptHandler;
    destroy_handler(handler: OpusScriptHandler): void;
  };
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  /** Current heap views (Emscripten replaces them when the heap grows: never cache them). */
  HEAPU8: Uint8Array;
  HEAPU16: Uint16Array;
}

/** Largest frame libopus returns (120 ms at 48 kHz), per channel. */
export const MAX_FRAME_SAMPLES = 5760;
/** Largest Opus payload accepted (three maximum-size frames). */
export const MAX_OPUS_PAYLOAD = 1275 * 3;

export const OPUS_APPLICATION_AUDIO = 2049;

interface Scratch {
  /** PCM in: one byte of 16-bit PCM per 16-bit slot, and the handler reads up to twice as far. */
  pcmIn: number;
  /** PCM out: one byte per 16-bit slot. */
  pcmOut: number;
  /** Opus packet in or out. */
  packet: number;
}

let mod: EmscriptenModule | null = null;
let scratch: Scratch | null = null;

/** This thread's opusscript WebAssembly module (instantiated synchronously on first use). */
export function opusModule(): EmscriptenModule {
  if (!mod) {
    const require = createRequire(import.meta.url);
    const factory = require('opusscript/build/opusscript_native_wasm.js') as () => EmscriptenModule;
    mod = factory();
  }
  return mod;
}

/** Scratch buffers (stereo-sized) in the module's heap, shared by every encoder and decoder of this thread. */
export function opusScratch(): Scratch {
  if (!scratch) {
    const m = opusModule();
    const pcmBytes = MAX_FRAME_SAMPLES * 2 * 2; // stereo 16-bit
    scratch = {
      pcmIn: m._malloc(pcmBytes * 2 * 2),
      pcmOut: m._malloc(pcmBytes * 2),
      packet: m._malloc(4096),
    };
  }
  return scratch;
}

/** Writes 16-bit PCM into the heap the way the handler reads it (one byte per 16-bit slot). */
export function writePcm(m: EmscriptenModule, ptr: number, pcm: Int16Array, samples: number): number {
  const bytes = new Uint8Array(pcm.buffer, pcm.byteOffset, samples * 2);
  m.HEAPU16.set(bytes, ptr >> 1);
  return bytes.length;
}

/** Reads `samples` 16-bit samples the handler wrote one byte per 16-bit slot. */
export function readPcm(m: EmscriptenModule, ptr: number, samples: number, out: Int16Array): void {
  const h = m.HEAPU16;
  let p = ptr >> 1;
  for (let i = 0; i < samples; i++, p += 2) out[i] = ((h[p + 1]! << 24) | (h[p]! << 16)) >> 16;
}
