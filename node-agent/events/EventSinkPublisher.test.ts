import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { eventSinkConfigSchema, type EventSinkConfig } from '../../shared/node-protocol/messages.js';
import { generateSelfSigned } from '../../server/certificate/pem.js';
import { ManualClock } from '../../shared/time/ManualClock.js';
import { DEFAULT_TIMINGS, EventSinkPublisher, MAX_BACKOFF_ALARM, safeUrl, type PublisherTimings } from './EventSinkPublisher.js';
import { EventSinks } from './EventSinks.js';
import { startSinkReceiver, until, type SinkReceiver } from '../testing/sinkReceiver.js';
import { MAX_BATCH, pendingEvent } from './sinkEvents.js';

/**
 * Publishers against a real HTTP receiver on 127.0.0.1. Tests of retries, backoff and time limits run
 * the guide's own timings on a ManualClock the test moves; the others on the system clock, retries shortened.
 */
const PASSWORD = 'sink-Pa55word-secret';
const FAST: Partial<PublisherTimings> = { baseDelayMs: 40, maxBackoffMs: 60_000, requestTimeoutMs: 10_000 };
/** The guide's retry waits: 1 s, doubling, until the next would pass 30 minutes (2048 s). */
const GUIDE_WAITS = Array.from({ length: 11 }, (_, i) => 1_000 * 2 ** i);

let logged = '';
const log = pino({ level: 'trace' }, { write: (line: string) => void (logged += line) });
const receivers: SinkReceiver[] = [];
const publishers: { p: EventSinkPublisher | EventSinks; clock?: ManualClock }[] = [];

const sinkFor = (r: SinkReceiver, extra: Partial<EventSinkConfig> = {}): EventSinkConfig =>
  eventSinkConfigSchema.parse({ name: 'sink-a', url: r.url, username: 'eve', password: PASSWORD, ...extra });
const receiver = async (...args: Parameters<typeof startSinkReceiver>) => {
  const r = await startSinkReceiver(...args);
  receivers.push(r);
  return r;
};
const publisher = (sink: EventSinkConfig, timings: Partial<PublisherTimings> = FAST, clock?: ManualClock) => {
  const p = new EventSinkPublisher(sink, 'node-x', log, { timings, clock });
  publishers.push({ p, clock });
  return p;
};
/** Has the receiver note the clock time of each request it gets (answering as `status` says). */
const stamping = (r: SinkReceiver, clock: ManualClock, status: (n: number) => number | 'hang') => {
  const at: number[] = [];
  r.respond = (n) => {
    at.push(clock.now());
    return status(n);
  };
  return at;
};
/** Moves the clock through one retry wait: no request at `wait` − 1 ms, one at `wait`. */
const retryAfter = async (clock: ManualClock, r: SinkReceiver, wait: number) => {
  const before = r.requests.length;
  await clock.run(wait - 1, { stepMs: wait - 1, ioMs: 20 });
  expect(r.requests.length).toBe(before);
  await clock.advance(1);
  await until(
    () => r.requests.length,
    (n) => n === before + 1,
  );
};
const gaps = (at: number[]) => at.slice(1).map((t, i) => t - at[i]!);
const test = (n: number) => pendingEvent('participant_updated', { uuid: `p${n}` });

afterEach(async () => {
  for (const { p, clock } of publishers.splice(0)) {
    let stopped = false;
    const stopping = (p instanceof EventSinks ? p.close(200) : p.stop(200)).finally(() => (stopped = true));
    // A publisher on a ManualClock waits out its stop deadline only as the clock moves.
    if (clock) await clock.advanceUntil(() => stopped, { stepMs: 50, ioMs: 5 });
    await stopping;
  }
  for (const r of receivers.splice(0)) await r.close();
  // Whatever happened, the sink password never reaches the log.
  expect(logged).not.toContain(PASSWORD);
  expect(logged).not.toContain(Buffer.from(`eve:${PASSWORD}`).toString('base64'));
  logged = '';
});

