import type { types } from 'mediasoup';
import type { Logger } from 'pino';
import type { MediasoupEngine } from './MediasoupEngine.js';

interface RouterSlot {
  router: types.Router;
  /** One token per placement (a participant placed again gets a new one). */
  participants: Set<object>;
}

/**
 * A conference's routers. The home router comes first, on the least-loaded worker; the mixer's
 * taps and feeds and the audio-level observer live there. A participant's transports all go on
 * one router: the first that is not full (the engine's RouterLimits: consumers or participants on
 * it), else a new router on a worker the conference does not use yet. A stream is piped
 * (router.pipeToRouter, over loopback) to another router the first time someone there needs it;
 * mediasoup reuses one pipe transport pair per pair of routers, and the piped producer keeps the
 * original's id. A router other than home closes when its last participant leaves, and its pipe
 * transports with it.
 */
export class ConferenceRouters {
  readonly home: Promise<types.Router>;
  private readonly slots: RouterSlot[] = [];
  private readonly placed = new Map<string, { slot: Promise<RouterSlot>; token: object }>();
  /** Placements one at a time: two joins must not both open a new router. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Producers not made on home: the router each was made on. */
  private readonly origin = new Map<string, types.Router>();
  /** `${producerId} ${routerId}` → the pipe that brings the producer there. */
  private readonly pipes = new Map<string, Promise<void>>();
  private closed = false;

  constructor(
    private readonly engine: MediasoupEngine,
    private readonly log: Logger,
  ) {
    this.home = engine.createRouter().then((router) => {
      this.slots.unshift({ router, participants: new Set() });
      if (this.closed) router.close();
      return router;
    });
  }

  /** The router for this participant's transports (placed on first call, kept until `release`). */
  routerFor(participantId: string): Promise<types.Router> {
    let entry = this.placed.get(participantId);
    if (!entry) {
      const token = {};
      const slot = this.queue.then(() => this.place(token));
      this.queue = slot.catch(() => undefined);
      entry = { slot, token };
      this.placed.set(participantId, entry);
    }
    return entry.slot.then((s) => s.router);
  }

  /** The router a participant's transports are on, once placed. */
  placedRouter(participantId: string): types.Router | undefined {
    const entry = this.placed.get(participantId);
    return entry && this.slots.find((s) => s.participants.has(entry.token))?.router;
  }

  /**
   * A producer made on a router other than home (a participant's stream). The first adoption
   * holds: a SIP call's side router is where its stream really is, not the participant's router.
   */
  adopt(producer: types.Producer, router: types.Router): void {
    if (this.origin.has(producer.id)) return;
    this.origin.set(producer.id, router);
    producer.observer.once('close', () => this.origin.delete(producer.id));
  }

  /** Makes `producer` consumable on `router`: pipes it there unless it is there already. */
  async bring(producer: types.Producer, router: types.Router): Promise<void> {
    const from = this.origin.get(producer.id) ?? (await this.home);
    if (from === router || producer.closed || router.closed) return;
    const key = `${producer.id} ${router.id}`;
    let pipe = this.pipes.get(key);
    if (!pipe) {
      pipe = from.pipeToRouter({ producerId: producer.id, router, enableSctp: false }).then(({ pipeProducer }) => {
        // Closed with the original producer or with either router: piped again if needed later.
        pipeProducer?.observer.once('close', () => this.pipes.delete(key));
      });
      this.pipes.set(key, pipe);
      pipe.catch(() => this.pipes.delete(key));
    }
    await pipe;
  }

  /** The participant left: its router, unless home, closes when nobody is left on it. */
  release(participantId: string): void {
    const entry = this.placed.get(participantId);
    if (!entry) return;
    this.placed.delete(participantId);
    void entry.slot
      .then((slot) => {
        slot.participants.delete(entry.token);
        if (slot.participants.size > 0 || slot === this.slots[0] || this.closed) return;
        this.slots.splice(this.slots.indexOf(slot), 1);
        slot.router.close();
        this.log.info({ router: slot.router.id }, 'conference router empty: closed with its pipes');
      })
      .catch(() => undefined);
  }

  /** The conference's routers now, home first (status and tests). */
  routers(): types.Router[] {
    return this.slots.map((s) => s.router);
  }

  close(): void {
    this.closed = true;
    for (const s of this.slots) s.router.close();
    void this.home.then((r) => r.close()).catch(() => undefined);
  }

  private async place(token: object): Promise<RouterSlot> {
    await this.home;
    if (this.closed) throw new Error('conference closed');
    const limits = this.engine.routerLimits;
    const fits = (s: RouterSlot) => s.participants.size < limits.participants && this.engine.consumersOn(s.router) < limits.consumers;
    let slot = this.slots.find(fits);
    if (!slot) {
      const router = await this.engine.createRouter(this.slots.map((s) => s.router));
      if (this.closed || this.slots.some((s) => this.engine.sameWorker(s.router, router))) {
        // Every worker runs one of ours already: the least-filled router takes one more.
        router.close();
        slot = this.slots.reduce((a, b) => (b.participants.size < a.participants.size ? b : a));
      } else {
        slot = { router, participants: new Set() };
        this.slots.push(slot);
        this.log.info({ router: router.id, routers: this.slots.length }, 'conference outgrew its router: a new one on another worker, streams piped');
      }
    }
    slot.participants.add(token);
    return slot;
  }
}
