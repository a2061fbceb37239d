import http from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { EventSinkConfig } from '../../shared/node-protocol/messages.js';
import { systemClock, type Clock, type ClockTimer } from '../../shared/time/Clock.js';
import { MAX_BATCH, pendingEvent, type PendingEvent, type SinkEvent } from './sinkEvents.js';

/** Guide §14.9 / alarm 36: the text raised when a sink's retry wait would exceed the cap. */
export const MAX_BACKOFF_ALARM = 'Eventsink Reached Maximum Backoff';
export const MAX_BACKOFF_ALARM_KEY = 'eventsink_maximum_backoff';

/** Retry and queue parameters: the guide's values by default (not configurable in the product); tests shorten them. */
export interface PublisherTimings {
  /** First retry wait; doubles on every further failure (guide: 1 s, 2, 4, 8, 16 …). */
  baseDelayMs: number;
  /** When the next wait would exceed this, the publisher stops and raises the alarm (guide: 30 minutes). */
  maxBackoffMs: number;
  /** Events kept per sink while it is unreachable; beyond this the oldest are dropped (and counted). */
  maxQueue: number;
  /** One request's time limit; a sink that does not answer counts as a failure. */
  requestTimeoutMs: number;
}
export const DEFAULT_TIMINGS: PublisherTimings = { baseDelayMs: 1_000, maxBackoffMs: 30 * 60_000, maxQueue: 1_000, requestTimeoutMs: 10_000 };

export type PublisherState = 'running' | 'stopping' | 'stopped' | 'failed';

export interface PublisherStats {
  name: string;
  state: PublisherState;
  /** Events numbered so far (= the last seq). */
  seq: number;
  queued: number;
  delivered: number;
  /** Dropped because the queue was full, or discarded when the publisher failed/stopped. */
  dropped: number;
  /** Consecutive failed deliveries. */
  failures: number;
}

const sinkUrlSchema = z
  .string()
  .url()
  .refine((u) => /^https?:$/.test(new URL(u).protocol), 'only http and https URLs');

/** The URL without credentials, for logs. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}

export interface PublisherOptions {
  timings?: Partial<PublisherTimings>;
  /** Deliver nothing before this settles (the previous publisher of a restarted sink saying goodbye). */
  after?: Promise<unknown>;
  /** Drives the retry waits, request time limits and the stop deadline; default the system clock (tests move a ManualClock). */
  clock?: Clock;
}

type PostResult = { ok: true; status: number } | { ok: false; status?: number; error?: string };

/**
 * Delivers one event sink's events, in order, one request at a time (a batch with "Bulk support").
 * Never throws and never blocks the caller: `publish` only queues. On failure (network error,
 * timeout or a non-2xx answer) it retries after baseDelay, then 2×, 4× … and, when the next wait
 * would exceed maxBackoff, stops for good and logs the guide's alarm; the node carries on.
 */
export class EventSinkPublisher {
  private queue: SinkEvent[] = [];
  private seq = 0;
  private delivering: Promise<void> | null = null;
  private retryTimer: ClockTimer | null = null;
  private gate: Promise<void> | null = null;
  private failures = 0;
  private delivered = 0;
  private dropped = 0;
  private dropWarned = false;
  private state: PublisherState = 'running';
  private readonly timings: PublisherTimings;
  private readonly clock: Clock;
  private readonly url: URL | null;
  private readonly authorization: string | undefined;
  /** Told when the publisher stops at maximum backoff (the node's alarm). */
  onMaximumBackoff: ((details: string) => void) | null = null;

  constructor(
    readonly sink: EventSinkConfig,
    private readonly node: string,
    private readonly log: Logger,
    { timings = {}, after, clock = systemClock }: PublisherOptions = {},
  ) {
    this.timings = { ...DEFAULT_TIMINGS, ...timings };
    this.clock = clock;
    const parsed = sinkUrlSchema.safeParse(sink.url);
    this.url = parsed.success ? new URL(parsed.data) : null;
    // Guide: blank username = no authentication. The header is never logged.
    this.authorization = sink.username ? `Basic ${Buffer.from(`${sink.username}:${sink.password}`).toString('base64')}` : undefined;
    if (!this.url) {
      this.state = 'stopped';
      this.log.warn({ sink: sink.name, url: safeUrl(sink.url) }, 'event sink URL is not an http(s) URL; not publishing to it');
      return;
    }
    if (after) {
      this.gate = after.then(
        () => undefined,
        () => undefined,
      );
      void this.gate.then(() => {
        this.gate = null;
        this.kick();
      });
    }
    this.log.info({ sink: sink.name, url: safeUrl(sink.url), bulk: sink.bulkSupport }, 'event sink publisher started');
    this.publish(pendingEvent('eventsink_started', { name: sink.name }));
  }

  get name(): string {
    return this.sink.name;
  }

  stats(): PublisherStats {
    return {
      name: this.sink.name,
      state: this.state,
      seq: this.seq,
      queued: this.queue.length,
      delivered: this.delivered,
      dropped: this.dropped,
      failures: this.failures,
    };
  }

  /** Queues an event (numbering it for this sink); drops the oldest when the queue is full. */
  publish(ev: PendingEvent): void {
    if (this.state !== 'running') return;
    this.enqueue(ev);
    this.kick();
  }

  private enqueue(ev: PendingEvent): void {
    this.seq += 1;
    this.queue.push({ event: ev.event, node: this.node, seq: this.seq, version: this.sink.version, time: ev.time, data: ev.data });
    this.trim();
  }

