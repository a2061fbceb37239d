/**
 * Configuration at scale, on the real product: 10,000 Virtual Meeting Rooms with 2 aliases each,
 * imported as one CSV file through the management API's bulk endpoint, then the console's list
 * page (tRPC over HTTP) and the management REST API's list timed against them. Prints JSON.
 *
 *   npx tsx bench/config-scale.ts [--vmrs 10000] [--requests 200] [--postgres postgres://…]
 *
 * The database is fresh: embedded PGlite in a temp dir, or (with --postgres or BENCH_DATABASE_URL)
 * a new database on that Postgres server, dropped at the end. The server runs in this process, so
 * its RSS is this process's. Requests are sequential (one console user), after a short warm-up.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { openDatabase } from '../db/client.js';
import { freshPostgres } from '../db/testing.js';
import { CSV_COLUMNS } from '../server/bulk/csvFormat.js';
import { ManagementServer } from '../server/ManagementServer.js';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const VMRS = Number(arg('vmrs') ?? 10_000);
const N = Number(arg('requests') ?? 200);
const WARMUP = 10;
const PG_URL = arg('postgres') ?? process.env.BENCH_DATABASE_URL;
const PASSWORD = 'bench-pw';
const BASIC = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;
const REST = '/api/admin/configuration/v1';

// Deterministic "random" pages and search terms, so runs are comparable.
let seed = 42;
const rand = (n: number) => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
};
const pad = (i: number) => String(i).padStart(5, '0');
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const mib = (b: number) => round(b / 1024 / 1024);

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const p = (q: number) => round(s[Math.min(s.length - 1, Math.ceil((q / 100) * s.length) - 1)]!, 2);
  return { n: s.length, p50: p(50), p95: p(95), max: round(s[s.length - 1]!, 2) };
}

/** The guide's VMR CSV (no header, §15.2 column order): one row per alias, a PIN on every third room. */
function vmrCsv(count: number): { text: string; rows: number } {
  const cols = CSV_COLUMNS.vmr;
  const lines: string[] = [];
  for (let i = 1; i <= count; i++) {
    const id = pad(i);
    for (const alias of [`meet.user${id}`, `meet.user${id}@example.com`]) {
      const cells: Record<string, string> = {
        name: `User ${id}`,
        description: `Meeting room of user ${id}`,
        pin: i % 3 === 0 ? String(100000 + i) : '',
        alias_alias: alias,
        alias_description: alias.includes('@') ? 'SIP URI' : 'Short alias',
      };
      lines.push(cols.map((c) => cells[c] ?? '').join(','));
    }
  }
  return { text: lines.join('\n') + '\n', rows: lines.length };
}

