import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import type {
  AudioMixerApi,
  AudioMixerEvents,
  AudioMixerOptions,
  AudioMixerStats,
  MixCodec,
  MixListenerOptions,
  MixListenerUpdate,
  MixSourceOptions,
} from './AudioMixerTypes.js';
import { forEachPacket, packBatch, type FromWorker, type ToWorker, type WorkerInit } from './workerProtocol.js';

/** Worker deaths within this window after a restart wait before the next restart. */
const RESTART_BACKOFF_MS = 1000;
/** Largest packet pushRtp() forwards (RTP header + the largest Opus payload, with slack). */
const MAX_RTP_BYTES = 4096;

interface ListenerState {
  payloadType: number;
  codec?: MixCodec;
  ssrc: number;
  includes: (sourceId: string) => boolean;
  send: (rtp: Buffer) => void;
  /** Sources it heard at the last evaluation, joined (to post changes only). */
  key: string;
  initialSeq?: number;
  initialTimestamp?: number;
  /** Last packet sent, so a restarted worker continues the stream. */
  lastSeq?: number;
  lastTs?: number;
  sendFailed: boolean;
}

/**
 * AudioMixer in a worker thread, with the same API (AudioMixerApi): decoding, mixing and encoding
 * run on the worker's own frame clock and never on the node's event loop. This side batches
 * pushed RTP into one transferred buffer per event-loop turn, evaluates each listener's
 * `includes` every frame and tells the worker when the answer changes (≤ 1 frame later than the
 * in-thread mixer), and calls `send` with the packets of each frame. levels() and stats() are the
 * worker's latest reports (≤ 100 / 500 ms old). If the worker dies, a new one is started with the
 * same sources and listeners; RTP sequence numbers and timestamps continue.
 */
export class WorkerAudioMixer implements AudioMixerApi {
  readonly observer = new EventEmitter<AudioMixerEvents>();
  private readonly options: AudioMixerOptions;
  private readonly frameMs: number;
  private worker: Worker | null = null;
  private readonly sources = new Map<string, MixSourceOptions>();
  private readonly listeners = new Map<string, ListenerState>();
  private pendingIds: string[] = [];
  private pendingBufs: Buffer[] = [];
  private flushImmediate: NodeJS.Immediate | undefined;
  private includesTimer: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private lastStart = 0;
  private restarts = 0;
  private closed = false;
  private latestLevels = new Map<string, number>();
  private latestStats: AudioMixerStats | null = null;
  private pingN = 0;
  private readonly pings = new Map<number, () => void>();
  private readonly local = { packetsIn: 0, malformed: 0, packetsOut: 0, sendErrors: 0 };

