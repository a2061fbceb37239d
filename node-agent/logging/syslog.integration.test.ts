import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/time/ManualClock.js';
import { TestPlatform } from '../../testing/TestPlatform.js';
import type { NodeAgent } from '../NodeAgent.js';
import { RFC5424, streamReceiver, udpReceiver, until, type Receiver } from '../testing/syslogReceivers.js';

/**
 * A conferencing node sends its support log to the syslog servers of its system location, set up
 * through the management REST API, and follows changes within a second without restarting.
 * The node is given a silent logger: what reaches syslog does not depend on the local log level.
 */
const TURN_PASSWORD = 'turn-Pa55-never-in-syslog';
const NODE = 'syslog-node';

const lines = (r: Receiver, text: string) => r.messages.filter((m) => m.includes(text));
const started = (conference: string) => `Message="conference instance started" conference="${conference}"`;
const ended = (conference: string) => `Message="conference instance ended" conference="${conference}"`;

/** `r` gets the conference's start as one RFC 5424 record: local2, informational, from the node, its part `conference`. */
async function expectStartedRecord(r: Receiver, conference: string): Promise<void> {
  await until(
    () => lines(r, started(conference)).length,
    (n) => n === 1,
  );
  const m = RFC5424.exec(lines(r, started(conference))[0]!);
  expect(m, lines(r, started(conference))[0]).not.toBeNull();
  expect(m![1]).toBe(String(18 * 8 + 6)); // facility local2, severity informational
  expect(m![3]).toBe(NODE);
  expect(m![6]).toBe('conference');
  expect(m![7]).toMatch(/^INFO node\.conference Message="conference instance started"/);
}

