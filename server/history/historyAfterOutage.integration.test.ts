import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/client.js';
import { NodeAgent } from '../../node-agent/NodeAgent.js';
import { requestTokenResult } from '../../shared/client-api/conference.js';
import { until } from '../../shared/testing/until.js';
import { ManagementServer } from '../ManagementServer.js';

/**
 * Calls that end while the management server is down still reach the history, once: the node keeps
 * their records and sends them after it reconnects, and the server, restarted on the same on-disk
 * database with nothing live in memory, writes them from what the records carry.
 */
const silent = pino({ level: 'silent' });
const KEY = 'history-outage-key';
const H = '/api/admin/history/v1';
const AUTH = { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` };

describe('history across a management server outage', () => {
  const dbDir = mkdtempSync(joinPath(tmpdir(), 'om-history-outage-db-'));
  let server: ManagementServer | undefined;
  let node: NodeAgent | undefined;
  afterAll(async () => {
    await node?.stop();
    await server?.stop();
  });
  const restart = async (port: number) => {
    server = await ManagementServer.start({
      port,
      database: await openDatabase({ dataDir: dbDir }),
      adminPassword: 'pw',
      enrollmentKey: KEY,
      webRoot: '/nonexistent',
      logger: silent,
    });
    return server;
  };
  const get = async (s: ManagementServer, path: string) =>
    (await (await fetch(s.url + path, { headers: AUTH })).json()) as { meta: { total_count: number }; objects: Record<string, unknown>[] };
  const down = async (n: NodeAgent) => {
    await server!.stop();
    server = undefined;
    await until(
      () => n.link.connected,
      (c) => !c,
      10_000,
    );
  };

  it('writes the records a node resends after reconnecting, each once', async () => {
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
      name: 'outage-node',
      managementUrl: server.url,
      enrollmentKey: KEY,
      port: 0,
      dataDir: mkdtempSync(joinPath(tmpdir(), 'om-history-outage-')),
      webRoot: '/nonexistent',
      mediaWorkers: 1,
      mediaPortRange: [45600, 45699],
      logger: silent,
    });
    const n = node;
    await until(() => n.link.connected, Boolean, 10_000);
    const created = await fetch(`${server.url}/api/admin/configuration/v1/conference/`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Outage room', aliases: [{ alias: 'o.room' }] }),
    });
    expect(created.status).toBe(201);
    await until(
      () => n.manager.directory.lookup('o.room'),
      (s) => s !== undefined,
    );
    const api = async (path: string, token?: string, body: unknown = {}) =>
      fetch(`${n.url}/api/client/v2/conferences/o.room/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { token } : {}) },
        body: JSON.stringify(body),
      });
    const join = async (name: string) =>
      requestTokenResult.parse(((await (await api('request_token', undefined, { display_name: name })).json()) as { result: unknown }).result);
    const stays = await join('Stays');
    const leaves = await join('Leaves');

    // One leaves while the server is down; it restarts knowing nothing live.
    await down(n);
    expect((await api('release_token', leaves.token)).status).toBe(200);
    let s = await restart(port);
    const first = await until(
      () => get(s, `${H}/participant/?conference=Outage%20room`),
      (r) => r.meta.total_count === 1,
      30_000,
      200,
    );
    expect(first.objects[0]).toMatchObject({ id: leaves.participant_uuid, display_name: 'Leaves', conference_name: 'Outage room', media_node: 'outage-node' });

    // The last one leaves while it is down again: the conference's end comes later, with its own time.
    await down(n);
    const endedAt = Date.now();
    expect((await api('release_token', stays.token)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1_500));
    s = await restart(port);
    const conf = await until(
      () => get(s, `${H}/conference/?name=Outage%20room`),
      (r) => r.meta.total_count === 1,
      30_000,
      200,
    );
    const c = conf.objects[0]!;
    expect(c).toMatchObject({ participant_count: 2 });
    // The end the node saw, not the time the server heard of it.
    expect(Math.abs(Date.parse(`${c.end_time as string}Z`) - endedAt)).toBeLessThan(1_500);
    const all = await get(s, `${H}/participant/?conference=Outage%20room&order_by=start_time`);
    expect(all.objects.map((p) => p.display_name)).toEqual(['Stays', 'Leaves']);
    expect(all.meta.total_count).toBe(2);
  }, 120_000);
});
