#!/usr/bin/env node
// The one start command: installs dependencies if missing, builds the web apps if needed, then runs
// the management server (:8080, embedded PGlite under ./data) and one local conferencing node (:8081).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureMediasoupWorker } from './mediasoup-worker.mjs';

const root = new URL('..', import.meta.url).pathname;
process.chdir(root);

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (!existsSync('node_modules/.package-lock.json')) {
  console.log('Installing dependencies…');
  run('npm', existsSync('package-lock.json') ? ['ci', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund']);
}

// The mediasoup worker (the node's media plane) is built once from mediasoup's own sources with
// Debian's toolchain: the first start installs the build packages and compiles it (about 4 minutes).
try {
  process.env.MEDIASOUP_WORKER_BIN = ensureMediasoupWorker();
} catch (err) {
  console.error(`Could not build the mediasoup worker: ${err.message}. Set MEDIASOUP_WORKER_BIN to a worker built elsewhere.`);
  process.exit(1);
}

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}
const built = 'dist/web/console/index.html';
if (!existsSync(built) || newest('web') > statSync(built).mtimeMs || newest('shared') > statSync(built).mtimeMs) {
  console.log('Building the console and the meeting client…');
  run('npx', ['vite', 'build', '--logLevel', 'warn']);
}

// The node enrollment key is shared by the server and the local node; kept under ./data.
mkdirSync('data', { recursive: true });
const keyFile = 'data/node-enrollment-key';
if (!existsSync(keyFile)) writeFileSync(keyFile, randomBytes(24).toString('base64url'), { mode: 0o600 });
const enrollmentKey = process.env.NODE_ENROLLMENT_KEY ?? readFileSync(keyFile, 'utf8').trim();
const port = process.env.PORT ?? '8080';
const env = { ...process.env, NODE_ENROLLMENT_KEY: enrollmentKey, PORT: port };

const children = [];
function start(name, script, extraEnv = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: 'inherit', env: { ...env, ...extraEnv } });
  child.on('exit', (code, signal) => {
    if (stopping) return;
    console.error(`${name} exited (${signal ?? code}); stopping.`);
    shutdown(code ?? 1);
  });
  children.push(child);
  return child;
}

let stopping = false;
function shutdown(code = 0) {
  if (stopping) return;
  stopping = true;
  for (const c of children) c.kill('SIGTERM');
  setTimeout(() => process.exit(code), 3000).unref();
  Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.on('exit', r))))).then(() => process.exit(code));
}
process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));

start('management server', 'server/main.ts');
// Wait for the management server before starting the node so it enrolls at once.
const deadline = Date.now() + 60_000;
while (Date.now() < deadline) {
  try {
    if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break;
  } catch {}
  await new Promise((r) => setTimeout(r, 250));
}
start('conferencing node', 'node-agent/main.ts', { MANAGEMENT_URL: `http://127.0.0.1:${port}`, NODE_NAME: process.env.NODE_NAME ?? 'node-1' });
console.log(`\n  Admin console:   http://127.0.0.1:${port}/  (user admin)\n  Meeting client:  http://127.0.0.1:8081/webapp/\n`);
