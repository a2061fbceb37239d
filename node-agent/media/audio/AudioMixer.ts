import { EventEmitter } from 'node:events';
import { randomInt } from 'node:crypto';
import type {
  AudioMixerApi,
  AudioMixerEvents,
  AudioMixerOptions,
  AudioMixerStats,
  MixFrameMs,
  MixCodec,
  NarrowCodec,
  MixListenerOptions,
  MixListenerUpdate,
  MixSourceOptions,
  OpusSampleRate,
} from './AudioMixerTypes.js';
import { MixSource, type MixSourceTimings } from './MixSource.js';
import { MAX_OPUS_PAYLOAD } from './OpusDecoder.js';
import { G711_RATE, G711Encoder } from './G711.js';
import { G722_RATE, G722Encoder } from './G722.js';
import { OpusEncoder } from './OpusEncoder.js';
import { parseRtp, writeRtp } from './rtpPacket.js';

/** RTP clock of Opus, whatever the sampling rate (RFC 7587). */
const RTP_CLOCK = 48_000;
/** Most frames produced at once to catch up after a late timer; beyond, frames are skipped. */
const MAX_CATCH_UP_FRAMES = 5;
/** Silent frames a group still encodes (zeros, so its encoder decays cleanly) before it switches
 * to the constant Opus silence packet. */
const ENCODED_SILENCE_FRAMES = 5;
/** Limiter ceiling (≈ -0.2 dBFS) and release per frame (≈ 0.4 dB). */
const LIMIT = 32_112;
const RELEASE = 1.05;
const VALID_FRAME_MS: readonly number[] = [10, 20, 40, 60];
const VALID_RATES: readonly number[] = [8000, 12000, 16000, 24000, 48000];

interface Listener {
  readonly id: string;
  payloadType: number;
  readonly codec: MixCodec;
  /** RTP timestamp units per frame (the codec's clock). */
  readonly tsStep: number;
  ssrc: number;
  includes: (sourceId: string) => boolean;
  readonly send: (rtp: Buffer) => void;
  seq: number;
  ts: number;
  group: Group | null;
  marker: boolean;
  sendFailed: boolean;
  includesFailed: boolean;
}

/** Listeners hearing exactly the same sources share one encoder and one encoded frame. */
interface Group {
  key: string;
  members: Set<MixSource>;
  readonly listeners: Set<Listener>;
  /** Listeners of one group share a codec (it is part of the key). */
  readonly codec: MixCodec;
  encoder: OpusEncoder | G711Encoder | G722Encoder | null;
  gain: number;
  silentRun: number;
}

/**
 * Mix-minus audio for single-stream call legs: every frame (20 ms by default) it decodes each
 * source's next Opus frame from its jitter buffer, sums for each listener the sources that
 * listener hears (the total is computed once and the few excluded sources subtracted when that is
 * cheaper), limits, encodes Opus and sends one RTP packet with the listener's payload type, SSRC
 * and continuous sequence numbers and timestamps. Listeners hearing the same set of sources share
 * an encoder. A listener that hears nobody still gets a packet every frame (silence), so its track
 * stays live.
 *
 * pushRtp() and the frame clock never throw: bad input is counted in stats() and logged at debug.
 * No mediasoup dependency: the owner wires sources (e.g. a DirectTransport consumer's 'rtp') and
 * listeners' send (e.g. a DirectTransport producer's send()).
 */
