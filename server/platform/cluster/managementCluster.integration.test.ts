import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeAgent } from '../../../node-agent/NodeAgent.js';
import { managementUrls } from '../../../node-agent/management/ManagementLink.js';
import { nodeBundleConfigSchema } from '../../../shared/node-protocol/nodeBundleConfig.js';
import { until } from '../../../shared/testing/until.js';
import { ManagementServer } from '../../ManagementServer.js';
import { liveCounters } from '../../status/liveView.service.js';
import { listBackups, setAutomaticBackupPassphrase } from '../../backup/backup.service.js';
import { CLUSTER_CHANNEL } from './ClusterChannel.js';
import { MediaTestClient } from '../../../node-agent/testing/MediaTestClient.js';

const BASE_URL = process.env.TEST_DATABASE_URL;
const KEY = 'cluster-test-key';
const auth = { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}`, 'content-type': 'application/json' };
const CONFIG = '/api/admin/configuration/v1';
const STATUS = '/api/admin/status/v1';

/** A logger writing JSON lines into an array, so the test can read what each server did. */
function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { logger, lines };
}

/** Runs of the history purge each server logged, by slot. */
const purgeSlots = (lines: Record<string, unknown>[]) =>
  lines.filter((l) => l.job === 'history_purge' && l.msg === 'history purge ran').map((l) => Number(l.slot));

/**
 * Two management servers on one Postgres database (issue 14, "the management side scales out"):
 * real servers with real HTTP and WebSockets, a real node agent linked to server 2, and Postgres
 * LISTEN/NOTIFY between the servers.
 */
describe.skipIf(!BASE_URL)('two management servers on one Postgres', () => {
  const dbName = `om_cluster_${process.pid}_${Date.now()}`;
  let url = '';
  let s1: ManagementServer;
  let s2: ManagementServer | null;
  let node: NodeAgent;
  const log1 = capture();
  const log2 = capture();
  const api = (s: ManagementServer, method: string, path: string, body?: unknown) =>
    fetch(`${s.url}${path}`, { method, headers: auth, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = async <T>(r: Response | Promise<Response>): Promise<T> => {
    const res = await r;
    if (res.status >= 300) throw new Error(`${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  let nodeId = 0;

  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: BASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
    const u = new URL(BASE_URL!);
    u.pathname = `/${dbName}`;
    url = u.toString();
    // Scheduled work often: the purge every second, automatic backups tried every second (each claims its minute).
    const opts = {
      port: 0,
      webRoot: '/nonexistent',
      databaseUrl: url,
      adminPassword: 'pw',
      enrollmentKey: KEY,
      historyPurgeMs: 1_000,
      backupCron: '* * * * * *',
    };
    // Started together on an empty database: migrations and the first start's set-up must run once.
    [s1, s2] = await Promise.all([
      ManagementServer.start({ ...opts, logger: log1.logger, cluster: { heartbeatMs: 500, peerTimeoutMs: 3_000 } }),
      ManagementServer.start({ ...opts, logger: log2.logger, cluster: { heartbeatMs: 500, peerTimeoutMs: 3_000 } }),
    ]);
    // The node knows both servers, server 2 first.
    node = await NodeAgent.start({
      name: 'cluster-node',
      port: 0,
      dataDir: mkdtempSync(join(tmpdir(), 'om-cluster-node-')),
      webRoot: '/nonexistent',
      logger: pino({ level: 'silent' }),
      managementUrl: `${s2.url},${s1.url}`,
      enrollmentKey: KEY,
      mediaPortRange: [44600, 44699],
    });
    await until(
      () => node.link.connected && node.link.config !== null,
      (c) => c,
      20_000,
    );
    nodeId = node.link.config!.node.id;
  }, 60_000);

  afterAll(async () => {
    await node?.stop();
    await s2?.stop();
    await s1?.stop();
    const admin = new pg.Client({ connectionString: BASE_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  }, 30_000);

  it('set up the database once although both servers started together', async () => {
    const shipped = await json<{ objects: { name: string }[] }>(api(s1, 'GET', `${CONFIG}/conference/?limit=100`));
    expect(shipped.objects.filter((o) => o.name === 'Test Call Service')).toHaveLength(1);
    const users = await json<{ objects: { username: string }[] }>(api(s2!, 'GET', `${CONFIG}/user/?limit=100`)).catch(() => null);
    if (users) expect(users.objects.filter((u) => u.username === 'admin').length).toBeLessThanOrEqual(1);
    expect(s1.enrollmentKey).toBe(s2!.enrollmentKey);
  });

  it('the node is linked to server 2 and live on both servers', async () => {
    expect(s2!.registry.isConnectedHere(nodeId)).toBe(true);
    expect(s1.registry.isConnectedHere(nodeId)).toBe(false);
    await until(
      () => s1.registry.isLive(nodeId),
      (v) => v,
      5_000,
    );
    // status/v1 on server 1: the node with its load (reported to server 2 only).
    const vm = await until(
      async () => (await json<{ objects: Record<string, unknown>[] }>(api(s1, 'GET', `${STATUS}/worker_vm/`))).objects.find((o) => o.name === 'cluster-node'),
      (o) => o !== undefined && o.media_load !== undefined,
      15_000,
    );
    expect(vm).toMatchObject({ name: 'cluster-node', node_type: 'CONFERENCING' });
    // The console's live view data on server 1 counts it up.
    const counters = await liveCounters(s1.dom, s1.status);
    expect(JSON.stringify(counters)).toContain('cluster-node');
    expect(counters.nodeLoads.find((n) => n.name === 'cluster-node')?.up).toBe(true);
  });

  it("a node's configuration downloaded from either server lists both servers, the one it came from first", async () => {
    const r = await json<{ objects: { id: number; name: string }[] }>(api(s1, 'GET', `${CONFIG}/system_location/`));
    const vm = await api(s1, 'POST', `${CONFIG}/worker_vm/`, {
      name: 'scale-node',
      hostname: 'scale-node',
      address: '10.9.9.9',
      netmask: '255.255.255.0',
      gateway: '10.9.9.1',
      system_location: `${CONFIG}/system_location/${r.objects[0]!.id}/`,
    });
    expect(vm.status).toBe(201);
    const id = Number(vm.headers.get('location')!.match(/(\d+)\/$/)![1]);
    for (const [from, other] of [
      [s1, s2!],
      [s2!, s1],
    ] as const) {
      // Heartbeats carry each server's address (every 500 ms here).
      const config = await until(
        async () =>
          nodeBundleConfigSchema.parse(
            await json(api(from, 'POST', '/api/admin/command/v1/conferencing_node/enrollment/', { conferencing_node_id: id, format: 'config' })),
          ),
        (c) => c.managementUrl.includes(','),
        5_000,
        200,
      );
      // As the node agent reads MANAGEMENT_URL: this server, then the other.
      expect(managementUrls(config.managementUrl)).toEqual([from.url, other.url]);
    }
    await api(s1, 'DELETE', `${CONFIG}/worker_vm/${id}/`);
  });

  it('a VMR created on server 1 reaches the node linked to server 2 within 1 s', async () => {
    const t0 = performance.now();
    const r = await api(s1, 'POST', `${CONFIG}/conference/`, { name: 'Cluster room', aliases: [{ alias: 'cluster.room' }] });
    expect(r.status, await r.clone().text()).toBe(201);
    await until(
      () => node.manager.directory.lookup('cluster.room'),
      (s) => s !== undefined,
      1_000,
      5,
    );
    const ms = performance.now() - t0;
    console.log(`cluster propagation: VMR created on server 1 usable on the node linked to server 2 after ${Math.round(ms)} ms`);
    expect(ms).toBeLessThan(1_000);
  });

  it("a participant on the node shows in server 1's status/v1 and live view", async () => {
    const res = await fetch(`${node.url}/api/client/v2/conferences/cluster.room/request_token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ display_name: 'Carla' }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const participants = await until(
      async () => (await json<{ objects: Record<string, unknown>[] }>(api(s1, 'GET', `${STATUS}/participant/`))).objects,
      (ps) => ps.some((p) => p.display_name === 'Carla'),
      5_000,
    );
    const carla = participants.find((p) => p.display_name === 'Carla')!;
    expect(carla).toMatchObject({ conference: 'Cluster room', media_node: 'cluster-node', signalling_node: 'cluster-node' });
    // The same participant object as server 2 (the node's own server) lists it.
    const on2 = (await json<{ objects: Record<string, unknown>[] }>(api(s2!, 'GET', `${STATUS}/participant/`))).objects.find((p) => p.id === carla.id)!;
    const same = ['id', 'conference', 'media_node', 'signalling_node', 'system_location', 'display_name', 'role', 'connect_time'] as const;
    expect(Object.fromEntries(same.map((k) => [k, carla[k]]))).toEqual(Object.fromEntries(same.map((k) => [k, on2[k]])));
    const counters = await liveCounters(s1.dom, s1.status);
    expect(counters.participants).toBeGreaterThanOrEqual(1);
    expect(counters.conferences).toBeGreaterThanOrEqual(1);
    // Both servers list the same conferences.
    expect(s1.status.conferences().map((c) => c.name)).toEqual(s2!.status.conferences().map((c) => c.name));
  });

  it('a command on server 1 reaches the participant on the node linked to server 2', async () => {
    const [p] = (await json<{ objects: { id: string; display_name: string }[] }>(api(s1, 'GET', `${STATUS}/participant/`))).objects.filter(
      (x) => x.display_name === 'Carla',
    );
    const r = await api(s1, 'POST', '/api/admin/command/v1/participant/disconnect/', { participant_id: p!.id });
    expect(r.status, await r.clone().text()).toBe(200);
    await until(
      () => s1.status.participants().some((x) => x.displayName === 'Carla'),
      (still) => !still,
      5_000,
    );
  });

  it('a node linked to each server, a participant on each: one backplane joins the conference, each hears the other', { timeout: 60_000 }, async () => {
    const node1 = await NodeAgent.start({
      name: 'cluster-node-1',
      port: 0,
      dataDir: mkdtempSync(join(tmpdir(), 'om-cluster-node1-')),
      webRoot: '/nonexistent',
      logger: pino({ level: 'silent' }),
      managementUrl: s1.url,
      enrollmentKey: KEY,
      mediaPortRange: [44700, 44799],
    });
    const clients: MediaTestClient[] = [];
    try {
      await until(
        () => node1.link.connected && node1.link.config !== null && node1.manager.directory.lookup('cluster.room') !== undefined,
        (c) => c,
        20_000,
      );
      const tones = { Dora: 523, Emil: 659 } as const;
      const join_ = async (n: NodeAgent, name: keyof typeof tones) => {
        const r = await fetch(`${n.url}/api/client/v2/conferences/cluster.room/request_token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ display_name: name }),
        });
        expect(r.status, await r.clone().text()).toBe(200);
        const { participant_uuid: uuid } = ((await r.json()) as { result: { participant_uuid: string } }).result;
        const conf = n.manager.conferences().find((c) => c.get(uuid))!;
        const client = new MediaTestClient(name, [44800, 44899], { toneHz: tones[name] });
        clients.push(client);
        await client.join(conf.media, uuid);
        client.startSending(20, ['audio']);
        return client;
      };
      // Dora on the node linked to server 2, Emil on the node linked to server 1.
      const dora = await join_(node, 'Dora');
      const emil = await join_(node1, 'Emil');
      await dora.waitFor("Emil's tone over the backplane", () => dora.toneLevelDb(tones.Emil) > -40, 30_000);
      await emil.waitFor("Dora's tone over the backplane", () => emil.toneLevelDb(tones.Dora) > -40, 30_000);
      // One backplane (two links, one each way), brokered once, listed alike (same ids) on both servers.
      const links = async (s: ManagementServer) =>
        (await json<{ objects: { id: string; media_node: string; remote_media_node: string }[] }>(api(s, 'GET', `${STATUS}/backplane/`))).objects
          .map((l) => `${l.id} ${l.media_node}→${l.remote_media_node}`)
          .sort();
      const on1 = await links(s1);
      expect(on1.map((l) => l.split(' ')[1]).sort()).toEqual(['cluster-node-1→cluster-node', 'cluster-node→cluster-node-1']);
      await until(
        () => links(s2!),
        (l) => JSON.stringify(l) === JSON.stringify(on1),
        5_000,
      );
      console.info(
        `cluster backplane: Dora hears Emil at ${dora.toneLevelDb(tones.Emil).toFixed(1)} dB, Emil hears Dora at ${emil.toneLevelDb(tones.Dora).toFixed(1)} dB`,
      );
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await node1.stop();
    }
  });

  it('an alarm raised on server 2 shows on server 1, once however many servers raise it', async () => {
    let woke = 0;
    const onChanged = () => woke++;
    s1.alarms.on('changed', onChanged);
    const alarm = { alarm: 'capacity_exhausted' as const, node: 'cluster-node', instance: 'cluster-node', details: 'raised on server 2' };
    await s2!.alarms.raise(alarm);
    const listed = await until(
      async () => (await json<{ objects: { node: string; details: string }[] }>(api(s1, 'GET', `${STATUS}/alarm/`))).objects,
      (os) => os.some((o) => o.node === 'cluster-node' && o.details === 'raised on server 2'),
      2_000,
    );
    expect(listed.filter((o) => o.node === 'cluster-node')).toHaveLength(1);
    // The console's alarm badge on server 1 is told.
    await until(
      () => woke,
      (n) => n > 0,
      2_000,
    );
    s1.alarms.off('changed', onChanged);
    // Both servers raising the same alarm at once still make one alarm.
    const again = { ...alarm, alarm: 'configuration_sync_failure' as const, details: 'both' };
    await Promise.all([...Array(4)].flatMap(() => [s1.alarms.raise(again), s2!.alarms.raise(again)]));
    const all = await json<{ objects: { name: string; node: string }[] }>(api(s1, 'GET', `${STATUS}/alarm/`));
    expect(all.objects.filter((o) => o.node === 'cluster-node' && o.name === 'Configuration not synchronized')).toHaveLength(1);
    await s1.alarms.lower(alarm);
    await s1.alarms.lower(again);
  });

  it('the scheduled history purge runs once per interval with both servers up', async () => {
    // Each server tries every second; slots are seconds here.
    await until(
      () => new Set([...purgeSlots(log1.lines), ...purgeSlots(log2.lines)]).size,
      (n) => n >= 4,
      15_000,
      100,
    );
    const a = purgeSlots(log1.lines);
    const b = purgeSlots(log2.lines);
    const all = [...a, ...b];
    // No slot ran twice, on one server or across both.
    expect(new Set(all).size).toBe(all.length);
  });

  it('an automatic backup is made by one server per scheduled minute, not by both', async () => {
    await setAutomaticBackupPassphrase(s1.dom, { passphrase: 'cluster-backup-passphrase', passphrase_confirm: 'cluster-backup-passphrase' });
    await until(
      () => listBackups(s1.dom, { kind: 'automatic' }),
      (bs) => bs.length >= 1,
      10_000,
      100,
    );
    // Both servers keep trying every second for a few more seconds.
    await new Promise((r) => setTimeout(r, 3_000));
    await setAutomaticBackupPassphrase(s1.dom, { passphrase: '', passphrase_confirm: '' });
    const made = await listBackups(s1.dom, { kind: 'automatic' });
    const minutes = made.map((b) => Math.floor(new Date(b.created_at).getTime() / 60_000));
    expect(made.length).toBeGreaterThanOrEqual(1);
    expect(new Set(minutes).size).toBe(minutes.length);
    const ran = [...log1.lines, ...log2.lines].filter((l) => l.part === 'backup' && typeof l.file === 'string');
    expect(ran).toHaveLength(made.length);
  });

  it("a server that goes silent without a goodbye (crashed) has its nodes taken off the others' live status", async () => {
    // A third "server" speaking the channel's format from a plain connection, then falling silent.
    const ghost = new pg.Client({ connectionString: url });
    await ghost.connect();
    const say = (msg: object) =>
      ghost.query('SELECT pg_notify($1, $2)', [CLUSTER_CHANNEL, `ghost|${Math.random().toString(36).slice(2, 8)}|0|1|${JSON.stringify(msg)}`]);
    const gone = { id: 99_999, name: 'ghost-node', location: 'Nowhere' };
    await say({ kind: 'heartbeat', nodes: [gone], stale: [] });
    await say({
      kind: 'node_message',
      node: gone,
      msg: {
        type: 'status',
        conferences: [{ id: 'g1', name: 'Ghost room', serviceType: 'conference', startTime: new Date().toISOString(), participants: [], activeSpeaker: null }],
      },
    });
    await until(
      () => s1.registry.isLive(gone.id) && s1.status.conferences().some((c) => c.name === 'Ghost room'),
      (v) => v,
      2_000,
    );
    expect(s1.registry.liveNodes().map((n) => n.name)).toContain('ghost-node');
    await ghost.end();
    // peerTimeoutMs is 3 s here.
    await until(
      () => s1.registry.isLive(gone.id) || s1.status.conferences().some((c) => c.name === 'Ghost room'),
      (v) => !v,
      8_000,
    );
    expect(s1.registry.isLive(nodeId)).toBe(true);
  });

  it('server 2 stopped: the node reconnects to server 1 and a change still reaches it', async () => {
    await s2!.stop();
    s2 = null;
    await until(
      () => s1.registry.isConnectedHere(nodeId) && node.link.connected,
      (v) => v,
      15_000,
    );
    expect(node.link.managementUrl).toBe(s1.url);
    const t0 = performance.now();
    const r = await api(s1, 'POST', `${CONFIG}/conference/`, { name: 'After failover', aliases: [{ alias: 'after.failover' }] });
    expect(r.status, await r.clone().text()).toBe(201);
    await until(
      () => node.manager.directory.lookup('after.failover'),
      (s) => s !== undefined,
      1_000,
      5,
    );
    console.log(`after failover: change reached the node in ${Math.round(performance.now() - t0)} ms`);
    // Still live on server 1 (its own link now), with its load.
    const vm = (await json<{ objects: Record<string, unknown>[] }>(api(s1, 'GET', `${STATUS}/worker_vm/`))).objects.find((o) => o.name === 'cluster-node');
    expect(s1.registry.isLive(nodeId)).toBe(true);
    expect(vm?.maintenance_mode).toBe(false);
  });

  it('a node whose resync arrives through another server has moved: its dead link here is closed; a replay for a joining server moves nothing', async () => {
    expect(s1.registry.isConnectedHere(nodeId)).toBe(true);
    const ghost = new pg.Client({ connectionString: url });
    await ghost.connect();
    const say = (msg: object) =>
      ghost.query('SELECT pg_notify($1, $2)', [CLUSTER_CHANNEL, `ghost2|${Math.random().toString(36).slice(2, 8)}|0|1|${JSON.stringify(msg)}`]);
    const self = { id: nodeId, name: 'cluster-node', location: node.link.config!.node.systemLocation };
    const marker = { id: 88_888, name: 'marker-node', location: 'Nowhere' };
    // A replay (what a server sends one that joins) is not the node speaking: nothing moves.
    await say({ kind: 'node_message', node: self, msg: { type: 'status', conferences: [] }, replay: true });
    await say({ kind: 'heartbeat', nodes: [marker], stale: [] });
    await until(
      () => s1.registry.isLive(marker.id),
      (v) => v,
      2_000,
    );
    expect(s1.registry.isConnectedHere(nodeId)).toBe(true);
    // The node's own resync through another server: it left this one.
    await say({ kind: 'node_message', node: self, msg: { type: 'status', conferences: [] } });
    await until(
      () => s1.registry.isConnectedHere(nodeId),
      (v) => !v,
      2_000,
    );
    await ghost.end();
    // The real node finds its link gone and comes back (here: the only server left).
    await until(
      () => s1.registry.isConnectedHere(nodeId) && node.link.connected,
      (v) => v,
      20_000,
    );
  });
});
