// Library choice (opusscript's WebAssembly libopus 1.4, through our own heap-growth-safe wrapper)
// and its measured cost: see opusscriptModule.ts.
import { OPUS_APPLICATION_AUDIO, opusModule, opusScratch, writePcm, type OpusScriptHandler } from './opusscriptModule.js';

const CTL_SET_BITRATE = 4002;
const CTL_SET_COMPLEXITY = 4010;
const CTL_SET_INBAND_FEC = 4012;
const CTL_SET_DTX = 4016;

export interface OpusEncoderOptions {
  sampleRate: 8000 | 12000 | 16000 | 24000 | 48000;
  channels: 1 | 2;
  /** bit/s */
  bitrate: number;
  /** 0-10 */
  complexity: number;
}

/** Encodes interleaved 16-bit PCM frames to Opus (FEC and DTX off: the mixer sends its own silence). */
export class OpusEncoder {
  private handle: OpusScriptHandler | null;
  readonly channels: 1 | 2;

  constructor(opts: OpusEncoderOptions) {
    this.channels = opts.channels;
    const m = opusModule();
    const handle = new m.OpusScriptHandler(opts.sampleRate, opts.channels, OPUS_APPLICATION_AUDIO);
    const ctls: [number, number][] = [
      [CTL_SET_BITRATE, Math.round(opts.bitrate)],
      [CTL_SET_COMPLEXITY, Math.max(0, Math.min(10, Math.round(opts.complexity)))],
      [CTL_SET_INBAND_FEC, 0],
      [CTL_SET_DTX, 0],
    ];
    for (const [ctl, value] of ctls) {
      const rc = handle._encoder_ctl(ctl, value);
      if (rc < 0) {
        m.OpusScriptHandler.destroy_handler(handle);
        throw new Error(`Opus encoder ctl ${ctl}=${value} failed: ${rc}`);
      }
    }
    this.handle = handle;
  }

  /** One Opus packet (a new Buffer) for `pcm` (samplesPerChannel × channels interleaved samples). */
  encode(pcm: Int16Array, samplesPerChannel: number): Buffer {
    if (!this.handle) throw new Error('encoder closed');
    const m = opusModule();
    const s = opusScratch();
    const bytes = writePcm(m, s.pcmIn, pcm, samplesPerChannel * this.channels);
    const n = this.handle._encode(s.pcmIn, bytes, s.packet, samplesPerChannel);
    if (n < 0) throw new Error(`Opus encode error ${n}`);
    return Buffer.from(m.HEAPU8.subarray(s.packet, s.packet + n));
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
}
