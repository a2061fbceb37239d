/**
 * Is the management API still responsive while a large import runs (issue 11, finding 2)? A fresh
 * management server (embedded PGlite in a temp dir, or a new database on --postgres), then a CSV
 * import of N Virtual Meeting Rooms (2 aliases each) through the REST bulk endpoint while another
 * client reads a small REST list over and over. Prints JSON: the import's duration, and the read
 * latencies before and during the import (goal: p95 < 100 ms during; import < 5 s for 10,000).
 * Then the same file again with a change (every VMR overwritten), and a restore of a backup of
 * that configuration, each while the reads go on.
 *
 *   npx tsx bench/import-responsiveness.ts [--vmrs 10000] [--postgres postgres://…]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { openDatabase } from '../db/client.js';
import { freshPostgres } from '../db/testing.js';
import { CSV_COLUMNS } from '../server/bulk/csvFormat.js';
import { createBackup, downloadBackup, restoreBackup } from '../server/backup/backup.service.js';
import { ManagementServer } from '../server/ManagementServer.js';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const VMRS = Number(arg('vmrs') ?? 10_000);
const PG_URL = arg('postgres') ?? process.env.BENCH_DATABASE_URL;
const PASSWORD = 'bench-pw';
const BASIC = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;
const REST = '/api/admin/configuration/v1';
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

function stats(xs: number[]) {
  if (!xs.length) return { n: 0 };
  const s = [...xs].sort((a, b) => a - b);
  const p = (q: number) => round(s[Math.min(s.length - 1, Math.ceil((q / 100) * s.length) - 1)]!, 1);
  return { n: s.length, p50: p(50), p95: p(95), max: round(s[s.length - 1]!, 1) };
}

function vmrCsv(count: number): string {
  const cols = CSV_COLUMNS.vmr;
  const lines: string[] = [];
  for (let i = 1; i <= count; i++) {
    const id = String(i).padStart(5, '0');
    for (const alias of [`meet.user${id}`, `meet.user${id}@example.com`]) {
      const cells: Record<string, string> = {
        name: `User ${id}`,
        description: `Meeting room of user ${id}`,
        pin: i % 3 === 0 ? String(100000 + i) : '',
        alias_alias: alias,
      };
      lines.push(cols.map((c) => cells[c] ?? '').join(','));
    }
  }
  return lines.join('\n') + '\n';
}

/** POST with node:http: no client-side timeout. */
function post(url: string, headers: Record<string, string>, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const tmp = PG_URL ? null : mkdtempSync(join(tmpdir(), 'bench-import-'));
const database = PG_URL ? await freshPostgres(PG_URL, 'bench_import') : await openDatabase({ dataDir: join(tmp!, 'db') });
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
  await post(`${base}${REST}/system_location/`, { authorization: BASIC, 'content-type': 'application/json' }, JSON.stringify({ name: 'Reader site' }));
  const read = async () => {
    const s = performance.now();
    const r = await fetch(`${base}${REST}/system_location/?limit=5`, { headers: { authorization: BASIC } });
    await r.arrayBuffer();
    if (r.status !== 200) throw new Error(`read ${r.status}`);
    return performance.now() - s;
  };
  const before: number[] = [];
  for (let i = 0; i < 100; i++) before.push(await read());

  const csv = vmrCsv(VMRS);
  let importing = true;
  const t0 = performance.now();
  const imported = post(`${base}${REST}/bulk/vmr/import/`, { authorization: BASIC, 'content-type': 'text/csv' }, csv).finally(() => (importing = false));
  const during: number[] = [];
  while (importing) during.push(await read());
  const res = await imported;
  const importS = (performance.now() - t0) / 1000;
  if (res.status !== 200) throw new Error(`import failed: ${res.status} ${res.body.slice(0, 1000)}`);

  // The same file again, each description changed: every VMR overwritten.
  let reimporting = true;
  const t2 = performance.now();
  const reimported = post(
    `${base}${REST}/bulk/vmr/import/`,
    { authorization: BASIC, 'content-type': 'text/csv' },
    csv.replaceAll('Meeting room of', 'Room of'),
  ).finally(() => (reimporting = false));
  const duringReimport: number[] = [];
  while (reimporting) duringReimport.push(await read());
  const res2 = await reimported;
  const reimportS = (performance.now() - t2) / 1000;
  if (res2.status !== 200) throw new Error(`re-import failed: ${res2.status} ${res2.body.slice(0, 1000)}`);

  // A restore of the configuration just imported (10,000 VMRs), while the reads go on.
  const backup = await createBackup(server.dom, { passphrase: 'bench-passphrase' });
  const { archive } = await downloadBackup(server.dom, backup.id);
  let restoring = true;
  const t1 = performance.now();
  // As the restore job runs it: rows read (staged) while reads go on, then one short final transaction.
  const stages: Record<string, number> = {};
  const restored = restoreBackup(server.dom, archive, 'bench-passphrase', {
    onProgress: (p) => (stages[p.stage] ??= performance.now()),
  }).finally(() => (restoring = false));
  const duringRestore: number[] = [];
  while (restoring) duringRestore.push(await read());
  await restored;
  const restoreS = (performance.now() - t1) / 1000;
  console.log(
    JSON.stringify(
      {
        database: database.kind,
        vmrs: VMRS,
        csvRows: VMRS * 2,
        import: { seconds: round(importS, 2), result: JSON.parse(res.body), goalSeconds: 5 },
        restReadMs: { before: stats(before), duringImport: stats(during), goalP95During: 100 },
        reimport: { seconds: round(reimportS, 2), result: JSON.parse(res2.body), restReadMs: stats(duringReimport) },
        restore: {
          seconds: round(restoreS, 2),
          archiveBytes: archive.length,
          finalTransactionSeconds: round((t1 + restoreS * 1000 - (stages.replacing ?? t1)) / 1000, 2),
          restReadMs: stats(duringRestore),
        },
      },
      null,
      2,
    ),
  );
} finally {
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}