export class AudioMixer implements AudioMixerApi {
  /** Typed events (a separate emitter, as mediasoup's `observer`: addListener/removeListener here
   * are the mixer's own). Handlers that throw are caught. */
  readonly observer = new EventEmitter<AudioMixerEvents>();
  readonly frameMs: MixFrameMs;
  readonly sampleRate: OpusSampleRate;
  readonly channels: 1 | 2;
  private readonly samplesPerFrame: number;
  private readonly frameLen: number;
  private readonly tsStep: number;
  private readonly bitrate: number;
  private readonly complexity: number;
  private readonly jitterTarget: number;
  private readonly jitterMax: number;
  private readonly log: AudioMixerOptions['log'];
  private readonly sources = new Map<string, MixSource>();
  private readonly listenersById = new Map<string, Listener>();
  private readonly groups = new Map<string, Group>();
  private nextSerial = 1;
  private readonly silencePacket: Buffer;
  private readonly narrowSilencePackets = new Map<NarrowCodec, Buffer>();
  private readonly total: Int32Array;
  private readonly acc: Int32Array;
  private readonly out: Int16Array;
  private readonly active: MixSource[] = [];
  private readonly included: MixSource[] = [];
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private clockStart = 0;
  private clockFrames = 0;
  private lastOverloadEmit = -Infinity;
  private readonly logTimes = new Map<string, number>();
  private readonly timings: MixSourceTimings = { decodes: 0, decodeErrors: 0, concealed: 0, decodeMs: 0 };
  private readonly counts = {
    frames: 0,
    skippedFrames: 0,
    overruns: 0,
    packetsIn: 0,
    malformed: 0,
    payloadType: 0,
    late: 0,
    duplicate: 0,
    overflow: 0,
    resyncs: 0,
    encodes: 0,
    encodeErrors: 0,
    silenceFrames: 0,
    packetsOut: 0,
    sendErrors: 0,
    encodeMs: 0,
    tickMs: 0,
  };

  constructor(opts: AudioMixerOptions = {}) {
    const frameMs = opts.frameMs ?? 20;
    const sampleRate = opts.sampleRate ?? 48_000;
    const channels = opts.channels ?? 1;
    if (!VALID_FRAME_MS.includes(frameMs)) throw new TypeError(`frameMs must be one of ${VALID_FRAME_MS.join(', ')}`);
    if (!VALID_RATES.includes(sampleRate)) throw new TypeError(`sampleRate must be one of ${VALID_RATES.join(', ')}`);
    if (channels !== 1 && channels !== 2) throw new TypeError('channels must be 1 or 2');
    this.frameMs = frameMs;
    this.sampleRate = sampleRate;
    this.channels = channels;
    this.samplesPerFrame = (sampleRate / 1000) * frameMs;
    this.frameLen = this.samplesPerFrame * channels;
    this.tsStep = (RTP_CLOCK / 1000) * frameMs;
    this.bitrate = opts.bitrate ?? 32_000;
    this.complexity = opts.complexity ?? 5;
    this.jitterTarget = Math.max(1, Math.round((opts.jitterTargetMs ?? 40) / frameMs));
    this.jitterMax = Math.max(this.jitterTarget + 1, Math.ceil((opts.maxJitterMs ?? 200) / frameMs));
    this.log = opts.log;
    this.total = new Int32Array(this.frameLen);
    this.acc = new Int32Array(this.frameLen);
    this.out = new Int16Array(this.frameLen);
    this.silencePacket = this.makeSilencePacket();
    if ((opts.clock ?? 'timer') === 'timer') this.startClock();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  addSource(sourceId: string, opts: MixSourceOptions = {}): void {
    this.assertOpen();
    if (this.sources.has(sourceId)) throw new Error(`audio source ${sourceId} already exists`);
    this.sources.set(
      sourceId,
      new MixSource(
        sourceId,
        this.nextSerial++,
        opts.payloadType,
        this.sampleRate,
        this.channels,
        this.frameLen,
        this.jitterTarget,
        this.jitterMax,
        checkCodec(opts.codec, this.sampleRate),
      ),
    );
  }

  removeSource(sourceId: string): void {
    const source = this.sources.get(sourceId);
    if (!source) return;
    this.sources.delete(sourceId);
    source.close();
    // Groups re-key on the next frame; meanwhile none may mix a closed source.
    for (const group of this.groups.values()) group.members.delete(source);
  }

  /** A whole RTP packet carrying Opus (any payload type) from a source. Malformed packets are
   * dropped and counted, never thrown. */
  pushRtp(sourceId: string, rtp: Buffer): void {
    try {
      this.counts.packetsIn++;
      const source = this.sources.get(sourceId);
      const parsed = source ? parseRtp(rtp) : null;
      if (!source || !parsed || parsed.payload.length > MAX_OPUS_PAYLOAD) {
        this.counts.malformed++;
        this.debug(
          `malformed:${sourceId}`,
          { sourceId, known: !!source, bytes: Buffer.isBuffer(rtp) ? rtp.length : -1 },
          'audio mixer dropped a malformed packet',
        );
        return;
      }
      const result = source.push(parsed);
      if (result !== 'ok') {
        if (result === 'resync') this.counts.resyncs++;
        else this.counts[result]++;
      }
    } catch (err) {
      this.counts.malformed++;
      this.debug(`malformed:${sourceId}`, { sourceId, err }, 'audio mixer dropped a packet');
    }
  }

  addListener(listenerId: string, opts: MixListenerOptions, send: (rtp: Buffer) => void): void {
    this.assertOpen();
    if (this.listenersById.has(listenerId)) throw new Error(`audio listener ${listenerId} already exists`);
    if (typeof send !== 'function' || typeof opts.includes !== 'function') throw new TypeError('send and includes must be functions');
    const codec = checkCodec(opts.codec, this.sampleRate);
    this.listenersById.set(listenerId, {
      id: listenerId,
      payloadType: checkPt(opts.payloadType),
      codec,
      // G.711 and G.722 both count an 8000 Hz RTP clock (RFC 3551; G.722 samples at 16 kHz all the same).
      tsStep: codec === 'opus' ? this.tsStep : (G711_RATE / 1000) * this.frameMs,
      ssrc: opts.ssrc >>> 0,
      includes: opts.includes,
      send,
      seq: (opts.initialSeq ?? randomInt(0, 0x10000)) & 0xffff,
      ts: (opts.initialTimestamp ?? randomInt(0, 2 ** 32 - 1)) >>> 0,
      group: null,
      marker: true,
      sendFailed: false,
      includesFailed: false,
    });
  }

  updateListener(listenerId: string, update: MixListenerUpdate): void {
    const listener = this.listenersById.get(listenerId);
    if (!listener) throw new Error(`audio listener ${listenerId} not found`);
    if (update.payloadType !== undefined) listener.payloadType = checkPt(update.payloadType);
    if (update.ssrc !== undefined) listener.ssrc = update.ssrc >>> 0;
    if (update.includes !== undefined) listener.includes = update.includes;
  }

  removeListener(listenerId: string): void {
    const listener = this.listenersById.get(listenerId);
    if (!listener) return;
    this.listenersById.delete(listenerId);
    this.detach(listener);
  }

  /** Per-source audio level of the last frame, dBov (-127 when silent or not sending). */
  levels(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [id, source] of this.sources) out.set(id, source.level);
    return out;
  }

