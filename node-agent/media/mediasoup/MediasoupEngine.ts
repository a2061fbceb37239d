import './workerBin.js';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import type { Logger } from 'pino';
import { ROUTER_MEDIA_CODECS } from './routerCodecs.js';

/**
 * When a conference's router is full: new participants then get a router on another worker, and
 * streams are piped between the conference's routers (MediasoupConferenceMedia). mediasoup's
 * guide puts one worker at "over ~500 consumers in total", hence the default.
 */
export interface RouterLimits {
  /** Consumers (receivers of a stream, pipe consumers included) on one router; default 500. */
  consumers: number;
  /** Participants (multi-stream sessions and single-stream calls) on one router; default none. */
  participants: number;
}

export const DEFAULT_ROUTER_LIMITS: RouterLimits = { consumers: 500, participants: Number.POSITIVE_INFINITY };

export interface MediasoupEngineOptions {
  /** Worker processes; default one per core. */
  workers?: number;
  /** mediasoup worker log level; default `warn`. */
  logLevel?: types.WorkerLogLevel;
  /** When a conference's router is full (see RouterLimits); defaults above. */
  routerLimits?: Partial<RouterLimits>;
}

interface WorkerSlot {
  worker: types.Worker;
  /** Routers placed on it, and consumers on them: the load measures for placing the next router. */
  routers: number;
  consumers: number;
}

/**
 * The node's mediasoup workers (C++ processes, one per core) and the placement of routers on
 * them: each new router goes to the least-loaded worker (fewest consumers, then fewest routers),
 * avoiding workers the caller names when another is available. Workers start on first use; a
 * worker that dies is replaced for new conferences (its conferences lose media and are logged).
 */
export class MediasoupEngine {
  readonly routerLimits: RouterLimits;
  private slots: Promise<WorkerSlot[]> | null = null;
  private readonly consumerCounts = new WeakMap<types.Router, { n: number }>();
  private readonly slotOf = new WeakMap<types.Router, WorkerSlot>();
  private closed = false;
  /** Transports that hold a UDP media port (WebRTC, plain, pipe), across all workers. */
  private portTransports = 0;
  /** Open transports to participants (WebRTC, plain), across all workers. */
  readonly participantTransports = new Set<types.Transport>();

  constructor(
    private readonly log: Logger,
    private readonly opts: MediasoupEngineOptions = {},
  ) {
    this.routerLimits = { ...DEFAULT_ROUTER_LIMITS, ...opts.routerLimits };
  }

  /** A router on the least-loaded worker; one not running any of `avoid` when there is such a worker. */
  async createRouter(avoid: readonly types.Router[] = [], mediaCodecs: types.RouterRtpCodecCapability[] = ROUTER_MEDIA_CODECS): Promise<types.Router> {
    const slots = await this.start();
    if (this.closed) throw new Error('media engine closed');
    const busy = new Set(avoid.map((r) => this.slotOf.get(r)));
    const free = slots.filter((s) => !busy.has(s));
    const slot = (free.length > 0 ? free : slots).reduce((a, b) =>
      b.consumers < a.consumers || (b.consumers === a.consumers && b.routers < a.routers) ? b : a,
    );
    const router = await slot.worker.createRouter({ mediaCodecs });
    slot.routers++;
    this.slotOf.set(router, slot);
    const count = { n: 0 };
    this.consumerCounts.set(router, count);
    router.observer.on('newtransport', (transport) => {
      if (transport.type !== 'direct') {
        this.portTransports++;
        transport.observer.once('close', () => this.portTransports--);
      }
      // Participants' media (not the pipes between workers): its bytes, for /metrics.
      if (transport.type === 'webrtc' || transport.type === 'plain') {
        this.participantTransports.add(transport);
        transport.observer.once('close', () => this.participantTransports.delete(transport));
      }
      transport.observer.on('newconsumer', (consumer) => {
        count.n++;
        slot.consumers++;
        consumer.observer.once('close', () => {
          count.n--;
          slot.consumers--;
        });
      });
    });
    router.observer.once('close', () => slot.routers--);
    return router;
  }

  /** Consumers on a router now (pipe consumers included). */
  consumersOn(router: types.Router): number {
    return this.consumerCounts.get(router)?.n ?? 0;
  }

  /** Whether two routers run on the same worker. */
  sameWorker(a: types.Router, b: types.Router): boolean {
    return this.slotOf.get(a) === this.slotOf.get(b);
  }

  /** Workers and their load, for status and benchmarks. */
  async workers(): Promise<{ pid: number; routers: number; consumers: number }[]> {
    return (await this.start()).map((s) => ({ pid: s.worker.pid, routers: s.routers, consumers: s.consumers }));
  }

  /** UDP media ports in use now (one per WebRTC, plain or pipe transport). */
  get mediaPortsInUse(): number {
    return this.portTransports;
  }

  /** Each worker's CPU time so far (user + system, ms) and resident memory (bytes), for node load. */
  async resourceUsage(): Promise<{ pid: number; cpuMs: number; rssBytes: number }[]> {
    if (!this.slots) return [];
    const slots = await this.slots.catch(() => [] as WorkerSlot[]);
    return Promise.all(
      slots
        .filter((s) => !s.worker.closed)
        .map(async (s) => {
          const u = await s.worker.getResourceUsage().catch(() => null);
          return { pid: s.worker.pid, cpuMs: u ? u.ru_utime + u.ru_stime : 0, rssBytes: (await residentBytes(s.worker.pid)) ?? (u ? u.ru_maxrss * 1024 : 0) };
        }),
    );
  }

  close(): void {
    this.closed = true;
    void this.slots?.then((slots) => slots.forEach((s) => s.worker.close())).catch(() => undefined);
  }

  private start(): Promise<WorkerSlot[]> {
    if (!this.slots) {
      const count = Math.max(1, this.opts.workers ?? availableParallelism());
      this.slots = Promise.all(Array.from({ length: count }, () => this.spawn()));
      this.slots.catch((err) => {
        this.log.error({ err, workerBin: process.env.MEDIASOUP_WORKER_BIN }, 'mediasoup worker could not start (node scripts/mediasoup-worker.mjs builds it)');
        this.slots = null;
      });
    }
    return this.slots;
  }

  private async spawn(): Promise<WorkerSlot> {
    const worker = await mediasoup.createWorker({ logLevel: this.opts.logLevel ?? 'warn' });
    const slot: WorkerSlot = { worker, routers: 0, consumers: 0 };
    worker.on('died', (err) => {
      this.log.error({ err, pid: worker.pid }, 'mediasoup worker died; its conferences lost their media');
      if (this.closed || !this.slots) return;
      void this.slots
        .then(async (slots) => {
          const i = slots.indexOf(slot);
          if (i >= 0 && !this.closed) slots[i] = await this.spawn();
        })
        .catch((e) => this.log.error({ err: e }, 'could not replace a dead mediasoup worker'));
    });
    this.log.debug({ pid: worker.pid }, 'mediasoup worker started');
    return slot;
  }
}

/** A process's resident memory now, from /proc (Linux); undefined elsewhere. */
async function residentBytes(pid: number): Promise<number | undefined> {
  try {
    const pages = Number((await readFile(`/proc/${pid}/statm`, 'utf8')).split(' ')[1]);
    return Number.isFinite(pages) ? pages * 4096 : undefined;
  } catch {
    return undefined;
  }
}
