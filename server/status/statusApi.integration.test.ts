import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASES } from '../../db/testing.js';
import { NodeAgent } from '../../node-agent/NodeAgent.js';
import { MediaTestClient } from '../../node-agent/testing/MediaTestClient.js';
import { currentQuality } from '../../node-agent/status/CallQuality.js';
import { READ_WRITE_PERMISSIONS } from '../../shared/admin/permissions.js';
import type { CallQuality, QualityWindow } from '../../shared/node-protocol/mediaStatus.js';
import { requestTokenResult } from '../../shared/client-api/conference.js';
import { until } from '../../shared/testing/until.js';
import { ManagementServer } from '../ManagementServer.js';
import { appRouter } from '../trpc/root.js';

/**
 * status/v1 and the console's live procedures from a real node's reports: two participants join
 * over the client API and send real media (each its own tone) through mediasoup; the management
 * server answers what the node measured, in Pexip's shapes.
 */
const silent = pino({ level: 'silent' });
const KEY = 'status-api-key';
const PORTS: [number, number] = [45300, 45499];
const BASE = '/api/admin/status/v1';
const CONFIG = '/api/admin/configuration/v1';
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

type Obj = Record<string, unknown>;
type List = { meta: { total_count: number; limit: number; offset: number; next: string | null }; objects: Obj[] };

