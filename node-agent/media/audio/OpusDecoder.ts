// Library choice (opusscript's WebAssembly libopus 1.4, through our own heap-growth-safe wrapper)
// and its measured cost: see opusscriptModule.ts.
import { MAX_OPUS_PAYLOAD, OPUS_APPLICATION_AUDIO, opusModule, opusScratch, readPcm, type OpusScriptHandler } from './opusscriptModule.js';

export { MAX_OPUS_PAYLOAD } from './opusscriptModule.js';

/** Decodes one source's Opus packets to interleaved 16-bit PCM. */
export class OpusDecoder {
  private handle: OpusScriptHandler | null;

  constructor(
    readonly sampleRate: 8000 | 12000 | 16000 | 24000 | 48000,
    readonly channels: 1 | 2,
  ) {
    this.handle = new (opusModule().OpusScriptHandler)(sampleRate, channels, OPUS_APPLICATION_AUDIO);
  }

  /** PCM of one packet (all its frames), a new array. Throws on a corrupt packet (libopus error). */
  decode(payload: Uint8Array): Int16Array {
    if (payload.length === 0 || payload.length > MAX_OPUS_PAYLOAD) throw new Error('bad Opus payload size');
    const m = opusModule();
    const s = opusScratch();
    m.HEAPU8.set(payload, s.packet);
    return this.run(s.packet, payload.length, Infinity);
  }

  /** Packet-loss concealment: the next `samples` per channel continuing the last decoded audio. */
  conceal(samples: number): Int16Array {
    return this.run(opusScratch().packet, 0, samples);
  }

  close(): void {
    if (!this.handle) return;
    try {
      opusModule().OpusScriptHandler.destroy_handler(this.handle);
    } catch {
      /* nothing more to free */
    }
    this.handle = null;
  }

  private run(packetPtr: number, bytes: number, keepSamples: number): Int16Array {
    if (!this.handle) throw new Error('decoder closed');
    const m = opusModule();
    const s = opusScratch();
    const n = this.handle._decode(packetPtr, bytes, s.pcmOut);
    if (n < 0) throw new Error(`Opus decode error ${n}`);
    const samples = Math.min(n, keepSamples) * this.channels;
    const out = new Int16Array(Number.isFinite(keepSamples) ? keepSamples * this.channels : samples);
    readPcm(m, s.pcmOut, samples, out);
    return out;
  }
}
