import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The base image the console's Dockerfile starts from. */
export const NODE_BASE_IMAGE = 'node:20-bookworm';
/**
 * Set on the stand-in so it is never mistaken for (or replaces) Docker Hub's image. Its value says
 * how the stand-in was made: one made another way (an older version of this file) is made again.
 */
const STAND_IN_KEY = 'org.openmeet.stand-in';
const STAND_IN_VALUE = 'debootstrap-host-trust';
/** This machine's CA bundle (Debian's path). */
const HOST_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/**
 * How containers run on this machine: runc (crun refuses its mix of cgroup v1 and v2) and rlimits no
 * higher than its own (podman asks for more as root, which needs CAP_SYS_RESOURCE, absent here).
 */
const RUNTIME = ['--runtime', 'runc'];
const LIMITS = ['--ulimit', 'nofile=16384:16384', '--ulimit', 'nproc=4096:4096'];

function run(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: 'utf8', input: opts.input, timeout: opts.timeoutMs ?? 600_000, maxBuffer: 64 * 1024 * 1024 });
}

function must(r: SpawnSyncReturns<string>, what: string): string {
  if (r.status !== 0) throw new Error(`${what} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout || String(r.error ?? '')).slice(-3_000)}`);
  return r.stdout;
}

/** Whether podman runs here (installed, and allowed to make containers). */
export function podmanUsable(): boolean {
  return run('podman', [...RUNTIME, 'info', '--format', '{{.Host.OCIRuntime.Name}}'], { timeoutMs: 60_000 }).status === 0;
}

/**
 * Makes `node:20-bookworm` when this machine has none. No container registry is reachable here, so
 * the test's base is a stand-in made the way the official image is laid out: Debian 12 from Debian's
 * own repository (debootstrap, minbase with CA certificates) and this machine's Node 20 and npm in
 * /usr/local. Made once; podman keeps it (about a minute).
 */
export function ensureNodeBaseImage(): { made: boolean; ms: number } {
  const t0 = Date.now();
  if (run('podman', ['image', 'exists', NODE_BASE_IMAGE]).status === 0) {
    const label = run('podman', ['image', 'inspect', '--format', `{{index .Labels "${STAND_IN_KEY}"}}`, NODE_BASE_IMAGE]).stdout.trim();
    // A real node:20-bookworm (no label) is used as it is; an older stand-in is made again.
    if (label === STAND_IN_VALUE || label === '' || label === '<no value>') return { made: false, ms: 0 };
    must(run('podman', ['rmi', '--force', NODE_BASE_IMAGE]), 'podman rmi (older stand-in)');
  }
  const dir = mkdtempSync(join(tmpdir(), 'om-rootfs-'));
  const rootfs = join(dir, 'rootfs');
  try {
    must(
      run('debootstrap', ['--variant=minbase', '--include=ca-certificates', 'bookworm', rootfs, 'http://deb.debian.org/debian'], { timeoutMs: 900_000 }),
      'debootstrap',
    );
    const node = must(run('sh', ['-c', 'readlink -f "$(command -v node)"']), 'node path').trim();
    const npm = must(run('sh', ['-c', 'dirname "$(dirname "$(readlink -f "$(command -v npm)")")"']), 'npm path').trim();
    mkdirSync(join(rootfs, 'usr/local/bin'), { recursive: true });
    mkdirSync(join(rootfs, 'usr/local/lib/node_modules'), { recursive: true });
    cpSync(node, join(rootfs, 'usr/local/bin/node'));
    chmodSync(join(rootfs, 'usr/local/bin/node'), 0o755);
    cpSync(npm, join(rootfs, 'usr/local/lib/node_modules/npm'), { recursive: true });
    symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(rootfs, 'usr/local/bin/npm'));
    symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(rootfs, 'usr/local/bin/npx'));
    // The stand-in trusts what this machine trusts, as node:20-bookworm trusts the public CAs behind
    // registry.npmjs.org: where this machine reaches the registry through a TLS-inspecting proxy
    // (its CA in the system bundle, npm told so in its global npmrc), the Dockerfile's npm ci would
    // otherwise retry each request for a minute and more, then fall back on the lent cache.
    if (existsSync(HOST_CA_BUNDLE)) cpSync(HOST_CA_BUNDLE, join(rootfs, 'etc/ssl/certs/ca-certificates.crt'));
    const npmrc = run('npm', ['config', 'get', 'globalconfig']).stdout.trim();
    if (npmrc && existsSync(npmrc)) {
      mkdirSync(join(rootfs, 'usr/local/etc'), { recursive: true });
      cpSync(npmrc, join(rootfs, 'usr/local/etc/npmrc'));
    }
    // Keep the image small: apt's downloaded packages are not needed in it.
    rmSync(join(rootfs, 'var/cache/apt/archives'), { recursive: true, force: true });
    mkdirSync(join(rootfs, 'var/cache/apt/archives/partial'), { recursive: true });
    const tar = run(
      'sh',
      ['-c', `tar -C '${rootfs}' -c . | podman import --change 'LABEL ${STAND_IN_KEY}=${STAND_IN_VALUE}' --change 'CMD ["node"]' - ${NODE_BASE_IMAGE}`],
      {
        timeoutMs: 600_000,
      },
    );
    must(tar, 'podman import');
    return { made: true, ms: Date.now() - t0 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `podman build` of a folder with its Dockerfile; npm's cache is lent to the build when there is one. */
export function buildImage(context: string, tag: string): { ms: number; output: string } {
  const t0 = Date.now();
  const npmCache = join(process.env.HOME ?? '/root', '.npm');
  const args = [...RUNTIME, 'build', ...LIMITS, '--network', 'host', '-t', tag, ...(existsSync(npmCache) ? ['-v', `${npmCache}:/root/.npm`] : []), context];
  const r = run('podman', args, { timeoutMs: 1_500_000 });
  const output = must(r, 'podman build');
  return { ms: Date.now() - t0, output };
}

export function removeContainer(name: string): void {
  run('podman', ['rm', '-f', '-v', '-t', '2', name], { timeoutMs: 60_000 });
}

export function removeImage(tag: string): void {
  run('podman', ['rmi', '-f', tag], { timeoutMs: 60_000 });
}

/** Starts a container on the host's network, detached; returns its id. */
export function runContainer(name: string, image: string, env: Record<string, string>): string {
  removeContainer(name);
  const args = [
    ...RUNTIME,
    'run',
    ...LIMITS,
    '-d',
    '--name',
    name,
    '--network',
    'host',
    ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
    image,
  ];
  return must(run('podman', args, { timeoutMs: 120_000 }), 'podman run').trim();
}

export function containerLogs(name: string): string {
  const r = run('podman', ['logs', name], { timeoutMs: 30_000 });
  return `${r.stdout}${r.stderr}`;
}

export function containerRunning(name: string): boolean {
  return run('podman', ['inspect', '-f', '{{.State.Running}}', name], { timeoutMs: 30_000 }).stdout.trim() === 'true';
}
