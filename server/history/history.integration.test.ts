import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASES } from '../../db/testing.js';
import { NodeAgent } from '../../node-agent/NodeAgent.js';
import { MediaTestClient } from '../../node-agent/testing/MediaTestClient.js';
import { requestTokenResult } from '../../shared/client-api/conference.js';
import { until } from '../../shared/testing/until.js';
import { ManagementServer } from '../ManagementServer.js';

/**
 * Conference history end to end: a real node hosts a meeting of two participants with real media
 * (each its own tone), both leave, and history/v1 on the real management server lists the
 * conference with its duration and both participants, each with media streams; filters, paging
 * and permissions over real HTTP.
 */
const silent = pino({ level: 'silent' });
const KEY = 'history-key';
const PORTS: [number, number] = [45500, 45599];
const H = '/api/admin/history/v1';
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

interface Envelope<T> {
  meta: { limit: number; offset: number; total_count: number; next: string | null; previous: string | null };
  objects: T[];
}
type Obj = Record<string, unknown> & { id: string; resource_uri: string };

describe.each(TEST_DATABASES.slice(0, 1))('conference history on $name', ({ open }) => {
  let server: ManagementServer;
  let node: NodeAgent;
  const clients: MediaTestClient[] = [];
  const get = async <T = Envelope<Obj>>(path: string, auth = basic('admin', 'pw')) => {
    const r = await fetch(server.url + path, { headers: { authorization: auth } });
    return { status: r.status, body: (await r.json().catch(() => null)) as T };
  };
  const api = async (path: string, body: unknown, extra: Record<string, string> = {}) => {
    const r = await fetch(`${node.url}/api/client/v2/conferences/h.room/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...extra },
      body: JSON.stringify(body),
    });
    return { status: r.status, json: (await r.json()) as { result: unknown } };
  };

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
      name: 'history-node',
      managementUrl: server.url,
      enrollmentKey: KEY,
      port: 0,
      dataDir: mkdtempSync(joinPath(tmpdir(), 'om-history-')),
      webRoot: '/nonexistent',
      mediaPortRange: PORTS,
      mediaWorkers: 1,
      statusIntervalMs: { media: 1_000 },
      logger: silent,
    });
    await until(() => node.link.connected, Boolean, 10_000);
    const r = await fetch(`${server.url}/api/admin/configuration/v1/conference/`, {
      method: 'POST',
      headers: { authorization: basic('admin', 'pw'), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'History room', tag: 'billing-42', aliases: [{ alias: 'h.room' }], pin: '1234', allow_guests: true, guest_pin: '' }),
    });
    expect(r.status).toBe(201);
    await until(
      () => node.manager.directory.lookup('h.room'),
      (s) => s !== undefined,
    );
  }, 60_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await node?.stop();
    await server?.stop();
  });

  it('keeps the conference with its duration and both participants, each with media streams', async () => {
    const started = Date.now();
    const join = async (name: string, pin: string, callTag?: string) => {
      const r = await api('request_token', { display_name: name, ...(callTag ? { call_tag: callTag } : {}) }, { pin });
      expect(r.status).toBe(200);
      return requestTokenResult.parse(r.json.result);
    };
    const host = await join('Hanna Host', '1234', 'crm-7');
    const guest = await join('Gus Guest', 'none');
    const conf = node.manager.conferences().find((c) => c.service.name === 'History room')!;
    const tones = { [host.participant_uuid]: 440, [guest.participant_uuid]: 660 };
    for (const [id, hz] of Object.entries(tones)) {
      const c = new MediaTestClient(id, PORTS, { toneHz: hz });
      clients.push(c);
      conf.get(id)!.leg = await c.join(conf.media, id);
      c.startSending();
    }
    // Each hears the other's tone: real media flowed both ways before they leave.
    await clients[1]!.waitFor('the Guest heard the Host', () => clients[1]!.toneLevelDb(440) > -40, 20_000);
    await clients[0]!.waitFor('the Host heard the Guest', () => clients[0]!.toneLevelDb(660) > -40, 20_000);
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await api(`release_token`, {}, { token: guest.token })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await api(`release_token`, {}, { token: host.token })).status).toBe(200);
    const ended = Date.now();

    const list = await until(
      () => get(`${H}/conference/?name=History%20room`),
      (r) => r.body.meta.total_count === 1,
      15_000,
      200,
    );
    const c = list.body.objects[0]!;
    expect(c).toMatchObject({ name: 'History room', service_type: 'conference', tag: 'billing-42', participant_count: 2, instant_message_count: 0 });
    expect(c.resource_uri).toBe(`${H}/conference/${c.id}/`);
    // Pexip's naive UTC with microseconds; the duration is the span of the call, in seconds.
    expect(c.start_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    const span = (Date.parse(`${c.end_time as string}Z`) - Date.parse(`${c.start_time as string}Z`)) / 1000;
    expect(Math.abs((c.duration as number) - span)).toBeLessThanOrEqual(1);
    expect(c.duration).toBeGreaterThanOrEqual(2);
    expect(c.duration).toBeLessThanOrEqual(Math.ceil((ended - started) / 1000) + 1);
    expect(c.participants).toHaveLength(2);

    const ps = await get(`${H}/participant/?conference=History%20room&order_by=start_time`);
    expect(ps.status).toBe(200);
    expect(ps.body.objects.map((p) => [p.display_name, p.role, p.call_tag])).toEqual([
      ['Hanna Host', 'chair', 'crm-7'],
      ['Gus Guest', 'guest', ''],
    ]);
    for (const p of ps.body.objects) {
      expect(c.participants).toContain(p.resource_uri);
      expect(p).toMatchObject({
        conference: c.resource_uri,
        conference_name: 'History room',
        local_alias: 'h.room',
        service_type: 'conference',
        service_tag: 'billing-42',
        call_direction: 'in',
        call_quality: '0_unknown', // under 20 s (guide)
        media_node: 'history-node',
        has_media: true,
      });
      expect(p.disconnect_reason).toEqual(expect.any(String));
      expect((p.disconnect_reason as string).length).toBeGreaterThan(0);
      expect(p.duration).toBeGreaterThanOrEqual(1);
      // The list, the participant's own list and the media_stream list agree.
      const own = await get(`${H}/participant/${p.id}/media_stream/`);
      expect(own.status).toBe(200);
      expect(own.body.objects.map((s) => s.resource_uri)).toEqual(p.media_streams);
      const types = own.body.objects.map((s) => s.stream_type);
      expect(types).toContain('audio');
      const audio = own.body.objects.find((s) => s.stream_type === 'audio')!;
      expect(audio).toMatchObject({ participant: p.resource_uri, node: 'history-node', rx_codec: 'opus' });
      expect(audio.rx_packets_received).toBeGreaterThan(0);
      expect(audio.tx_packets_sent).toBeGreaterThan(0);
      // The stream spans the call, less its media set-up, and is not cut short by a later instance (issue 12).
      const at = (t: unknown) => Date.parse(`${t as string}Z`);
      expect(at(audio.start_time)).toBeGreaterThanOrEqual(at(p.start_time) - 1);
      expect(at(audio.start_time) - at(p.start_time)).toBeLessThanOrEqual(3_000);
      expect(Math.abs(at(audio.end_time) - at(p.end_time))).toBeLessThanOrEqual(1_000);
      const byFilter = await get(`${H}/media_stream/?participant=${encodeURIComponent(p.resource_uri)}`);
      expect(byFilter.body.meta.total_count).toBe(own.body.meta.total_count);
      const detail = await get<Obj>(p.resource_uri);
      expect(detail.body).toMatchObject({ id: p.id, historic_call_quality: expect.any(Array) });
    }
    // A participant's detail; the conference's detail; unknown ids.
    expect((await get<Obj>(`${H}/conference/${c.id}/`)).body).toEqual(c);
    expect((await get(`${H}/conference/00000000-0000-0000-0000-000000000000/`)).status).toBe(404);
    expect((await get(`${H}/participant/nope/media_stream/`)).status).toBe(404);
    expect((await get(`${H}/media_stream/99999999/`)).status).toBe(404);
  }, 90_000);

  it('filters by time and name, orders and pages as Tastypie does', async () => {
    const all = await get(`${H}/participant/`);
    const [first] = all.body.objects;
    const t = first!.start_time as string;
    // start_time__gte / end_time__lt with RFC 3339 (as the Go SDK sends) or Pexip's naive form.
    expect((await get(`${H}/participant/?start_time__gte=${t}`)).body.meta.total_count).toBeGreaterThanOrEqual(1);
    expect((await get(`${H}/participant/?start_time__gte=2099-01-01T00:00:00Z`)).body.meta.total_count).toBe(0);
    expect((await get(`${H}/conference/?end_time__lt=2000-01-01T00:00:00%2B00:00`)).body.meta.total_count).toBe(0);
    expect((await get(`${H}/conference/?end_time__lt=2099-01-01T00:00:00`)).body.meta.total_count).toBe(1);
    // An offset's '+' sent unencoded (a space on arrival), and a bare date.
    expect((await get(`${H}/conference/?end_time__lt=2099-01-01T00:00:00+00:00`)).body.meta.total_count).toBe(1);
    expect((await get(`${H}/conference/?start_time__gte=2099-01-01T00:00:00+05:30`)).body.meta.total_count).toBe(0);
    expect((await get(`${H}/conference/?start_time__gte=2000-01-01`)).body.meta.total_count).toBe(1);
    expect((await get(`${H}/conference/?name__icontains=history`)).body.meta.total_count).toBe(1);
    expect((await get(`${H}/conference/?name__icontains=nothing`)).body.meta.total_count).toBe(0);
    expect((await get(`${H}/participant/?display_name__istartswith=gus`)).body.objects.map((p) => p.display_name)).toEqual(['Gus Guest']);
    // Ordering both ways, and paging with next/previous keeping the filters.
    const asc = await get(`${H}/participant/?order_by=start_time&limit=1&conference=History%20room`);
    const desc = await get(`${H}/participant/?order_by=-start_time&limit=1&conference=History%20room`);
    expect(asc.body.objects[0]!.display_name).toBe('Hanna Host');
    expect(desc.body.objects[0]!.display_name).toBe('Gus Guest');
    expect(asc.body.meta).toMatchObject({ limit: 1, offset: 0, total_count: 2, previous: null });
    expect(asc.body.meta.next).toContain('conference=History+room');
    expect(asc.body.meta.next).toContain('offset=1');
    const page2 = await get(asc.body.meta.next!);
    expect(page2.body.objects[0]!.display_name).toBe('Gus Guest');
    expect(page2.body.meta.next).toBeNull();
    // The API root names each resource's list and schema.
    const root = await get<Record<string, { list_endpoint: string; schema: string }>>(`${H}/`);
    expect(root.body.participant).toEqual({ list_endpoint: `${H}/participant/`, schema: `${H}/participant/schema/` });
    expect(Object.keys(root.body)).toEqual(expect.arrayContaining(['conference', 'participant', 'media_stream']));
    // The schema names what may be filtered and ordered on.
    const schema = await get<{
      filtering: Record<string, unknown>;
      ordering: string[];
      fields: Record<string, { type: string }>;
      allowed_detail_http_methods: string[];
    }>(`${H}/participant/schema/`);
    expect(schema.body.filtering).toMatchObject({ start_time: 2, end_time: 2, conference: ['exact'] });
    expect(schema.body.ordering).toContain('start_time');
    expect(schema.body.fields.start_time!.type).toBe('datetime');
    expect(schema.body.allowed_detail_http_methods).toEqual(['get']);
    expect((await get<{ allowed_detail_http_methods: string[] }>(`${H}/conference/schema/`)).body.allowed_detail_http_methods).toEqual(['get', 'delete']);
    // Bad values: 400 in words, never a 500.
    for (const bad of ['start_time__gte=yesterday', 'duration__gt=long', 'order_by=password', 'limit=-1', 'duration__icontains=1']) {
      const r = await get<{ error: string }>(`${H}/participant/?${bad}`);
      expect(r.status, bad).toBe(400);
      expect(r.body.error, bad).toEqual(expect.any(String));
    }
  });

  it('is refused without credentials (401) and without "May view conference status" (403)', async () => {
    const cfg = '/api/admin/configuration/v1';
    const role = await fetch(`${server.url}${cfg}/role/`, {
      method: 'POST',
      headers: { authorization: basic('admin', 'pw'), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'No status', permissions: ['is_administrator', 'may_use_api', 'view_vmr'] }),
    });
    expect(role.status).toBe(201);
    const user = await fetch(`${server.url}${cfg}/user/`, {
      method: 'POST',
      headers: { authorization: basic('admin', 'pw'), 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'vmronly', password: 'vmronly-pw-1', password_confirm: 'vmronly-pw-1', roles: [role.headers.get('location')] }),
    });
    expect(user.status).toBe(201);
    const conf = (await get(`${H}/conference/`)).body.objects[0]!;
    for (const path of [`${H}/conference/`, `${H}/participant/`, `${H}/media_stream/`, `${H}/conference/${conf.id}/`]) {
      const none = await fetch(server.url + path);
      expect(none.status, path).toBe(401);
      expect((await get(path, basic('vmronly', 'vmronly-pw-1'))).status, path).toBe(403);
    }
    // The console's tRPC: the same permission; the CSV export of the filtered list.
    const signIn = async (username: string, password: string) => {
      const r = await fetch(`${server.url}/trpc/auth.login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password }),
      });
      expect(r.status).toBe(200);
      return r.headers.get('set-cookie')!.split(';')[0]!;
    };
    const trpc = (cookie: string, path: string, input: unknown) =>
      fetch(`${server.url}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`, { headers: { cookie } });
    const webRole = await fetch(`${server.url}${cfg}/role/`, {
      method: 'POST',
      headers: { authorization: basic('admin', 'pw'), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Web, no status', permissions: ['is_administrator', 'may_use_web', 'view_vmr'] }),
    });
    await fetch(`${server.url}${cfg}/user/`, {
      method: 'POST',
      headers: { authorization: basic('admin', 'pw'), 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'webonly', password: 'webonly-pw-1', password_confirm: 'webonly-pw-1', roles: [webRole.headers.get('location')] }),
    });
    const webonly = await signIn('webonly', 'webonly-pw-1');
    const admin = await signIn('admin', 'pw');
    expect((await trpc(webonly, 'history.conferences', {})).status).toBe(403);
    expect((await trpc(webonly, 'history.conferencesCsv', {})).status).toBe(403);
    const listed = (await (await trpc(admin, 'history.conferences', { search: 'HISTORY' })).json()) as { result: { data: { total: number } } };
    expect(listed.result.data.total).toBe(1);
    const future = (await (await trpc(admin, 'history.conferences', { from: '2099-01-01T00:00:00Z' })).json()) as { result: { data: { total: number } } };
    expect(future.result.data.total).toBe(0);
    const csv = (await (await trpc(admin, 'history.conferencesCsv', { search: 'history' })).json()) as { result: { data: { csv: string } } };
    const lines = csv.result.data.csv.trim().split('\n');
    expect(lines[0]).toBe('name,start_time,end_time,duration,participant_count,service_type,tag,instant_message_count');
    expect(lines.slice(1)).toEqual([
      `History room,${conf.start_time as string},${conf.end_time as string},${conf.duration as number},2,conference,billing-42,0`,
    ]);
    expect((await trpc(admin, 'history.conference', { id: 'gone' })).status).toBe(404);

    // Deleting a record needs "May modify conference status"; the admin may.
    expect(
      (await fetch(`${server.url}${H}/conference/${conf.id}/`, { method: 'DELETE', headers: { authorization: basic('vmronly', 'vmronly-pw-1') } })).status,
    ).toBe(403);
    expect((await fetch(`${server.url}${H}/conference/${conf.id}/`, { method: 'DELETE', headers: { authorization: basic('admin', 'pw') } })).status).toBe(204);
    expect((await get(`${H}/conference/${conf.id}/`)).status).toBe(404);
    expect((await get(`${H}/participant/?conference=${conf.id}`)).body.meta.total_count).toBe(0);
    expect((await get(`${H}/media_stream/`)).body.meta.total_count).toBe(0);
  });
});
