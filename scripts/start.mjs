#!/usr/bin/env node
// The one start command: installs dependencies if missing, builds the web apps if needed, then runs
// the management server (PORT, default :8080) and one local conferencing node (NODE_PORT, default
// :8081). Everything it writes goes under DATA_DIR (default ./data): the embedded database (db/),
// the node enrollment key and the node's cached configuration (node-<name>/).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ensureMediasoupWorker } from './mediasoup-worker.mjs';
import { requireSupportedNode } from './node-version.mjs';
import { MANAGEMENT_SERVER_NODE_FLAGS } from './server-flags.mjs';

requireSupportedNode();
const root = new URL('..', import.meta.url).pathname;
// Relative to where the command was run, before moving to the project folder.
const dataDir = resolve(process.env.DATA_DIR ?? join(root, 'data'));
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

// ffmpeg transcodes video for room systems that take only H.264 (or only VP8). Without it they get
// no video from a speaker of the other codec; everything else works, so a failed install only warns.
if (spawnSync('sh', ['-c', 'command -v ffmpeg'], { stdio: 'ignore' }).status !== 0) {
  const sudo = process.getuid?.() === 0 ? '' : 'sudo -n ';
  console.log('Installing ffmpeg (video transcoding for H.264 room systems)…');
  const r = spawnSync('sh', ['-c', `${sudo}sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null'`], {
    stdio: 'inherit',
  });
  if (r.status !== 0) console.warn('Could not install ffmpeg: SIP endpoints that share no video codec with the speaker will get no video.');
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

// The node enrollment key is shared by the server and the local node; kept in DATA_DIR.
mkdirSync(dataDir, { recursive: true });
const keyFile = join(dataDir, 'node-enrollment-key');
if (!process.env.NODE_ENROLLMENT_KEY && !existsSync(keyFile)) writeFileSync(keyFile, randomBytes(24).toString('base64url'), { mode: 0o600 });
const enrollmentKey = process.env.NODE_ENROLLMENT_KEY ?? readFileSync(keyFile, 'utf8').trim();
const port = process.env.PORT ?? '8080';
const nodeName = process.env.NODE_NAME ?? 'node-1';
const nodeAddress = process.env.NODE_ADDRESS ?? '127.0.0.1';
const nodePort = process.env.NODE_PORT ?? '8081';
const env = { ...process.env, NODE_ENROLLMENT_KEY: enrollmentKey, PORT: port, DATA_DIR: dataDir };

const children = [];
function start(name, script, extraEnv = {}, nodeFlags = []) {
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', script], { stdio: 'inherit', env: { ...env, ...extraEnv } });
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

start('management server', 'server/main.ts', {}, MANAGEMENT_SERVER_NODE_FLAGS);
async function answers(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !stopping) {
    try {
      if ((await fetch(url)).ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

const consoleUrl = `http://127.0.0.1:${port}`;
// Wait for the management server before starting the node so it enrolls at once.
await answers(`${consoleUrl}/healthz`, 60_000);
start('conferencing node', 'node-agent/main.ts', {
  MANAGEMENT_URL: consoleUrl,
  NODE_NAME: nodeName,
  NODE_ADDRESS: nodeAddress,
  NODE_PORT: nodePort,
  NODE_DATA_DIR: process.env.NODE_DATA_DIR ?? join(dataDir, `node-${nodeName}`),
});
const nodeUrl = `http://${nodeAddress.includes(':') ? `[${nodeAddress}]` : nodeAddress}:${nodePort}`;
const nodeUp = await answers(`${nodeUrl}/healthz`, 60_000);
console.log(
  `\n  Admin console:   ${consoleUrl}/  (user admin)\n  Meeting client:  ${nodeUrl}/webapp/${nodeUp ? '' : '  (the node has not answered yet)'}\n  Data folder:     ${dataDir}\n`,
);
