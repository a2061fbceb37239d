/**
 * status/v1 `participant` with many live participants, and how soon a join shows. Prints JSON.
 *
 *   npx tsx bench/status-participants.ts [participants=500] [requests=200]
 *
 * A real management server (in-memory PGlite) and a real node agent linked over the node
 * WebSocket; the participants are synthetic in that they join over the node's client API
 * (`request_token`, real HTTP from one loopback address each, no PIN, in 10 VMRs) but send no media, so the node's media reports
 * list them without streams. The server learns of them only from the node's reports.
 *
 * - `participantList`: GET status/v1/participant/ with Basic auth, sequential requests: the default
 *   page (20), a page of 500 and a conference filter; p50/p95/max in ms.
 * - `joinToLive`: from sending `request_token` to the server's live status holding the participant
 *   (in-process, on its `changed` event), to status/v1 answering its detail (HTTP polled every 5 ms
 *   once the join is answered), to the console's `status.liveCounters` subscription counting it
 *   (it refreshes 200 ms after a change and every 2 s), and to the live view's graph
 *   (`status.timeSeriesLive`) holding a point that counts it (a count change is a point at once). Each join at a random moment.
 * - `timeSeriesMemory`: the heap a full 7-day time series takes (5 locations, 20 nodes per point).
 */
import { mkdtempSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pino from 'pino';
import { TEST_DATABASES } from '../db/testing.js';
import { NodeAgent } from '../node-agent/NodeAgent.js';
import { ManagementServer } from '../server/ManagementServer.js';
import { TimeSeries } from '../server/status/TimeSeries.js';
import { appRouter } from '../server/trpc/root.js';
import { READ_WRITE_PERMISSIONS } from '../shared/admin/permissions.js';
import { requestTokenResult } from '../shared/client-api/conference.js';
import type { TimeSeriesPoint } from '../shared/status/liveView.js';

const N = Number(process.argv[2] ?? 500);
const REQUESTS = Number(process.argv[3] ?? 200);
const ROOMS = 10;
const JOIN_SAMPLES = 20;
const KEY = 'bench-status-key';
const AUTH = `Basic ${Buffer.from('admin:bench-pw').toString('base64')}`;
const log = pino({ level: 'silent' });

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  const r = (n: number) => Math.round(n * 100) / 100;
  return { n: s.length, p50: r(at(0.5)), p95: r(at(0.95)), max: r(s.at(-1)!) };
};

async function timeGets(url: string, n: number): Promise<{ ms: number[]; objects: number }> {
  const ms: number[] = [];
  let objects = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await fetch(url, { headers: { authorization: AUTH } });
    const body = (await r.json()) as { objects: unknown[] };
    ms.push(performance.now() - t0);
    if (r.status !== 200) throw new Error(`${url}: ${r.status}`);
    objects = body.objects.length;
  }
  return { ms, objects };
}

function timeSeriesMemory(): { points: number; heapBytes: number; bytesPerPoint: number } {
  setFlagsFromString('--expose_gc');
  const gc = runInNewContext('gc') as () => void;
  const point = (t: number): TimeSeriesPoint => ({
    t,
    conferences: 40,
    participants: 400,
    packetLoss: 0.12,
    locations: Object.fromEntries(
      Array.from({ length: 5 }, (_, i) => [`Location ${i}`, { conferences: 8, participants: 80, mediaLoad: 31.5, packetLoss: 0.1 }]),
    ),
    nodes: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`conf-node-${i}`, 27.25])),
  });
  gc();
  const before = process.memoryUsage().heapUsed;
  const series = new TimeSeries();
  const t0 = Date.UTC(2026, 0, 1);
  for (let t = t0; t < t0 + 7 * 86_400_000; t += 2_000) series.add(point(t));
  gc();
  const heapBytes = process.memoryUsage().heapUsed - before;
  return { points: series.size, heapBytes, bytesPerPoint: Math.round(heapBytes / series.size) };
}

