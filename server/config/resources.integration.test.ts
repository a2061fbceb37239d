import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminLog, adminUser, adminUserRole } from '../../db/schema.js';
import { TEST_DATABASES } from '../../db/testing.js';
import { isWriteOnly, type FieldSpec } from '../../shared/config/field.js';
import { RESOURCES } from '../../shared/config/registry.js';
import { nameFieldOf, schemasOf, type ResourceDef } from '../../shared/config/resource.js';
import { ensureBuiltinRoles } from '../auth/admin.service.js';
import { hashPassword } from '../auth/password.js';
import { ManagementServer } from '../ManagementServer.js';
import { appRouter } from '../trpc/root.js';
import { loadAdmin } from '../auth/admin.service.js';
import { getObject, getSingleton } from './config.service.js';

const BASE = '/api/admin/configuration/v1';
let n = 0;

/** A value the field accepts, for the fields a minimal valid object needs. */
function sample(key: string, f: FieldSpec, refs: Record<string, string>): unknown {
  n++;
  if (f.type === 'int') return f.min ?? 1;
  if (f.type === 'ref') return refs[f.resource];
  if (f.type !== 'text') return undefined;
  switch (f.format) {
    case 'ip':
    case 'ipv4':
      return `10.1.${Math.floor(n / 250)}.${(n % 250) + 1}`;
    case 'host':
    case 'ipOrHost':
    case 'domain':
      return `host${n}.example.com`;
    case 'hostname':
      return `node${n}`;
    case 'email':
      return `user${n}@example.com`;
    case 'url':
      return `https://example.com/${n}`;
    case 'regex':
      return '.*';
    case 'uuid':
      return randomUUID();
    case 'cidr':
      return `10.${n % 250}.0.0/16`;
    case 'netmask':
      return '255.255.255.0';
    default:
      return key === 'alias' ? `alias${n}@example.com` : `${key} ${n}`.slice(0, f.max);
  }
}

/** Objects whose minimal form needs more than the required fields (cross-field rules). */
const OVERRIDES: Record<string, Record<string, unknown>> = {
  policy_server: { url: 'https://policy.example.com/' },
};

function minimal(def: ResourceDef, refs: Record<string, string>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [k, f] of Object.entries(def.fields)) {
    const required = (f.type === 'text' || f.type === 'int' || f.type === 'ref') && f.required;
    if (required || k === nameFieldOf(def)) body[k] = sample(k, f, refs);
  }
  if (def.hasAliases) body.aliases = [{ alias: `svc${++n}@example.com`, description: '' }];
  if (def.serviceType) body.service_type = def.serviceType;
  return { ...body, ...OVERRIDES[def.name] };
}

/** A text field that any value of a few characters satisfies: changed by the PATCH test. */
function editableField(def: ResourceDef): string | undefined {
  return ['description', 'tag', 'name'].find(
    (k) =>
      def.fields[k]?.type === 'text' && !(def.fields[k] as { format?: string }).format && !def.unique?.some((u) => u.fields.includes(k) && k !== 'description'),
  );
}

