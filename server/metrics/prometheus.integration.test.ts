import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { until } from '../../shared/testing/until.js';
import { TestPlatform } from '../../testing/TestPlatform.js';

/**
 * The management server's and the node's /metrics scraped by a real Prometheus (Debian's, which
 * scripts/test.mjs installs when missing): both targets up, and our series queried back from its
 * HTTP API with the values the platform has.
 */
const PROMETHEUS = spawnSync('sh', ['-c', 'command -v prometheus']).stdout.toString().trim();
const TOKEN = 'metrics-test-token-0123456789';

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

const vector = z.object({
  status: z.literal('success'),
  data: z.object({ result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: z.tuple([z.number(), z.string()]) })) }),
});

describe.skipIf(!PROMETHEUS)(
  `a real Prometheus scrapes both servers${PROMETHEUS ? '' : ' (skipped: no prometheus binary; apt-get install prometheus)'}`,
  () => {
    let platform: TestPlatform;
    let prometheus: ChildProcess;
    let dir: string;
    let promUrl: string;
    let log = '';

    const query = async (q: string) => {
      const r = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
      return vector.parse(await r.json()).data.result;
    };

    beforeAll(async () => {
      platform = await TestPlatform.start({ server: { metricsToken: TOKEN }, node: { name: 'prom-node', mediaPortRange: [48100, 48199] } });
      await platform.rest('POST', 'conference/', { name: 'Scraped room', aliases: [{ alias: 'scraped' }] });
      await until(
        () => platform.node.manager.directory.lookup('scraped'),
        (s) => s !== undefined,
      );
      dir = mkdtempSync(join(tmpdir(), 'om-prometheus-'));
      const port = await freePort();
      promUrl = `http://127.0.0.1:${port}`;
      const target = (url: string) => new URL(url).host;
      writeFileSync(
        join(dir, 'prometheus.yml'),
        [
          'global:',
          '  scrape_interval: 1s',
          '  scrape_timeout: 1s',
          'scrape_configs:',
          '  - job_name: management',
          '    authorization:',
          '      type: Bearer',
          `      credentials: ${TOKEN}`,
          '    static_configs:',
          `      - targets: ['${target(platform.server.url)}']`,
          '  - job_name: node',
          '    static_configs:',
          `      - targets: ['${target(platform.node.url)}']`,
          '',
        ].join('\n'),
      );
      prometheus = spawn(
        PROMETHEUS,
        [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      prometheus.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
      await until(
        async () => (await fetch(`${promUrl}/-/ready`).catch(() => null))?.status,
        (s) => s === 200,
        20_000,
      );
    }, 60_000);
    afterAll(async () => {
      prometheus?.kill('SIGTERM');
      await platform?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('both targets are up, and the participants each reports are what is live', async () => {
      const r = await platform.client('scraped', 'request_token', { body: { display_name: 'Prometheus watcher' } });
      expect(r.status).toBe(200);
      const up = await until(
        () => query('up'),
        (res) => res.length === 2 && res.every((s) => s.value[1] === '1'),
        20_000,
      ).catch((err: unknown) => {
        throw new Error(`${String(err)}\nprometheus log:\n${log}`);
      });
      expect(up.map((s) => s.metric.job).sort()).toEqual(['management', 'node']);
      const server = await until(
        () => query('sum(openmeet_participants)'),
        (res) => res[0]?.value[1] === '1',
        20_000,
      );
      expect(server).toHaveLength(1);
      const node = await until(
        () => query('openmeet_node_participants'),
        (res) => res.length === 1 && res[0]!.value[1] === '1',
        20_000,
      );
      expect(node[0]!.metric).toMatchObject({ job: 'node', node: 'prom-node', protocol: 'api', role: 'chair' });
      expect((await query('openmeet_nodes_connected'))[0]?.value[1]).toBe('1');
      // Event-loop lag from Node's default metrics, on both.
      expect((await query('nodejs_eventloop_lag_seconds')).map((s) => s.metric.job).sort()).toEqual(['management', 'node']);
    }, 60_000);
  },
);
