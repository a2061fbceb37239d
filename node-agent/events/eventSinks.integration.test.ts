import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/client.js';
import { ManagementServer } from '../../server/ManagementServer.js';
import { ManualClock } from '../../shared/time/ManualClock.js';
import { NodeAgent } from '../NodeAgent.js';
import { startSinkReceiver, until, type SinkReceiver } from '../testing/sinkReceiver.js';
import { conferenceEventDataSchema, participantEventDataSchema, type SinkEvent } from './sinkEvents.js';

/**
 * A conferencing node POSTs its conference and participant events to the event sinks of its
 * system location (guide §14.9), set up through the management REST API, following changes within
 * about a second. The receivers are real HTTP servers; the node logs everything into a buffer.
 */
const KEY = 'eventsink-key';
const API = '/api/admin/configuration/v1';
const NODE = 'sink-node';
const SINK_USER = 'SinkUser';
const SINK_PASSWORD = 'sink-Pa55-never-logged';
const basic = (user: string, pw: string) => `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}`;

let logged = '';
const capture = pino({ level: 'trace' }, { write: (line: string) => void (logged += line) });

describe('conferencing node → event sinks', () => {
  // The sinks' retry waits run on a clock the test moves (the guide's 1 s, 2 s ...); HTTP is real.
  const clock = new ManualClock();
  let server: ManagementServer;
  let node: NodeAgent;
  let locationUri = '';
  let sinkUri = '';
  const receivers: SinkReceiver[] = [];
  const auth = { authorization: basic('admin', 'pw'), 'content-type': 'application/json' };
  const rest = async (method: string, path: string, body?: object) => {
    const url = path.startsWith('/') ? `${server.url}${path}` : `${server.url}${API}/${path}`;
    const r = await fetch(url, { method, headers: auth, body: body ? JSON.stringify(body) : undefined });
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
    return r;
  };
  const create = async (resource: string, body: object) => new URL((await rest('POST', `${resource}/`, body)).headers.get('location')!, server.url).pathname;
  const client = (alias: string, path: string, init: { token?: string; body?: unknown } = {}) =>
    fetch(`${node.url}/api/client/v2/conferences/${encodeURIComponent(alias)}/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(init.token ? { token: init.token } : {}) },
      body: JSON.stringify(init.body ?? {}),
    });
  /** One call: join the room, then hang up. */
  const call = async (name: string) => {
    const r = await client('sink.room', 'request_token', { body: { display_name: name, call_tag: `tag-${name}` } });
    expect(r.status).toBe(200);
    const { token } = (await r.json()).result as { token: string };
    expect((await client('sink.room', 'release_token', { token })).status).toBe(200);
  };
  const receiver = async () => {
    const r = await startSinkReceiver({ path: '/pexip/events' });
    receivers.push(r);
    return r;
  };
  const names = (events: SinkEvent[]) => events.map((e) => e.event);
  const CALL_EVENTS = ['conference_started', 'participant_connected', 'participant_disconnected', 'conference_ended'];

  beforeAll(async () => {
    server = await ManagementServer.start({
      port: 0,
      database: await openDatabase({ dataDir: 'memory://' }),
      adminPassword: 'pw',
      enrollmentKey: KEY,
      webRoot: '/nonexistent',
      logger: pino({ level: 'silent' }),
    });
    node = await NodeAgent.start({
      name: NODE,
      managementUrl: server.url,
      enrollmentKey: KEY,
      port: 0,
      dataDir: mkdtempSync(join(tmpdir(), 'om-eventsink-')),
      webRoot: '/nonexistent',
      mediaPortRange: [45900, 45999],
      logger: capture,
      eventSinkClock: clock,
    });
    await until(
      () => node.link.connected && node.link.config !== null,
      (c) => c,
    );
    const nodes = await (await rest('GET', 'worker_vm/')).json();
    locationUri = nodes.objects.find((n: { name: string }) => n.name === NODE).system_location;
    await create('conference', { name: 'Sink Room', tag: 'billing-42', aliases: [{ alias: 'sink.room' }] });
    await until(
      () => node.manager.directory.lookup('sink.room'),
      (s) => s !== undefined,
    );
  });
  afterAll(async () => {
    await node?.stop();
    await server?.stop();
    for (const r of receivers) await r.close();
  });

  it('POSTs the events of a call, in order, numbered, with Basic auth, within a second of attaching the sink', async () => {
    const r = await receiver();
    sinkUri = await create('event_sink', { name: 'Analytics', url: r.url, username: SINK_USER, password: SINK_PASSWORD, version: 1 });
    const t0 = Date.now();
    await rest('PATCH', locationUri, { event_sinks: [sinkUri] });
    await until(
      () => names(r.events()),
      (n) => n.includes('eventsink_started'),
      1_000,
    );
    expect(Date.now() - t0).toBeLessThan(1_000);

    await call('Alice');
    await until(
      () => names(r.events()),
      (n) => n.includes('conference_ended'),
    );
    const events = r.events();
    expect(names(events)).toEqual(['eventsink_started', ...CALL_EVENTS]);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(events.every((e) => e.node === NODE && e.version === 1)).toBe(true);
    for (let i = 1; i < events.length; i++) expect(events[i]!.time).toBeGreaterThanOrEqual(events[i - 1]!.time);
    expect(r.requests.every((q) => q.method === 'POST' && q.path === '/pexip/events' && q.contentType === 'application/json')).toBe(true);
    expect(r.requests.every((q) => q.authorization === basic(SINK_USER, SINK_PASSWORD))).toBe(true);
    expect(r.requests.every((q) => !Array.isArray(q.body))).toBe(true);

    const [, started, connected, disconnected, ended] = events;
    expect(conferenceEventDataSchema.parse(started!.data)).toMatchObject({
      name: 'Sink Room',
      conference: 'Sink Room',
      service_type: 'conference',
      tag: 'billing-42',
    });
    expect(conferenceEventDataSchema.parse(ended!.data).end_time).toBeGreaterThanOrEqual(started!.data.start_time as number);
    const p = participantEventDataSchema.parse(connected!.data);
    expect(p).toMatchObject({
      conference: 'Sink Room',
      display_name: 'Alice',
      role: 'chair',
      protocol: 'API', // a client API participant without a WebRTC call yet
      remote_address: '127.0.0.1',
      destination_alias: 'sink.room',
      call_tag: 'tag-Alice',
      call_direction: 'in',
      service_type: 'conference',
    });
    expect(p.disconnect_reason).toBeUndefined();
    const d = participantEventDataSchema.parse(disconnected!.data);
    expect(d.uuid).toBe(p.uuid);
    expect(d.disconnect_reason).toBeTruthy();
  });

  it('with bulk support, restarts the publisher and delivers JSON arrays', async () => {
    const r = receivers[0]!;
    const before = r.requests.length;
    await rest('PATCH', sinkUri, { bulk_support: true });
    await until(
      () => names(r.events()).filter((n) => n === 'eventsink_started').length,
      (n) => n === 2,
      1_000,
    );
    await call('Bob');
    await until(
      () => names(r.events()).filter((n) => n === 'conference_ended').length,
      (n) => n === 2,
    );
    const fresh = r.requests.slice(before);
    // The old publisher's goodbye (a single object), then the new one's arrays.
    expect(Array.isArray(fresh[0]!.body)).toBe(false);
    expect(fresh[0]!.body).toMatchObject({ event: 'eventsink_stopped', seq: 6 });
    expect(fresh.slice(1).every((q) => Array.isArray(q.body) && q.authorization === basic(SINK_USER, SINK_PASSWORD))).toBe(true);
    const events = r.events().slice(6);
    expect(names(events)).toEqual(['eventsink_started', ...CALL_EVENTS]);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(participantEventDataSchema.parse(events[2]!.data).display_name).toBe('Bob');
  });

  it('retries after a failing answer (1 s, then 2 s) and delivers everything in order', async () => {
    const r = await receiver();
    const at: number[] = [];
    r.respond = (n) => (at.push(clock.now()), n < 2 ? 500 : 200);
    const failures = () => logged.split('event sink delivery failed; will retry').length - 1;
    const failedBefore = failures();
    await rest('PATCH', sinkUri, { url: r.url, bulk_support: false });
    await until(
      () => r.requests.length,
      (n) => n >= 1,
      1_000,
    );
    await call('Carol');
    // Each retry falls due on its wait after the failure (as the node logs it), not a millisecond before.
    for (const [i, wait] of [1_000, 2_000].entries()) {
      await until(failures, (n) => n === failedBefore + i + 1);
      const before = r.requests.length;
      await clock.run(wait - 1, { stepMs: wait - 1, ioMs: 50 });
      expect(r.requests.length).toBe(before);
      await clock.advance(1);
      await until(
        () => r.requests.length,
        (n) => n === before + 1,
      );
    }
    await until(
      () => names(r.events()),
      (n) => n.includes('conference_ended'),
      8_000,
    );
    expect(r.requests.slice(0, 2).map((q) => [q.status, (q.body as SinkEvent).seq])).toEqual([
      [500, 1],
      [500, 1],
    ]);
    expect(at.slice(1, 3).map((t, i) => t - at[i]!)).toEqual([1_000, 2_000]);
    const events = r.events();
    expect(names(events)).toEqual(['eventsink_started', ...CALL_EVENTS]);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(logged).toContain('event sink delivery failed; will retry');
  }, 15_000);

  it('sends nothing more once the sink is detached from the location', async () => {
    const r = receivers[1]!;
    await rest('PATCH', locationUri, { event_sinks: [] });
    await until(
      () => names(r.events()),
      (n) => n.at(-1) === 'eventsink_stopped',
      1_000,
    );
    const count = r.requests.length;
    await call('Dave');
    await new Promise((res) => setTimeout(res, 1_200));
    expect(r.requests.length).toBe(count);
  });

  it('never writes the sink password to the node log', () => {
    expect(logged).toContain('event sink publisher started');
    expect(logged).not.toContain(SINK_PASSWORD);
    expect(logged).not.toContain(basic(SINK_USER, SINK_PASSWORD).slice(6));
  });
});