describe('conferencing node → remote syslog servers', () => {
  let platform: TestPlatform;
  // The forwarder's reconnection backoff runs on a clock the test moves.
  const clock = new ManualClock();
  let node: NodeAgent;
  let locationUri = '';
  const receivers: Receiver[] = [];
  const rest = (method: string, path: string, body?: object) => platform.rest(method, path, body);
  const create = (resource: string, body: object) => platform.create(resource, body);
  const joinAs = async (alias: string, name: string) => {
    const r = await platform.client(alias, 'request_token', { body: { display_name: name } });
    expect(r.status).toBe(200);
    return (await r.json()).result as { token: string; turn: { credential: string }[] };
  };
  const leave = async (alias: string, token: string) => expect((await platform.client(alias, 'release_token', { token })).status).toBe(200);
  /** Waits (≤ 1 s, the guide's push time) until the node sends to exactly these servers. */
  const sendingTo = async (keys: string[]) => {
    const t0 = Date.now();
    await until(
      () =>
        node.syslog
          .stats()
          .map((s) => s.key)
          .sort(),
      (k) => JSON.stringify(k) === JSON.stringify([...keys].sort()),
      1_000,
    );
    return Date.now() - t0;
  };

  beforeAll(async () => {
    platform = await TestPlatform.start({ node: { name: NODE, mediaPortRange: [45800, 45899], syslogClock: clock } });
    node = platform.node;
    await until(
      () => node.link.config !== null,
      (c) => c,
    );
    const nodes = await (await rest('GET', 'worker_vm/')).json();
    locationUri = nodes.objects.find((n: { name: string }) => n.name === NODE).system_location;
    for (const [name, alias] of [
      ['Syslog Room', 'syslog.room'],
      ['Second Room', 'second.room'],
    ] as const) {
      await create('conference', { name, aliases: [{ alias }] });
      await until(
        () => node.manager.directory.lookup(alias),
        (s) => s !== undefined,
      );
    }
  });
  afterAll(async () => {
    await platform?.stop();
    for (const r of receivers) await r.close().catch(() => {});
  });

  it("sends the support log (local2) to the location's UDP and TCP servers, follows changes, and survives a dead server", async () => {
    const udp = await udpReceiver();
    const tcp = await streamReceiver();
    const udp2 = await udpReceiver();
    receivers.push(udp, tcp, udp2);
    const udpServer = await create('syslog_server', { address: '127.0.0.1', port: udp.port, transport: 'udp', support_log: true });
    const tcpServer = await create('syslog_server', { address: '127.0.0.1', port: tcp.port, transport: 'tcp', support_log: true, web_log: true });
    const turn = await create('turn_server', {
      name: 'TURN',
      address: 'turn.example.com',
      server_type: 'namepsw',
      transport_type: 'udp',
      username: 'alice',
      password: TURN_PASSWORD,
    });
    expect(node.syslog.stats()).toEqual([]);

    // Added: both servers receive the node's log within a second.
    await rest('PATCH', locationUri, { syslog_servers: [udpServer, tcpServer], client_turn_servers: [turn] });
    expect(await sendingTo([`udp://127.0.0.1:${udp.port}`, `tcp://127.0.0.1:${tcp.port}`])).toBeLessThan(1_000);
    await until(
      () => node.manager.location?.clientTurnServers.length,
      (n) => n === 1,
    );

    const first = await joinAs('syslog.room', 'Alice');
    expect(first.turn[0]!.credential).toBe(TURN_PASSWORD); // the secret is in play on the node
    for (const r of [udp, tcp]) await expectStartedRecord(r, 'Syslog Room');
    expect((tcp as Awaited<ReturnType<typeof streamReceiver>>).errors).toEqual([]);

    // Changed: the UDP server moves to another port; the old one gets nothing more.
    await rest('PATCH', udpServer, { port: udp2.port });
    expect(await sendingTo([`udp://127.0.0.1:${udp2.port}`, `tcp://127.0.0.1:${tcp.port}`])).toBeLessThan(1_000);
    const udpCount = udp.messages.length;
    await leave('syslog.room', first.token);
    await until(
      () => lines(tcp, ended('Syslog Room')).length,
      (n) => n === 1,
    );
    await until(
      () => lines(udp2, ended('Syslog Room')).length,
      (n) => n === 1,
    );

    // Removed from the location: it receives nothing more.
    await rest('PATCH', locationUri, { syslog_servers: [tcpServer] });
    expect(await sendingTo([`tcp://127.0.0.1:${tcp.port}`])).toBeLessThan(1_000);
    const udp2Count = udp2.messages.length;
    const second = await joinAs('second.room', 'Bob');
    await until(
      () => lines(tcp, started('Second Room')).length,
      (n) => n === 1,
    );
    await new Promise((r) => setTimeout(r, 200));
    expect(udp.messages.length).toBe(udpCount);
    expect(udp2.messages.length).toBe(udp2Count);

    // A dead syslog server does not break the node: it answers, and catches up when the server is back.
    const port = tcp.port;
    await tcp.close();
    await until(
      () => node.syslog.stats()[0]!.connected,
      (c) => !c,
    );
    await leave('second.room', second.token);
    const third = await joinAs('syslog.room', 'Carol');
    expect((await fetch(`${node.url}/healthz`)).status).toBe(200);
    await leave('syslog.room', third.token);
    const back = await streamReceiver({ port });
    receivers.push(back);
    await clock.advanceUntil(() => lines(back, ended('Syslog Room')).length === 1, { stepMs: 500, maxMs: 30_000, ioMs: 100 });
    expect(lines(back, ended('Second Room'))).toHaveLength(1);

    // Never a secret, on any server.
    for (const r of [udp, udp2, tcp, back]) {
      expect(r.messages.length).toBeGreaterThan(0);
      expect(r.raw()).not.toContain(TURN_PASSWORD);
    }
  });

  it('opens no connection for a server with only the audit log selected (the node has no audit log)', async () => {
    const tcp = await streamReceiver();
    const udp = await udpReceiver();
    receivers.push(tcp, udp);
    const audit = await create('syslog_server', { address: '127.0.0.1', port: tcp.port, transport: 'tcp', audit_log: true });
    const support = await create('syslog_server', { address: '127.0.0.1', port: udp.port, transport: 'udp', support_log: true, audit_log: true });
    await rest('PATCH', locationUri, { syslog_servers: [audit, support] });
    expect(await sendingTo([`udp://127.0.0.1:${udp.port}`])).toBeLessThan(1_000);
    expect(node.link.config?.location?.syslogServers.map((s) => s.port).sort()).toEqual([tcp.port, udp.port].sort());
    const p = await joinAs('syslog.room', 'Dave');
    await leave('syslog.room', p.token);
    await until(
      () => lines(udp, ended('Syslog Room')).length,
      (n) => n === 1,
    );
    expect(tcp.connections()).toBe(0);
    expect(tcp.messages).toEqual([]);
  });
});
