import type { Logger } from 'pino';
import type { MixCodec } from '../../media/audio/AudioMixerTypes.js';
import { G711Encoder } from '../../media/audio/G711.js';
import { G722Encoder } from '../../media/audio/G722.js';
import { OpusEncoder } from '../../media/audio/OpusEncoder.js';
import { writeRtp } from '../../media/audio/rtpPacket.js';
import { PROMPT_RATE } from './prompts.js';

/** Where a prompt's RTP goes: a feed (DirectTransport producer) consumed by the phone's transport. */
export interface PromptSink {
  readonly payloadType: number;
  readonly ssrc: number;
  readonly mixCodec: MixCodec;
  send(rtp: Buffer): void;
}

const FRAME_MS = 20;
const FRAME = (PROMPT_RATE * FRAME_MS) / 1000;

/**
 * Plays prompts (48 kHz mono PCM) to one call in its codec, 20 ms a packet, paced on the clock
 * (frames due since the start, so a late timer catches up rather than drifts). A new prompt
 * replaces the one playing; sequence numbers and timestamps run on across prompts.
 */
export class PromptPlayer {
  private readonly encoder: { encode(pcm: Int16Array, samples: number): Buffer; close(): void };
  private readonly tsStep: number;
  private seq = Math.floor(Math.random() * 0x10000);
  private ts = Math.floor(Math.random() * 0x1_0000_0000);
  private timer: NodeJS.Timeout | null = null;
  private done: (() => void) | null = null;
  private closed = false;

  constructor(
    private readonly sink: PromptSink,
    private readonly log: Logger,
  ) {
    const codec = sink.mixCodec;
    this.encoder =
      codec === 'opus'
        ? new OpusEncoder({ sampleRate: PROMPT_RATE, channels: 1, bitrate: 32_000, complexity: 5 })
        : codec === 'g722'
          ? new G722Encoder(PROMPT_RATE, 1)
          : new G711Encoder(codec, PROMPT_RATE, 1);
    // RTP clock: Opus 48 kHz; G.711 8 kHz; G.722 8 kHz too (RFC 3551).
    this.tsStep = codec === 'opus' ? FRAME : (8_000 * FRAME_MS) / 1000;
  }

  /** Plays `pcm` from its start; resolves when it has been sent (or was replaced or stopped). */
  play(pcm: Int16Array): Promise<void> {
    this.stop();
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.done = resolve;
      const started = Date.now();
      let sent = 0;
      const frames = Math.ceil(pcm.length / FRAME);
      const tick = () => {
        const due = Math.min(frames, Math.floor((Date.now() - started) / FRAME_MS) + 1);
        try {
          for (; sent < due; sent++) {
            const frame = new Int16Array(FRAME);
            frame.set(pcm.subarray(sent * FRAME, Math.min(pcm.length, (sent + 1) * FRAME)));
            this.sink.send(writeRtp(this.sink.payloadType, sent === 0, this.seq, this.ts, this.sink.ssrc, this.encoder.encode(frame, FRAME)));
            this.seq = (this.seq + 1) & 0xffff;
            this.ts = (this.ts + this.tsStep) >>> 0;
          }
        } catch (err) {
          this.log.warn({ err }, 'prompt could not be played');
          sent = frames;
        }
        if (sent >= frames) this.stop();
      };
      this.timer = setInterval(tick, FRAME_MS);
      tick();
    });
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const done = this.done;
    this.done = null;
    done?.();
  }

  close(): void {
    this.stop();
    this.closed = true;
    this.encoder.close();
  }
}