  stats(): AudioMixerStats {
    const c = this.counts;
    const t = this.timings;
    return {
      frames: c.frames,
      skippedFrames: c.skippedFrames,
      overruns: c.overruns,
      sources: this.sources.size,
      listeners: this.listenersById.size,
      encoders: [...this.groups.values()].filter((g) => g.encoder).length,
      packetsIn: c.packetsIn,
      dropped: { malformed: c.malformed, payloadType: c.payloadType, late: c.late, duplicate: c.duplicate, overflow: c.overflow },
      resyncs: c.resyncs,
      decodes: t.decodes,
      decodeErrors: t.decodeErrors,
      concealed: t.concealed,
      encodes: c.encodes,
      encodeErrors: c.encodeErrors,
      silenceFrames: c.silenceFrames,
      packetsOut: c.packetsOut,
      sendErrors: c.sendErrors,
      cpuMs: { decode: round3(t.decodeMs), encode: round3(c.encodeMs), tick: round3(c.tickMs) },
      decodeUs: t.decodes + t.concealed > 0 ? round3((t.decodeMs * 1000) / (t.decodes + t.concealed)) : 0,
      encodeUs: c.encodes > 0 ? round3((c.encodeMs * 1000) / c.encodes) : 0,
    };
  }

  /**
   * Mixes and sends `frames` frames now. With clock 'manual' this is the only way frames are made
   * (tests, benchmarks, a worker with its own clock); with 'timer' the mixer calls it itself.
   * Never throws.
   */
  tick(frames = 1): void {
    for (let i = 0; i < frames && !this.closed; i++) {
      try {
        this.mixFrame();
      } catch (err) {
        this.debug('tick', { err }, 'audio mixer frame failed');
      }
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const group of this.groups.values()) group.encoder?.close();
    this.groups.clear();
    for (const source of this.sources.values()) source.close();
    this.sources.clear();
    this.listenersById.clear();
    try {
      this.observer.emit('close');
    } catch (err) {
      this.debug('close', { err }, 'audio mixer close handler threw');
    }
  }

