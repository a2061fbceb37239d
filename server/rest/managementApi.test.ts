import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASES } from '../../db/testing.js';
import { ManagementServer } from '../ManagementServer.js';

const BASE = '/api/admin/configuration/v1';

describe.each(TEST_DATABASES)('management REST API on $name', ({ open }) => {
  let server: ManagementServer;
  const auth = `Basic ${Buffer.from('admin:api-test-pw').toString('base64')}`;
  const api = (path: string, init: RequestInit = {}) =>
    fetch(server.url + path, {
      ...init,
      headers: { authorization: auth, ...(init.body ? { 'content-type': 'application/json' } : {}), ...(init.headers as Record<string, string>) },
    });
  beforeAll(async () => {
    server = await ManagementServer.start({
      port: 0,
      database: await open(),
      adminPassword: 'api-test-pw',
      enrollmentKey: 'k',
      webRoot: '/nonexistent',
      logger: pino({ level: 'silent' }),
    });
  });
  afterAll(() => server.stop());

  it('refuses requests without valid credentials', async () => {
    expect((await fetch(`${server.url}${BASE}/conference/`)).status).toBe(401);
    const wrong = await fetch(`${server.url}${BASE}/conference/`, { headers: { authorization: `Basic ${Buffer.from('admin:nope').toString('base64')}` } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toContain('Basic');
  });

  it('creates, reads, patches and deletes a conference', async () => {
    const created = await api(`${BASE}/conference/`, {
      method: 'POST',
      body: JSON.stringify({ name: 'API VMR', service_type: 'conference', aliases: [{ alias: 'api.vmr' }, { alias: 'api.vmr@example.com' }], pin: '123456' }),
    });
    expect(created.status).toBe(201);
    const location = created.headers.get('location')!;
    expect(location).toMatch(new RegExp(`^${BASE}/conference/\\d+/$`));
    const got = await (await api(location)).json();
    expect(got).toMatchObject({ name: 'API VMR', service_type: 'conference', pin: '123456', resource_uri: location });
    expect(got.aliases.map((a: { alias: string }) => a.alias)).toEqual(['api.vmr', 'api.vmr@example.com']);
    expect(got.aliases[0].conference).toBe(location);

    const patched = await api(location, { method: 'PATCH', body: JSON.stringify({ description: 'patched', allow_guests: true }) });
    expect(patched.status).toBe(202);
    expect(await (await api(location)).json()).toMatchObject({ description: 'patched', allow_guests: true, pin: '123456' });

    expect((await api(location, { method: 'DELETE' })).status).toBe(204);
    expect((await api(location)).status).toBe(404);
    expect((await api(location, { method: 'DELETE' })).status).toBe(404);
  });

  it('answers validation errors with 400 and field → messages', async () => {
    const bad = await api(`${BASE}/conference/`, { method: 'POST', body: JSON.stringify({ pin: '12x4' }) });
    expect(bad.status).toBe(400);
    const body = await bad.json();
    expect(body.name).toBeDefined();
    expect(body.pin).toEqual(['PIN must be 4-20 digits long, including an optional trailing #.']);
    const malformed = await api(`${BASE}/conference/`, { method: 'POST', body: '{not json' });
    expect(malformed.status).toBe(400);
  });

  it('lists with the Tastypie envelope, paging and filters', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await api(`${BASE}/conference/`, { method: 'POST', body: JSON.stringify({ name: `List ${i}`, aliases: [{ alias: `list${i}` }] }) });
      expect(r.status).toBe(201);
    }
    const page = await (await api(`${BASE}/conference/?limit=2&offset=0&name__icontains=list`)).json();
    expect(page.meta).toMatchObject({ limit: 2, offset: 0, total_count: 5, previous: null });
    const next = new URL(page.meta.next, server.url);
    expect(next.pathname).toBe(`${BASE}/conference/`);
    expect(Object.fromEntries(next.searchParams)).toEqual({ name__icontains: 'list', limit: '2', offset: '2' });
    expect(page.objects).toHaveLength(2);
    const last = await (await api(page.meta.next.replace('offset=2', 'offset=4'))).json();
    expect(last.objects).toHaveLength(1);
    expect(last.meta.next).toBeNull();
    const exact = await (await api(`${BASE}/conference/?name=List%203`)).json();
    expect(exact.objects.map((o: { name: string }) => o.name)).toEqual(['List 3']);
  });

  it('lists every service type together, in order, each read through its own definition', async () => {
    const made = [
      { name: 'Mixed d', service_type: 'conference', aliases: [{ alias: 'mixed.d' }] },
      { name: 'Mixed a', service_type: 'lecture', aliases: [{ alias: 'mixed.a' }] },
      { name: 'Mixed c', service_type: 'two_stage_dialing', aliases: [{ alias: 'mixed.c' }], match_string: '(\\d{4})' },
      { name: 'Mixed b', service_type: 'test_call', aliases: [{ alias: 'mixed.b' }] },
    ];
    for (const body of made) expect((await api(`${BASE}/conference/`, { method: 'POST', body: JSON.stringify(body) })).status).toBe(201);
    const page = await (await api(`${BASE}/conference/?name__icontains=mixed&order_by=-name&limit=3`)).json();
    expect(page.meta.total_count).toBe(4);
    expect(page.objects.map((o: { name: string; service_type: string }) => [o.name, o.service_type])).toEqual([
      ['Mixed d', 'conference'],
      ['Mixed c', 'two_stage_dialing'],
      ['Mixed b', 'test_call'],
    ]);
    expect(page.objects[1].match_string).toBe('(\\d{4})');
    expect(page.objects[0].aliases.map((a: { alias: string }) => a.alias)).toEqual(['mixed.d']);
    expect(page.objects[0]).toHaveProperty('pin');
    expect(page.objects[2]).not.toHaveProperty('pin');
  });

  it('manages conference_alias as its own resource', async () => {
    const c = await api(`${BASE}/conference/`, { method: 'POST', body: JSON.stringify({ name: 'Alias owner' }) });
    const conf = c.headers.get('location')!;
    const a = await api(`${BASE}/conference_alias/`, { method: 'POST', body: JSON.stringify({ alias: 'owned.alias', conference: conf, description: 'd' }) });
    expect(a.status).toBe(201);
    const aliasUri = a.headers.get('location')!;
    const clash = await api(`${BASE}/conference_alias/`, { method: 'POST', body: JSON.stringify({ alias: 'SIP:Owned.Alias', conference: conf }) });
    expect(clash.status).toBe(400);
    expect((await clash.json()).alias[0]).toContain('Alias owner');
    const filtered = await (await api(`${BASE}/conference_alias/?conference=${encodeURIComponent(conf)}`)).json();
    expect(filtered.objects.map((o: { alias: string }) => o.alias)).toEqual(['owned.alias']);
    expect((await api(aliasUri, { method: 'PATCH', body: JSON.stringify({ alias: 'owned.alias2' }) })).status).toBe(202);
    expect((await (await api(aliasUri)).json()).alias).toBe('owned.alias2');
    expect((await api(aliasUri, { method: 'DELETE' })).status).toBe(204);
    const noConf = await api(`${BASE}/conference_alias/`, {
      method: 'POST',
      body: JSON.stringify({ alias: 'x', conference: '/api/admin/configuration/v1/conference/99999/' }),
    });
    expect(noConf.status).toBe(400);
  });

  it('manages system locations', async () => {
    const r = await api(`${BASE}/system_location/`, { method: 'POST', body: JSON.stringify({ name: 'London', mtu: 1400 }) });
    expect(r.status).toBe(201);
    const dup = await api(`${BASE}/system_location/`, { method: 'POST', body: JSON.stringify({ name: 'London' }) });
    expect(await dup.json()).toEqual({ name: ['A system location with this name already exists.'] });
    const bad = await api(`${BASE}/system_location/`, { method: 'POST', body: JSON.stringify({ name: 'X', mtu: 100 }) });
    expect((await bad.json()).mtu).toEqual(['Ensure this value is greater than or equal to 512.']);
    const list = await (await api(`${BASE}/system_location/`)).json();
    expect(list.objects.map((o: { name: string }) => o.name)).toContain('London');
  });
});
