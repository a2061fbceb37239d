import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../shared/testing/until.js';
import { ManualClock } from '../../shared/time/ManualClock.js';
import { TestPlatform } from '../../testing/TestPlatform.js';
import type { NodeAgent } from '../NodeAgent.js';

/**
 * The alarms a node knows of itself, end to end: a real node agent's syslog server that refuses
 * connections, and an event sink that fails until its publisher stops at maximum backoff, show as
 * the guide's alarms in the management server's status/v1 `alarm`; fixing or removing them lowers them.
 */
const NODE = 'alarm-node';

/** A TCP port with nothing listening on it (taken, then let go). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Moves `clock` a step at a time until `check` (asked over the network between steps) holds; resolves with the clock time moved. */
async function advanceUntilShown(clock: ManualClock, check: () => Promise<boolean>, { stepMs, maxMs }: { stepMs: number; maxMs: number }): Promise<number> {
  for (let moved = 0; ; moved += stepMs) {
    if (await check()) return moved;
    if (moved >= maxMs) throw new Error(`not shown within ${maxMs} ms of clock time`);
    await clock.advance(stepMs);
  }
}

describe('node alarms → management server', () => {
  // The node's syslog reconnection and event sink retries run on a clock the test moves, with the guide's timings.
  const clock = new ManualClock();
  let platform: TestPlatform;
  let node: NodeAgent;
  let locationUri = '';
  const listeners: Server[] = [];
  const rest = (method: string, path: string, body?: object) => platform.rest(method, path, body);
  const create = (resource: string, body: object) => platform.create(resource, body);
  type Alarm = { name: string; identifier: number; level: string; node: string; instance: string; details: string };
  const active = async (name: string) =>
    ((await (await rest('GET', `/api/admin/status/v1/alarm/?name=${encodeURIComponent(name)}`)).json()) as { objects: Alarm[] }).objects;

  beforeAll(async () => {
    platform = await TestPlatform.start({ node: { name: NODE, mediaPortRange: [38300, 38399], syslogClock: clock, eventSinkClock: clock } });
    node = platform.node;
    await until(
      () => node.link.config !== null,
      (c) => c,
    );
    const nodes = (await (await rest('GET', 'worker_vm/')).json()) as { objects: { name: string; system_location: string }[] };
    locationUri = nodes.objects.find((n) => n.name === NODE)!.system_location;
  });
  afterAll(async () => {
    await platform?.stop();
    for (const l of listeners) l.close();
  });

  it('a TCP syslog server that refuses raises "Syslog server inaccessible" for the node; lowered once it listens', { timeout: 30_000 }, async () => {
    const port = await closedPort();
    const syslog = await create('syslog_server', { address: '127.0.0.1', port, transport: 'tcp', support_log: true });
    await rest('PATCH', locationUri, { syslog_servers: [syslog] });
    // The management node sends its own lines there too, so it raises one for itself (node "") as well.
    const ofNode = async () => (await active('Syslog server inaccessible')).filter((a) => a.node === NODE);
    const [raised] = await until(ofNode, (a) => a.length === 1, 10_000);
    expect(raised).toMatchObject({ identifier: 4, level: 'warning', node: NODE, instance: `tcp://127.0.0.1:${port}` });
    expect(raised!.details).toMatch(/ECONNREFUSED/);

    // The server comes up: the node reconnects when its backoff (from 500 ms) runs out, and the alarm is lowered.
    const listener = createServer((socket) => socket.resume());
    listeners.push(listener);
    await new Promise<void>((r) => listener.listen(port, '127.0.0.1', r));
    await advanceUntilShown(clock, async () => (await ofNode()).length === 0, { stepMs: 500, maxMs: 30_000 });
    // The management node's own forwarder (on the system clock) reconnects too.
    await until(
      () => active('Syslog server inaccessible'),
      (a) => a.length === 0,
      15_000,
    );
    await rest('PATCH', locationUri, { syslog_servers: [] });
  });

  it("an event sink stopped at maximum backoff raises the guide's critical alarm; removing it from the location lowers it", { timeout: 30_000 }, async () => {
    const sink = await create('event_sink', { name: 'Broken sink', url: `http://127.0.0.1:${await closedPort()}/events`, version: 1 });
    await rest('PATCH', locationUri, { event_sinks: [sink] });
    // The guide's waits, 1 s doubling: the twelfth failure would wait 2048 s, past the 30-minute maximum.
    const tookMs = await advanceUntilShown(clock, async () => (await active('Eventsink Reached Maximum Backoff')).length === 1, {
      stepMs: 5 * 60_000,
      maxMs: 2 * 60 * 60_000,
    });
    expect(tookMs).toBeGreaterThanOrEqual(2_047_000);
    const [raised] = await active('Eventsink Reached Maximum Backoff');
    expect(raised).toMatchObject({ identifier: 36, level: 'critical', node: NODE, instance: 'Broken sink' });
    expect(raised!.details).toMatch(/^Event sink Broken sink stopped after 12 failed deliveries/);

    // The guide's way to restart it: remove it from its locations (then add it again).
    await rest('PATCH', locationUri, { event_sinks: [] });
    await until(
      () => active('Eventsink Reached Maximum Backoff'),
      (a) => a.length === 0,
      5_000,
    );
    const history = (await (await rest('GET', '/api/admin/history/v1/alarm/?identifier=36')).json()) as { objects: { time_lowered: string | null }[] };
    expect(history.objects).toEqual([expect.objectContaining({ time_lowered: expect.any(String) })]);
  });
});
