/**
 * Two management servers on one Postgres (issue 14), as real processes: `server/main.ts` twice on a
 * fresh database and `node-agent/main.ts` given both addresses (server 2 first). Measures how long a
 * VMR created over REST on server 1 takes to be served by the node linked to server 2 (Postgres
 * LISTEN/NOTIFY between the servers, then server 2's push), and the same with the change made on
 * server 2 itself for comparison: from the REST answer until the node holds it (its /healthz `services`).
 * Prints JSON.
 *
 *   BENCH_DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/postgres npx tsx bench/management-cluster.ts [--changes 30]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const CHANGES = Number(arg('changes') ?? 30);
const BASE = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/postgres';
const ROOT = new URL('..', import.meta.url).pathname;
const KEY = 'bench-cluster-key';
const PASSWORD = 'bench-password';
const auth = { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`, 'content-type': 'application/json' };
// Ports away from the defaults and other benches.
const [P1, P2, PN] = [18_581, 18_582, 18_583];

const children: ChildProcess[] = [];
function start(script: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  return child;
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, ms = 60_000, every = 50): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, every));
  }
}

const healthz = async (port: number) => (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as Record<string, unknown>;

/** Time from a VMR's REST creation on `port` until the node holds it (its /healthz counts the services it holds). */
async function propagation(port: number, alias: string): Promise<number> {
  const before = Number((await healthz(PN)).services);
  const r = await fetch(`http://127.0.0.1:${port}/api/admin/configuration/v1/conference/`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ name: `Bench ${alias}`, aliases: [{ alias }] }),
  });
  if (r.status !== 201) throw new Error(`create ${alias}: ${r.status} ${await r.text()}`);
  const t0 = performance.now();
  await waitFor(`${alias} on the node`, async () => (Number((await healthz(PN)).services) > before ? true : undefined), 5_000, 2);
  return performance.now() - t0;
}

const summary = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))]! * 10) / 10;
  return { n: s.length, minMs: q(0), medianMs: q(0.5), p95Ms: q(0.95), maxMs: q(1) };
};

const dbName = `om_bench_cluster_${process.pid}`;
const admin = new pg.Client({ connectionString: BASE });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
const url = new URL(BASE);
url.pathname = `/${dbName}`;
const dataDir = mkdtempSync(join(tmpdir(), 'om-bench-cluster-'));
try {
  const common = { DATABASE_URL: url.toString(), ADMIN_PASSWORD: PASSWORD, NODE_ENROLLMENT_KEY: KEY, HTTPS_PORT: 'off' };
  start('server/main.ts', { ...common, PORT: String(P1) });
  start('server/main.ts', { ...common, PORT: String(P2) });
  await waitFor('server 1', () => healthz(P1));
  await waitFor('server 2', () => healthz(P2));
  start('node-agent/main.ts', {
    NODE_NAME: 'bench-cluster-node',
    MANAGEMENT_URL: `http://127.0.0.1:${P2},http://127.0.0.1:${P1}`,
    NODE_ENROLLMENT_KEY: KEY,
    NODE_PORT: String(PN),
    NODE_HTTPS_PORT: 'off',
    NODE_SIP_PORT: 'off',
    NODE_DATA_DIR: join(dataDir, 'node'),
    MEDIA_PORTS: '44700-44799',
  });
  await waitFor('node linked', async () => ((await healthz(PN)).managementConnected === true && (await healthz(PN)).configured === true ? true : undefined));
  const viaOther: number[] = [];
  const viaOwn: number[] = [];
  for (let i = 0; i < CHANGES; i++) {
    viaOther.push(await propagation(P1, `bench.other.${i}`));
    viaOwn.push(await propagation(P2, `bench.own.${i}`));
  }
  console.log(
    JSON.stringify(
      {
        bench: 'management-cluster',
        what: 'VMR created over REST until the node linked to server 2 holds it',
        changes: CHANGES,
        madeOnServer1ViaPostgresNotify: summary(viaOther),
        madeOnServer2ItselfForComparison: summary(viaOwn),
      },
      null,
      2,
    ),
  );
} finally {
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
  rmSync(dataDir, { recursive: true, force: true });
}