describe('EventSinkPublisher: what it sends', () => {
  it('POSTs one JSON event per request, eventsink_started first, numbered per sink, with Basic auth', async () => {
    const r = await receiver();
    const p = publisher(sinkFor(r, { version: 2 }));
    p.publish(pendingEvent('conference_started', { name: 'Room', conference: 'Room', service_type: 'conference', tag: '', start_time: 1 }, 1_700_000_000_123));
    p.publish(test(1));
    await until(
      () => r.events().length,
      (n) => n === 3,
    );
    expect(r.requests.map((q) => [q.method, q.path, q.contentType])).toEqual(Array(3).fill(['POST', '/events', 'application/json']));
    expect(r.requests.every((q) => q.authorization === `Basic ${Buffer.from(`eve:${PASSWORD}`).toString('base64')}`)).toBe(true);
    expect(r.requests.every((q) => !Array.isArray(q.body))).toBe(true);
    const [started, conf, upd] = r.events();
    expect(started).toMatchObject({ event: 'eventsink_started', node: 'node-x', seq: 1, version: 2, data: { name: 'sink-a' } });
    expect(conf).toEqual({
      event: 'conference_started',
      node: 'node-x',
      seq: 2,
      version: 2,
      time: 1_700_000_000.123,
      data: { name: 'Room', conference: 'Room', service_type: 'conference', tag: '', start_time: 1 },
    });
    expect(upd).toMatchObject({ event: 'participant_updated', seq: 3, data: { uuid: 'p1' } });
    // The receiver records an event before its answer reaches the publisher: wait for the count.
    await until(
      () => p.stats().delivered,
      (d) => d === 3,
    );
    expect(p.stats()).toMatchObject({ state: 'running', seq: 3, delivered: 3, queued: 0, failures: 0 });
  });

  it('sends no Authorization header without a username', async () => {
    const r = await receiver();
    publisher(sinkFor(r, { username: '', password: '' }));
    await until(
      () => r.events().length,
      (n) => n === 1,
    );
    expect(r.requests[0]!.authorization).toBeUndefined();
  });

  it('with bulk support POSTs JSON arrays of at most 100 events, in order', async () => {
    const r = await receiver();
    const p = publisher(sinkFor(r, { bulkSupport: true }));
    for (let i = 1; i <= 250; i++) p.publish(test(i));
    await until(
      () => r.events().length,
      (n) => n === 251,
    );
    expect(r.requests.every((q) => Array.isArray(q.body) && q.body.length >= 1 && q.body.length <= MAX_BATCH)).toBe(true);
    expect(r.requests.length).toBeGreaterThanOrEqual(3);
    expect(r.events().map((e) => e.seq)).toEqual(Array.from({ length: 251 }, (_, i) => i + 1));
  });

  it('verifies the HTTPS certificate only when Verify TLS is set', async () => {
    const r = await receiver({ tls: generateSelfSigned({ commonName: 'sink.example.com' }) });
    const lax = publisher(sinkFor(r, { name: 'lax', verifyTls: false }));
    await until(
      () => r.events().length,
      (n) => n === 1,
    );
    await until(
      () => lax.stats().delivered,
      (d) => d === 1,
    );
    expect(lax.stats().delivered).toBe(1);
    const strict = publisher(sinkFor(r, { name: 'strict', verifyTls: true }));
    await until(
      () => strict.stats().failures,
      (f) => f >= 1,
    );
    expect(strict.stats().delivered).toBe(0);
    expect(r.requests.length).toBe(1);
  });

  it('does not publish to a URL that is not http(s), and never logs URL credentials', async () => {
    const p = publisher(eventSinkConfigSchema.parse({ name: 'bad', url: 'ftp://x/y', password: PASSWORD }));
    expect(p.stats().state).toBe('stopped');
    expect(safeUrl(`http://eve:${PASSWORD}@h:1/p`)).toBe('http://h:1/p');
  });
});

