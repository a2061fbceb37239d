import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { NodeAgent } from './NodeAgent.js';
import { TestPlatform } from '../testing/TestPlatform.js';
import { until } from '../shared/testing/until.js';
import { listAdminLog } from '../server/audit/adminLog.service.js';

/**
 * What an operator needs around break-in resistance (issue 11, finding 6), end to end: a real
 * server and node, attacks made with real client API requests, the blocks read from the status API
 * and lifted with the command API. All requests come from 127.0.0.1; with 127.0.0.1 configured as
 * a trusted proxy, `X-Forwarded-For` tells the node who the client is.
 */
const KEY = 'break-in-operator-key';
const NOT_FOUND = { status: 'failed', result: 'Neither conference nor gateway found' };
const STATUS = '/api/admin/status/v1/break_in_block/';
const LIFT = '/api/admin/command/v1/break_in_block/lift/';

const blockList = z.object({
  meta: z.object({ total_count: z.number() }),
  objects: z.array(
    z.object({
      id: z.string(),
      block_type: z.enum(['service', 'address']),
      service_name: z.string().optional(),
      remote_address: z.string().optional(),
      start_time: z.string(),
      end_time: z.string(),
      remaining_block_duration_seconds: z.number(),
      nodes: z.array(z.string()),
      resource_uri: z.string(),
    }),
  ),
});

