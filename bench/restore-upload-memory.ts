/**
 * Management server memory while a large backup file is uploaded for a restore (issue 11, finding
 * 3): a real server process (server/main.ts, embedded database in a temporary folder), then a
 * signed-in 200 MB upload (a file shaped like a backup, whose content fails the integrity check at
 * its end, so the whole file is received and checked) to the REST restore command (multipart, as
 * Pexip's `package`), and to the console's upload route followed by its check (`backup.inspect`).
 * Then a real restore of a backup of 5,000 VMRs over REST. Prints JSON: the server's RSS before,
 * its peak while each runs, and after.
 *
 *   npx tsx bench/restore-upload-memory.ts [megabytes=200] [--root <checkout to run the server from>]
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openAsBlob, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
const rootAt = args.indexOf('--root');
const root = rootAt >= 0 ? args.splice(rootAt, 2)[1]! : new URL('..', import.meta.url).pathname;
const MB = Number(args[0] ?? 200);
const PASSWORD = 'bench-pw';
const BASIC = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const work = mkdtempSync(join(tmpdir(), 'om-bench-restore-'));
// A backup's header (magic, format 2, salt, IV, tag) then random bytes: only the end of the check refuses it.
const bigFile = join(work, 'big.bak');
{
  const fd = openSync(bigFile, 'w');
  writeSync(fd, Buffer.concat([Buffer.from('OMBACKUP'), Buffer.from([2]), randomBytes(16 + 12 + 16)]));
  const piece = randomBytes(1024 * 1024);
  for (let i = 0; i < MB; i++) writeSync(fd, piece);
  closeSync(fd);
}

const server = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
  cwd: root,
  env: {
    ...process.env,
    PORT: '0',
    HTTPS_PORT: '0',
    DATA_DIR: join(work, 'data'),
    ADMIN_PASSWORD: PASSWORD,
    NODE_ENROLLMENT_KEY: 'bench-key',
    LOG_LEVEL: 'warn',
  },
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

const restReq = (path: string, init: RequestInit = {}) => fetch(`${url}${path}`, { ...init, headers: { authorization: BASIC, ...init.headers } });
async function multipartRestore(file: string, passphrase: string) {
  const form = new FormData();
  form.append('passphrase', passphrase);
  form.append('package', await openAsBlob(file), 'backup.bak');
  const r = await restReq('/api/admin/command/v1/platform/restore/', { method: 'POST', body: form });
  return { status: r.status, body: (await r.text()).slice(0, 200) };
}

try {
  await restReq('/api/admin/configuration/v1/system_location/');
  const runs: Record<string, unknown> = {};
  runs.restMultipart200MbRefusedAtTheEnd = await measured(() => multipartRestore(bigFile, 'bench passphrase'));

  // The console: sign in (cookie), upload the raw file, then have it checked.
  const login = await fetch(`${url}/trpc/auth.login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: PASSWORD }),
  });
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
  runs.consoleUpload200MbThenInspect = await measured(async () => {
    const up = await fetch(`${url}/upload/restore/`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/octet-stream', 'x-requested-with': 'openmeet-console' },
      body: await openAsBlob(bigFile),
    });
    if (up.status !== 200) return { upload: up.status };
    const { id } = (await up.json()) as { id: string };
    const inspect = await fetch(`${url}/trpc/backup.inspect`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ upload: id, passphrase: 'bench passphrase' }),
    });
    return { upload: up.status, inspect: inspect.status, body: (await inspect.text()).slice(0, 160) };
  });

  // A real restore: a backup of 5,000 VMRs (two aliases each).
  const csv = Array.from({ length: 5_000 }, (_, i) => `Room ${i},,,,,room.${i}\nRoom ${i},,,,,room.${i}@example.com`).join('\n');
  const imported = await restReq('/api/admin/configuration/v1/bulk/vmr/import/', { method: 'POST', headers: { 'content-type': 'text/csv' }, body: csv });
  if (imported.status !== 200) throw new Error(`import ${imported.status}`);
  const made = await restReq('/api/admin/configuration/v1/backup/', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ passphrase: 'bench passphrase' }),
  });
  const { download_uri, size } = (await made.json()) as { download_uri: string; size: number };
  const realFile = join(work, 'real.bak');
  const bytes = Buffer.from(await (await restReq(download_uri)).arrayBuffer());
  const fd = openSync(realFile, 'w');
  writeSync(fd, bytes);
  closeSync(fd);
  runs.restMultipartRealBackup5000Vmrs = { archiveBytes: size, ...(await measured(() => multipartRestore(realFile, 'bench passphrase'))) };

  console.log(JSON.stringify({ root, megabytes: MB, runs }, null, 2));
} finally {
  server.kill('SIGTERM');
  await sleep(500);
  rmSync(work, { recursive: true, force: true });
}