describe.each(TEST_DATABASES.slice(0, 1))('status/v1 and the live view from a real node on $name', ({ open }) => {
  let server: ManagementServer;
  let node: NodeAgent;
  const clients: MediaTestClient[] = [];
  const ids: { host: string; guest: string } = { host: '', guest: '' };

  const get = async (path: string, auth = basic('admin', 'pw')) => {
    const r = await fetch(server.url + path, { headers: { authorization: auth } });
    return { status: r.status, body: (await r.json()) as Obj };
  };
  const list = async (path: string) => {
    const r = await fetch(server.url + path, { headers: { authorization: basic('admin', 'pw') } });
    const body = (await r.json()) as List;
    expect(r.status, `${path}: ${JSON.stringify(body)}`).toBe(200);
    return body;
  };
  const asConsole = () =>
    appRouter.createCaller({
      dom: server.dom,
      status: server.status,
      registry: server.registry,
      admin: { id: 1, username: 'admin', mayUseWeb: true, mayUseApi: true, permissions: READ_WRITE_PERMISSIONS },
      sessionToken: undefined,
      setCookie: () => {},
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
    const admin = (path: string, body: unknown) =>
      fetch(server.url + path, {
        method: 'POST',
        headers: { authorization: basic('admin', 'pw'), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const role = await admin(`${CONFIG}/role/`, { name: 'VMRs only', permissions: ['is_administrator', 'may_use_api', 'view_vmr'] });
    expect(role.status).toBe(201);
    const user = await admin(`${CONFIG}/user/`, {
      username: 'vmronly',
      password: 'vmronly-pw-1',
      password_confirm: 'vmronly-pw-1',
      roles: [role.headers.get('location')],
    });
    expect(user.status).toBe(201);
    node = await NodeAgent.start({
      name: 'status-api-node',
      managementUrl: server.url,
      enrollmentKey: KEY,
      port: 0,
      dataDir: mkdtempSync(joinPath(tmpdir(), 'om-status-api-')),
      webRoot: '/nonexistent',
      mediaPortRange: PORTS,
      mediaWorkers: 1,
      statusIntervalMs: { media: 1_000, load: 1_000 },
      logger: silent,
    });
    await until(() => node.link.connected, Boolean, 10_000);
    const r = await admin(`${CONFIG}/conference/`, {
      name: 'Status API room',
      aliases: [{ alias: 'sa.room' }],
      pin: '1234',
      allow_guests: true,
      guest_pin: '',
      tag: 'weekly',
    });
    expect(r.status).toBe(201);
    await until(
      () => node.manager.directory.lookup('sa.room'),
      (s) => s !== undefined,
    );
    const join = async (name: string, pin: string) => {
      const res = await fetch(`${node.url}/api/client/v2/conferences/sa.room/request_token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', pin },
        body: JSON.stringify({ display_name: name }),
      });
      expect(res.status).toBe(200);
      return requestTokenResult.parse(((await res.json()) as { result: unknown }).result).participant_uuid;
    };
    ids.host = await join('Hanna', '1234');
    ids.guest = await join('Gus', 'none');
    const conf = node.manager.conferences().find((c) => c.service.name === 'Status API room')!;
    for (const [id, hz] of [
      [ids.host, 440],
      [ids.guest, 660],
    ] as const) {
      const c = new MediaTestClient(id, PORTS, { toneHz: hz });
      clients.push(c);
      conf.get(id)!.leg = await c.join(conf.media, id);
      c.startSending();
    }
    // Each hears the other's tone: the media really flows.
    await clients[1]!.waitFor('the Guest heard the Host', () => clients[1]!.toneLevelDb(440) > -40, 20_000);
    await clients[0]!.waitFor('the Host heard the Guest', () => clients[0]!.toneLevelDb(660) > -40, 20_000);
  }, 90_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await node?.stop();
    await server?.stop();
  });

  it('participant: real rx/tx bandwidth, node, location and state; a measured call quality after the first 20-s window', async () => {
    const both = await until(
      () => list(`${BASE}/participant/?conference=Status%20API%20room&order_by=display_name`),
      (l) => l.objects.length === 2 && l.objects.every((p) => Number(p.rx_bandwidth) > 0 && Number(p.tx_bandwidth) > 0),
      15_000,
      250,
    );
    const [gus, hanna] = both.objects;
    console.info(`status/v1 participant: ${JSON.stringify(hanna)}`);
    expect(hanna).toMatchObject({
      id: ids.host,
      conference: 'Status API room',
      display_name: 'Hanna',
      destination_alias: 'sa.room',
      role: 'chair',
      service_type: 'conference',
      call_direction: 'in',
      media_node: 'status-api-node',
      signalling_node: 'status-api-node',
      is_muted: false,
      is_presenting: false,
      is_on_hold: false,
      has_media: true,
      resource_uri: `${BASE}/participant/${ids.host}/`,
    });
    expect(gus).toMatchObject({ role: 'guest', display_name: 'Gus' });
    expect(typeof hanna!.system_location).toBe('string');
    expect(hanna!.bandwidth).toBe(Number(hanna!.rx_bandwidth) + Number(hanna!.tx_bandwidth));
    expect(['0_unknown', '1_good']).toContain(hanna!.call_quality);
    // Filters and paging in Tastypie's way.
    expect((await list(`${BASE}/participant/?role=guest`)).objects.map((p) => p.id)).toEqual([ids.guest]);
    expect((await list(`${BASE}/participant/?display_name__icontains=HAN`)).objects.map((p) => p.id)).toEqual([ids.host]);
    const page = await list(`${BASE}/participant/?limit=1&order_by=-display_name`);
    expect(page.meta).toMatchObject({ total_count: 2, limit: 1, offset: 0 });
    expect(page.meta.next).toContain('offset=1');
    expect(page.objects[0]!.display_name).toBe('Hanna');
    expect((await get(`${BASE}/participant/?order_by=no_such_field`)).status).toBe(400);
    expect((await get(`${BASE}/participant/${ids.guest}/`)).body).toMatchObject({ id: ids.guest, display_name: 'Gus' });
    expect((await get(`${BASE}/participant/no-such-id/`)).status).toBe(404);
    // The API root and a resource's schema, as schema-driven clients read them.
    const root = (await get(`${BASE}/`)).body as Record<string, { list_endpoint: string; schema: string }>;
    expect(root.participant).toEqual({ list_endpoint: `${BASE}/participant/`, schema: `${BASE}/participant/schema/` });
    const schema = (await get(root.participant!.schema)).body as { fields: Record<string, { type: string }>; filtering: Record<string, unknown> };
    expect(schema.fields.rx_bandwidth?.type).toBe('integer');
    expect(schema.fields.is_muted?.type).toBe('boolean');
    expect(schema.fields.connect_time?.type).toBe('datetime');
    expect(Object.keys(schema.filtering)).toContain('conference');
    // Every field an object carries is in its schema.
    expect(Object.keys(hanna!).filter((k) => !(k in schema.fields))).toEqual([]);

    // After the first 20-s window the call has a measured quality (the guide: Unknown before). On
    // loopback it is Good unless the machine is so loaded that packets are late or lost: whatever
    // it is, status/v1 and the console say the same, and it follows the guide's rule over the windows.
    const measured = await until(
      async () => (await get(`${BASE}/participant/${ids.host}/`)).body,
      (p) => typeof p.call_quality === 'string' && p.call_quality !== '0_unknown',
      35_000,
      1_000,
    );
    console.info(`call_quality after the first windows: ${String(measured.call_quality)}`);
    expect(['1_good', '2_ok', '3_bad', '4_terrible']).toContain(measured.call_quality);
    const media = await asConsole().status.participantMedia({ participantId: ids.host });
    const first = await media[Symbol.asyncIterator]().next();
    const view = first.value as { callQuality: CallQuality; qualityWindows: QualityWindow[]; samples: { rxBandwidth: number }[] } | null;
    expect(view!.qualityWindows.length).toBeGreaterThanOrEqual(1);
    expect(view!.callQuality).toBe(currentQuality(view!.qualityWindows));
    expect((await get(`${BASE}/participant/${ids.host}/`)).body.call_quality).toBe(view!.callQuality);
    expect(view!.samples.some((s) => s.rxBandwidth > 0)).toBe(true);
    await media[Symbol.asyncIterator]().return?.(undefined);
  }, 60_000);

  it('media streams: audio (opus) and video (VP8) both ways, under the participant and by participant URI', async () => {
    const streams = await list(`${BASE}/participant/${ids.guest}/media_stream/`);
    console.info(`status/v1 media_stream: ${JSON.stringify(streams.objects)}`);
    expect(streams.objects.map((s) => s.type).sort()).toEqual(['audio', 'video']);
    const audio = streams.objects.find((s) => s.type === 'audio')!;
    const video = streams.objects.find((s) => s.type === 'video')!;
    expect(audio).toMatchObject({ rx_codec: 'opus', node: 'status-api-node', participant: `${BASE}/participant/${ids.guest}/` });
    expect(Number(audio.rx_bitrate)).toBeGreaterThan(0);
    expect(Number(audio.rx_packets_received)).toBeGreaterThan(0);
    expect(video).toMatchObject({ rx_codec: 'VP8' });
    expect(typeof audio.rx_packet_loss).toBe('number');
    const streamSchema = (await get(`${BASE}/participant_media_stream/schema/`)).body as { fields: Record<string, { type: string }> };
    expect(Object.keys(audio).filter((k) => !(k in streamSchema.fields))).toEqual([]);
    expect(streamSchema.fields.rx_jitter?.type).toBe('float');
    const byUri = await list(`${BASE}/participant_media_stream/?participant=${encodeURIComponent(`${BASE}/participant/${ids.guest}/`)}`);
    expect(byUri.objects.map((s) => s.id).sort()).toEqual(streams.objects.map((s) => s.id).sort());
    const byId = await list(`${BASE}/participant_media_stream/?participant=${ids.guest}&type=audio`);
    expect(byId.objects.map((s) => s.id)).toEqual([audio.id]);
    expect((await list(`${BASE}/participant_media_stream/`)).meta.total_count).toBe(4);
  });

  it('conference, conference_shard, worker_vm and system_location: the node’s load and capacity', async () => {
    const [conf] = (await list(`${BASE}/conference/`)).objects;
    expect(conf).toMatchObject({ name: 'Status API room', service_type: 'conference', tag: 'weekly', is_started: true, is_locked: false, guests_muted: false });
    const [shard] = (await list(`${BASE}/conference_shard/?conference=Status%20API%20room`)).objects;
    expect(shard).toMatchObject({ conference: 'Status API room', node: 'status-api-node', is_started: true });

    const vms = await until(
      () => list(`${BASE}/worker_vm/?name=status-api-node`),
      (l) => Number(l.objects[0]?.media_load) > 0 && l.objects[0]?.signaling_count === 2,
      10_000,
      250,
    );
    const vm = vms.objects[0]!;
    console.info(`status/v1 worker_vm: ${JSON.stringify(vm)}`);
    expect(vm).toMatchObject({ node_type: 'CONFERENCING', maintenance_mode: false, media_tokens_used: 24 });
    expect(Number(vm.max_hd_calls)).toBeGreaterThan(0);
    expect(Number(vm.cpu_count)).toBeGreaterThan(0);
    expect(Number(vm.total_ram)).toBeGreaterThan(0);
    expect(typeof vm.last_updated).toBe('string');
    expect((await get(`${BASE}/worker_vm/${String(vm.id)}/statistics/`)).body).toEqual({ media_load: vm.media_load });

    const locations = await list(`${BASE}/system_location/?name=${encodeURIComponent(String(vm.system_location))}`);
    expect(locations.objects[0]).toMatchObject({ media_tokens_used: 24, max_hd_calls: vm.max_hd_calls, max_media_tokens: vm.max_media_tokens });
    expect(Number(locations.objects[0]!.media_load)).toBeGreaterThan(0);

    // The console's counters and graphs say the same.
    const counters = await asConsole().status.counters();
    expect(counters).toMatchObject({ conferences: 1, participants: 2, byRole: { chair: 1, guest: 1 }, byProtocol: { api: 2 }, nodes: { up: 1, down: 0 } });
    expect(counters.nodeLoads[0]).toMatchObject({ name: 'status-api-node', up: true, mediaTokensUsed: 24 });
    const points = await until(
      () => asConsole().status.timeSeries({ range: 'hour' }),
      (p) => p.some((x) => x.participants === 2),
      5_000,
      250,
    );
    const last = points.at(-1)!;
    expect(last).toMatchObject({ conferences: 1, participants: 2 });
    expect(last.nodes['status-api-node']).toBeGreaterThan(0);
    expect(Object.values(last.locations)[0]).toMatchObject({ conferences: 1, participants: 2 });
    expect((await asConsole().status.timeSeries({ range: 'week' })).at(-1)).toMatchObject({ participants: 2 });
    // The conference opens to its participants, each with their call quality and bandwidth.
    const rows = (await asConsole().status.conferenceParticipants({ conference: 'Status API room' }))[Symbol.asyncIterator]();
    const first = (await rows.next()).value as { id: string; rxBandwidth: number | null; callQuality: string | null; systemLocation: string | null }[];
    await rows.return?.(undefined);
    expect(first.map((r) => r.id).sort()).toEqual([ids.host, ids.guest].sort());
    expect(first.every((r) => (r.rxBandwidth ?? 0) > 0 && r.callQuality !== null && r.systemLocation === vm.system_location)).toBe(true);
  });

  it('a participant muted, a conference locked and its Guests muted show at once; refused without credentials or permission', async () => {
    const conf = node.manager.conferences().find((c) => c.service.name === 'Status API room')!;
    conf.change(conf.get(ids.guest)!, { isMuted: true });
    const muted = await until(
      async () => (await get(`${BASE}/participant/${ids.guest}/`)).body,
      (p) => p.is_muted === true,
      2_000,
      50,
    );
    expect(muted.is_muted).toBe(true);
    // Locked and Guests muted: the conference says so too.
    conf.setLocked(true);
    conf.setGuestsMuted(true);
    const locked = await until(
      async () => (await list(`${BASE}/conference/?is_locked=true`)).objects,
      (l) => l.length === 1 && l[0]!.guests_muted === true,
      2_000,
      50,
    );
    expect(locked[0]).toMatchObject({ name: 'Status API room', is_locked: true, guests_muted: true });
    expect((await list(`${BASE}/conference_shard/`)).objects[0]).toMatchObject({ is_locked: true, guests_muted: true });
    conf.setLocked(false);
    // The Host takes the presentation floor (announced once their stream is live, or after 3 s).
    expect(conf.takeFloor(conf.get(ids.host)!)).toBe('ok');
    const presenting = await until(
      async () => (await get(`${BASE}/participant/${ids.host}/`)).body,
      (p) => p.is_presenting === true,
      5_000,
      100,
    );
    expect(presenting.is_presenting).toBe(true);
    conf.releaseFloor(conf.get(ids.host)!);
    await until(
      async () => (await get(`${BASE}/participant/${ids.host}/`)).body,
      (p) => p.is_presenting === false,
      5_000,
      100,
    );

    // A wrong password once (more would be throttled as a guessing attempt: 429).
    expect((await get(`${BASE}/participant/`, basic('admin', 'wrong'))).status).toBe(401);
    for (const path of ['participant/', 'conference/', 'worker_vm/', 'system_location/', 'conference_shard/', `participant/${ids.guest}/media_stream/`]) {
      expect((await fetch(`${server.url}${BASE}/${path}`)).status, path).toBe(401);
      expect((await get(`${BASE}/${path}`, basic('vmronly', 'vmronly-pw-1'))).status, path).toBe(403);
    }
  });

  it('when the Guest leaves, their media statistics are gone', async () => {
    const conf = node.manager.conferences().find((c) => c.service.name === 'Status API room')!;
    conf.remove(ids.guest, 'Call disconnected');
    await until(
      () => server.status.media.get(ids.guest),
      (e) => e === undefined,
      5_000,
      50,
    );
    expect((await get(`${BASE}/participant/${ids.guest}/media_stream/`)).status).toBe(404);
    expect((await list(`${BASE}/participant_media_stream/`)).objects.every((s) => s.participant !== `${BASE}/participant/${ids.guest}/`)).toBe(true);
  });
});