describe('break-in blocks: trusted proxies, the status API and an administrator lifting them', () => {
  let platform: TestPlatform;
  let node: NodeAgent;
  const server = () => platform.server.url;
  const admin = { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}`, 'content-type': 'application/json' };
  const requestToken = (alias: string, pin?: string, forwardedFor?: string) =>
    fetch(`${node.url}/api/client/v2/conferences/${encodeURIComponent(alias)}/request_token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(pin !== undefined ? { pin } : {}), ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) },
      body: JSON.stringify({ display_name: 'Caller' }),
    });
  const blocks = async () => {
    const r = await fetch(`${server()}${STATUS}`, { headers: admin });
    expect(r.status).toBe(200);
    return blockList.parse(await r.json()).objects;
  };
  const lift = (blockId: unknown) => fetch(`${server()}${LIFT}`, { method: 'POST', headers: admin, body: JSON.stringify({ block_id: blockId }) });
  const scan = async (forwardedFor?: string) => {
    for (let i = 0; i < 6; i++) expect((await requestToken(`nobody-${i}`, undefined, forwardedFor)).status).toBe(404);
  };

  beforeAll(async () => {
    platform = await TestPlatform.start({ server: { enrollmentKey: KEY }, node: { name: 'bdpm-op-node', mediaPortRange: [45000, 45999] } });
    node = platform.node;
    await platform.rest('PATCH', 'global/1/', { bdpm_max_pin_failures_per_window: 5, bdpm_max_scan_attempts_per_window: 5 });
    await platform.rest('POST', 'conference/', { name: "Alice's VMR", aliases: [{ alias: 'alice' }], pin: '123456' });
    await platform.rest('POST', 'conference/', { name: 'Open room', aliases: [{ alias: 'open' }] });
    await until(
      () => [node.manager.directory.lookup('alice'), node.manager.breakIn.current.maxScanAttemptsPerWindow],
      ([a, n]) => !!a && n === 5,
    );
  });
  afterAll(() => platform?.stop());

  it('without trusted proxies X-Forwarded-For is ignored: the socket address is quarantined, and the administrator lifts it', async () => {
    await scan('203.0.113.50');
    expect(await (await requestToken('open', undefined, '203.0.113.51')).json()).toEqual(NOT_FOUND);
    const listed = await until(blocks, (b) => b.length === 1);
    expect(listed[0]).toMatchObject({ id: 'address:127.0.0.1', block_type: 'address', remote_address: '127.0.0.1', nodes: ['bdpm-op-node'] });
    expect(listed[0]!.service_name).toBeUndefined();
    expect(listed[0]!.remaining_block_duration_seconds).toBeGreaterThan(590);
    expect(listed[0]!.remaining_block_duration_seconds).toBeLessThanOrEqual(600);
    // Its resource_uri answers the same object.
    const one = await fetch(`${server()}${listed[0]!.resource_uri}`, { headers: admin });
    expect(one.status).toBe(200);
    expect(await one.json()).toEqual(listed[0]);
    expect((await fetch(`${server()}${STATUS}address%3A192.0.2.99/`, { headers: admin })).status).toBe(404);

    const lifted = await lift('address:127.0.0.1');
    expect(lifted.status).toBe(200);
    expect(await lifted.json()).toEqual({ status: 'success', message: 'Break-in block lifted: 127.0.0.1.' });
    await until(blocks, (b) => b.length === 0);
    expect((await requestToken('open')).status).toBe(200);
    // A block that is not (or no longer) there, and a malformed request.
    expect((await lift('address:127.0.0.1')).status).toBe(404);
    expect((await lift(42)).status).toBe(400);
  });

  it('behind a trusted proxy each forwarded client counts on its own (the rightmost untrusted hop, not a spoofed one)', async () => {
    await platform.rest('PATCH', 'global/1/', { trusted_proxies: ['127.0.0.1/32'] });
    await until(
      () => node.manager.settings.trustedProxies,
      (t) => t.length === 1,
    );
    // The client put 198.51.100.1 in its own header; the proxy appended the address it saw.
    await scan('198.51.100.1, 203.0.113.7');
    expect(await (await requestToken('open', undefined, '203.0.113.7')).json()).toEqual(NOT_FOUND);
    // Others behind the same proxy, the spoofed address, and the proxy itself are still let in.
    expect((await requestToken('open', undefined, '203.0.113.8')).status).toBe(200);
    expect((await requestToken('open', undefined, '198.51.100.1')).status).toBe(200);
    expect((await requestToken('open')).status).toBe(200);
    const listed = await until(blocks, (b) => b.length === 1);
    expect(listed[0]).toMatchObject({ id: 'address:203.0.113.7', remote_address: '203.0.113.7' });
    // The participant's address in the status API is the forwarded one too.
    const joined = await requestToken('open', undefined, '203.0.113.9');
    expect(joined.status).toBe(200);
    await until(
      async () => (await (await fetch(`${server()}/api/admin/status/v1/participant/`, { headers: admin })).json()) as { objects: { remote_address: string }[] },
      (p) => p.objects.some((o) => o.remote_address === '203.0.113.9'),
    );
    expect((await lift('address:203.0.113.7')).status).toBe(200);
    await until(blocks, (b) => b.length === 0);
    expect((await requestToken('open', undefined, '203.0.113.7')).status).toBe(200);
  });

  it('a service blocked by wrong PINs is listed by name; lifting it lets the real Host in at once', async () => {
    for (let i = 0; i < 6; i++) expect((await requestToken('alice', '000000', `203.0.113.${100 + i}`)).status).toBe(403);
    expect(await (await requestToken('alice', '123456')).json()).toEqual(NOT_FOUND);
    const listed = await until(blocks, (b) => b.length === 1);
    expect(listed[0]).toMatchObject({ block_type: 'service', service_name: "Alice's VMR", nodes: ['bdpm-op-node'] });
    expect(listed[0]!.id).toMatch(/^service:\d+$/);
    expect(listed[0]!.remote_address).toBeUndefined();

    expect((await lift(listed[0]!.id)).status).toBe(200);
    await until(blocks, (b) => b.length === 0);
    expect((await requestToken('alice', '123456')).status).toBe(200);
    // The lift is in the administrator log.
    const log = await listAdminLog(platform.server.dom, {});
    expect(log.items).toEqual(
      expect.arrayContaining([expect.objectContaining({ username: 'admin', objectType: 'break_in_block', objectName: "Service Alice's VMR" })]),
    );
  });

  it('listing needs "May view conference status", lifting "May modify conference status"', async () => {
    const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
    const account = async (username: string, permissions: string[]) => {
      const role = await platform.rest('POST', 'role/', { name: `role ${username}`, permissions });
      expect(role.status).toBe(201);
      const user = await platform.rest('POST', 'user/', {
        username,
        password: `${username}-pw-1`,
        password_confirm: `${username}-pw-1`,
        roles: [role.headers.get('location')],
      });
      expect(user.status).toBe(201);
      return { authorization: basic(username, `${username}-pw-1`), 'content-type': 'application/json' };
    };
    const vmrOnly = await account('bdpm-vmr', ['is_administrator', 'may_use_api', 'view_vmr']);
    const viewer = await account('bdpm-viewer', ['is_administrator', 'may_use_api', 'view_conference_status']);
    // (127.0.0.1 is still a trusted proxy from the test before.)
    await scan('203.0.113.77');
    expect((await until(blocks, (b) => b.length === 1))[0]!.id).toBe('address:203.0.113.77');
    const liftAs = (headers: Record<string, string>) =>
      fetch(`${server()}${LIFT}`, { method: 'POST', headers, body: JSON.stringify({ block_id: 'address:203.0.113.77' }) });

    expect((await fetch(`${server()}${STATUS}`)).status).toBe(401);
    expect((await fetch(`${server()}${STATUS}`, { headers: vmrOnly })).status).toBe(403);
    expect((await fetch(`${server()}${STATUS}`, { headers: viewer })).status).toBe(200);
    expect((await liftAs({ 'content-type': 'application/json' })).status).toBe(401);
    expect((await liftAs(viewer)).status).toBe(403);
    expect(await until(blocks, (b) => b.length === 1)).toHaveLength(1);
    expect((await liftAs(admin)).status).toBe(200);
    await until(blocks, (b) => b.length === 0);
  });
});
