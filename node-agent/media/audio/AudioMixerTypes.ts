import type { EventEmitter } from 'node:events';
import type { Logger } from 'pino';

/** Opus sampling rates libopus accepts. RTP's Opus clock is 48 kHz whatever this is (RFC 7587). */
export type OpusSampleRate = 8000 | 12000 | 16000 | 24000 | 48000;

/** Opus frame durations (ms) the mixer can run at. */
export type MixFrameMs = 10 | 20 | 40 | 60;

export interface AudioMixerOptions {
  /** Frame length: one mixed packet per listener per frame. Default 20 (ms). */
  frameMs?: MixFrameMs;
  /** Sampling rate the mix is decoded, summed and encoded at. Default 48000. */
  sampleRate?: OpusSampleRate;
  /** Channels of the mix (sources are down/up-mixed by their decoder). Default 1 (mono). */
  channels?: 1 | 2;
  /** Opus bitrate of each mixed stream, bit/s. Default 32000. */
  bitrate?: number;
  /** Opus encoder complexity 0-10 (CPU versus quality). Default 5. */
  complexity?: number;
  /** Audio a source's jitter buffer holds before playout starts (and after an underrun). Default 40 (ms). */
  jitterTargetMs?: number;
  /** Most audio a source's jitter buffer holds; older packets are dropped beyond it. Default 200 (ms). */
  maxJitterMs?: number;
  /** 'timer': the mixer runs its own drift-corrected, unref'd frame clock from construction;
   * 'manual': nothing runs until the owner calls tick() (tests, benchmarks, a worker). Default 'timer'. */
  clock?: 'timer' | 'manual';
  /** Logger (debug: dropped packets and send failures, rate-limited; a pino Logger fits). Default: none. */
  log?: Pick<Logger, 'debug' | 'warn'>;
}

/** What a source sends or a listener receives: Opus (48 kHz RTP clock) or G.711 (8 kHz). */
export type MixCodec = 'opus' | 'pcmu' | 'pcma' | 'g722';
/** The telephone codecs the mixer transcodes to and from (RTP clock 8000). */
export type NarrowCodec = Exclude<MixCodec, 'opus'>;

export interface MixSourceOptions {
  /** The source's codec. Default 'opus'. */
  codec?: MixCodec;
  /** Only RTP packets with this payload type are decoded (drops DTMF/CN sharing the SSRC).
   * Default: the payload type of the first packet is learnt (and re-learnt if it changes for good). */
  payloadType?: number;
}

export interface MixListenerOptions {
  /** RTP payload type the listener negotiated for its codec. */
  payloadType: number;
  /** The listener's codec. Default 'opus'. */
  codec?: MixCodec;
  /** SSRC to send with. */
  ssrc: number;
  /** Which sources this listener hears (mix-minus: never its own id; Virtual Auditorium Guests:
   * Hosts only). Re-evaluated each frame; a throw counts as false. */
  includes: (sourceId: string) => boolean;
  /** First RTP sequence number. Default: random. */
  initialSeq?: number;
  /** First RTP timestamp. Default: random. */
  initialTimestamp?: number;
}

/** What updateListener() can change (sequence numbers and timestamps always continue). */
export type MixListenerUpdate = Partial<Pick<MixListenerOptions, 'payloadType' | 'ssrc' | 'includes'>>;

export interface AudioMixerStats {
  /** Frames mixed since construction. */
  frames: number;
  /** Frames not produced because the process stalled for more than the catch-up limit. */
  skippedFrames: number;
  /** Frames whose mixing took longer than a frame's duration. */
  overruns: number;
  sources: number;
  listeners: number;
  /** Opus encoders running (listeners hearing the same sources share one). */
  encoders: number;
  /** RTP packets given to pushRtp(). */
  packetsIn: number;
  /** Packets dropped, by reason. */
  dropped: {
    /** Not RTP, RTCP, empty or oversized payload, unknown source. */
    malformed: number;
    /** Not the source's Opus payload type (DTMF, comfort noise...). */
    payloadType: number;
    /** Arrived after their playout time. */
    late: number;
    duplicate: number;
    /** Pushed out of a full jitter buffer, or dropped to bring its delay back down. */
    overflow: number;
  };
  /** Jitter buffers restarted (new SSRC, sequence or timestamp jump). */
  resyncs: number;
  decodes: number;
  decodeErrors: number;
  /** Frames concealed (Opus PLC) for lost, late or corrupt packets. */
  concealed: number;
  encodes: number;
  encodeErrors: number;
  /** Frames sent as the constant Opus silence packet instead of being encoded. */
  silenceFrames: number;
  packetsOut: number;
  sendErrors: number;
  /** Time spent (ms, wall clock of synchronous work ≈ CPU) decoding, encoding, and in the whole tick. */
  cpuMs: { decode: number; encode: number; tick: number };
  /** Mean time of one Opus decode / encode of a frame, µs. */
  decodeUs: number;
  encodeUs: number;
  /** WorkerAudioMixer only: times its worker died and was restarted. */
  workerRestarts?: number;
}

export interface AudioMixerEvents {
  /** A frame took longer to mix than its duration (CPU starved); at most once a second. */
  overload: [info: { tickMs: number; frameMs: number }];
  /** A listener's send callback threw (emitted the first time for each listener; all are counted). */
  senderror: [listenerId: string, error: unknown];
  /** close() was called. */
  close: [];
}

/** The public surface AudioMixer (on the calling thread) and WorkerAudioMixer (in a worker
 * thread) share; code against this to choose either. */
export interface AudioMixerApi {
  readonly observer: EventEmitter<AudioMixerEvents>;
  readonly isClosed: boolean;
  addSource(sourceId: string, opts?: MixSourceOptions): void;
  removeSource(sourceId: string): void;
  /** A whole RTP packet carrying Opus from a source. Malformed packets are dropped, never thrown. */
  pushRtp(sourceId: string, rtp: Buffer): void;
  /** `send` is called once per frame with a whole RTP packet the mixer does not touch again. */
  addListener(listenerId: string, opts: MixListenerOptions, send: (rtp: Buffer) => void): void;
  updateListener(listenerId: string, update: MixListenerUpdate): void;
  removeListener(listenerId: string): void;
  /** Per-source level of the last frame, dBov (-127: silent). WorkerAudioMixer: as of ≤ 100 ms ago. */
  levels(): Map<string, number>;
  /** WorkerAudioMixer: the worker's counters as of ≤ 500 ms ago, with sends counted here. */
  stats(): AudioMixerStats;
  /** Mixes `frames` frames now (clock 'manual'). */
  tick(frames?: number): void;
  close(): void;
}