describe('EventSinkPublisher: failed deliveries are retried, in order', () => {
  it("retries a failed delivery after the guide's 1 s, then 2 s, and keeps the order", async () => {
    const clock = new ManualClock();
    const r = await receiver();
    const at = stamping(r, clock, (n) => (n < 2 ? 500 : 200));
    const p = publisher(sinkFor(r), {}, clock);
    p.publish(test(1));
    p.publish(test(2));
    await until(
      () => p.stats().failures,
      (f) => f === 1,
    );
    await retryAfter(clock, r, 1_000);
    await until(
      () => p.stats().failures,
      (f) => f === 2,
    );
    await retryAfter(clock, r, 2_000);
    // Delivered now: the rest follows at once, with no wait.
    await until(
      () => r.events().length,
      (n) => n === 3,
    );
    expect(r.requests.map((q) => q.status)).toEqual([500, 500, 200, 200, 200]);
    // The same first event three times, then the rest in order.
    expect(r.allEvents().map((e) => e.seq)).toEqual([1, 1, 1, 2, 3]);
    expect(gaps(at)).toEqual([1_000, 2_000, 0, 0]);
    expect(logged).toContain('event sink delivery failed; will retry');
    expect(p.stats().failures).toBe(0);
  });

  it('treats an unreachable sink and a sink that never answers as failures, without blocking publish', async () => {
    const clock = new ManualClock();
    const r = await receiver();
    r.respond = () => 'hang';
    const p = publisher(sinkFor(r), {}, clock);
    const t0 = Date.now();
    for (let i = 0; i < 50; i++) p.publish(test(i));
    expect(Date.now() - t0).toBeLessThan(50);
    await until(
      () => r.requests.length,
      (n) => n === 1,
    );
    // No answer: a failure once the request's 10 s limit is up, not before; then retried 1 s later.
    await clock.run(DEFAULT_TIMINGS.requestTimeoutMs - 1, { stepMs: 1_000, ioMs: 5 });
    expect(p.stats().failures).toBe(0);
    await clock.advance(1);
    await until(
      () => p.stats().failures,
      (f) => f === 1,
    );
    expect(logged).toContain(`"error":"no answer within ${DEFAULT_TIMINGS.requestTimeoutMs} ms"`);
    await retryAfter(clock, r, 1_000);
    // One in flight again, the other 50 waiting behind it.
    expect(p.stats()).toMatchObject({ delivered: 0, queued: 50 });

    const gone = await receiver();
    const url = gone.url;
    await gone.close();
    const q = publisher(sinkFor(gone, { name: 'sink-gone', url }));
    await until(
      () => q.stats().failures,
      (f) => f >= 1,
    );
    expect(logged).toMatch(/"error":"ECONNREFUSED"/);
  });
});

describe('EventSinkPublisher: maximum backoff, the queue bound, and stop', () => {
  it("stops at the guide's maximum backoff (30 minutes), logs the alarm, and publishes nothing more", async () => {
    const clock = new ManualClock();
    const r = await receiver();
    const at = stamping(r, clock, () => 503);
    const p = publisher(sinkFor(r), {}, clock);
    p.publish(test(1));
    // Waits of 1, 2, 4 … 1024 s; the next (2048 s) would pass 30 minutes.
    for (const [i, wait] of GUIDE_WAITS.entries()) {
      await until(
        () => p.stats().failures,
        (f) => f === i + 1,
      );
      expect(p.stats().state).toBe('running');
      await retryAfter(clock, r, wait);
    }
    await until(
      () => p.stats().state,
      (s) => s === 'failed',
    );
    expect(gaps(at)).toEqual(GUIDE_WAITS);
    expect(logged).toContain(MAX_BACKOFF_ALARM);
    expect(logged).toContain('"alarm":"eventsink_maximum_backoff"');
    expect(p.stats()).toMatchObject({ state: 'failed', failures: 12, queued: 0, dropped: 2 });
    // Nothing is queued any more, and nothing is sent however long it waits.
    p.publish(test(2));
    expect(p.stats()).toMatchObject({ seq: 2, queued: 0 });
    await clock.run(60 * 60_000, { stepMs: 10 * 60_000, ioMs: 5 });
    expect(clock.pending).toBe(0);
    expect(r.requests.length).toBe(12);
    // A failed publisher does not try to send eventsink_stopped.
    await p.stop(200);
    expect(r.requests.length).toBe(12);
  });

  it('keeps a bounded queue while the sink is down, dropping the oldest and counting them', async () => {
    const r = await receiver();
    let up = false;
    r.respond = () => (up ? 200 : 503);
    const clock = new ManualClock();
    const p = publisher(sinkFor(r), { maxQueue: 5 }, clock);
    for (let i = 1; i <= 20; i++) p.publish(test(i));
    // eventsink_started is in flight; 15 of the 20 queued behind it are dropped at once.
    expect(p.stats()).toMatchObject({ seq: 21, dropped: 15, queued: 5 });
    expect(logged).toContain('event sink queue full');
    await until(
      () => p.stats().failures,
      (f) => f >= 1,
    );
    up = true;
    await retryAfter(clock, r, 1_000);
    await until(
      () => r.events().length,
      (n) => n === 5,
    );
    // The newest five; the seq gap tells the receiver that events were lost.
    expect(r.events().map((e) => e.seq)).toEqual([17, 18, 19, 20, 21]);
    await until(
      () => p.stats().delivered,
      (d) => d === 5,
    );
    expect(p.stats()).toMatchObject({ dropped: 16, delivered: 5, queued: 0 });
  });

  it('sends eventsink_stopped on stop and ignores events afterwards', async () => {
    const r = await receiver();
    const p = publisher(sinkFor(r));
    p.publish(test(1));
    await p.stop();
    expect(r.events().map((e) => [e.event, e.seq])).toEqual([
      ['eventsink_started', 1],
      ['participant_updated', 2],
      ['eventsink_stopped', 3],
    ]);
    p.publish(test(2));
    expect(p.stats()).toMatchObject({ state: 'stopped', seq: 3, queued: 0 });
    expect(r.requests.length).toBe(3);
  });
});

