/**
 * Issue 14's figure: time from starting a downloaded node bundle to the node being live in the
 * console. A management server (embedded database) gets one conferencing node per run; each run
 * downloads that node's bundle as the console does (the enrollment command, a new one-time token),
 * unpacks it with the system's tar, runs its `start.sh` and waits until the server counts the node
 * live (the console's "Never contacted" → live). Prints JSON.
 *
 *   npx tsx bench/bundle-to-live.ts [runs=5]
 *
 * The bundle's start script links this checkout's node_modules (OPENMEET_NODE_MODULES) rather than
 * running `npm ci`, which on a real machine comes first and depends on the network.
 */
import { join } from 'node:path';
import pino from 'pino';
import { openDatabase } from '../db/client.js';
import { defaultLocationId } from '../server/platform/location.service.js';
import { listNodes } from '../server/platform/node.service.js';
import { ManagementServer } from '../server/ManagementServer.js';
import { until } from '../shared/testing/until.js';
import { NodeBundleRun } from '../testing/NodeBundleRun.js';

const RUNS = Number(process.argv[2] ?? 5);
const headers = { authorization: `Basic ${Buffer.from('admin:bench').toString('base64')}`, 'content-type': 'application/json' };

const server = await ManagementServer.start({
  port: 0,
  database: await openDatabase({ dataDir: 'memory://' }),
  adminPassword: 'bench',
  enrollmentKey: 'bench-key',
  webRoot: '/nonexistent',
  logger: pino({ level: 'silent' }),
});
const location = `/api/admin/configuration/v1/system_location/${await defaultLocationId(server.dom)}/`;

const runs: { node: string; downloadMs: number; startToLiveMs: number }[] = [];
try {
  for (let i = 0; i < RUNS; i++) {
    const name = `bench-node-${i + 1}`;
    const r = await fetch(`${server.url}/api/admin/configuration/v1/worker_vm/`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name, hostname: name, address: '127.0.0.1', netmask: '255.0.0.0', gateway: '127.0.0.1', system_location: location }),
    });
    if (r.status !== 201) throw new Error(`worker_vm: ${r.status} ${await r.text()}`);
    const nodeId = Number(r.headers.get('location')!.match(/(\d+)\/$/)![1]);
    const before = (await listNodes(server.dom, server.registry.isLive)).find((n) => n.name === name);
    if (before?.last_contacted !== null || before.live) throw new Error(`${name} is not "Never contacted" before its bundle starts`);

    const d0 = performance.now();
    const bundle = await NodeBundleRun.download(server.url, headers, nodeId, name);
    const downloadMs = performance.now() - d0;
    try {
      const t0 = performance.now();
      bundle.start({
        OPENMEET_NODE_MODULES: join(process.cwd(), 'node_modules'),
        NODE_PORT: '0',
        NODE_HTTPS_PORT: 'off',
        MEDIA_PORTS: `${47300 + i * 100}-${47399 + i * 100}`,
        LOG_LEVEL: 'warn',
      });
      await until(
        () => (bundle.exited ? null : server.registry.isLive(nodeId)),
        (live) => live === true,
        120_000,
        50,
      ).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}; node output: ${bundle.output.slice(-2_000)}`);
      });
      runs.push({ node: name, downloadMs: Math.round(downloadMs), startToLiveMs: Math.round(performance.now() - t0) });
    } finally {
      await bundle.remove();
      // One node per address: the next run's node takes this one's place.
      const del = await fetch(`${server.url}/api/admin/configuration/v1/worker_vm/${nodeId}/`, {
        method: 'DELETE',
        headers: { authorization: headers.authorization },
      });
      if (del.status !== 204) console.error(`worker_vm delete: ${del.status} ${await del.text()}`);
    }
  }
} finally {
  await server.stop();
}

const sorted = runs.map((r) => r.startToLiveMs).sort((a, b) => a - b);
const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
console.log(
  JSON.stringify(
    {
      bench: 'bundle-to-live',
      runs: runs.length,
      startToLiveMs: { min: sorted[0], median: at(0.5), p95: at(0.95), max: sorted.at(-1) },
      each: runs,
    },
    null,
    1,
  ),
);