  private trim(): void {
    const excess = this.queue.length - this.timings.maxQueue;
    if (excess <= 0) return;
    this.queue.splice(0, excess);
    this.dropped += excess;
    if (!this.dropWarned) {
      this.dropWarned = true;
      this.log.warn({ sink: this.sink.name, maxQueue: this.timings.maxQueue, dropped: this.dropped }, 'event sink queue full: dropping the oldest events');
    }
  }

  private kick(): void {
    if (this.state !== 'running' || this.gate || this.delivering || this.retryTimer || this.queue.length === 0) return;
    this.delivering = this.deliverNext().finally(() => {
      this.delivering = null;
      this.kick();
    });
  }

  private async deliverNext(): Promise<void> {
    const batch = this.queue.splice(0, this.sink.bulkSupport ? MAX_BATCH : 1);
    const result = await this.post(batch, this.timings.requestTimeoutMs);
    if (result.ok) {
      this.delivered += batch.length;
      this.failures = 0;
      this.dropWarned = false;
      return;
    }
    // Back to the front: delivery stays in order. (While stopping, stop() flushes what is left.)
    this.queue.unshift(...batch);
    this.trim();
    if (this.state !== 'running') return;
    this.failures += 1;
    const wait = this.timings.baseDelayMs * 2 ** (this.failures - 1);
    const reason = result.status !== undefined ? { status: result.status } : { error: result.error };
    if (wait > this.timings.maxBackoffMs) {
      this.state = 'failed';
      this.dropped += this.queue.length;
      const queued = this.queue.length;
      this.queue = [];
      this.log.error(
        { alarm: MAX_BACKOFF_ALARM_KEY, sink: this.sink.name, url: safeUrl(this.sink.url), failures: this.failures, discarded: queued, ...reason },
        `${MAX_BACKOFF_ALARM}: event sink publisher stopped (remove the sink from its locations and add it again to restart it)`,
      );
      this.onMaximumBackoff?.(`Event sink ${this.sink.name} stopped after ${this.failures} failed deliveries (${safeUrl(this.sink.url)})`);
      return;
    }
    this.log.warn(
      { sink: this.sink.name, url: safeUrl(this.sink.url), failures: this.failures, retryInMs: wait, ...reason },
      'event sink delivery failed; will retry',
    );
    this.retryTimer = this.clock
      .setTimeout(() => {
        this.retryTimer = null;
        this.kick();
      }, wait)
      .unref();
  }

  /**
   * Stops the publisher: queues `eventsink_stopped` and makes one best-effort attempt (no retries,
   * within `timeoutMs`) to deliver what is queued. A failed (maximum backoff) publisher sends nothing.
   */
  async stop(timeoutMs = 2_000): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    const wasRunning = this.state === 'running';
    this.state = 'stopping';
    this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const deadline = this.clock.now() + timeoutMs;
    if (wasRunning) {
      this.enqueue(pendingEvent('eventsink_stopped', { name: this.sink.name }));
      if (this.delivering) {
        let timer: ClockTimer | undefined;
        await Promise.race([
          this.delivering,
          new Promise((r) => (timer = this.clock.setTimeout(() => r(undefined), Math.max(0, deadline - this.clock.now())).unref())),
        ]);
        this.clock.clearTimeout(timer);
      }
      while (this.queue.length > 0 && this.clock.now() < deadline) {
        const batch = this.queue.splice(0, this.sink.bulkSupport ? MAX_BATCH : 1);
        const result = await this.post(batch, Math.min(this.timings.requestTimeoutMs, Math.max(1, deadline - this.clock.now())));
        if (!result.ok) {
          this.queue.unshift(...batch);
          break;
        }
        this.delivered += batch.length;
      }
    }
    this.dropped += this.queue.length;
    this.queue = [];
    this.state = 'stopped';
    this.log.info({ sink: this.sink.name, delivered: this.delivered, dropped: this.dropped }, 'event sink publisher stopped');
  }

  /** One POST: a single event, or with "Bulk support" the batch as a JSON array. */
  private post(batch: SinkEvent[], timeoutMs: number): Promise<PostResult> {
    const url = this.url!;
    const body = Buffer.from(JSON.stringify(this.sink.bulkSupport ? batch : batch[0]));
    const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': body.length };
    if (this.authorization) headers.authorization = this.authorization;
    return new Promise<PostResult>((resolve) => {
      let settled = false;
      const done = (r: PostResult) => {
        if (settled) return;
        settled = true;
        this.clock.clearTimeout(limit);
        resolve(r);
      };
      // The whole request's time limit, on the clock: a sink that answers nothing (or trickles) counts as a failure.
      const abort = new AbortController();
      const limit = this.clock
        .setTimeout(() => {
          done({ ok: false, error: `no answer within ${timeoutMs} ms` });
          abort.abort();
        }, timeoutMs)
        .unref();
      const opts: https.RequestOptions = { method: 'POST', headers, agent: false, signal: abort.signal };
      if (url.protocol === 'https:') opts.rejectUnauthorized = this.sink.verifyTls;
      const req = (url.protocol === 'https:' ? https : http).request(url, opts, (res) => {
        const status = res.statusCode ?? 0;
        res.resume();
        res.on('end', () => done(status >= 200 && status < 300 ? { ok: true, status } : { ok: false, status }));
        res.on('error', (e) => done({ ok: false, error: e.message }));
      });
      req.on('error', (e) => done({ ok: false, error: (e as NodeJS.ErrnoException).code ?? e.message }));
      req.end(body);
    });
  }
}
