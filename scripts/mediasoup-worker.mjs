#!/usr/bin/env node
// Makes sure a mediasoup worker binary exists and prints its path (both README commands run this).
//
// mediasoup's own postinstall downloads a prebuilt worker (or pip-installs meson): neither works
// without internet, so npm installs mediasoup with its scripts off and this step builds the worker
// from the C++ sources inside the npm package, with Debian's toolchain and libraries:
//   1. a worker that is already there wins: MEDIASOUP_WORKER_BIN, else a previous build in the
//      cache folder (${XDG_CACHE_HOME:-~/.cache}/openmeet/mediasoup-worker-<version>-<recipe hash>);
//   2. otherwise the Debian build packages are installed when missing (meson >= 1.1 comes from
//      bookworm-backports), the sources are copied to the cache folder, meson's subprojects are
//      replaced by stand-ins that use the system libraries (scripts/mediasoup-build/shims), one
//      source fix for Debian's OpenSSL is applied (dtls-bio-callback.patch), and meson builds
//      the worker with the options in scripts/mediasoup-build/meson-setup-options (about 4 minutes on
//      2 cores, once).
// Usage: node scripts/mediasoup-worker.mjs [--quiet]   (exit 0 and the path on stdout, else exit 1)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const recipe = join(root, 'scripts/mediasoup-build');
const quiet = process.argv.includes('--quiet');
const say = (m) => {
  if (!quiet) console.error(`[mediasoup-worker] ${m}`);
};

export function mediasoupVersion() {
  return JSON.parse(readFileSync(join(root, 'node_modules/mediasoup/package.json'), 'utf8')).version;
}

function hashDir(dir, h) {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) hashDir(p, h);
    else h.update(e.name).update(readFileSync(p));
  }
  return h;
}

/** Where this recipe's build of this mediasoup version lives. */
export function cachedWorkerPath() {
  const base = process.env.OPENMEET_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'openmeet');
  const tag = hashDir(recipe, createHash('sha256')).digest('hex').slice(0, 10);
  return join(base, `mediasoup-worker-${mediasoupVersion()}-${tag}`, 'mediasoup-worker');
}

function sh(cmd, opts = {}) {
  const asRoot = process.getuid?.() === 0 || !opts.root ? [] : ['sudo', '-n'];
  const full = [...asRoot, 'sh', '-c', cmd];
  const r = spawnSync(full[0], full.slice(1), { stdio: quiet ? ['ignore', 'ignore', 'inherit'] : ['ignore', 2, 2], cwd: opts.cwd });
  return r.status === 0;
}
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const pkgInstalled = (p) => spawnSync('dpkg-query', ['-W', '-f=${Status}', p], { encoding: 'utf8' }).stdout?.includes('install ok installed');

function mesonOk() {
  if (!has('meson')) return false;
  const v = spawnSync('meson', ['--version'], { encoding: 'utf8' }).stdout.trim().split('.').map(Number);
  return v[0] > 1 || (v[0] === 1 && v[1] >= 1);
}

const BUILD_PACKAGES = [
  'libuv1-dev',
  'libssl-dev',
  'libsrtp2-dev',
  'libusrsctp-dev',
  'libabsl-dev',
  'libflatbuffers-dev',
  'flatbuffers-compiler',
  'ninja-build',
  'g++',
  'pkg-config',
];

function installBuildPackages() {
  const missing = BUILD_PACKAGES.filter((p) => !pkgInstalled(p));
  let updated = false;
  if (missing.length) {
    say(`installing Debian build packages: ${missing.join(' ')}`);
    if (!sh(`apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${missing.join(' ')} >/dev/null`, { root: true }))
      throw new Error('apt-get install failed (run as root or with password-less sudo)');
    updated = true;
  }
  if (!mesonOk()) {
    say('installing meson >= 1.1 from bookworm-backports');
    const sources = '/etc/apt/sources.list.d/debian.sources';
    if (existsSync(sources) && !readFileSync(sources, 'utf8').includes('bookworm-backports')) {
      sh(`sed -i 's/^Suites: bookworm bookworm-updates$/Suites: bookworm bookworm-updates bookworm-backports/' ${sources}`, { root: true });
      updated = false;
    }
    if (!existsSync(sources) && !sh('grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/', { root: true })) {
      sh("echo 'deb http://deb.debian.org/debian bookworm-backports main' > /etc/apt/sources.list.d/backports.list", { root: true });
      updated = false;
    }
    if (
      !sh(`${updated ? '' : 'apt-get update -qq && '}DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports meson >/dev/null`, {
        root: true,
      })
    )
      throw new Error('could not install meson from bookworm-backports');
  }
}

