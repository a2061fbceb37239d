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

describe('participant records while the management server is unreachable', () => {
  const dbDir = mkdtempSync(joinPath(tmpdir(), 'om-unsent-db-'));
  let server: ManagementServer | undefined;
  let node: NodeAgent | undefined;
  // The link's heartbeat and reconnection backoff run on a clock the test moves; sockets and the servers are real.
  const clock = new ManualClock();
  /** The node links up again once the server is back: its next attempt falls due as the clock moves. */
  const relinked = (n: NodeAgent) => clock.advanceUntil(() => n.link.connected, { stepMs: 500, maxMs: 60_000, ioMs: 50 });
  afterAll(async () => {
    await node?.stop();
    await server?.stop();
  });

  it('are sent after the link is back', async () => {
    server = await ManagementServer.start({
      port: 0,
      database: await openDatabase({ dataDir: dbDir }),
      adminPassword: 'pw',
      enrollmentKey: KEY,
      webRoot: '/nonexistent',
      logger: silent,
    });
    const port = Number(new URL(server.url).port);
    node = await NodeAgent.start({
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
    const n = node;
    await until(() => n.link.connected, Boolean, 10_000);
    const created = await fetch(`${server.url}/api/admin/configuration/v1/conference/`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Unsent room', aliases: [{ alias: 'u.room' }] }),
    });
    expect(created.status).toBe(201);
    await until(
      () => n.manager.directory.lookup('u.room'),
      (s) => s !== undefined,
    );
    const api = (path: string, token?: string, body: unknown = {}) =>
      fetch(`${n.url}/api/client/v2/conferences/u.room/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { token } : {}) },
        body: JSON.stringify(body),
      });
    const stay = requestTokenResult.parse(((await (await api('request_token', undefined, { display_name: 'Stays' })).json()) as { result: unknown }).result);
    const leave = requestTokenResult.parse(((await (await api('request_token', undefined, { display_name: 'Leaves' })).json()) as { result: unknown }).result);
    expect(stay.participant_uuid).toBeTruthy();

    await server.stop();
    server = undefined;
    await until(
      () => n.link.connected,
      (c) => !c,
      10_000,
    );
    expect((await api('release_token', leave.token)).status).toBe(200);

    server = await ManagementServer.start({
      port,
      database: await openDatabase({ dataDir: dbDir }),
      adminPassword: 'pw',
      enrollmentKey: KEY,
      webRoot: '/nonexistent',
      logger: silent,
    });
    const received: NodeToServer[] = [];
    const s = server;
    const apply = s.status.apply.bind(s.status);
    s.status.apply = (nodeId, msg) => {
      received.push(msg);
      apply(nodeId, msg);
    };
    await relinked(n);
    const left = await until(
      () => received.find((m) => m.type === 'participant_left' && m.participantId === leave.participant_uuid),
      (m) => m !== undefined,
      30_000,
      200,
    );
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
    await server.stop();
    server = undefined;
    await until(
      () => n.link.connected,
      (c) => !c,
      10_000,
    );
    const releasing = Date.now();
    expect((await api('release_token', stay.token)).status).toBe(200);
    const released = Date.now();
    server = await ManagementServer.start({
      port,
      database: await openDatabase({ dataDir: dbDir }),
      adminPassword: 'pw',
      enrollmentKey: KEY,
      webRoot: '/nonexistent',
      logger: silent,
    });
    const again: NodeToServer[] = [];
    const s2 = server;
    const apply2 = s2.status.apply.bind(s2.status);
    s2.status.apply = (nodeId, msg) => {
      again.push(msg);
      apply2(nodeId, msg);
    };
    await relinked(n);
    const ended = await until(
      () => again.find((m) => m.type === 'conference_ended'),
      (m) => m !== undefined,
      30_000,
      200,
    );
    const endTime = ended!.type === 'conference_ended' ? Date.parse(ended!.endTime!) : NaN;
    // Stamped when it ended, not when it was sent (after the restart).
    expect(endTime).toBeGreaterThanOrEqual(releasing);
    expect(endTime).toBeLessThanOrEqual(released);
    expect(again.some((m) => m.type === 'participant_left' && m.participantId === stay.participant_uuid)).toBe(true);
  }, 90_000);
});
