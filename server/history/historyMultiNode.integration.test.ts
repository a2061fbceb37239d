import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASES } from '../../db/testing.js';
import { NodeAgent } from '../../node-agent/NodeAgent.js';
import { requestTokenResult } from '../../shared/client-api/conference.js';
import { until } from '../../shared/testing/until.js';
import { ManagementServer } from '../ManagementServer.js';

/**
 * One conference on two real conferencing nodes (each its own instance of the room) is one row of
 * history/v1 `conference`, as in Pexip: the participants of both nodes under it, its start the
 * earliest instance's and its end the latest's, whichever node's instance ends first.
 */
const silent = pino({ level: 'silent' });
const KEY = 'history-multi-key';
const H = '/api/admin/history/v1';
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const at = (t: unknown) => Date.parse(`${t as string}Z`);

type Obj = Record<string, unknown> & { id: string; resource_uri: string };
interface Envelope {
  meta: { total_count: number };
  objects: Obj[];
}

describe.each(TEST_DATABASES.slice(0, 1))('history of a conference spanning two nodes on $name', ({ open }) => {
  let server: ManagementServer;
  const nodes: NodeAgent[] = [];
  const get = async (path: string) => {
    const r = await fetch(server.url + path, { headers: { authorization: basic('admin', 'pw') } });
    expect(r.status).toBe(200);
    return (await r.json()) as Envelope;
  };
  const client = async (node: NodeAgent, path: string, body: unknown, token?: string) => {
    const r = await fetch(`${node.url}/api/client/v2/conferences/span.room/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { token } : {}) },
      body: JSON.stringify(body),
    });
    expect(r.status).toBe(200);
    return ((await r.json()) as { result: unknown }).result;
  };
  const join = async (node: NodeAgent, name: string) => requestTokenResult.parse(await client(node, 'request_token', { display_name: name }));
  const leave = (node: NodeAgent, token: string) => client(node, 'release_token', {}, token);
  const instanceOn = (node: NodeAgent) => node.manager.conferences().find((c) => c.service.name === 'Span room');

  beforeAll(async () => {
    server = await ManagementServer.start({
      port: 0,
      database: await open(),
      adminPassword: 'pw',
      enrollmentKey: KEY,
      webRoot: '/nonexistent',
      logger: silent,
    });
    for (const [name, ports] of [
      ['span-node-1', [45700, 45749]],
      ['span-node-2', [45750, 45799]],
    ] as const) {
      nodes.push(
        await NodeAgent.start({
          name,
          managementUrl: server.url,
          enrollmentKey: KEY,
          port: 0,
          dataDir: mkdtempSync(joinPath(tmpdir(), 'om-history-span-')),
          webRoot: '/nonexistent',
          mediaPortRange: [...ports],
          mediaWorkers: 1,
          logger: silent,
        }),
      );
    }
    const r = await fetch(`${server.url}/api/admin/configuration/v1/conference/`, {
      method: 'POST',
      headers: { authorization: basic('admin', 'pw'), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Span room', aliases: [{ alias: 'span.room' }] }),
    });
    expect(r.status).toBe(201);
    for (const node of nodes)
      await until(
        () => node.manager.directory.lookup('span.room'),
        (s) => s !== undefined,
        20_000,
      );
  }, 90_000);

  afterAll(async () => {
    for (const node of nodes) await node.stop();
    await server?.stop();
  });

  it('lists it once, with the participants of both nodes, from the earliest start to the latest end', async () => {
    const [one, two] = nodes as [NodeAgent, NodeAgent];
    const ann = await join(one, 'Ann');
    const bob = await join(two, 'Bob');
    const cat = await join(two, 'Cat');
    // Live status shows one conference with its three participants on two nodes.
    await until(
      () => server.status.conferences().find((c) => c.name === 'Span room')?.participants.length,
      (n) => n === 3,
      10_000,
    );
    const started = [instanceOn(one)!, instanceOn(two)!].map((c) => c.startTime.getTime());

    // Bob leaves node 2, then Ann ends node 1's instance while Cat keeps the conference going on node 2.
    await leave(two, bob.token);
    await leave(one, ann.token);
    await until(
      () => get(`${H}/conference/?name=Span%20room`),
      (b) => b.meta.total_count === 1,
      15_000,
      100,
    );
    await new Promise((r) => setTimeout(r, 1_100));
    await leave(two, cat.token);
    const ended = Date.now();
    await until(
      () => get(`${H}/participant/?conference=Span%20room`),
      (b) => b.meta.total_count === 3,
      15_000,
      100,
    );
    // Node 2's end widens the one row rather than adding another.
    const list = await until(
      () => get(`${H}/conference/?name=Span%20room`),
      (b) => b.objects[0]?.participant_count === 3,
      15_000,
      100,
    );
    expect(list.meta.total_count).toBe(1);
    const c = list.objects[0]!;
    expect(Math.abs(at(c.start_time) - Math.min(...started))).toBeLessThanOrEqual(1);
    // The end is node 2's (Cat's leave), after node 1's instance had ended.
    expect(at(c.end_time)).toBeGreaterThanOrEqual(ended - 2_000);
    expect(at(c.end_time)).toBeLessThanOrEqual(Date.now());
    expect(Math.abs((c.duration as number) - (at(c.end_time) - at(c.start_time)) / 1000)).toBeLessThanOrEqual(1);
    expect(c.duration).toBeGreaterThanOrEqual(1);

    const ps = await get(`${H}/participant/?conference=Span%20room&order_by=start_time`);
    expect(ps.objects.map((p) => [p.display_name, p.media_node])).toEqual([
      ['Ann', 'span-node-1'],
      ['Bob', 'span-node-2'],
      ['Cat', 'span-node-2'],
    ]);
    for (const p of ps.objects) expect(p.conference).toBe(c.resource_uri);
    expect([...(c.participants as string[])].sort()).toEqual(ps.objects.map((p) => p.resource_uri).sort());

    // The room meets again on one node: a second row of its own.
    const dee = await join(one, 'Dee');
    await leave(one, dee.token);
    const both = await until(
      () => get(`${H}/conference/?name=Span%20room&order_by=start_time`),
      (b) => b.meta.total_count === 2,
      15_000,
      100,
    );
    expect(both.objects.map((x) => x.participant_count)).toEqual([3, 1]);
    expect(both.objects[0]!.id).toBe(c.id);
  }, 90_000);
});
