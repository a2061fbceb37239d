/**
 * The support log at its bound: a full ring (50,000 lines from the management node and 10 nodes,
 * shaped like the nodes' own lines) and the console's queries on it — the first page unfiltered,
 * warnings and above, one node, a text search, a search that matches nothing (a full scan). Also
 * the heap the full ring takes. In-process on the SupportLog class the server uses. Prints JSON.
 *
 *   npx tsx --expose-gc bench/support-log-list.ts [--requests 200]
 */
import { SupportLog, MANAGEMENT_SOURCE } from '../server/supportLog/SupportLog.js';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const N = Number(arg('requests') ?? 200);
const gc = (globalThis as { gc?: () => void }).gc;

gc?.();
const heap0 = process.memoryUsage().heapUsed;
// The per-node rate limit is lifted: the ring is filled at once.
const log = new SupportLog({ perNodePerSecond: Infinity });
const modules = ['node.conference', 'node.client-api', 'node.media', 'node.management-link', 'node.event-sinks'];
for (let i = 0; i < log.capacity; i++) {
  const level = i % 50 === 0 ? 40 : i % 500 === 0 ? 50 : 30;
  const text = `Message="participant joined" conference="Room ${i % 400}" participant="Person ${i}" remote="10.0.${i % 250}.${i % 200}" protocol="webrtc" role="guest"`;
  const entry = { time: Date.UTC(2026, 11, 4) + i * 20, level, module: modules[i % modules.length]!, text };
  if (i % 11 === 0)
    log.destination.write(
      JSON.stringify({ level, time: entry.time, name: 'management', part: 'nodes', msg: 'conferencing node connected', node: `node-${i % 10}` }),
    );
  else log.acceptNode(`node-${i % 10}`, [entry], 0);
}
gc?.();
const heapMiB = Math.round(((process.memoryUsage().heapUsed - heap0) / 1024 / 1024) * 10) / 10;

const p = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
const time = (query: Parameters<SupportLog['list']>[0]) => {
  const ms: number[] = [];
  for (let i = 0; i < 10 + N; i++) {
    const t = performance.now();
    log.list(query);
    if (i >= 10) ms.push(performance.now() - t);
  }
  return { p50Ms: Math.round(p(ms, 0.5) * 100) / 100, p95Ms: Math.round(p(ms, 0.95) * 100) / 100 };
};
const base = { offset: 0, limit: 100 };
console.log(
  JSON.stringify(
    {
      lines: log.list({ ...base, limit: 1 }).total,
      heapMiB,
      firstPage: time(base),
      warningsAndAbove: time({ ...base, level: 'warning' }),
      oneNode: time({ ...base, source: 'node-3' }),
      managementNode: time({ ...base, source: MANAGEMENT_SOURCE }),
      search: time({ ...base, search: 'person 4242' }),
      searchNoMatch: time({ ...base, search: 'nothing like it' }),
      requests: N,
    },
    null,
    2,
  ),
);
