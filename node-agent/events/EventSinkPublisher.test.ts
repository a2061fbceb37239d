import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { eventSinkConfigSchema, type EventSinkConfig } from '../../shared/node-protocol/messages.js';
import { generateSelfSigned } from '../../server/certificate/pem.js';
import { EventSinkPublisher, MAX_BACKOFF_ALARM, safeUrl, type PublisherTimings } from './EventSinkPublisher.js';
import { EventSinks } from './EventSinks.js';
import { startSinkReceiver, until, type SinkReceiver } from '../testing/sinkReceiver.js';
import { MAX_BATCH, pendingEvent } from './sinkEvents.js';

/** Publishers against a real HTTP receiver on 127.0.0.1, with the retry timings shortened. */
const PASSWORD = 'sink-Pa55word-secret';
const FAST: Partial<PublisherTimings> = { baseDelayMs: 40, maxBackoffMs: 60_000, requestTimeoutMs: 10_000 };

let logged = '';
const log = pino({ level: 'trace' }, { write: (line: string) => void (logged += line) });
const receivers: SinkReceiver[] = [];
const publishers: (EventSinkPublisher | EventSinks)[] = [];

const sinkFor = (r: SinkReceiver, extra: Partial<EventSinkConfig> = {}): EventSinkConfig =>
  eventSinkConfigSchema.parse({ name: 'sink-a', url: r.url, username: 'eve', password: PASSWORD, ...extra });
const receiver = async (...args: Parameters<typeof startSinkReceiver>) => {
  const r = await startSinkReceiver(...args);
  receivers.push(r);
  return r;
};
const publisher = (sink: EventSinkConfig, timings: Partial<PublisherTimings> = FAST) => {
  const p = new EventSinkPublisher(sink, 'node-x', log, timings);
  publishers.push(p);
  return p;
};
const test = (n: number) => pendingEvent('participant_updated', { uuid: `p${n}` });

afterEach(async () => {
  for (const p of publishers.splice(0)) await (p instanceof EventSinks ? p.close(200) : p.stop(200));
  for (const r of receivers.splice(0)) await r.close();
  // Whatever happened, the sink password never reaches the log.
  expect(logged).not.toContain(PASSWORD);
  expect(logged).not.toContain(Buffer.from(`eve:${PASSWORD}`).toString('base64'));
  logged = '';
});

describe('EventSinkPublisher', () => {
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

  it('retries a failed delivery after the base delay, then twice that, and keeps the order', async () => {
    const r = await receiver();
    r.respond = (n) => (n < 2 ? 500 : 200);
    const p = publisher(sinkFor(r));
    p.publish(test(1));
    p.publish(test(2));
    await until(
      () => r.events().length,
      (n) => n === 3,
    );
    expect(r.requests.map((q) => q.status)).toEqual([500, 500, 200, 200, 200]);
    // The same first event three times, then the rest in order.
    expect(r.allEvents().map((e) => e.seq)).toEqual([1, 1, 1, 2, 3]);
    const gaps = r.requests.slice(1, 3).map((q, i) => q.at - r.requests[i]!.at);
    expect(gaps[0]).toBeGreaterThanOrEqual(35); // 40 ms
    expect(gaps[1]).toBeGreaterThanOrEqual(75); // 80 ms
    expect(logged).toContain('event sink delivery failed; will retry');
    expect(p.stats().failures).toBe(0);
  });

  it('treats an unreachable sink and a sink that never answers as failures, without blocking publish', async () => {
    const r = await receiver();
    r.respond = () => 'hang';
    const p = publisher(sinkFor(r), { ...FAST, requestTimeoutMs: 100 });
    const t0 = Date.now();
    for (let i = 0; i < 50; i++) p.publish(test(i));
    expect(Date.now() - t0).toBeLessThan(50);
    await until(
      () => p.stats().failures,
      (f) => f >= 2,
    );
    expect(r.requests.length).toBeGreaterThanOrEqual(2);

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

  it('stops at maximum backoff, logs the alarm, and publishes nothing more', async () => {
    const r = await receiver();
    r.respond = () => 503;
    // Waits 20, 40, 80 ms; the next (160 ms) would exceed 100 ms.
    const p = publisher(sinkFor(r), { baseDelayMs: 20, maxBackoffMs: 100, requestTimeoutMs: 1_000 });
    p.publish(test(1));
    await until(
      () => p.stats().state,
      (s) => s === 'failed',
      3_000,
    );
    expect(r.requests.length).toBe(4);
    expect(logged).toContain(MAX_BACKOFF_ALARM);
    expect(logged).toContain('"alarm":"eventsink_maximum_backoff"');
    expect(p.stats()).toMatchObject({ state: 'failed', failures: 4, queued: 0, dropped: 2 });
    p.publish(test(2));
    await new Promise((res) => setTimeout(res, 200));
    expect(r.requests.length).toBe(4);
    // A failed publisher does not try to send eventsink_stopped.
    await p.stop(200);
    expect(r.requests.length).toBe(4);
  });

  it('keeps a bounded queue while the sink is down, dropping the oldest and counting them', async () => {
    const r = await receiver();
    let up = false;
    r.respond = () => (up ? 200 : 503);
    const p = publisher(sinkFor(r), { ...FAST, maxQueue: 5 });
    for (let i = 1; i <= 20; i++) p.publish(test(i));
    // eventsink_started is in flight; 15 of the 20 queued behind it are dropped at once.
    expect(p.stats()).toMatchObject({ seq: 21, dropped: 15, queued: 5 });
    expect(logged).toContain('event sink queue full');
    await until(
      () => p.stats().failures,
      (f) => f >= 1,
    );
    up = true;
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
    await new Promise((res) => setTimeout(res, 100));
    expect(r.requests.length).toBe(3);
    expect(p.stats().state).toBe('stopped');
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

describe('EventSinks', () => {
  it('starts, keeps, restarts and stops publishers as the location sinks change', async () => {
    const a = await receiver();
    const b = await receiver();
    const sinks = new EventSinks({ node: 'node-x', log, timings: FAST });
    publishers.push(sinks);
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
    const sinks = new EventSinks({ node: 'node-x', log, timings: { baseDelayMs: 10, maxBackoffMs: 30, requestTimeoutMs: 1_000 } });
    publishers.push(sinks);
    sinks.apply([sinkFor(r)]);
    await until(
      () => sinks.stats()[0]!.state,
      (s) => s === 'failed',
    );
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
    expect(sinks.stats()[0]).toMatchObject({ state: 'running', delivered: 1 });
  });
});
