import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASES } from '../../db/testing.js';
import { getObject } from '../config/config.service.js';
import { ManagementServer } from '../ManagementServer.js';

const BASE = '/api/admin/configuration/v1';
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

describe.each(TEST_DATABASES)('permissions and write-only secrets on $name', ({ open }) => {
  let server: ManagementServer;
  const as =
    (auth: string) =>
    (path: string, init: RequestInit = {}) =>
      fetch(server.url + path, { ...init, headers: { authorization: auth, 'content-type': 'application/json', ...(init.headers as Record<string, string>) } });
  const admin = () => as(basic('admin', 'perm-pw'));
  const signIn = async (username: string, password: string) => {
    const r = await fetch(`${server.url}/trpc/auth.login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    expect(r.status).toBe(200);
    return r.headers.get('set-cookie')!.split(';')[0]!;
  };
  const trpcGet = (cookie: string, path: string, input: unknown) =>
    fetch(`${server.url}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`, { headers: { cookie } });
  const trpcPost = (cookie: string, path: string, input: unknown) =>
    fetch(`${server.url}/trpc/${path}`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify(input) });

  /** An account whose one role has exactly these permissions. */
  async function account(username: string, permissions: string[]): Promise<void> {
    const role = await admin()(`${BASE}/role/`, { method: 'POST', body: JSON.stringify({ name: `role ${username}`, permissions }) });
    expect(role.status).toBe(201);
    const user = await admin()(`${BASE}/user/`, {
      method: 'POST',
      body: JSON.stringify({ username, password: `${username}-pw-1`, password_confirm: `${username}-pw-1`, roles: [role.headers.get('location')] }),
    });
    expect(user.status).toBe(201);
  }

  beforeAll(async () => {
    server = await ManagementServer.start({
      port: 0,
      database: await open(),
      adminPassword: 'perm-pw',
      enrollmentKey: 'k',
      webRoot: '/nonexistent',
      logger: pino({ level: 'silent' }),
    });
    await account('vmronly', ['is_administrator', 'may_use_api', 'may_use_web', 'view_vmr']);
    await account('statusview', ['is_administrator', 'may_use_api', 'may_use_web', 'view_conference_status']);
  });
  afterAll(() => server.stop());

  it('live status (conferences and participants, with names and addresses) needs the permission to view conference status', async () => {
    for (const resource of ['participant', 'conference']) {
      const refused = await as(basic('vmronly', 'vmronly-pw-1'))(`/api/admin/status/v1/${resource}/`);
      expect(refused.status, resource).toBe(403);
      expect(await refused.json()).toEqual({ error: 'Access denied' });
      expect((await as(basic('statusview', 'statusview-pw-1'))(`/api/admin/status/v1/${resource}/`)).status, resource).toBe(200);
    }
  });

  it('config.options and config.names list names only to roles that may view that resource', async () => {
    const loc = await admin()(`${BASE}/system_location/`, { method: 'POST', body: JSON.stringify({ name: 'Secret site' }) });
    const locId = Number(loc.headers.get('location')!.split('/').at(-2));
    const vmrOnly = await signIn('vmronly', 'vmronly-pw-1');
    const options = await trpcGet(vmrOnly, 'config.options', { resource: 'system_location' });
    expect(options.status).toBe(403);
    expect(await options.text()).not.toContain('Secret site');
    const names = await trpcGet(vmrOnly, 'config.names', { resource: 'system_location', ids: [locId] });
    expect(names.status).toBe(403);
    // Unknown targets are not a way round it.
    expect((await trpcGet(vmrOnly, 'config.options', { resource: 'admin_secret_things' })).status).toBe(404);
    // What the role may view, it still gets.
    expect((await trpcGet(vmrOnly, 'config.options', { resource: 'conference' })).status).toBe(200);
    const full = await signIn('admin', 'perm-pw');
    const allowed = (await (await trpcGet(full, 'config.options', { resource: 'system_location' })).json()) as { result: { data: { label: string }[] } };
    expect(JSON.stringify(allowed.result.data)).toContain('Secret site');
    // References without a resource definition (a node's TLS certificate, a service's theme) still list for those who may view them.
    for (const resource of ['tls_certificate', 'ca_certificate', 'ivr_theme']) expect((await trpcGet(full, 'config.options', { resource })).status).toBe(200);
    expect((await trpcGet(vmrOnly, 'config.options', { resource: 'tls_certificate' })).status).toBe(403);
  });

  it('a node’s SSH password and SNMP community and every password field are write-only, over REST and tRPC', async () => {
    const loc = await admin()(`${BASE}/system_location/`, { method: 'POST', body: JSON.stringify({ name: 'Node site' }) });
    const created = await admin()(`${BASE}/worker_vm/`, {
      method: 'POST',
      body: JSON.stringify({
        name: 'node-secret',
        hostname: 'nodesecret',
        domain: 'example.com',
        address: '10.9.0.5',
        netmask: '255.255.255.0',
        gateway: '10.9.0.1',
        password: 'ssh-Pa55word',
        snmp_community: 'c0mmunity',
        system_location: loc.headers.get('location'),
      }),
    });
    expect(created.status).toBe(201);
    const uri = created.headers.get('location')!;
    const id = Number(uri.split('/').at(-2));
    const createdBody = await created.text();
    expect(createdBody).not.toContain('ssh-Pa55word');
    expect(createdBody).not.toContain('c0mmunity');

    const got = (await (await admin()(uri)).json()) as Record<string, unknown>;
    expect(got).toMatchObject({ name: 'node-secret', password: '', snmp_community: '' });
    const list = await (await admin()(`${BASE}/worker_vm/`)).text();
    expect(list).not.toContain('ssh-Pa55word');
    // A filter or an ordering on a secret cannot be used to guess it.
    const probe = (await (await admin()(`${BASE}/worker_vm/?password=wrong-guess`)).json()) as { meta: { total_count: number } };
    expect(probe.meta.total_count).toBe(1);
    expect((await admin()(`${BASE}/worker_vm/?order_by=password`)).status).toBe(400);

    // Saving back what was read (secrets blank) keeps them; a new value replaces them.
    expect((await admin()(uri, { method: 'PUT', body: JSON.stringify({ ...got, description: 'edited' }) })).status).toBe(202);
    let stored = await getObject(server.dom, 'worker_vm', id);
    expect(stored).toMatchObject({ description: 'edited', password: 'ssh-Pa55word', snmp_community: 'c0mmunity' });
    expect((await admin()(uri, { method: 'PATCH', body: JSON.stringify({ password: 'new-Pa55word' }) })).status).toBe(202);
    stored = await getObject(server.dom, 'worker_vm', id);
    expect(stored.password).toBe('new-Pa55word');

    // tRPC: the console reads them blank too, and an unchanged (blank) field keeps them.
    const cookie = await signIn('admin', 'perm-pw');
    const viaTrpc = await (await trpcGet(cookie, 'config.get', { resource: 'worker_vm', id })).text();
    expect(viaTrpc).not.toContain('new-Pa55word');
    expect(viaTrpc).not.toContain('c0mmunity');
    const listed = await (await trpcGet(cookie, 'config.list', { resource: 'worker_vm' })).text();
    expect(listed).not.toContain('new-Pa55word');
    const updated = await trpcPost(cookie, 'config.update', { resource: 'worker_vm', id, patch: { password: '', description: 'from the console' } });
    expect(updated.status).toBe(200);
    expect(await updated.text()).not.toContain('new-Pa55word');
    expect(await getObject(server.dom, 'worker_vm', id)).toMatchObject({ description: 'from the console', password: 'new-Pa55word' });

    // PINs are secret in the log, but readable (the management API returns them).
    const vmr = await admin()(`${BASE}/conference/`, { method: 'POST', body: JSON.stringify({ name: 'PIN room', service_type: 'conference', pin: '4321' }) });
    expect((await (await admin()(vmr.headers.get('location')!)).json()).pin).toBe('4321');
  });
});
