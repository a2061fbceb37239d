/**
 * Call setup rate into a Virtual Meeting Room on a whole conferencing node (issue 13's figure):
 * sipp places calls (INVITE with an Opus offer → 100 → 200 with our SDP answer → ACK → 0.5 s →
 * BYE → 200; no RTP) to a VMR alias at increasing rates. Each call is a real SIP participant:
 * alias lookup, a conference joined, a mediasoup plain transport, producer and consumer, a mix
 * listener, then the leave. Prints JSON.
 *
 *   npx tsx bench/sip-vmr-calls.ts [seconds=10] [rates=5,10,20,40,80]
 *
 * For each rate: calls placed and failed, the failure share, INVITE→200 times (sipp's rtd) median
 * and p95, the node's process CPU (management server, node agent and mixer threads) and its
 * mediasoup workers' CPU as shares of one core. Then the highest rate with under 0.1 % failures
 * ("sustained") and a run at half that rate for the p95 setup time the issue asks for.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { until } from '../shared/testing/until.js';
import { TestPlatform } from '../testing/TestPlatform.js';
import { cpuSeconds, processTree } from './support/procStats.js';
import { quantile, sippCalls } from './support/sipp.js';

const SECONDS = Number(process.argv[2] ?? 10);
const RATES = (process.argv[3] ?? '5,10,20,40,80').split(',').map(Number);
const scenario = join(import.meta.dirname, '../node-agent/sip/sipp/invite-call.xml');

const platform = await TestPlatform.start({ node: { sipPort: 0 } });
await platform.rest('POST', 'conference/', { name: 'Bench room', aliases: [{ alias: 'bench' }] });
await until(
  () => platform.node.manager.directory.lookup('bench'),
  (s) => s !== undefined,
  10_000,
);
const port = platform.node.sip!.port!;

const workers = () =>
  processTree(process.pid).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('mediasoup');
    } catch {
      return false;
    }
  });
const workersCpu = () => workers().reduce((sum, pid) => sum + cpuSeconds(pid), 0);

async function atRate(rate: number) {
  const calls = Math.max(1, Math.round(rate * SECONDS));
  const self0 = cpuSeconds(process.pid);
  const workers0 = workersCpu();
  const t0 = Date.now();
  const { failed, setupMs } = await sippCalls({ scenario, target: `127.0.0.1:${port}`, service: 'bench', rate, calls, timeoutS: SECONDS * 4 + 30 });
  const wall = (Date.now() - t0) / 1000;
  // Every participant must have left before the next rate.
  await until(
    () => platform.node.manager.conferences().reduce((n, c) => n + c.participants.length, 0),
    (n) => n === 0,
    30_000,
  ).catch(() => undefined);
  return {
    rate,
    calls,
    failed,
    failureShare: Math.round((failed / calls) * 10_000) / 10_000,
    setupMs: { median: quantile(setupMs, 0.5), p95: quantile(setupMs, 0.95), samples: setupMs.length },
    elapsedS: Math.round(wall * 10) / 10,
    nodeProcessCpuShare: Math.round(((cpuSeconds(process.pid) - self0) / wall) * 100) / 100,
    mediasoupWorkersCpuShare: Math.round(((workersCpu() - workers0) / wall) * 100) / 100,
  };
}

const ramp = [];
for (const rate of RATES) {
  const r = await atRate(rate);
  ramp.push(r);
  if (r.failureShare >= 0.001) break;
}
const sustained = ramp.filter((r) => r.failureShare < 0.001).at(-1)?.rate ?? null;
const half = sustained ? await atRate(sustained / 2) : null;
await platform.stop();
console.log(
  JSON.stringify(
    {
      seconds: SECONDS,
      cores: (await import('node:os')).availableParallelism(),
      ramp,
      sustainedCallsPerSecond: sustained,
      atHalfRate: half && { rate: half.rate, failureShare: half.failureShare, setupP95Ms: half.setupMs.p95, setupMedianMs: half.setupMs.median },
    },
    null,
    2,
  ),
);
process.exit(0);
