import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Runs the real product for end-to-end tests and benchmarks: a management server process (fresh
 * PGlite database in a temp dir) and one conferencing node agent process that enrolls with it.
 */
export interface Platform {
  consoleUrl: string;
  /** The management server's HTTPS port (self-signed certificate in the run's data folder). */
  consoleHttpsUrl: string;
  nodeUrl: string;
  adminPassword: string;
  server: ChildProcess;
  node: ChildProcess;
  stop(): Promise<void>;
}

export interface PlatformOptions {
  managementPort: number;
  nodePort: number;
  mediaPorts?: string;
  /** More environment for the node process (e.g. the client API limits at their defaults, for a benchmark). */
  nodeEnv?: Record<string, string>;
}

const ROOT = new URL('../..', import.meta.url).pathname;

async function waitFor(url: string, ok: (body: unknown) => boolean, timeoutMs: number, proc: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`process exited (${proc.exitCode}) before ${url} answered`);
    try {
      const res = await fetch(url);
      if (res.ok && ok(await res.json())) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${url}`);
}

function launch(script: string, env: Record<string, string>, tag: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = (d: Buffer) =>
    d
      .toString()
      .split('\n')
      .filter(Boolean)
      .map((l) => `[${tag}] ${l}`)
      .join('\n');
  child.stdout?.on('data', (d: Buffer) => process.env.PLATFORM_VERBOSE && console.log(prefix(d)));
  child.stderr?.on('data', (d: Buffer) => console.error(prefix(d)));
  return child;
}

export async function startPlatform(opts: PlatformOptions): Promise<Platform> {
  const dir = mkdtempSync(join(tmpdir(), 'om-e2e-'));
  const adminPassword = 'e2e-admin-password';
  const key = 'e2e-enrollment-key';
  const consoleUrl = `http://127.0.0.1:${opts.managementPort}`;
  const nodeUrl = `http://127.0.0.1:${opts.nodePort}`;
  // HTTPS two ports above the console's (the node takes the one above).
  const consoleHttpsUrl = `https://127.0.0.1:${opts.managementPort + 2}`;
  const server = launch(
    'server/main.ts',
    { PORT: String(opts.managementPort), HTTPS_PORT: String(opts.managementPort + 2), DATA_DIR: dir, ADMIN_PASSWORD: adminPassword, NODE_ENROLLMENT_KEY: key },
    'mgmt',
  );
  const stopProc = (p: ChildProcess) =>
    new Promise<void>((resolve) => {
      if (p.exitCode !== null) return resolve();
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
      setTimeout(() => p.kill('SIGKILL'), 5_000).unref();
    });
  // A platform that does not come up is stopped, not left running for the next test to trip on.
  let node: ChildProcess | null = null;
  const abandon = async (err: unknown) => {
    if (node) await stopProc(node);
    await stopProc(server);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  };
  await waitFor(`${consoleUrl}/healthz`, () => true, 90_000, server).catch(abandon);
  node = launch(
    'node-agent/main.ts',
    {
      NODE_NAME: 'e2e-node',
      NODE_PORT: String(opts.nodePort),
      MANAGEMENT_URL: consoleUrl,
      NODE_ENROLLMENT_KEY: key,
      NODE_DATA_DIR: join(dir, 'node'),
      MEDIA_PORTS: opts.mediaPorts ?? '40000-49999',
      // Every browser comes from 127.0.0.1: lift the per-address client API limits (ClientApiLimits.ts).
      NODE_REQUEST_TOKEN_PER_ADDRESS: '100000',
      NODE_STREAMS_PER_ADDRESS: '100000',
      // Browser tests need no SIP; parallel runs would all try 5060.
      NODE_SIP_PORT: 'off',
      ...opts.nodeEnv,
    },
    'node',
  );
  // The node is ready once it has a configuration from the management server.
  await waitFor(`${nodeUrl}/healthz`, (b) => (b as { configured?: boolean }).configured === true, 60_000, node).catch(abandon);
  const started = node;
  return {
    consoleUrl,
    consoleHttpsUrl,
    nodeUrl,
    adminPassword,
    server,
    node: started,
    stop: async () => {
      await stopProc(started);
      await stopProc(server);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resident memory of a process in MiB, from /proc. */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round((kb / 1024) * 10) / 10;
}

export async function createVmr(p: Platform, body: Record<string, unknown>): Promise<number> {
  const res = await fetch(`${p.consoleUrl}/api/admin/configuration/v1/conference/`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`admin:${p.adminPassword}`).toString('base64')}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) throw new Error(`create VMR: ${res.status} ${await res.text()}`);
  return Number(/\/(\d+)\/$/.exec(res.headers.get('location') ?? '')?.[1]);
}

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--autoplay-policy=no-user-gesture-required',
];