/** POST with node:http: no client-side timeout (fetch gives up on headers after 300 s). */
function post(url: string, headers: Record<string, string>, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const tmp = PG_URL ? null : mkdtempSync(join(tmpdir(), 'bench-config-'));
const database = PG_URL ? await freshPostgres(PG_URL, 'bench_cfg') : await openDatabase({ dataDir: join(tmp!, 'db') });
let server: ManagementServer | undefined;
try {
  server = await ManagementServer.start({
    port: 0,
    database,
    adminPassword: PASSWORD,
    enrollmentKey: 'k',
    webRoot: '/nonexistent',
    logger: pino({ level: 'silent' }),
  });
  const base = server.url;
  const rssStart = process.memoryUsage().rss;

  // 1. CSV import through the REST bulk endpoint.
  const csv = vmrCsv(VMRS);
  let rssPeak = process.memoryUsage().rss;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 100);
  const t0 = performance.now();
  const res = await post(`${base}${REST}/bulk/vmr/import/`, { authorization: BASIC, 'content-type': 'text/csv' }, csv.text);
  const importS = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  if (res.status !== 200) throw new Error(`import failed: ${res.status} ${res.body.slice(0, 2000)}`);
  const imported = JSON.parse(res.body) as { created: number; updated: number };
  if (imported.created !== VMRS) throw new Error(`import created ${imported.created}, expected ${VMRS}`);
  const rssAfterImport = process.memoryUsage().rss;

  // 2. The console's list page: tRPC queries over HTTP with the session cookie.
  const login = await fetch(`${base}/trpc/auth.login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: PASSWORD }),
  });
  if (!login.ok) throw new Error(`login failed: ${login.status} ${await login.text()}`);
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;

  type Page = { total: number; items: { name: string }[] };
  async function trpcList(input: Record<string, unknown>): Promise<Page> {
    const r = await fetch(`${base}/trpc/config.list?input=${encodeURIComponent(JSON.stringify(input))}`, { headers: { cookie } });
    if (!r.ok) throw new Error(`config.list ${r.status}: ${(await r.text()).slice(0, 500)}`);
    return ((await r.json()) as { result: { data: Page } }).result.data;
  }
  type Envelope = { meta: { total_count: number }; objects: { name: string }[] };
  async function restList(query: string): Promise<Envelope> {
    const r = await fetch(`${base}${REST}/conference/?${query}`, { headers: { authorization: BASIC } });
    if (!r.ok) throw new Error(`REST list ${r.status}: ${(await r.text()).slice(0, 500)}`);
    return (await r.json()) as Envelope;
  }

  /** Times N sequential calls after a warm-up; keeps the first result to check the answer is right. */
  async function time<T>(make: (i: number) => () => Promise<T>) {
    for (let i = 0; i < WARMUP; i++) await make(i)();
    const ms: number[] = [];
    let first: T | undefined;
    for (let i = 0; i < N; i++) {
      const call = make(i);
      const s = performance.now();
      const out = await call();
      ms.push(performance.now() - s);
      first ??= out;
    }
    return { ms: stats(ms), first: first! };
  }
  const pages = Math.ceil(VMRS / 20);
  // "user0421" → the 10 rooms User 04210…04219 (matched through their aliases).
  const term = () => `user${pad(1 + rand(VMRS)).slice(0, 4)}`;

  const cPage = await time(() => {
    const offset = rand(pages) * 20;
    return () => trpcList({ resource: 'vmr', offset, limit: 20, orderBy: 'name' });
  });
  const cSort = await time(() => {
    const offset = rand(pages) * 20;
    return () => trpcList({ resource: 'vmr', offset, limit: 20, orderBy: '-name' });
  });
  const cSearch = await time(() => {
    const search = term();
    return () => trpcList({ resource: 'vmr', search, offset: 0, limit: 20, orderBy: 'name' });
  });

  // 3. The management REST API's list.
  const rPage = await time(() => {
    const offset = rand(pages) * 20;
    return () => restList(`limit=20&offset=${offset}`);
  });
  const rIcontains = await time(() => {
    const q = `User ${pad(1 + rand(VMRS)).slice(0, 4)}`;
    return () => restList(`limit=20&name__icontains=${encodeURIComponent(q)}`);
  });
  const rType = await time(() => {
    const offset = rand(pages) * 20;
    return () => restList(`limit=20&offset=${offset}&service_type=conference`);
  });
  const rssEnd = process.memoryUsage().rss;

  console.log(
    JSON.stringify(
      {
        machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, platform: `${process.platform}-${process.arch}` },
        database: database.kind,
        dataset: { vmrs: VMRS, aliasesPerVmr: 2, csvRows: csv.rows, csvBytes: Buffer.byteLength(csv.text), withPin: Math.floor(VMRS / 3) },
        csvImport: {
          endpoint: `POST ${REST}/bulk/vmr/import/`,
          result: imported,
          seconds: round(importS, 2),
          rowsPerSecond: Math.round(csv.rows / importS),
          vmrsPerSecond: Math.round(VMRS / importS),
          msPerVmr: round((importS * 1000) / VMRS, 2),
        },
        consoleListTrpcMs: {
          note: `GET /trpc/config.list, limit 20, ${N} sequential requests after ${WARMUP} warm-up`,
          page: { ...cPage.ms, total: cPage.first.total, items: cPage.first.items.length },
          sortDesc: { ...cSort.ms, total: cSort.first.total, items: cSort.first.items.length },
          search: { ...cSearch.ms, total: cSearch.first.total, items: cSearch.first.items.length },
        },
        restListMs: {
          note: `GET ${REST}/conference/, limit 20, Basic auth, ${N} sequential requests after ${WARMUP} warm-up`,
          page: { ...rPage.ms, total_count: rPage.first.meta.total_count, objects: rPage.first.objects.length },
          nameIcontains: { ...rIcontains.ms, total_count: rIcontains.first.meta.total_count, objects: rIcontains.first.objects.length },
          serviceTypeConference: { ...rType.ms, total_count: rType.first.meta.total_count, objects: rType.first.objects.length },
        },
        serverRssMiB: { start: mib(rssStart), peakDuringImport: mib(rssPeak), afterImport: mib(rssAfterImport), end: mib(rssEnd) },
      },
      null,
      2,
    ),
  );
} finally {
  if (server) await server.stop();
  else await database.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}