  // ---------------------------------------------------------------------------------------------

  private mixFrame(): void {
    const t0 = performance.now();
    const active = this.active;
    active.length = 0;
    for (const source of this.sources.values()) {
      source.pull(this.timings);
      if (source.active) active.push(source);
    }
    for (const listener of this.listenersById.values()) this.regroup(listener);

    let totalReady = false;
    for (const group of this.groups.values()) {
      if (this.closed) return;
      const included = this.included;
      included.length = 0;
      for (const source of active) if (group.members.has(source)) included.push(source);

      let audible = false;
      if (included.length > 0) {
        const excluded = active.length - included.length;
        if (included.length > 2 && excluded < included.length - 1) {
          if (!totalReady) {
            sumInto(this.total, active);
            totalReady = true;
          }
          this.acc.set(this.total);
          for (const source of active) if (!group.members.has(source)) subtractFrom(this.acc, source.frame);
        } else {
          sumInto(this.acc, included);
        }
        audible = this.limit(group);
      }

      let payload: Buffer;
      let marker = false;
      if (audible) {
        if (group.silentRun > ENCODED_SILENCE_FRAMES) marker = true;
        group.silentRun = 0;
        payload = this.encode(group, this.out);
      } else {
        group.silentRun++;
        group.gain = 1;
        if (group.encoder && group.silentRun <= ENCODED_SILENCE_FRAMES) {
          this.out.fill(0);
          payload = this.encode(group, this.out);
        } else {
          payload = group.codec === 'opus' ? this.silencePacket : this.narrowSilence(group.codec);
          this.counts.silenceFrames++;
        }
      }

      for (const listener of group.listeners) {
        if (this.closed) return;
        this.sendTo(listener, payload, marker);
      }
    }
    this.counts.frames++;
    const took = performance.now() - t0;
    this.counts.tickMs += took;
    if (took > this.frameMs) {
      this.counts.overruns++;
      if (t0 - this.lastOverloadEmit >= 1000) {
        this.lastOverloadEmit = t0;
        try {
          this.observer.emit('overload', { tickMs: took, frameMs: this.frameMs });
        } catch (err) {
          this.debug('overload', { err }, 'audio mixer overload handler threw');
        }
      }
    }
  }

  /** Applies the group's limiter to `acc` into `out`; false when the mix is digital silence. */
  private limit(group: Group): boolean {
    const acc = this.acc;
    const out = this.out;
    let peak = 0;
    for (let i = 0; i < acc.length; i++) {
      const v = acc[i]!;
      const a = v < 0 ? -v : v;
      if (a > peak) peak = a;
    }
    if (peak === 0) return false;
    const target = peak > LIMIT ? LIMIT / peak : 1;
    const from = group.gain;
    let to: number;
    if (target < from) {
      to = target; // attack at once
      group.gain = to;
      for (let i = 0; i < acc.length; i++) out[i] = clamp16(acc[i]! * to);
      return true;
    }
    to = Math.min(target, from * RELEASE);
    group.gain = to;
    if (from === 1 && to === 1) {
      for (let i = 0; i < acc.length; i++) out[i] = clamp16(acc[i]!);
      return true;
    }
    const step = (to - from) / acc.length;
    let g = from;
    for (let i = 0; i < acc.length; i++) {
      g += step;
      out[i] = clamp16(acc[i]! * g);
    }
    return true;
  }