describe.each(TEST_DATABASES)('every configuration resource on $name', ({ open }) => {
  let server: ManagementServer;
  const adminAuth = `Basic ${Buffer.from('admin:res-pw').toString('base64')}`;
  const roAuth = `Basic ${Buffer.from('viewer:viewer-pw').toString('base64')}`;
  const api = (path: string, init: { method?: string; body?: unknown; auth?: string } = {}) =>
    fetch(server.url + path, {
      method: init.method ?? 'GET',
      headers: { authorization: init.auth ?? adminAuth, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
    });
  const refs: Record<string, string> = {};

  beforeAll(async () => {
    server = await ManagementServer.start({
      port: 0,
      database: await open(),
      adminPassword: 'res-pw',
      enrollmentKey: 'k',
      webRoot: '/nonexistent',
      logger: pino({ level: 'silent' }),
    });
    const roles = await ensureBuiltinRoles(server.dom.db);
    const [viewer] = await server.dom.db
      .insert(adminUser)
      .values({ username: 'viewer', passwordHash: await hashPassword('viewer-pw') })
      .returning();
    await server.dom.db.insert(adminUserRole).values({ adminUserId: viewer!.id, adminRoleId: roles.readOnly });
    const loc = await api(`${BASE}/system_location/`, { method: 'POST', body: { name: 'Reference location' } });
    refs.system_location = loc.headers.get('location')!;
  });
  afterAll(() => server.stop());

  const regular = RESOURCES.filter((d) => !d.singleton);
  it.each(regular.map((d) => [d.name, d] as const))('%s: create, read, update, delete over REST; read-only role refused', async (_name, def) => {
    const path = def.store === 'conference' ? `${BASE}/conference/` : `${BASE}/${def.name}/`;
    const body = minimal(def, refs);

    // Read-only: may list, may not add.
    expect((await api(path, { auth: roAuth })).status).toBe(200);
    const refused = await api(path, { method: 'POST', body, auth: roAuth });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ error: 'Access denied' });

    const created = await api(path, { method: 'POST', body });
    const createdBody = await created.json();
    expect(created.status, JSON.stringify(createdBody)).toBe(201);
    const location = created.headers.get('location')!;
    expect(location).toMatch(new RegExp(`^${path}\\d+/$`));
    const got = await (await api(location)).json();
    expect(got.resource_uri).toBe(location);
    const key = nameFieldOf(def);
    expect(got[key]).toBe(body[key]);
    // Defaults the guide gives are filled in.
    const withIds = Object.fromEntries(Object.entries(body).map(([k, v]) => [k, def.fields[k]?.type === 'ref' ? 1 : v]));
    const defaults = schemasOf(def).create.parse(withIds);
    for (const [k, f] of Object.entries(def.fields)) {
      if (f.type === 'bool' || f.type === 'choice' || f.type === 'int') expect(got[k], `${def.name}.${k}`).toEqual(defaults[k]);
    }

    const field = editableField(def);
    if (field) {
      expect((await api(location, { method: 'PATCH', body: { [field]: 'changed by test' }, auth: roAuth })).status).toBe(403);
      const patched = await api(location, { method: 'PATCH', body: { [field]: 'changed by test' } });
      expect(patched.status, await patched.text()).toBe(202);
      expect((await (await api(location)).json())[field]).toBe('changed by test');
    }

    // The console's tRPC router reads the same object.
    const admin = await loadAdmin(server.dom.db, (await server.dom.db.select().from(adminUser).where(eq(adminUser.username, 'admin')))[0]!);
    const caller = appRouter.createCaller({
      dom: server.dom,
      status: server.status,
      registry: server.registry,
      admin,
      sessionToken: undefined,
      setCookie: () => {},
    });
    const id = Number(/(\d+)\/$/.exec(location)![1]);
    expect((await caller.config.get({ resource: def.name, id }))[key]).toBe(body[key]);

    // Every change is in the administrator log, under the API user's name.
    const logged = await server.dom.db.select().from(adminLog).where(eq(adminLog.objectType, def.label));
    expect(logged.some((e) => e.action === 'added' && e.username === 'admin' && e.objectId === id)).toBe(true);

    expect((await api(location, { method: 'DELETE', auth: roAuth })).status).toBe(403);
    expect((await api(location, { method: 'DELETE' })).status).toBe(204);
    expect((await api(location)).status).toBe(404);
  });

  it.each(regular.filter((d) => Object.values(d.fields).some((f) => 'required' in f && f.required)).map((d) => [d.name, d] as const))(
    '%s: a missing required field is a 400 beside the field',
    async (_name, def) => {
      const path = def.store === 'conference' ? `${BASE}/conference/` : `${BASE}/${def.name}/`;
      const res = await api(path, { method: 'POST', body: def.serviceType ? { service_type: def.serviceType } : {} });
      expect(res.status).toBe(400);
      const errors = await res.json();
      const required = Object.entries(def.fields).find(([, f]) => 'required' in f && f.required)![0];
      expect(errors[required]).toBeDefined();
    },
  );

  it.each(RESOURCES.filter((d) => d.singleton).map((d) => [d.name, d] as const))(
    '%s: the singleton reads with defaults and changes by PATCH',
    async (_name, def) => {
      const path = `${BASE}/${def.name}/1/`;
      const got = await (await api(path)).json();
      const defaults = schemasOf(def).plain.parse({});
      const intKey = Object.entries(def.fields).find(([, f]) => f.type === 'int' && f.min !== undefined && f.max !== undefined && f.default != null)?.[0];
      for (const [k, f] of Object.entries(def.fields)) if (f.type === 'bool') expect(got[k], k).toBe(defaults[k]);
      if (!intKey) return;
      const f = def.fields[intKey] as { min: number; max: number };
      expect((await api(path, { method: 'PATCH', body: { [intKey]: f.max + 1 }, auth: roAuth })).status).toBe(403);
      const bad = await api(path, { method: 'PATCH', body: { [intKey]: f.max + 1 } });
      expect(bad.status).toBe(400);
      expect((await bad.json())[intKey]).toEqual([`Ensure this value is less than or equal to ${f.max}.`]);
      const ok = await api(path, { method: 'PATCH', body: { [intKey]: f.min } });
      expect(ok.status, await ok.text()).toBe(202);
      expect((await (await api(path)).json())[intKey]).toBe(f.min);
    },
  );

  // Finding 10 of issue 11: every password-type field (SSH password, SNMP communities, shared
  // secrets, keys) goes in but never comes back out, over REST or tRPC; a blank keeps it.
  it.each(RESOURCES.filter((d) => Object.values(d.fields).some(isWriteOnly)).map((d) => [d.name, d] as const))(
    '%s: every password-type field is write-only over REST and tRPC, and saving it blank keeps it',
    async (_name, def) => {
      const secrets = Object.entries(def.fields)
        .filter(([, f]) => isWriteOnly(f))
        .map(([k]) => k);
      const values = Object.fromEntries(secrets.map((k, i) => [k, `Wr1te-0nly-${i}`]));
      let location: string;
      if (def.singleton) {
        location = `${BASE}/${def.name}/1/`;
        const patched = await api(location, { method: 'PATCH', body: values });
        expect(patched.status, await patched.text()).toBe(202);
      } else {
        const path = def.store === 'conference' ? `${BASE}/conference/` : `${BASE}/${def.name}/`;
        // A Secure NTP key needs its key ID.
        const companions = def.name === 'ntp_server' ? { key_id: 1 } : {};
        const created = await api(path, { method: 'POST', body: { ...minimal(def, refs), ...companions, ...values } });
        const text = await created.text();
        expect(created.status, text).toBe(201);
        expect(text).not.toContain('Wr1te-0nly');
        location = created.headers.get('location')!;
        expect(await (await api(path)).text()).not.toContain('Wr1te-0nly');
      }
      const got = (await (await api(location)).json()) as Record<string, unknown>;
      for (const k of secrets) expect(got[k], `${def.name}.${k}`).toBe('');

      const admin = await loadAdmin(server.dom.db, (await server.dom.db.select().from(adminUser).where(eq(adminUser.username, 'admin')))[0]!);
      const caller = appRouter.createCaller({
        dom: server.dom,
        status: server.status,
        registry: server.registry,
        admin,
        sessionToken: undefined,
        setCookie: () => {},
      });
      const id = Number(/(\d+)\/$/.exec(location)![1]);
      expect(JSON.stringify(await caller.config.get({ resource: def.name, id }))).not.toContain('Wr1te-0nly');
      if (!def.singleton) expect(JSON.stringify(await caller.config.list({ resource: def.name }))).not.toContain('Wr1te-0nly');

      // Saving back what was read (secrets blank) keeps every stored secret.
      expect(JSON.stringify(await caller.config.update({ resource: def.name, id, patch: Object.fromEntries(secrets.map((k) => [k, ''])) }))).not.toContain(
        'Wr1te-0nly',
      );
      const stored = def.singleton ? await getSingleton(server.dom, def.name) : await getObject(server.dom, def.name, id);
      for (const k of secrets) expect(stored[k], `${def.name}.${k}`).toBe(values[k]);
    },
  );

  it('refuses to delete a location a node or rule still uses', async () => {
    const rule = await api(`${BASE}/gateway_routing_rule/`, {
      method: 'POST',
      body: { name: 'Uses location', priority: 10, match_string: '.*', match_source_location: refs.system_location },
    });
    expect(rule.status, await rule.text()).toBe(201);
    const del = await api(refs.system_location!, { method: 'DELETE' });
    expect(del.status).toBe(409);
    expect((await del.json()).error).toContain('Call Routing Rule "Uses location"');
  });
});
