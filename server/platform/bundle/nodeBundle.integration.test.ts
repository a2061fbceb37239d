import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../db/client.js';
import { nodeBundleConfigSchema } from '../../../shared/node-protocol/nodeBundleConfig.js';
import { until } from '../../../shared/testing/until.js';
import { NodeBundleRun } from '../../../testing/NodeBundleRun.js';
import { ManagementServer } from '../../ManagementServer.js';
import { listNodes } from '../node.service.js';
import { defaultLocationId } from '../location.service.js';

const auth = { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}`, 'content-type': 'application/json' };
const REPO_NODE_MODULES = join(process.cwd(), 'node_modules');

describe('a conferencing node from its downloaded deployment bundle', () => {
  let server: ManagementServer;
  let bundle: NodeBundleRun | null = null;
  let nodeId: number;
  const enrollment = (format: string) =>
    fetch(`${server.url}/api/admin/command/v1/conferencing_node/enrollment/`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ conferencing_node_id: nodeId, format }),
    });

  beforeAll(async () => {
    server = await ManagementServer.start({
      port: 0,
      database: await openDatabase({ dataDir: 'memory://' }),
      adminPassword: 'pw',
      enrollmentKey: 'bundle-test-key',
      webRoot: '/nonexistent',
      logger: pino({ level: 'silent' }),
    });
    const r = await fetch(`${server.url}/api/admin/configuration/v1/worker_vm/`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        name: 'bundle-node',
        hostname: 'bundle-node',
        address: '127.0.0.1',
        netmask: '255.0.0.0',
        gateway: '127.0.0.1',
        system_location: `/api/admin/configuration/v1/system_location/${await defaultLocationId(server.dom)}/`,
      }),
    });
    expect(r.status, await r.clone().text()).toBe(201);
    nodeId = Number(r.headers.get('location')!.match(/(\d+)\/$/)![1]);
  });
  afterAll(async () => {
    await bundle?.remove();
    await server?.stop();
  });

  it('offers the configuration alone and a Dockerfile, each with a new one-time token', async () => {
    const config = nodeBundleConfigSchema.parse(await (await enrollment('config')).json());
    expect(config).toMatchObject({ name: 'bundle-node', managementUrl: server.url, address: '127.0.0.1', port: 8081 });
    expect(config.enrollmentToken).toMatch(/^omt_/);
    const docker = await (await enrollment('dockerfile')).text();
    expect(docker).toMatch(/^FROM node:20/m);
    expect(docker).toContain('NODE_ENROLLMENT_TOKEN="omt_');
    expect(docker).not.toContain(config.enrollmentToken); // a new download, a new token
    expect(docker).toContain('CMD ["sh", "-c"');
  });

  it('unpacks and starts: the node moves from never contacted to live', { timeout: 120_000 }, async () => {
    const [before] = await listNodes(server.dom, server.registry.isLive);
    expect(before).toMatchObject({ name: 'bundle-node', live: false, last_contacted: null, enrollment: 'pending' });

    const run = await NodeBundleRun.download(server.url, auth, nodeId, 'bundle-node');
    bundle = run;
    expect(run.disposition).toBe('attachment; filename="openmeet-node-bundle-node.tar.gz"');
    const root = run.root;
    for (const f of [
      'node.json',
      'start.sh',
      'install.sh',
      'openmeet-node.service',
      'Dockerfile',
      'node-agent/main.ts',
      'shared/node-protocol/messages.ts',
      'package.json',
      'package-lock.json',
    ]) {
      expect(existsSync(join(root, f)), f).toBe(true);
    }
    expect(statSync(join(root, 'start.sh')).mode & 0o111).not.toBe(0);
    expect(statSync(join(root, 'node.json')).mode & 0o077).toBe(0);
    expect(readFileSync(join(root, 'openmeet-node.service'), 'utf8')).toMatch(/ExecStart=\/opt\/openmeet-node\/start\.sh[\s\S]*RestartPreventExitStatus=78/);
    expect(existsSync(join(root, 'node-agent/spine.integration.test.ts'))).toBe(false);

    // The bundle carries no node_modules: its start script links the repository's (OPENMEET_NODE_MODULES).
    const t0 = Date.now();
    run.start({ OPENMEET_NODE_MODULES: REPO_NODE_MODULES, NODE_PORT: '0', NODE_HTTPS_PORT: 'off', MEDIA_PORTS: '47200-47299', LOG_LEVEL: 'warn' });
    const live = await until(
      () => (run.exited ? null : server.registry.isLive(nodeId)),
      (l) => l === true,
      90_000,
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}; node output: ${run.output.slice(-2_000)}`);
    });
    expect(live).toBe(true);
    console.log(`bundle started to node live: ${Date.now() - t0} ms`);
    const [after] = await listNodes(server.dom, server.registry.isLive);
    expect(after).toMatchObject({ name: 'bundle-node', live: true, enrollment: 'enrolled' });
    expect(after!.last_contacted).not.toBeNull();
    // Its own key is in its data directory now; the token is spent.
    expect(JSON.parse(readFileSync(join(root, 'data', 'identity.json'), 'utf8'))).toMatchObject({ nodeId });
  });
});
