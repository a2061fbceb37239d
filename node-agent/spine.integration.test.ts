import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASES } from '../db/testing.js';
import { ManagementServer } from '../server/ManagementServer.js';
import { NodeAgent } from './NodeAgent.js';
import { until } from '../shared/testing/until.js';
import { EventStream } from '../testing/EventStream.js';

const silent = pino({ level: 'silent' });
const KEY = 'integration-key';

describe.each(TEST_DATABASES)('management server ↔ conferencing node on $name', ({ open }) => {
  let server: ManagementServer;
  let node: NodeAgent;
  const dataDir = mkdtempSync(join(tmpdir(), 'om-node-'));
  const auth = { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}`, 'content-type': 'application/json' };
  const createVmr = async (body: object) => {
    const r = await fetch(`${server.url}/api/admin/configuration/v1/conference/`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
    expect(r.status).toBe(201);
    return r.headers.get('location')!;
  };
  const client = (alias: string, path: string, init: { pin?: string; token?: string; body?: unknown; method?: string } = {}) =>
    fetch(`${node.url}/api/client/v2/conferences/${encodeURIComponent(alias)}/${path}`, {
      method: init.method ?? 'POST',
      headers: {
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(init.pin !== undefined ? { pin: init.pin } : {}),
        ...(init.token ? { token: init.token } : {}),
      },
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
    });

  beforeAll(async () => {
    server = await ManagementServer.start({
      port: 0,
      database: await open(),
      adminPassword: 'pw',
      enrollmentKey: KEY,
      webRoot: '/nonexistent',
      logger: silent,
    });
    node = await NodeAgent.start({
      name: 'it-node',
      managementUrl: server.url,
      enrollmentKey: KEY,
      port: 0,
      dataDir,
      webRoot: '/nonexistent',
      mediaPortRange: [41000, 41999],
      logger: silent,
    });
    await until(
      () => node.link.connected,
      (c) => c,
    );
  });
  afterAll(async () => {
    await node?.stop();
    await server?.stop();
  });

  it('enrolls the node, which then shows as live in worker_vm and the console list', async () => {
    const list = await (await fetch(`${server.url}/api/admin/configuration/v1/worker_vm/`, { headers: auth })).json();
    expect(list.objects).toEqual([expect.objectContaining({ name: 'it-node', address: '127.0.0.1', node_type: 'CONFERENCING' })]);
    expect(server.registry.isLive(list.objects[0].id)).toBe(true);
  });

  it('pushes a configuration change to the node within a second and caches it on disk', async () => {
    const t0 = Date.now();
    await createVmr({ name: 'Pushed', aliases: [{ alias: 'pushed@example.com' }] });
    await until(
      () => node.manager.directory.lookup('sip:Pushed@example.com'),
      (s) => s !== undefined,
      1_000,
    );
    expect(Date.now() - t0).toBeLessThan(1_000);
    const cached = await until(
      () => JSON.parse(readFileSync(join(dataDir, 'config.json'), 'utf8')),
      (c) => c.services.some((s: { name: string }) => s.name === 'Pushed'),
    );
    expect(cached.node).toMatchObject({ name: 'it-node' });
  });

  it('routes request_token through the incoming-alias lookup: service aliases first, then Call Routing Rules', async () => {
    await createVmr({ name: 'Routed room', aliases: [{ alias: 'gw.room@example.com' }] });
    const rule = await fetch(`${server.url}/api/admin/configuration/v1/gateway_routing_rule/`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ name: 'To SIP', priority: 10, match_string: 'gw\\..*@example\\.com', called_device_type: 'external', outgoing_protocol: 'sip' }),
    });
    expect(rule.status, await rule.text()).toBe(201);
    await until(
      () => node.manager.directory.routingRules.length,
      (n) => n === 1,
      1_000,
    );
    const call = { direction: 'incoming', protocol: 'webrtc', location: null, registered: false } as const;
    expect(node.manager.directory.route('gw.alice@example.com', call)).toMatchObject({ kind: 'gateway', rule: { name: 'To SIP' } });

    // The VMR alias also matches the rule's regex, but services win.
    const room = await client('gw.room@example.com', 'request_token', { body: { display_name: 'Rita' } });
    expect(room.status).toBe(200);
    const { result } = await room.json();
    expect(result.conference_name).toBe('Routed room');
    await client('gw.room@example.com', 'release_token', { token: result.token, body: {} });
    // A rule match would be a gateway call, which the node cannot place yet: the client is told so.
    const gw = await client('gw.alice@example.com', 'request_token', { body: { display_name: 'Rita' } });
    expect(gw.status).toBe(404);
    expect(await gw.json()).toEqual({ status: 'failed', result: 'Neither conference nor gateway found' });
  });

  it('answers request_token as the client API says for every PIN case', async () => {
    await createVmr({ name: 'PIN room', aliases: [{ alias: 'pin.room' }], pin: '1234', allow_guests: true, guest_pin: '5678' });
    await until(
      () => node.manager.directory.lookup('pin.room'),
      (s) => s !== undefined,
    );

    const none = await client('nowhere', 'request_token', { body: { display_name: 'x' } });
    expect(none.status).toBe(404);
    expect(await none.json()).toEqual({ status: 'failed', result: 'Neither conference nor gateway found' });

    const needPin = await client('pin.room', 'request_token', { body: { display_name: 'x' } });
    expect(needPin.status).toBe(403);
    expect((await needPin.json()).result).toMatchObject({ pin: 'required', guest_pin: 'required', version: expect.any(Object) });

    const wrong = await client('pin.room', 'request_token', { body: { display_name: 'x' }, pin: '0000' });
    expect(wrong.status).toBe(403);
    expect((await wrong.json()).result).toBe('Invalid PIN');

    const noName = await client('pin.room', 'request_token', { body: {}, pin: '1234' });
    expect(noName.status).toBe(400);

    const host = await (await client('pin.room', 'request_token', { body: { display_name: 'Hilda' }, pin: '1234' })).json();
    expect(host.result).toMatchObject({ role: 'HOST', expires: '120', display_name: 'Hilda', current_service_type: 'conference' });
    const guest = await (await client('PIN.Room', 'request_token', { body: { display_name: 'Gus' }, pin: '5678' })).json();
    expect(guest.result.role).toBe('GUEST');

    await expect(
      until(
        () => server.status.participants().length,
        (n) => n === 2,
        1_000,
      ),
    ).resolves.toBe(2);
    const status = await (await fetch(`${server.url}/api/admin/status/v1/participant/`, { headers: auth })).json();
    expect(status.objects.map((p: { display_name: string; role: string }) => `${p.display_name}:${p.role}`).sort()).toEqual(['Gus:guest', 'Hilda:chair']);

    for (const t of [host.result.token, guest.result.token]) expect((await client('pin.room', 'release_token', { token: t, body: {} })).status).toBe(200);
    await until(
      () => server.status.conferences().length,
      (n) => n === 0,
      1_000,
    );
    expect(node.manager.conferences()).toHaveLength(0);
  });

  it('streams participant events, refreshes and releases tokens', async () => {
    await createVmr({ name: 'Open room', aliases: [{ alias: 'open.room' }], participant_limit: 2 });
    await until(
      () => node.manager.directory.lookup('open.room'),
      (s) => s !== undefined,
    );
    const a = (await (await client('open.room', 'request_token', { body: { display_name: 'Ann' } })).json()).result;
    expect(a.role).toBe('HOST');

    const sse = await EventStream.open(`${node.url}/api/client/v2/conferences/open.room/events?token=${a.token}`);
    const events = () => sse.events.map((e) => `${e.event}:${(e.data as { display_name?: string } | null)?.display_name ?? ''}`);
    await until(events, (e) => e.includes('participant_sync_end:'));
    expect(events().slice(0, 3)).toEqual(['participant_sync_begin:', 'participant_create:Ann', 'participant_sync_end:']);

    const b = (await (await client('open.room', 'request_token', { body: { display_name: 'Ben' } })).json()).result;
    await until(events, (e) => e.includes('participant_create:Ben'));
    const full = await client('open.room', 'request_token', { body: { display_name: 'Cat' } });
    expect(full.status).toBe(403);
    expect((await full.json()).result).toBe('Participant limit reached');

    const refreshed = await (await client('open.room', 'refresh_token', { token: b.token })).json();
    expect(refreshed.result.token).not.toBe(b.token);
    const list = await (await client('open.room', 'participants', { method: 'GET', token: refreshed.result.token })).json();
    expect(list.result.map((p: { display_name: string }) => p.display_name).sort()).toEqual(['Ann', 'Ben']);
    expect((await client('open.room', 'participants', { method: 'GET', token: 'bogus' })).status).toBe(403);

    // A garbage offer is refused and the node keeps serving.
    const bad = await client('open.room', `participants/${b.participant_uuid}/calls`, {
      token: refreshed.result.token,
      body: { call_type: 'WEBRTC', sdp: 'v=0 garbage' },
    });
    expect(bad.status).toBe(400);
    const bad2 = await client('open.room', `participants/${b.participant_uuid}/calls`, { token: refreshed.result.token, body: { call_type: 'WEBRTC' } });
    expect(bad2.status).toBe(400);

    expect((await client('open.room', 'release_token', { token: refreshed.result.token, body: {} })).status).toBe(200);
    await until(events, (e) => e.includes('participant_delete:'));
    sse.close();
    await client('open.room', 'release_token', { token: a.token, body: {} });
  });

  it('keeps serving from the cached configuration when the management server is unreachable', async () => {
    await node.stop();
    node = await NodeAgent.start({
      name: 'it-node',
      managementUrl: 'http://127.0.0.1:9',
      enrollmentKey: KEY,
      port: 0,
      dataDir,
      webRoot: '/nonexistent',
      mediaPortRange: [41000, 41999],
      logger: silent,
    });
    expect(node.link.connected).toBe(false);
    const r = await client('pushed@example.com', 'request_token', { body: { display_name: 'Offline' } });
    expect(r.status).toBe(200);
    expect((await r.json()).result.display_name).toBe('Offline');
  });

  it('refuses a node with the wrong enrollment key', async () => {
    const rogue = await NodeAgent.start({
      name: 'rogue',
      managementUrl: server.url,
      enrollmentKey: 'wrong',
      port: 0,
      dataDir: mkdtempSync(join(tmpdir(), 'om-rogue-')),
      webRoot: '/nonexistent',
      mediaPortRange: [41000, 41999],
      logger: silent,
    });
    const rejected = await new Promise<string>((resolve) => rogue.link.once('rejected', resolve));
    expect(rejected).toBe('Invalid enrollment key');
    const list = await (await fetch(`${server.url}/api/admin/configuration/v1/worker_vm/`, { headers: auth })).json();
    expect(list.objects.map((n: { name: string }) => n.name)).toEqual(['it-node']);
    await rogue.stop();
  });
});
