import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openDatabase } from '../../../db/client.js';
import { requestTokenResult } from '../../../shared/client-api/conference.js';
import { until } from '../../../shared/testing/until.js';
import { MediaTestClient } from '../../../node-agent/testing/MediaTestClient.js';
import {
  buildImage,
  containerLogs,
  containerRunning,
  ensureNodeBaseImage,
  podmanUsable,
  removeContainer,
  removeImage,
  runContainer,
} from '../../../testing/ContainerImages.js';
import { NodeBundleRun } from '../../../testing/NodeBundleRun.js';
import { ManagementServer } from '../../ManagementServer.js';
import { listNodes } from '../node.service.js';
import { defaultLocationId } from '../location.service.js';

const auth = { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}`, 'content-type': 'application/json' };
const NODE_PORT = 48_990;
const MEDIA_PORTS = '48800-48899';
const CLIENT_PORTS: [number, number] = [48_900, 48_949];
const IMAGE = 'localhost/openmeet-node-container-test:latest';
const CONTAINER = 'openmeet-node-container-test';
const callSchema = z.object({ call_uuid: z.string(), sdp: z.string() });

/**
 * The console's container recipe, used as an operator would: the node's deployment bundle is
 * unpacked and its Dockerfile built with podman (Debian's; no Docker engine here), the image run
 * on the host's network, and the node enrolls, goes live and carries a meeting's media. The base
 * image is a local stand-in for node:20-bookworm (testing/ContainerImages.ts): no registry is reachable.
 */
describe.skipIf(!podmanUsable())('a conferencing node from the container image its Dockerfile builds', () => {
  let server: ManagementServer;
  let bundle: NodeBundleRun | null = null;
  const clients: MediaTestClient[] = [];
  let nodeId: number;
  const nodeUrl = `http://127.0.0.1:${NODE_PORT}`;

  beforeAll(async () => {
    server = await ManagementServer.start({
      host: '127.0.0.1',
      port: 0,
      database: await openDatabase({ dataDir: 'memory://' }),
      adminPassword: 'pw',
      enrollmentKey: 'container-test-key',
      webRoot: '/nonexistent',
      logger: pino({ level: 'silent' }),
    });
    const rest = async (path: string, body: unknown) => {
      const r = await fetch(`${server.url}/api/admin/configuration/v1/${path}/`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
      expect(r.status, await r.clone().text()).toBe(201);
      return r;
    };
    const r = await rest('worker_vm', {
      name: 'container-node',
      hostname: 'container-node',
      address: '127.0.0.1',
      netmask: '255.0.0.0',
      gateway: '127.0.0.1',
      system_location: `/api/admin/configuration/v1/system_location/${await defaultLocationId(server.dom)}/`,
    });
    nodeId = Number(r.headers.get('location')!.match(/(\d+)\/$/)![1]);
    await rest('conference', { name: 'Container room', aliases: [{ alias: 'container.room' }], pin: '', allow_guests: false });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    removeContainer(CONTAINER);
    removeImage(IMAGE);
    await bundle?.remove();
    await server?.stop();
  }, 120_000);

  it('builds from the downloaded bundle, enrolls and goes live, and two callers on it hear each other', { timeout: 1_200_000 }, async () => {
    const base = ensureNodeBaseImage();
    bundle = await NodeBundleRun.download(server.url, auth, nodeId, 'container-node');
    // The bundle carries the management server's built worker: the image need not build one.
    expect(existsSync(join(bundle.root, 'bin/mediasoup-worker'))).toBe(true);
    const built = buildImage(bundle.root, IMAGE);
    expect(built.output).not.toMatch(/\[mediasoup-worker\] building/);
    const [before] = await listNodes(server.dom, server.registry.isLive);
    expect(before).toMatchObject({ name: 'container-node', live: false, last_contacted: null, enrollment: 'pending' });

    const t0 = Date.now();
    // The image's own configuration (enrollment token, server address) with test ports.
    runContainer(CONTAINER, IMAGE, {
      NODE_PORT: String(NODE_PORT),
      MEDIA_PORTS,
      NODE_HTTPS_PORT: 'off',
      NODE_SIP_PORT: 'off',
      NODE_SIP_TLS_PORT: 'off',
      LOG_LEVEL: 'warn',
    });
    await until(
      () => (containerRunning(CONTAINER) ? server.registry.isLive(nodeId) : Promise.reject(new Error('the container stopped'))),
      (l) => l === true,
      120_000,
      500,
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}; container output: ${containerLogs(CONTAINER).slice(-3_000)}`);
    });
    const liveMs = Date.now() - t0;
    console.log(`container image: base ${base.made ? `made in ${base.ms} ms` : 'present'}, built in ${built.ms} ms, started to node live in ${liveMs} ms`);
    const [after] = await listNodes(server.dom, server.registry.isLive);
    expect(after).toMatchObject({ name: 'container-node', live: true, enrollment: 'enrolled' });

    // The node in the container runs the bundled worker and has the room.
    const health = z
      .object({ configured: z.boolean(), managementConnected: z.boolean(), mediaWorkers: z.array(z.unknown()) })
      .parse(await (await fetch(`${nodeUrl}/healthz`)).json());
    expect(health).toMatchObject({ configured: true, managementConnected: true });
    expect(health.mediaWorkers.length).toBeGreaterThan(0);

    // Two callers through its client API, each with its own tone, hear each other.
    const api = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
      const r = await fetch(`${nodeUrl}/api/client/v2/conferences/container.room/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
      const text = await r.text();
      expect(r.status, text).toBe(200);
      return (JSON.parse(text) as { result: unknown }).result;
    };
    const join_ = async (name: string, toneHz: number) => {
      const joined = requestTokenResult.parse(
        await until(
          () => api('request_token', { display_name: name }).catch(() => null),
          (r) => r !== null,
          30_000,
          500,
        ),
      );
      const client = new MediaTestClient(name, CLIENT_PORTS, { toneHz });
      clients.push(client);
      await client.join({
        createLeg: () => ({
          negotiate: async (sdp: string) => {
            const path = `participants/${joined.participant_uuid}/calls`;
            const answer = callSchema.parse(await api(path, { call_type: 'WEBRTC', sdp }, { token: joined.token }));
            await api(`${path}/${answer.call_uuid}/ack`, {}, { token: joined.token });
            return answer.sdp;
          },
        }),
      });
      client.startSending();
      return client;
    };
    const ann = await join_('Ann', 440);
    const bob = await join_('Bob', 660);
    await bob.waitFor('Bob hears Ann', () => bob.toneLevelDb(440) > -40, 20_000);
    await ann.waitFor('Ann hears Bob', () => ann.toneLevelDb(660) > -40, 20_000);
    // Nobody hears themselves in the mix.
    expect(ann.toneLevelDb(440)).toBeLessThan(-40);
  });
});
