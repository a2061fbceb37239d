import './workerBin.js';
import { availableParallelism } from 'node:os';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import type { Logger } from 'pino';
import { ROUTER_MEDIA_CODECS } from './routerCodecs.js';

export interface MediasoupEngineOptions {
  /** Worker processes; default one per core. */
  workers?: number;
  /** mediasoup worker log level; default `warn`. */
  logLevel?: types.WorkerLogLevel;
}

interface WorkerSlot {
  worker: types.Worker;
  /** Routers placed on it: the load measure for placing the next conference. */
  routers: number;
}

/**
 * The node's mediasoup workers (C++ processes, one per core) and the placement of conference
 * routers on them: each new conference gets a router on the least-loaded worker. Workers start on
 * first use; a worker that dies is replaced for new conferences (its conferences lose media and
 * are logged).
 */
export class MediasoupEngine {
  private slots: Promise<WorkerSlot[]> | null = null;
  private closed = false;

  constructor(
    private readonly log: Logger,
    private readonly opts: MediasoupEngineOptions = {},
  ) {}

  /** A router for a new conference instance, on the least-loaded worker. */
  async createRouter(): Promise<types.Router> {
    const slots = await this.start();
    if (this.closed) throw new Error('media engine closed');
    const slot = slots.reduce((a, b) => (b.routers < a.routers ? b : a));
    const router = await slot.worker.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS });
    slot.routers++;
    router.observer.once('close', () => slot.routers--);
    return router;
  }

  /** Workers and their load, for status and benchmarks. */
  async workers(): Promise<{ pid: number; routers: number }[]> {
    return (await this.start()).map((s) => ({ pid: s.worker.pid, routers: s.routers }));
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
    const slot: WorkerSlot = { worker, routers: 0 };
    worker.on('died', (err) => {
      this.log.error({ err, pid: worker.pid }, 'mediasoup worker died; its conferences lost their media');
      if (this.closed || !this.slots) return;
      void this.slots.then(async (slots) => {
        const i = slots.indexOf(slot);
        if (i >= 0 && !this.closed) slots[i] = await this.spawn();
      }).catch((e) => this.log.error({ err: e }, 'could not replace a dead mediasoup worker'));
    });
    this.log.debug({ pid: worker.pid }, 'mediasoup worker started');
    return slot;
  }
}