  constructor(opts: AudioMixerOptions = {}) {
    this.options = { ...opts };
    this.frameMs = opts.frameMs ?? 20;
    this.startWorker();
    if ((opts.clock ?? 'timer') === 'timer') {
      this.includesTimer = setInterval(() => this.evaluateIncludes(), this.frameMs);
      this.includesTimer.unref();
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  addSource(sourceId: string, opts: MixSourceOptions = {}): void {
    this.assertOpen();
    if (this.sources.has(sourceId)) throw new Error(`audio source ${sourceId} already exists`);
    this.sources.set(sourceId, { ...opts });
    this.post({ t: 'addSource', id: sourceId, opts: { ...opts } });
    this.evaluateIncludes();
  }

  removeSource(sourceId: string): void {
    if (!this.sources.delete(sourceId)) return;
    this.flushRtp();
    this.post({ t: 'removeSource', id: sourceId });
    this.evaluateIncludes();
  }

  pushRtp(sourceId: string, rtp: Buffer): void {
    try {
      this.local.packetsIn++;
      if (this.closed || !Buffer.isBuffer(rtp) || rtp.length < 12 || rtp.length > MAX_RTP_BYTES || !this.sources.has(sourceId)) {
        this.local.malformed++;
        return;
      }
      this.pendingIds.push(sourceId);
      this.pendingBufs.push(rtp);
      this.flushImmediate ??= setImmediate(() => this.flushRtp());
    } catch {
      this.local.malformed++;
    }
  }

  addListener(listenerId: string, opts: MixListenerOptions, send: (rtp: Buffer) => void): void {
    this.assertOpen();
    if (this.listeners.has(listenerId)) throw new Error(`audio listener ${listenerId} already exists`);
    if (typeof send !== 'function' || typeof opts.includes !== 'function') throw new TypeError('send and includes must be functions');
    if (!Number.isInteger(opts.payloadType) || opts.payloadType < 0 || opts.payloadType > 127)
      throw new TypeError(`invalid RTP payload type ${opts.payloadType}`);
    const state: ListenerState = {
      payloadType: opts.payloadType,
      ...(opts.codec ? { codec: opts.codec } : {}),
      ssrc: opts.ssrc >>> 0,
      includes: opts.includes,
      send,
      key: '',
      initialSeq: opts.initialSeq,
      initialTimestamp: opts.initialTimestamp,
      sendFailed: false,
    };
    const heard = this.heardBy(state);
    state.key = heard.join('\n');
    this.listeners.set(listenerId, state);
    this.postAddListener(listenerId, state, heard);
  }

  updateListener(listenerId: string, update: MixListenerUpdate): void {
    const state = this.listeners.get(listenerId);
    if (!state) throw new Error(`audio listener ${listenerId} not found`);
    if (update.payloadType !== undefined) {
      if (!Number.isInteger(update.payloadType) || update.payloadType < 0 || update.payloadType > 127)
        throw new TypeError(`invalid RTP payload type ${update.payloadType}`);
      state.payloadType = update.payloadType;
    }
    if (update.ssrc !== undefined) state.ssrc = update.ssrc >>> 0;
    if (update.includes !== undefined) state.includes = update.includes;
    if (update.payloadType !== undefined || update.ssrc !== undefined) {
      this.post({ t: 'updateListener', id: listenerId, payloadType: update.payloadType, ssrc: update.ssrc === undefined ? undefined : state.ssrc });
    }
    if (update.includes !== undefined) this.evaluateIncludes();
  }

  removeListener(listenerId: string): void {
    if (!this.listeners.delete(listenerId)) return;
    this.post({ t: 'removeListener', id: listenerId });
  }

  levels(): Map<string, number> {
    const out = new Map<string, number>();
    for (const id of this.sources.keys()) out.set(id, this.latestLevels.get(id) ?? -127);
    return out;
  }

  stats(): AudioMixerStats {
    const s = this.latestStats;
    const base: AudioMixerStats = s
      ? { ...s, dropped: { ...s.dropped }, cpuMs: { ...s.cpuMs } }
      : {
          frames: 0,
          skippedFrames: 0,
          overruns: 0,
          sources: 0,
          listeners: 0,
          encoders: 0,
          packetsIn: 0,
          dropped: { malformed: 0, payloadType: 0, late: 0, duplicate: 0, overflow: 0 },
          resyncs: 0,
          decodes: 0,
          decodeErrors: 0,
          concealed: 0,
          encodes: 0,
          encodeErrors: 0,
          silenceFrames: 0,
          packetsOut: 0,
          sendErrors: 0,
          cpuMs: { decode: 0, encode: 0, tick: 0 },
          decodeUs: 0,
          encodeUs: 0,
        };
    // Packets this side refused never reached the worker; sends happen on this side.
    base.packetsIn = this.local.packetsIn;
    base.dropped.malformed += this.local.malformed;
    base.sources = this.sources.size;
    base.listeners = this.listeners.size;
    base.packetsOut = this.local.packetsOut;
    base.sendErrors = this.local.sendErrors;
    base.workerRestarts = this.restarts;
    return base;
  }

  /** Mixes `frames` frames now in the worker (clock 'manual'); their packets arrive asynchronously. */
  tick(frames = 1): void {
    if (this.closed) return;
    this.evaluateIncludes();
    this.flushRtp();
    this.post({ t: 'tick', frames });
  }

  /** Resolves once the worker has handled everything sent so far and its packets were delivered
   * (tests). If the worker dies first, it resolves after the restarted worker answers. */
  settled(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.flushRtp();
    const n = ++this.pingN;
    return new Promise((resolve) => {
      this.pings.set(n, resolve);
      this.post({ t: 'ping', n });
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.includesTimer) clearInterval(this.includesTimer);
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.flushImmediate) clearImmediate(this.flushImmediate);
    this.pendingIds = [];
    this.pendingBufs = [];
    const worker = this.worker;
    this.worker = null;
    if (worker) void worker.terminate().catch(() => {});
    for (const resolve of this.pings.values()) resolve();
    this.pings.clear();
    this.sources.clear();
    this.listeners.clear();
    try {
      this.observer.emit('close');
    } catch (err) {
      this.options.log?.debug({ err }, 'audio mixer close handler threw');
    }
  }

  // ---------------------------------------------------------------------------------------------

  private startWorker(): void {
    // The logger stays here (a function cannot cross to the worker); the worker posts its logs back.
    const { log, ...rest } = this.options;
    const isTs = import.meta.url.endsWith('.ts');
    const entry = new URL(`./audioMixerWorker.${isTs ? 'ts' : 'js'}`, import.meta.url);
    const init: WorkerInit = { options: { ...rest, forwardLogs: !!log }, entry: entry.href };
    // From TypeScript sources a worker does not inherit tsx's hooks: boot it through tsx's API.
    const worker = isTs ? new Worker(new URL('./audioMixerWorkerBoot.mjs', import.meta.url), { workerData: init }) : new Worker(entry, { workerData: init });
    worker.unref();
    this.worker = worker;
    this.lastStart = performance.now();
    worker.on('message', (msg: FromWorker) => this.onMessage(msg));
    worker.on('error', (err) => this.options.log?.warn({ err }, 'audio mixer worker failed'));
    worker.on('exit', (code) => {
      if (this.worker !== worker || this.closed) return;
      this.worker = null;
      this.restarts++;
      this.options.log?.warn({ code, restarts: this.restarts }, 'audio mixer worker exited; restarting it');
      const wait = performance.now() - this.lastStart < RESTART_BACKOFF_MS ? RESTART_BACKOFF_MS : 0;
      this.restartTimer = setTimeout(() => {
        this.restartTimer = undefined;
        if (!this.closed) this.replay();
      }, wait);
      this.restartTimer.unref();
    });
  }

  /** A new worker with the same sources and listeners, streams continuing where they were. */
  private replay(): void {
    this.startWorker();
    for (const [id, opts] of this.sources) this.post({ t: 'addSource', id, opts: { ...opts } });
    for (const [id, state] of this.listeners) {
      const step = ((!state.codec || state.codec === 'opus' ? 48_000 : 8_000) / 1000) * this.frameMs;
      if (state.lastSeq !== undefined && state.lastTs !== undefined) {
        state.initialSeq = (state.lastSeq + 1) & 0xffff;
        state.initialTimestamp = (state.lastTs + step) >>> 0;
      }
      this.postAddListener(id, state, this.heardBy(state));
    }
    for (const n of this.pings.keys()) this.post({ t: 'ping', n });
  }

  private postAddListener(id: string, state: ListenerState, heard: string[]): void {
    this.post({
      t: 'addListener',
      id,
      payloadType: state.payloadType,
      ...(state.codec ? { codec: state.codec } : {}),
      ssrc: state.ssrc,
      initialSeq: state.initialSeq,
      initialTimestamp: state.initialTimestamp,
      sources: heard,
    });
  }

  private onMessage(msg: FromWorker): void {
    try {
      switch (msg.t) {
        case 'out':
          forEachPacket(msg, (id, packet) => this.deliver(id, packet));
          break;
        case 'status':
          this.latestLevels = new Map(msg.levels);
          if (msg.stats) this.latestStats = msg.stats;
          break;
        case 'overload':
          this.observer.emit('overload', { tickMs: msg.tickMs, frameMs: msg.frameMs });
          break;
        case 'log':
          this.options.log?.debug(msg.obj, msg.msg);
          break;
        case 'pong': {
          const resolve = this.pings.get(msg.n);
          this.pings.delete(msg.n);
          resolve?.();
          break;
        }
      }
    } catch (err) {
      this.options.log?.debug({ err }, 'audio mixer: worker message handling failed');
    }
  }

  private deliver(listenerId: string, packet: Buffer): void {
    const state = this.listeners.get(listenerId);
    if (!state || packet.length < 12) return;
    state.lastSeq = packet.readUInt16BE(2);
    state.lastTs = packet.readUInt32BE(4);
    try {
      state.send(packet);
      this.local.packetsOut++;
    } catch (err) {
      this.local.sendErrors++;
      if (!state.sendFailed) {
        state.sendFailed = true;
        this.options.log?.debug({ listenerId, err }, 'audio mixer send failed');
        try {
          this.observer.emit('senderror', listenerId, err);
        } catch {
          /* a throwing handler must not break delivery */
        }
      }
    }
  }

  private flushRtp(): void {
    if (this.flushImmediate) clearImmediate(this.flushImmediate);
    this.flushImmediate = undefined;
    if (this.pendingIds.length === 0) return;
    const batch = packBatch(this.pendingIds, this.pendingBufs);
    this.pendingIds = [];
    this.pendingBufs = [];
    this.post({ t: 'rtp', ...batch }, [batch.buf]);
  }

  /** Re-asks every listener whom it hears; posts only changes. */
  private evaluateIncludes(): void {
    if (this.closed) return;
    for (const [id, state] of this.listeners) {
      const heard = this.heardBy(state);
      const key = heard.join('\n');
      if (key === state.key) continue;
      state.key = key;
      this.post({ t: 'includes', id, sources: heard });
    }
  }

  private heardBy(state: ListenerState): string[] {
    const heard: string[] = [];
    for (const id of this.sources.keys()) {
      try {
        if (state.includes(id) === true) heard.push(id);
      } catch {
        /* counts as not heard */
      }
    }
    return heard;
  }

  private post(msg: ToWorker, transfer?: ArrayBuffer[]): void {
    // While a dead worker awaits its restart, state lives here and is replayed; nothing to send.
    if (!this.worker) return;
    try {
      this.worker.postMessage(msg, transfer);
    } catch (err) {
      this.options.log?.debug({ err, msg: msg.t }, 'audio mixer: post to worker failed');
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('audio mixer closed');
  }
}