  private encode(group: Group, pcm: Int16Array): Buffer {
    const t0 = performance.now();
    try {
      group.encoder ??=
        group.codec === 'opus'
          ? new OpusEncoder({ sampleRate: this.sampleRate, channels: this.channels, bitrate: this.bitrate, complexity: this.complexity })
          : group.codec === 'g722'
            ? new G722Encoder(this.sampleRate, this.channels)
            : new G711Encoder(group.codec, this.sampleRate, this.channels);
      const payload = group.encoder.encode(pcm, this.samplesPerFrame);
      this.counts.encodes++;
      return payload;
    } catch (err) {
      this.counts.encodeErrors++;
      this.debug('encode', { err }, 'audio mixer encode failed');
      return group.codec === 'opus' ? this.silencePacket : this.narrowSilence(group.codec);
    } finally {
      this.counts.encodeMs += performance.now() - t0;
    }
  }

  private sendTo(listener: Listener, payload: Buffer, marker: boolean): void {
    const rtp = writeRtp(listener.payloadType, marker || listener.marker, listener.seq, listener.ts, listener.ssrc, payload);
    listener.marker = false;
    listener.seq = (listener.seq + 1) & 0xffff;
    listener.ts = (listener.ts + listener.tsStep) >>> 0;
    try {
      listener.send(rtp);
      this.counts.packetsOut++;
    } catch (err) {
      this.counts.sendErrors++;
      this.debug(`send:${listener.id}`, { listenerId: listener.id, err }, 'audio mixer send failed');
      if (!listener.sendFailed) {
        listener.sendFailed = true;
        try {
          this.observer.emit('senderror', listener.id, err);
        } catch (e) {
          this.debug('senderror', { err: e }, 'audio mixer senderror handler threw');
        }
      }
    }
  }

  /** Puts the listener in the group for the sources it hears now. */
  private regroup(listener: Listener): void {
    const included = this.included;
    included.length = 0;
    let key = `${listener.codec}:`;
    for (const source of this.sources.values()) {
      let hears = false;
      try {
        hears = listener.includes(source.id) === true;
      } catch (err) {
        if (!listener.includesFailed) {
          listener.includesFailed = true;
          this.debug(`includes:${listener.id}`, { listenerId: listener.id, err }, 'audio mixer includes() threw');
        }
      }
      if (hears) {
        included.push(source);
        key += `${source.serial},`;
      }
    }
    const old = listener.group;
    if (old && old.key === key) return;
    const existing = this.groups.get(key);
    if (existing) {
      this.detach(listener);
      existing.listeners.add(listener);
      listener.group = existing;
      return;
    }
    if (old && old.listeners.size === 1) {
      // Alone in its group: re-key it and keep its encoder, so the listener's stream stays continuous.
      this.groups.delete(old.key);
      old.key = key;
      old.members = new Set(included);
      this.groups.set(key, old);
      return;
    }
    this.detach(listener);
    const group: Group = { key, members: new Set(included), listeners: new Set([listener]), codec: listener.codec, encoder: null, gain: 1, silentRun: 0 };
    this.groups.set(key, group);
    listener.group = group;
  }

  private detach(listener: Listener): void {
    const group = listener.group;
    if (!group) return;
    listener.group = null;
    group.listeners.delete(listener);
    if (group.listeners.size === 0) {
      group.encoder?.close();
      group.encoder = null;
      if (this.groups.get(group.key) === group) this.groups.delete(group.key);
    }
  }

  /** A G.711 frame of digital silence (one constant byte per sample). */
  private narrowSilence(codec: NarrowCodec): Buffer {
    let packet = this.narrowSilencePackets.get(codec);
    if (!packet) {
      const encoder = codec === 'g722' ? new G722Encoder(this.sampleRate, this.channels) : new G711Encoder(codec, this.sampleRate, this.channels);
      packet = encoder.silence(this.samplesPerFrame);
      this.narrowSilencePackets.set(codec, packet);
    }
    return packet;
  }

