import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/client.js';
import { ManagementServer } from '../../server/ManagementServer.js';
import { requestTokenResult } from '../../shared/client-api/conference.js';
import type { NodeToServer } from '../../shared/node-protocol/messages.js';
import { until } from '../../shared/testing/until.js';
import { ManualClock } from '../../shared/time/ManualClock.js';
import { NodeAgent } from '../NodeAgent.js';

/**
 * A participant who leaves, or a conference that ends, while the management server is down still
 * gets its record: the node keeps it and sends it once the link is back. The server restarts on the same port and the same
 * (on-disk PGlite) database, as an operator's restart would.
 */
const silent = pino({ level: 'silent' });
const KEY = 'unsent-records-key';

/** Starts the management server on the (on-disk) database in `dbDir`, on `port` (0: any). */
const startServer = async (dbDir: string, port = 0) =>
  ManagementServer.start({
    port,
    database: await openDatabase({ dataDir: dbDir }),
    adminPassword: 'pw',
    enrollmentKey: KEY,
    webRoot: '/nonexistent',
    logger: silent,
  });

/** Every message the server's status takes from nodes, from now on. */
function recordMessages(server: ManagementServer): NodeToServer[] {
  const received: NodeToServer[] = [];
  const apply = server.status.apply.bind(server.status);
  server.status.apply = (nodeId, msg) => {
    received.push(msg);
    apply(nodeId, msg);
  };
  return received;
}

/** Waits for the first recorded message that `match` accepts. */
const firstOf = (received: NodeToServer[], match: (m: NodeToServer) => boolean) =>
  until(
    () => received.find(match),
    (m) => m !== undefined,
    30_000,
    200,
  );

/** A node (its link on `clock`) linked to a fresh server, with a room 'u.room' it knows. */
async function startPlatform(dbDir: string, clock: ManualClock) {
  const server = await startServer(dbDir);
  const node = await NodeAgent.start({
    name: 'unsent-node',
    managementUrl: server.url,
    enrollmentKey: KEY,
    port: 0,
    dataDir: mkdtempSync(joinPath(tmpdir(), 'om-unsent-')),
    webRoot: '/nonexistent',
    mediaWorkers: 1,
    mediaPortRange: [45400, 45499],
    logger: silent,
    linkClock: clock,
  });
  await until(() => node.link.connected, Boolean, 10_000);
  const created = await fetch(`${server.url}/api/admin/configuration/v1/conference/`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Unsent room', aliases: [{ alias: 'u.room' }] }),
  });
  expect(created.status).toBe(201);
  await until(
    () => node.manager.directory.lookup('u.room'),
    (s) => s !== undefined,
  );
  return { server, node, port: Number(new URL(server.url).port) };
}

describe('participant records while the management server is unreachable', () => {
  const dbDir = mkdtempSync(joinPath(tmpdir(), 'om-unsent-db-'));
  let server: ManagementServer | undefined;
  let node: NodeAgent | undefined;
  // The link's heartbeat and reconnection backoff run on a clock the test moves; sockets and the servers are real.
  const clock = new ManualClock();
  afterAll(async () => {
    await node?.stop();
    await server?.stop();
  });

  const api = (path: string, token?: string, body: unknown = {}) =>
    fetch(`${node!.url}/api/client/v2/conferences/u.room/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { token } : {}) },
      body: JSON.stringify(body),
    });
  const join = async (name: string) =>
    requestTokenResult.parse(((await (await api('request_token', undefined, { display_name: name })).json()) as { result: unknown }).result);
  /** Stops the server and waits for the node to notice. */
  const serverDown = async (n: NodeAgent) => {
    await server!.stop();
    server = undefined;
    await until(
      () => n.link.connected,
      (c) => !c,
      10_000,
    );
  };
  /** Restarts the server on its port and database, recording what the node sends once its link is back. */
  const serverBack = async (n: NodeAgent, port: number) => {
    server = await startServer(dbDir, port);
    const received = recordMessages(server);
    // The node's next attempt falls due as the clock moves; never faster than real time, so a slow
    // handshake on a loaded machine is not taken for a silent server (its heartbeat is on this clock too).
    await clock.advanceUntil(() => n.link.connected, { stepMs: 500, maxMs: 60_000, ioMs: 500 });
    return received;
  };

  it('are sent after the link is back', async () => {
    const platform = await startPlatform(dbDir, clock);
    ({ server, node } = platform);
    const { node: n, port } = platform;
    const stay = await join('Stays');
    const leave = await join('Leaves');
    expect(stay.participant_uuid).toBeTruthy();

    await serverDown(n);
    expect((await api('release_token', leave.token)).status).toBe(200);
    const received = await serverBack(n, port);
    const left = await firstOf(received, (m) => m.type === 'participant_left' && m.participantId === leave.participant_uuid);
    expect(left!.type === 'participant_left' && left!.record).toMatchObject({
      disconnectReason: expect.any(String),
      callQuality: '0_unknown',
      mediaStreams: [],
    });
    // After the node's resync, which still lists the one who stayed.
    const order = received.map((m) => m.type);
    expect(order.indexOf('status')).toBeLessThan(order.indexOf('participant_left'));
    const status = received.find((m) => m.type === 'status');
    expect(status?.type === 'status' && status.conferences.flatMap((c) => c.participants.map((p) => p.id))).toEqual([stay.participant_uuid]);

    // The last one leaves while the server is down again: the conference's end comes later, with its time.
    await serverDown(n);
    const releasing = Date.now();
    expect((await api('release_token', stay.token)).status).toBe(200);
    const released = Date.now();
    const again = await serverBack(n, port);
    const ended = await firstOf(again, (m) => m.type === 'conference_ended');
    const endTime = ended!.type === 'conference_ended' ? Date.parse(ended!.endTime!) : NaN;
    // Stamped when it ended, not when it was sent (after the restart).
    expect(endTime).toBeGreaterThanOrEqual(releasing);
    expect(endTime).toBeLessThanOrEqual(released);
    expect(again.some((m) => m.type === 'participant_left' && m.participantId === stay.participant_uuid)).toBe(true);
  }, 90_000);
});
