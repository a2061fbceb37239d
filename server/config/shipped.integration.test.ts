import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { NodeAgent } from '../../node-agent/NodeAgent.js';
import { until } from '../../shared/testing/until.js';
import { ManagementServer } from '../ManagementServer.js';

/** A fresh install ships the guide's Test Call Service (alias test_call) and STUN server, once: a deleted one stays deleted. */
const silent = pino({ level: 'silent' });
const KEY = 'shipped-key';
const API = '/api/admin/configuration/v1';
const auth = { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` };

describe('objects a fresh install ships with', () => {
  const dir = mkdtempSync(join(tmpdir(), 'om-shipped-'));
  let server: ManagementServer | undefined;
  let node: NodeAgent | undefined;
  const start = () =>
    ManagementServer.start({ port: 0, dataDir: join(dir, 'db'), adminPassword: 'pw', enrollmentKey: KEY, webRoot: '/nonexistent', logger: silent });
  const rest = async (method: string, path: string, body?: object) =>
    fetch(`${server!.url}${API}/${path}`, {
      method,
      headers: body ? { ...auth, 'content-type': 'application/json' } : auth,
      body: body ? JSON.stringify(body) : undefined,
    });
  const testCalls = async () =>
    (await (await rest('GET', 'conference/?service_type=test_call')).json()).objects as { id: number; name: string; aliases: { alias: string }[] }[];
  afterAll(async () => {
    await node?.stop();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('has the Test Call Service with the alias test_call, and a node answers request_token for it', { timeout: 60_000 }, async () => {
    server = await start();
    const shipped = await testCalls();
    expect(shipped).toHaveLength(1);
    expect(shipped[0]).toMatchObject({ name: 'Test Call Service', service_type: 'test_call' });
    expect(shipped[0]!.aliases.map((a) => a.alias)).toEqual(['test_call']);

    node = await NodeAgent.start({
      name: 'shipped-node',
      managementUrl: server.url,
      enrollmentKey: KEY,
      port: 0,
      dataDir: join(dir, 'node'),
      webRoot: '/nonexistent',
      mediaPortRange: [45000, 45999],
      logger: silent,
    });
    await until(
      () => node!.link.connected,
      (c) => c,
      15_000,
    );
    await until(
      () => node!.manager.directory.lookup('test_call'),
      (s) => s !== undefined,
    );
    const r = await fetch(`${node.url}/api/client/v2/conferences/test_call/request_token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ display_name: 'Tester' }),
    });
    expect(r.status).toBe(200);
    const body = await r.json();
    expect(body.status).toBe('success');
    expect(body.result).toMatchObject({ service_type: 'test_call', display_name: 'Tester' });
    await fetch(`${node.url}/api/client/v2/conferences/test_call/release_token`, { method: 'POST', headers: { token: body.result.token } });
    await node.stop();
    node = undefined;
  });

  it('has the pre-configured STUN server stun.l.google.com, port 19302', async () => {
    const stun = (await (await rest('GET', 'stun_server/')).json()).objects;
    expect(stun).toEqual([expect.objectContaining({ address: 'stun.l.google.com', port: 19302 })]);
  });

  it('is edited and deleted like any other service, and a restart does not bring it back', async () => {
    const [shipped] = await testCalls();
    expect((await rest('PATCH', `conference/${shipped!.id}/`, { description: 'Check your camera' })).status).toBe(202);
    expect((await rest('DELETE', `conference/${shipped!.id}/`)).status).toBe(204);
    await server!.stop();
    server = await start();
    expect(await testCalls()).toEqual([]);
  });
});
