#!/usr/bin/env node
// The one test command (`npm test`, run by .ci/run): installs what is missing (npm dependencies,
// Debian's Chromium), starts a real Postgres, then runs the type check, the linter, the Vitest
// suite against PGlite and Postgres, the production build and the Playwright end-to-end tests.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { e2eFailureSummary } from './e2e-summary.mjs';
import { ensureMediasoupWorker } from './mediasoup-worker.mjs';
import { requireSupportedNode } from './node-version.mjs';

requireSupportedNode();
const root = new URL('..', import.meta.url).pathname;
process.chdir(root);
const started = Date.now();

function step(title) {
  console.log(`\n=== ${title} (${Math.round((Date.now() - started) / 1000)} s)`);
}
function run(cmd, args, env = {}, onFailure = () => undefined) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.status !== 0) {
    onFailure();
    console.error(`\nFAILED: ${cmd} ${args.join(' ')} (exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
}
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const asRoot = process.getuid?.() === 0 ? [] : ['sudo', '-n'];
function sh(cmd) {
  const full = asRoot.length ? [...asRoot, 'sh', '-c', cmd] : ['sh', '-c', cmd];
  return spawnSync(full[0], full.slice(1), { stdio: 'inherit' }).status === 0;
}

step('dependencies');
if (!existsSync('node_modules/.package-lock.json')) run('npm', ['ci', '--no-audit', '--no-fund']);
const aptNeeded = [];
if (!existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium')) aptNeeded.push('chromium');
if (!has('pg_ctlcluster')) aptNeeded.push('postgresql');
// Real SIP peers for the SIP tests (node-agent/sip): sipp scenarios, baresip calls.
if (!has('sipp')) aptNeeded.push('sip-tester');
if (!has('baresip')) aptNeeded.push('baresip');
// The node's video transcoder (VP8 ↔ H.264 for room systems), and the tests' reading of baresip's snapshots.
if (!has('ffmpeg')) aptNeeded.push('ffmpeg');
// A real Prometheus scrapes both servers' /metrics (server/metrics/prometheus.integration.test.ts).
if (!has('prometheus')) aptNeeded.push('prometheus');
// The console's container recipe is built and run with podman (runc), on a Debian base made by debootstrap.
for (const [cmd, pkg] of [
  ['podman', 'podman'],
  ['runc', 'runc'],
  ['debootstrap', 'debootstrap'],
])
  if (!has(cmd)) aptNeeded.push(pkg);
if (aptNeeded.length) {
  console.log(`installing from Debian: ${aptNeeded.join(' ')}`);
  if (!sh(`apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${aptNeeded.join(' ')} >/dev/null`)) {
    console.error('could not install system packages');
    process.exit(1);
  }
}

step('mediasoup worker');
// Built once from mediasoup's own sources with Debian's toolchain (scripts/mediasoup-worker.mjs).
try {
  process.env.MEDIASOUP_WORKER_BIN = ensureMediasoupWorker();
  console.log(`mediasoup worker: ${process.env.MEDIASOUP_WORKER_BIN}`);
} catch (err) {
  console.error(`could not build the mediasoup worker: ${err.message}`);
  process.exit(1);
}

step('postgres');
let testDatabaseUrl = process.env.TEST_DATABASE_URL;
if (!testDatabaseUrl) {
  const version = execFileSync('sh', ['-c', 'ls /usr/lib/postgresql | sort -n | tail -1']).toString().trim();
  sh(`pg_ctlcluster ${version} main start 2>/dev/null || true`);
  // Wait until it accepts connections, then give the postgres role a password for TCP logins.
  console.log(
    "starting the system Postgres and setting the 'postgres' role's password to 'postgres' (set TEST_DATABASE_URL to use a Postgres of your own instead)",
  );
  for (let i = 0; i < 60 && !sh('su postgres -c "pg_isready -q"'); i++) await new Promise((r) => setTimeout(r, 500));
  if (!sh(`su postgres -c "psql -q -c \\"ALTER USER postgres PASSWORD 'postgres'\\""`)) {
    console.error('Postgres is not available: cannot run the Postgres half of the suite');
    process.exit(1);
  }
  testDatabaseUrl = 'postgres://postgres:postgres@127.0.0.1:5432/postgres';
}

step('type check');
run('npx', ['tsc', '--noEmit', '-p', '.']);

step('lint');
// ESLint with its own dependencies in tools/eslint/ (installed there on first use).
run('node', ['scripts/lint.mjs']);

step('unit and integration tests (PGlite and Postgres)');
run('npx', ['vitest', 'run'], { TEST_DATABASE_URL: testDatabaseUrl });

step('build');
run('npx', ['vite', 'build', '--logLevel', 'warn']);

step('end-to-end tests (Chromium)');
run('npx', ['playwright', 'test'], {}, () => {
  const summary = e2eFailureSummary('playwright-report/results.json');
  if (summary.length) console.error(`\nWhat failed, in short:\n${summary.join('\n')}`);
});

console.log(`\nAll tests passed in ${Math.round((Date.now() - started) / 1000)} s.`);
