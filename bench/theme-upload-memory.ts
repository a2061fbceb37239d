/**
 * Management server memory while a large theme goes in and out (issue 11, finding 3): a real server
 * process (server/main.ts, embedded database in a temporary folder), a valid theme ZIP of about
 * 48 MB (four prompts of random noise, stored uncompressed), then: the REST upload (multipart, as
 * Pexip's `package`), the console's upload (the raw file to /upload/theme/, then theme.create over
 * tRPC), the REST download, and a node's download (`/api/node/v1/themes/<id>` with the platform key,
 * as from this machine). Prints JSON: the server's RSS before, its peak while each runs, and after.
 *
 *   npx tsx bench/theme-upload-memory.ts [--root <checkout to run the server from>] [--rest-only]
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openAsBlob, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { wav48kMono } from '../server/theme/media.js';

const args = process.argv.slice(2);
const rootAt = args.indexOf('--root');
const root = rootAt >= 0 ? args.splice(rootAt, 2)[1]! : new URL('..', import.meta.url).pathname;
const REST_ONLY = args.includes('--rest-only');
const PASSWORD = 'bench-pw';
const KEY = 'bench-key';
const BASIC = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const work = mkdtempSync(join(tmpdir(), 'om-bench-theme-'));
const zipFile = join(work, 'theme.zip');
{
  // 12 MB of noise per prompt (each theme file may unpack to 16 MB), stored so the ZIP is as large.
  const prompt = () => [wav48kMono(new Int16Array(new Uint8Array(randomBytes(12 * 1024 * 1024)).buffer)), { level: 0 as const }] as const;
  const zip = zipSync({
    'conf-getpin_48kHz_mono.wav': [...prompt()],
    'conf-waitforleader_48kHz_mono.wav': [...prompt()],
    'conf-invalidpin_48kHz_mono.wav': [...prompt()],
    'conf-placeintoconf_48kHz_mono.wav': [...prompt()],
  });
  writeFileSync(zipFile, zip);
}
const zipMb = Math.round(readFileSync(zipFile).length / 1024 / 1024);

const server = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
  cwd: root,
  env: { ...process.env, PORT: '0', HTTPS_PORT: '0', DATA_DIR: join(work, 'data'), ADMIN_PASSWORD: PASSWORD, NODE_ENROLLMENT_KEY: KEY, LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const url = await new Promise<string>((resolve, reject) => {
  let out = '';
  server.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    const m = /management server at (http:\/\/\S+)/.exec(out);
    if (m) resolve(m[1]!);
  });
  server.on('exit', (code) => reject(new Error(`server exited (${code})`)));
});

/** Runs `fn` while sampling the server's RSS every 50 ms. */
async function measured<T>(fn: () => Promise<T>) {
  await sleep(1_000);
  const before = rssMb(server.pid!);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(server.pid!))), 50);
  const t0 = performance.now();
  const result = await fn();
  const seconds = (performance.now() - t0) / 1000;
  await sleep(2_000);
  clearInterval(sampler);
  const after = rssMb(server.pid!);
  return {
    result,
    seconds: Number(seconds.toFixed(2)),
    rssBeforeMb: Math.round(before),
    rssPeakMb: Math.round(peak),
    rssAfterMb: Math.round(after),
    peakGrowthMb: Math.round(peak - before),
  };
}

const rest = (path: string, init: RequestInit = {}) => fetch(`${url}${path}`, { ...init, headers: { authorization: BASIC, ...init.headers } });
const THEMES = '/api/admin/configuration/v1/ivr_theme/';
/** Reads a response to its end without keeping it, and says how many bytes came. */
async function drain(r: Response): Promise<number> {
  let n = 0;
  for await (const chunk of r.body!) n += (chunk as Uint8Array).length;
  return n;
}

try {
  await rest('/api/admin/configuration/v1/system_location/');
  const runs: Record<string, unknown> = {};
  let id = 0;
  runs.restUploadMultipart = await measured(async () => {
    const form = new FormData();
    form.append('name', 'Bench theme');
    form.append('package', await openAsBlob(zipFile), 'theme.zip');
    const r = await rest(THEMES, { method: 'POST', body: form });
    const body = (await r.json()) as { id?: number };
    id = body.id ?? 0;
    return { status: r.status };
  });
  runs.restDownload = await measured(async () => {
    const r = await rest(`${THEMES}${id}/package/`);
    return { status: r.status, bytes: await drain(r) };
  });
  runs.nodeDownload = await measured(async () => {
    const r = await fetch(`${url}/api/node/v1/themes/${id}`, { headers: { 'x-node-enrollment-key': KEY } });
    return { status: r.status, bytes: await drain(r) };
  });
  if (!REST_ONLY) {
    const login = await fetch(`${url}/trpc/auth.login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: PASSWORD }),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    runs.consoleUploadThenCreate = await measured(async () => {
      const up = await fetch(`${url}/upload/theme/`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/octet-stream', 'x-requested-with': 'openmeet-console' },
        body: await openAsBlob(zipFile),
      });
      if (up.status !== 200) return { upload: up.status };
      const { id: upload } = (await up.json()) as { id: string };
      const created = await fetch(`${url}/trpc/theme.create`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Bench theme 2', upload }),
      });
      return { upload: up.status, create: created.status };
    });
  }
  console.log(JSON.stringify({ root, zipMb, runs }, null, 2));
} finally {
  server.kill('SIGTERM');
  await sleep(500);
  rmSync(work, { recursive: true, force: true });
}