  /** The encoder's output for digital silence once it has settled (0xF8 0xFF 0xFE at 48 kHz mono, 20 ms). */
  private makeSilencePacket(): Buffer {
    const encoder = new OpusEncoder({ sampleRate: this.sampleRate, channels: this.channels, bitrate: this.bitrate, complexity: this.complexity });
    try {
      const zeros = new Int16Array(this.frameLen);
      let packet: Buffer = Buffer.alloc(0);
      for (let i = 0; i < 10; i++) packet = encoder.encode(zeros, this.samplesPerFrame);
      return Buffer.from(packet);
    } finally {
      encoder.close();
    }
  }

  private startClock(): void {
    this.clockStart = performance.now();
    this.clockFrames = 0;
    this.schedule();
  }

  private schedule(): void {
    if (this.closed) return;
    const due = this.clockStart + (this.clockFrames + 1) * this.frameMs;
    this.timer = setTimeout(this.onTimer, Math.max(0, due - performance.now()));
    this.timer.unref();
  }

  /** Drift-corrected clock: frames are due at start + n × frameMs, however late each timer fires. */
  private readonly onTimer = (): void => {
    this.timer = undefined;
    if (this.closed) return;
    try {
      let due = Math.floor((performance.now() - this.clockStart) / this.frameMs) - this.clockFrames;
      if (due > MAX_CATCH_UP_FRAMES) {
        const skip = due - 1;
        this.skipFrames(skip);
        this.clockFrames += skip;
        due = 1;
      }
      for (let i = 0; i < due && !this.closed; i++) {
        this.tick();
        this.clockFrames++;
      }
    } catch (err) {
      this.debug('clock', { err }, 'audio mixer clock failed');
    }
    this.schedule();
  };

  /** The process stalled: keep timestamps on real time and bring jitter buffers back to target. */
  private skipFrames(frames: number): void {
    this.counts.skippedFrames += frames;
    for (const listener of this.listenersById.values()) listener.ts = (listener.ts + frames * listener.tsStep) >>> 0;
    for (const source of this.sources.values()) source.trim(this.jitterTarget);
    this.debug('skip', { frames }, 'audio mixer skipped frames after a stall');
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('audio mixer closed');
  }

  /** Debug log, at most once per 10 s per key. */
  private debug(key: string, obj: Record<string, unknown>, msg: string): void {
    if (!this.log) return;
    try {
      const now = performance.now();
      const last = this.logTimes.get(key);
      if (last !== undefined && now - last < 10_000) return;
      if (this.logTimes.size > 1000) this.logTimes.clear();
      this.logTimes.set(key, now);
      this.log.debug(obj, msg);
    } catch {
      /* logging must never break the mix */
    }
  }
}

function sumInto(acc: Int32Array, sources: readonly MixSource[]): void {
  const first = sources[0];
  if (!first) {
    acc.fill(0);
    return;
  }
  acc.set(first.frame);
  for (let s = 1; s < sources.length; s++) {
    const frame = sources[s]!.frame;
    for (let i = 0; i < acc.length; i++) acc[i]! += frame[i]!;
  }
}

function subtractFrom(acc: Int32Array, frame: Int16Array): void {
  for (let i = 0; i < acc.length; i++) acc[i]! -= frame[i]!;
}

function clamp16(v: number): number {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}

function checkCodec(codec: MixCodec | undefined, sampleRate: number): MixCodec {
  if (codec === undefined || codec === 'opus') return 'opus';
  if (codec === 'g722') {
    if (sampleRate % G722_RATE !== 0) throw new TypeError(`G.722 needs a mixer rate that is a multiple of 16000 (not ${sampleRate})`);
    return codec;
  }
  if (codec !== 'pcmu' && codec !== 'pcma') throw new TypeError(`unknown audio codec ${String(codec)}`);
  if (sampleRate % G711_RATE !== 0) throw new TypeError(`G.711 needs a mixer rate that is a multiple of 8000 (not ${sampleRate})`);
  return codec;
}

function checkPt(pt: number): number {
  if (!Number.isInteger(pt) || pt < 0 || pt > 127) throw new TypeError(`invalid RTP payload type ${pt}`);
  return pt;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
