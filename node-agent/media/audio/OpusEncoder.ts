import OpusScript from 'opusscript';

// Library choice (opusscript, WebAssembly libopus 1.4) and its measured cost: see OpusDecoder.ts.

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
  private handle: OpusScript | null;
  readonly channels: 1 | 2;

  constructor(opts: OpusEncoderOptions) {
    this.channels = opts.channels;
    const handle = new OpusScript(opts.sampleRate, opts.channels, OpusScript.Application.AUDIO);
    try {
      handle.encoderCTL(CTL_SET_BITRATE, Math.round(opts.bitrate));
      handle.encoderCTL(CTL_SET_COMPLEXITY, Math.max(0, Math.min(10, Math.round(opts.complexity))));
      handle.encoderCTL(CTL_SET_INBAND_FEC, 0);
      handle.encoderCTL(CTL_SET_DTX, 0);
    } catch (err) {
      handle.delete();
      throw err;
    }
    this.handle = handle;
  }

  /** One Opus packet for `pcm` (samplesPerChannel × channels interleaved samples). */
  encode(pcm: Int16Array, samplesPerChannel: number): Buffer {
    if (!this.handle) throw new Error('encoder closed');
    // opusscript reads the bytes of a Buffer (little-endian 16-bit, which Int16Array is here).
    return this.handle.encode(Buffer.from(pcm.buffer, pcm.byteOffset, samplesPerChannel * this.channels * 2), samplesPerChannel);
  }

  close(): void {
    if (!this.handle) return;
    try {
      this.handle.delete();
    } catch {
      /* already gone with its WebAssembly module */
    }
    this.handle = null;
  }
}