describe('EventSinks', () => {
  it('starts, keeps, restarts and stops publishers as the location sinks change', async () => {
    const a = await receiver();
    const b = await receiver();
    const sinks = new EventSinks({ node: 'node-x', log, timings: FAST });
    publishers.push({ p: sinks });
    sinks.apply([sinkFor(a)]);
    await until(
      () => a.events().length,
      (n) => n === 1,
    );
    sinks.publish(test(1));
    // The same configuration again: the publisher goes on (no new eventsink_started).
    sinks.apply([sinkFor(a)]);
    sinks.publish(test(2));
    await until(
      () => a.events().length,
      (n) => n === 3,
    );
    expect(a.events().map((e) => e.seq)).toEqual([1, 2, 3]);

    // Changed URL (same name): stopped at the old URL, started afresh at the new one.
    sinks.apply([sinkFor(b)]);
    await until(
      () => a.events().length,
      (n) => n === 4,
    );
    expect(a.events()[3]).toMatchObject({ event: 'eventsink_stopped', seq: 4 });
    await until(
      () => b.events().length,
      (n) => n === 1,
    );
    expect(b.events()[0]).toMatchObject({ event: 'eventsink_started', seq: 1 });

    // Changed password restarts too.
    sinks.apply([sinkFor(b, { password: `${PASSWORD}-2` })]);
    await until(
      () => b.events().map((e) => e.event),
      (e) => e.length === 3,
    );
    expect(b.events().map((e) => e.event)).toEqual(['eventsink_started', 'eventsink_stopped', 'eventsink_started']);
    expect(b.requests[2]!.authorization).toBe(`Basic ${Buffer.from(`eve:${PASSWORD}-2`).toString('base64')}`);

    // Removed: stopped; later events go nowhere.
    sinks.apply([]);
    await until(
      () => b.events().length,
      (n) => n === 4,
    );
    expect(b.events()[3]!.event).toBe('eventsink_stopped');
    sinks.publish(test(3));
    await new Promise((res) => setTimeout(res, 100));
    expect(b.requests.length).toBe(4);
    expect(sinks.stats()).toEqual([]);
  });

  it('leaves a sink stopped at maximum backoff stopped until it is removed and re-added', async () => {
    const r = await receiver();
    r.respond = () => 500;
    // The guide's timings: 12 failed deliveries over 2047 s of clock time.
    const clock = new ManualClock();
    const sinks = new EventSinks({ node: 'node-x', log, clock });
    publishers.push({ p: sinks, clock });
    sinks.apply([sinkFor(r)]);
    const tookMs = await clock.advanceUntil(() => sinks.stats()[0]!.state === 'failed', { stepMs: 60_000, maxMs: 60 * 60_000 });
    expect(tookMs).toBeGreaterThanOrEqual(GUIDE_WAITS.reduce((a, b) => a + b));
    expect(r.requests.length).toBe(12);
    const before = r.requests.length;
    sinks.apply([sinkFor(r)]);
    expect(sinks.stats()[0]!.state).toBe('failed');
    r.respond = () => 200;
    sinks.apply([]);
    sinks.apply([sinkFor(r)]);
    await until(
      () => r.events().length,
      (n) => n === 1,
    );
    expect(r.requests.length).toBe(before + 1);
    // The receiver records the event before its answer reaches the publisher: wait for the count.
    await until(
      () => sinks.stats()[0]!.delivered,
      (d) => d === 1,
    );
    expect(sinks.stats()[0]).toMatchObject({ state: 'running', delivered: 1 });
  });
});