async function main(): Promise<void> {
  const memory = timeSeriesMemory();
  const database = await TEST_DATABASES[0]!.open();
  const server = await ManagementServer.start({ port: 0, database, adminPassword: 'bench-pw', enrollmentKey: KEY, webRoot: '/nonexistent', logger: log });
  const node = await NodeAgent.start({
    name: 'bench-node',
    managementUrl: server.url,
    enrollmentKey: KEY,
    port: 0,
    dataDir: mkdtempSync(join(tmpdir(), 'om-bench-status-')),
    webRoot: '/nonexistent',
    mediaPortRange: [47400, 47599],
    mediaWorkers: 1,
    statusIntervalMs: { media: 2_000, load: 2_000 },
    logger: log,
  });
  try {
    const deadline = Date.now() + 15_000;
    while (!node.link.connected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < ROOMS; i++) {
      const r = await fetch(`${server.url}/api/admin/configuration/v1/conference/`, {
        method: 'POST',
        headers: { authorization: AUTH, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `Bench room ${i}`, aliases: [{ alias: `bench.${i}` }] }),
      });
      if (r.status !== 201) throw new Error(`VMR: ${r.status} ${await r.text()}`);
    }
    while (!node.manager.directory.lookup(`bench.${ROOMS - 1}`)) await new Promise((r) => setTimeout(r, 50));
    // Each participant from its own loopback address (the node limits token requests per address).
    const join = (i: number): Promise<string> =>
      new Promise((resolve, reject) => {
        const body = JSON.stringify({ display_name: `Participant ${i}` });
        const url = new URL(`${node.url}/api/client/v2/conferences/bench.${i % ROOMS}/request_token`);
        const req = httpRequest(
          url,
          { method: 'POST', localAddress: `127.0.${Math.floor(i / 200) + 1}.${(i % 200) + 2}`, headers: { 'content-type': 'application/json' } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString();
              if (res.statusCode !== 200) return reject(new Error(`join ${i}: ${res.statusCode} ${text}`));
              resolve(requestTokenResult.parse((JSON.parse(text) as { result: unknown }).result).participant_uuid);
            });
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const joinStart = performance.now();
    for (let i = 0; i < N; i += 10) await Promise.all(Array.from({ length: Math.min(10, N - i) }, (_, k) => join(i + k)));
    const joinAllMs = performance.now() - joinStart;
    while (server.status.participants().length < N) await new Promise((r) => setTimeout(r, 20));
    // Let a media report list them all.
    await new Promise((r) => setTimeout(r, 2_500));

    const base = `${server.url}/api/admin/status/v1/participant/`;
    await timeGets(base, 10); // warm-up
    const page = await timeGets(base, REQUESTS);
    const full = await timeGets(`${base}?limit=500`, Math.round(REQUESTS / 2));
    const filtered = await timeGets(`${base}?conference=${encodeURIComponent('Bench room 3')}`, REQUESTS);

    // Join → live: the server's live status, status/v1, and the console's counters.
    const ctx = {
      dom: server.dom,
      status: server.status,
      registry: server.registry,
      admin: { id: 1, username: 'admin', mayUseWeb: true, mayUseApi: true, permissions: READ_WRITE_PERMISSIONS },
      sessionToken: undefined,
      setCookie: () => {},
    };
    const toLive: number[] = [];
    const toApi: number[] = [];
    const toConsole: number[] = [];
    const toGraph: number[] = [];
    for (let k = 0; k < JOIN_SAMPLES; k++) {
      // A join at a random moment between the live view's 2-s samples.
      await new Promise((r) => setTimeout(r, Math.random() * 2_000));
      const ended = new AbortController();
      const counters = (await appRouter.createCaller(ctx, { signal: ended.signal }).status.liveCounters())[Symbol.asyncIterator]();
      const before = ((await counters.next()).value as { participants: number }).participants;
      const consoleSeen = (async () => {
        for (;;) {
          const v = await counters.next();
          if ((v.value as { participants: number }).participants > before) return performance.now();
        }
      })();
      const points = (await appRouter.createCaller(ctx, { signal: ended.signal }).status.timeSeriesLive())[Symbol.asyncIterator]();
      const graphSeen = (async () => {
        for (;;) {
          const v = await points.next();
          if (v.done) return Number.NaN;
          if (((v.value as TimeSeriesPoint | null)?.participants ?? 0) > before) return performance.now();
        }
      })();
      let liveAt = 0;
      const name = `Participant ${N + k}`;
      const onChange = () => {
        if (!liveAt && server.status.participants().some((p) => p.displayName === name)) liveAt = performance.now();
      };
      server.status.on('changed', onChange);
      const sent = performance.now();
      const id = await join(N + k);
      for (;;) {
        const r = await fetch(`${base}${id}/`, { headers: { authorization: AUTH } });
        await r.arrayBuffer();
        if (r.status === 200) break;
        await new Promise((res) => setTimeout(res, 5));
      }
      toApi.push(performance.now() - sent);
      while (!liveAt) await new Promise((res) => setTimeout(res, 1));
      server.status.off('changed', onChange);
      toLive.push(liveAt - sent);
      toConsole.push((await consoleSeen) - sent);
      toGraph.push((await graphSeen) - sent);
      ended.abort();
      await counters.return?.(undefined);
      await points.return?.(undefined);
    }

    console.log(
      JSON.stringify(
        {
          bench: 'status-participants',
          participants: server.status.participants().length,
          feed: 'a real node agent; participants joined over its client API (request_token, no media)',
          joinAllMs: Math.round(joinAllMs),
          participantList: {
            defaultPage: { objects: page.objects, ...stats(page.ms) },
            limit500: { objects: full.objects, ...stats(full.ms) },
            conferenceFilter: { objects: filtered.objects, ...stats(filtered.ms) },
          },
          joinToLive: { liveStatusMs: stats(toLive), statusApiMs: stats(toApi), consoleCountersMs: stats(toConsole), consoleGraphMs: stats(toGraph) },
          timeSeriesMemory: memory,
        },
        null,
        2,
      ),
    );
  } finally {
    await node.stop();
    await server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
