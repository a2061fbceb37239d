import { eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { adminLog } from '../../db/schema.js';
import { TEST_DATABASES } from '../../db/testing.js';
import { ManagementServer } from '../ManagementServer.js';

const BASE = '/api/admin/configuration/v1';
/** tRPC's answer over HTTP: a result or an error. */
const TrpcAnswer = z.object({
  result: z.object({ data: z.unknown() }).optional(),
  error: z.object({ message: z.string(), data: z.object({ code: z.string() }) }).optional(),
});
const basic = (user: string, pw: string) => `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}`;

describe.each(TEST_DATABASES)('administrator accounts and roles on $name', ({ open }) => {
  let server: ManagementServer;
  const as =
    (user: string, pw: string) =>
    (path: string, init: RequestInit = {}) =>
      fetch(server.url + path, {
        ...init,
        headers: { authorization: basic(user, pw), ...(init.body ? { 'content-type': 'application/json' } : {}) },
      });
  const api = (path: string, init: RequestInit = {}) => as('admin', 'admin-test-pw')(path, init);
  const post = (path: string, body: unknown) => api(path, { method: 'POST', body: JSON.stringify(body) });

  /** tRPC over HTTP as the console uses it: sign in for a session cookie, then call procedures. */
  async function signIn(username: string, password: string): Promise<{ status: number; cookie: string; body: z.infer<typeof TrpcAnswer> }> {
    const r = await fetch(`${server.url}/trpc/auth.login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    return { status: r.status, cookie: (r.headers.get('set-cookie') ?? '').split(';')[0]!, body: TrpcAnswer.parse(await r.json()) };
  }
  async function trpc(cookie: string, kind: 'query' | 'mutation', path: string, input: unknown): Promise<{ status: number; body: z.infer<typeof TrpcAnswer> }> {
    const r =
      kind === 'query'
        ? await fetch(`${server.url}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`, { headers: { cookie } })
        : await fetch(`${server.url}/trpc/${path}`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify(input) });
    return { status: r.status, body: TrpcAnswer.parse(await r.json()) };
  }

  let readOnlyUri = '';
  let readWriteUri = '';
  let webOnlyRoleUri = '';
  let apiOnlyRoleUri = '';
  let readerUri = '';
  let conferenceUri = '';

  beforeAll(async () => {
    server = await ManagementServer.start({
      port: 0,
      database: await open(),
      adminPassword: 'admin-test-pw',
      enrollmentKey: 'k',
      webRoot: '/nonexistent',
      logger: pino({ level: 'silent' }),
    });
    const roles = await (await api(`${BASE}/role/`)).json();
    readOnlyUri = roles.objects.find((r: { name: string }) => r.name === 'Read-only').resource_uri;
    readWriteUri = roles.objects.find((r: { name: string }) => r.name === 'Read-write').resource_uri;
    const c = await post(`${BASE}/conference/`, { name: 'Admin test VMR', aliases: [{ alias: 'admin.test' }] });
    conferenceUri = c.headers.get('location')!;
  });
  afterAll(() => server.stop());

  it('lists the built-in roles and refuses to change or delete them', async () => {
    const roles = await (await api(`${BASE}/role/`)).json();
    expect(roles.meta.total_count).toBe(2);
    expect(roles.objects.every((r: { builtin: boolean }) => r.builtin)).toBe(true);
    const patch = await api(readOnlyUri, { method: 'PATCH', body: JSON.stringify({ permissions: ['is_administrator'] }) });
    expect(patch.status).toBe(400);
    expect(await patch.json()).toEqual({ error: 'Built-in roles cannot be changed.' });
    const del = await api(readWriteUri, { method: 'DELETE' });
    expect(del.status).toBe(400);
    expect(await del.json()).toEqual({ error: 'Built-in roles cannot be changed.' });
    expect((await (await api(readOnlyUri)).json()).permissions).toContain('view_vmr');
  });

  it('creates roles with validation of name and permissions', async () => {
    const r = await post(`${BASE}/role/`, { name: 'Web only', permissions: ['is_administrator', 'may_use_web', 'view_vmr', 'view_system'] });
    expect(r.status).toBe(201);
    webOnlyRoleUri = r.headers.get('location')!;
    expect(webOnlyRoleUri).toMatch(new RegExp(`^${BASE}/role/\\d+/$`));
    expect(await r.json()).toMatchObject({ name: 'Web only', builtin: false, resource_uri: webOnlyRoleUri });
    const api2 = await post(`${BASE}/role/`, { name: 'API only', permissions: ['is_administrator', 'may_use_api', 'view_vmr'] });
    apiOnlyRoleUri = api2.headers.get('location')!;

    const dup = await post(`${BASE}/role/`, { name: 'Web only', permissions: [] });
    expect(dup.status).toBe(400);
    expect(await dup.json()).toEqual({ name: ['A role with this name already exists.'] });
    const bad = await post(`${BASE}/role/`, { name: 'x'.repeat(251), permissions: ['fly'] });
    expect(bad.status).toBe(400);
    const body = await bad.json();
    expect(body.name).toEqual(['Ensure this value has at most 250 characters.']);
    expect(Object.keys(body).some((k) => k.startsWith('permissions'))).toBe(true);

    // A custom role can be changed and deleted.
    const tmp = (await post(`${BASE}/role/`, { name: 'Temporary', permissions: ['is_administrator'] })).headers.get('location')!;
    expect((await api(tmp, { method: 'PATCH', body: JSON.stringify({ name: 'Temporary 2' }) })).status).toBe(202);
    expect((await (await api(tmp)).json()).name).toBe('Temporary 2');
    expect((await api(tmp, { method: 'DELETE' })).status).toBe(204);
    expect((await api(tmp)).status).toBe(404);
  });

  it('creates accounts, validating password, roles and username, and never returns the password', async () => {
    const bad = await post(`${BASE}/user/`, { username: 'bad user!', password: 'short', password_confirm: 'other', roles: [] });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      username: ['Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.'],
      password: ['Ensure this value has at least 8 characters.'],
      password_confirm: ["The two password fields didn't match."],
      roles: ['Select at least one role.'],
    });
    const unknownRole = await post(`${BASE}/user/`, {
      username: 'x',
      password: 'long-enough',
      password_confirm: 'long-enough',
      roles: [`${BASE}/role/99999/`],
    });
    expect((await unknownRole.json()).roles[0]).toContain('99999');

    const r = await post(`${BASE}/user/`, {
      username: 'reader',
      password: 'reader-pw-1',
      password_confirm: 'reader-pw-1',
      full_name: 'Rea Der',
      email: 'reader@example.com',
      roles: [readOnlyUri],
    });
    expect(r.status).toBe(201);
    readerUri = r.headers.get('location')!;
    const got = await (await api(readerUri)).json();
    expect(got).toEqual({
      id: expect.any(Number),
      username: 'reader',
      full_name: 'Rea Der',
      email: 'reader@example.com',
      roles: [readOnlyUri],
      resource_uri: readerUri,
    });
    const list = await (await api(`${BASE}/user/`)).json();
    expect(JSON.stringify(list)).not.toMatch(/scrypt|password/);
    expect(list.objects.map((u: { username: string }) => u.username)).toEqual(['admin', 'reader']);

    const dup = await post(`${BASE}/user/`, { username: 'reader', password: 'reader-pw-1', password_confirm: 'reader-pw-1', roles: [readOnlyUri] });
    expect(await dup.json()).toEqual({ username: ['An administrator with this username already exists.'] });
    for (const [username, role] of [
      ['webonly', webOnlyRoleUri],
      ['apionly', apiOnlyRoleUri],
    ] as const) {
      const c = await post(`${BASE}/user/`, { username, password: `${username}-pw`, password_confirm: `${username}-pw`, roles: [role] });
      expect(c.status).toBe(201);
    }
  });

  it('lets a Read-only account read but not change the configuration over REST', async () => {
    const reader = as('reader', 'reader-pw-1');
    expect((await reader(`${BASE}/conference/`)).status).toBe(200);
    expect((await reader(`${BASE}/user/`)).status).toBe(200);
    const denied = [
      await reader(`${BASE}/conference/`, { method: 'POST', body: JSON.stringify({ name: 'Nope' }) }),
      await reader(conferenceUri, { method: 'PATCH', body: JSON.stringify({ description: 'x' }) }),
      await reader(conferenceUri, { method: 'DELETE' }),
      await reader(`${BASE}/role/`, { method: 'POST', body: JSON.stringify({ name: 'Sneaky', permissions: [...'x'] }) }),
    ];
    for (const r of denied) {
      expect(r.status).toBe(403);
      expect(await r.json()).toEqual({ error: 'Access denied' });
    }
    expect((await api(conferenceUri)).status).toBe(200);
  });

  it('refuses the API to an account whose roles lack "May use API"', async () => {
    const r = await as('webonly', 'webonly-pw')(`${BASE}/conference/`);
    expect(r.status).toBe(403);
    expect((await as('apionly', 'apionly-pw')(`${BASE}/conference/`)).status).toBe(200);
  });

  it('enforces roles in the console (tRPC) and "May use web interface" at sign-in', async () => {
    const noWeb = await signIn('apionly', 'apionly-pw');
    expect(noWeb.status).toBe(403);
    expect(noWeb.body.error?.data.code).toBe('FORBIDDEN');

    const reader = await signIn('reader', 'reader-pw-1');
    expect(reader.status).toBe(200);
    expect(z.object({ permissions: z.array(z.string()) }).parse(reader.body.result?.data).permissions).toContain('view_vmr');
    expect(z.object({ permissions: z.array(z.string()) }).parse(reader.body.result?.data).permissions).not.toContain('modify_vmr');
    const list = await trpc(reader.cookie, 'query', 'config.list', { resource: 'system_location' });
    expect(list.status).toBe(200);
    const create = await trpc(reader.cookie, 'mutation', 'config.create', { resource: 'system_location', values: { name: 'Denied' } });
    expect(create.body.error?.data.code).toBe('FORBIDDEN');
    const addUser = await trpc(reader.cookie, 'mutation', 'administration.accounts.create', {
      username: 'x',
      password: 'long-enough',
      password_confirm: 'long-enough',
      roles: [1],
    });
    expect(addUser.body.error?.data.code).toBe('FORBIDDEN');
    expect(addUser.body.error?.message).toBe('Access denied');
    expect((await trpc(reader.cookie, 'query', 'administration.roles.list', undefined)).status).toBe(200);

    const admin = await signIn('admin', 'admin-test-pw');
    const roles = await trpc(admin.cookie, 'query', 'administration.roles.list', undefined);
    const builtin = z
      .array(z.object({ id: z.number(), name: z.string() }))
      .parse(roles.body.result?.data)
      .find((r) => r.name === 'Read-only');
    const changeBuiltin = await trpc(admin.cookie, 'mutation', 'administration.roles.update', { id: builtin?.id, patch: { name: 'Renamed' } });
    expect(changeBuiltin.body.error?.message).toBe('Built-in roles cannot be changed.');
    const selfDelete = await trpc(admin.cookie, 'mutation', 'administration.accounts.delete', { id: 1 });
    expect(selfDelete.status).toBe(400);
  });

  it('refuses adding a VMR to a Read-only administrator in the console', async () => {
    const reader = await signIn('reader', 'reader-pw-1');
    const vmr = await trpc(reader.cookie, 'mutation', 'config.create', { resource: 'vmr', values: { name: 'Denied VMR' } });
    expect(vmr.body.error?.data.code).toBe('FORBIDDEN');
    expect((await trpc(reader.cookie, 'query', 'config.list', { resource: 'vmr' })).status).toBe(200);
  });

  it('makes a password change take effect at once, and logs it without the password', async () => {
    const reader = as('reader', 'reader-pw-1');
    expect((await reader(`${BASE}/conference/`)).status).toBe(200); // now cached
    const mismatch = await api(readerUri, { method: 'PATCH', body: JSON.stringify({ password: 'new-reader-pw', password_confirm: 'typo' }) });
    expect(await mismatch.json()).toEqual({ password_confirm: ["The two password fields didn't match."] });
    const r = await api(readerUri, {
      method: 'PATCH',
      body: JSON.stringify({ password: 'new-reader-pw', password_confirm: 'new-reader-pw', full_name: 'Reader' }),
    });
    expect(r.status).toBe(202);
    expect((await reader(`${BASE}/conference/`)).status).toBe(401);
    expect((await as('reader', 'new-reader-pw')(`${BASE}/conference/`)).status).toBe(200);

    // Role changes take effect at once too: Read-write lets the account add.
    expect((await api(readerUri, { method: 'PATCH', body: JSON.stringify({ roles: [readWriteUri] }) })).status).toBe(202);
    const added = await as('reader', 'new-reader-pw')(`${BASE}/conference/`, { method: 'POST', body: JSON.stringify({ name: 'By reader' }) });
    expect(added.status).toBe(201);
    expect((await api(readerUri, { method: 'PATCH', body: JSON.stringify({ roles: [] }) })).status).toBe(400);

    const entries = await server.dom.db.select().from(adminLog).where(eq(adminLog.objectType, 'Administrator account'));
    const text = JSON.stringify(entries);
    for (const secret of ['reader-pw-1', 'new-reader-pw', 'webonly-pw', 'scrypt']) expect(text).not.toContain(secret);
    const change = entries.find((e) => e.action === 'changed' && e.objectName === 'reader' && 'password' in e.changes)!;
    expect(change.username).toBe('admin');
    expect(change.changes.password).toEqual({ before: '(hidden)', after: '(hidden)' });
    expect(change.changes.full_name).toEqual({ before: 'Rea Der', after: 'Reader' });
    const roleChange = entries.find((e) => e.action === 'changed' && 'roles' in e.changes)!;
    expect(roleChange.changes.roles).toEqual({ before: ['Read-only'], after: ['Read-write'] });
    expect(entries.some((e) => e.action === 'added' && e.objectName === 'reader')).toBe(true);
    const roleEntries = await server.dom.db.select().from(adminLog).where(eq(adminLog.objectType, 'Administrator role'));
    expect(roleEntries.map((e) => e.action).sort()).toEqual(['added', 'added', 'added', 'changed', 'deleted']);
  });

  it('deletes accounts, but never "admin"', async () => {
    const admins = await (await api(`${BASE}/user/?username=admin`)).json();
    const adminUri = admins.objects[0].resource_uri;
    const refused = await api(adminUri, { method: 'DELETE' });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ error: 'The "admin" account cannot be deleted.' });
    expect((await api(readerUri, { method: 'DELETE' })).status).toBe(204);
    expect((await as('reader', 'new-reader-pw')(`${BASE}/conference/`)).status).toBe(401);
    const rw = await post(`${BASE}/user/`, { username: 'rw2', password: 'rw2-password', password_confirm: 'rw2-password', roles: [readWriteUri] });
    const own = await as('rw2', 'rw2-password')(rw.headers.get('location')!, { method: 'DELETE' });
    expect(own.status).toBe(400);
    expect(await own.json()).toEqual({ error: 'You cannot delete your own administrator account.' });
    // A role still assigned to an account cannot be deleted.
    const inUse = await api(webOnlyRoleUri, { method: 'DELETE' });
    expect(inUse.status).toBe(400);
  });
});