function build(target) {
  installBuildPackages();
  const dir = dirname(target);
  const src = join(dir, 'src');
  const out = join(dir, 'build');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(join(root, 'node_modules/mediasoup/worker'), src, { recursive: true });
  // Stand-in subprojects under the directory names the .wrap files expect: meson downloads nothing.
  const subprojects = join(src, 'subprojects');
  for (const name of ['openssl', 'libuv', 'libsrtp3', 'usrsctp', 'abseil-cpp', 'catch2', 'flatbuffers']) {
    const wrap = readFileSync(join(subprojects, `${name}.wrap`), 'utf8');
    const wrapDir = /^directory = (.+)$/m.exec(wrap)?.[1]?.trim();
    if (!wrapDir) throw new Error(`${name}.wrap names no directory`);
    rmSync(join(subprojects, wrapDir), { recursive: true, force: true });
    cpSync(join(recipe, 'shims', name), join(subprojects, wrapDir), { recursive: true });
  }
  // Debian's OpenSSL has kernel TLS compiled in: mediasoup's BIO callback answers 1 to every
  // control call, which reads as "kTLS on", and the DTLS write buffer is never allocated (SIGSEGV).
  const dtls = join(src, 'src/RTC/DtlsTransport.cpp');
  const code = readFileSync(dtls, 'utf8');
  const fixed = code.replace('(operationType == BIO_CB_RETURN) ? static_cast<long>(ret) : 1;', '(operationType & BIO_CB_RETURN) ? static_cast<long>(ret) : 1;');
  if (fixed === code) throw new Error('DtlsTransport.cpp: the BIO callback fix did not apply');
  writeFileSync(dtls, fixed);
  const started = Date.now();
  say(`building the worker in ${dir} (a few minutes, once)`);
  // The options are part of the recipe (and of its hash). -Db_ndebug=true as mediasoup's own build: with assertions on, a
  // PlainTransport connect() that gives only the SRTP key (comedia) aborts the worker on a flatbuffers "required" check.
  const options = readFileSync(join(recipe, 'meson-setup-options'), 'utf8').trim();
  if (!sh(`meson setup "${out}" "${src}" ${options}`)) throw new Error('meson setup failed');
  if (!sh(`meson compile -C "${out}" flatbuffers-generator`)) throw new Error('flatbuffers generation failed');
  if (!sh(`meson compile -C "${out}" mediasoup-worker`)) throw new Error('worker build failed');
  renameSync(join(out, 'mediasoup-worker'), target);
  rmSync(out, { recursive: true, force: true });
  rmSync(src, { recursive: true, force: true });
  say(`built ${target} in ${Math.round((Date.now() - started) / 1000)} s`);
  pruneOlderBuilds(dir);
}

/**
 * Other recipes' or versions' builds beside this one go (a few MB each): a checkout that still
 * wants one builds it again. A running worker keeps its file open, so nothing running breaks.
 */
export function pruneOlderBuilds(keep) {
  const base = dirname(keep);
  for (const name of readdirSync(base)) {
    const dir = join(base, name);
    if (dir === keep || !/^mediasoup-worker-\d/.test(name)) continue;
    rmSync(dir, { recursive: true, force: true });
    say(`removed an older worker build: ${dir}`);
  }
}

export function ensureMediasoupWorker() {
  const given = process.env.MEDIASOUP_WORKER_BIN;
  if (given) {
    if (!existsSync(given)) throw new Error(`MEDIASOUP_WORKER_BIN=${given} does not exist`);
    return given;
  }
  const target = cachedWorkerPath();
  if (existsSync(target) && statSync(target).size > 0) return target;
  build(target);
  return target;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    console.log(ensureMediasoupWorker());
  } catch (err) {
    console.error(`[mediasoup-worker] ${err.message}`);
    process.exit(1);
  }
}
