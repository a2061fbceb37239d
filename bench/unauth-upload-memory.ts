/**
 * Management server memory under unauthenticated uploads (issue 11, finding 3): a real server
 * process (server/main.ts, embedded database in a temporary folder), then 8 concurrent 75 MB POSTs
 * without credentials to the sign-in endpoint (tRPC `auth.login`), to the REST restore command and to
 * the console's upload routes (backup file, theme ZIP),
 * once with a Content-Length and once chunked (no length to refuse up front). Prints JSON: the
 * server's RSS before, its peak while the posts run, and after; the goal is + < 50 MB.
 *
 *   npx tsx bench/unauth-upload-memory.ts [concurrent=8] [megabytes=75]
 */
import { spawn } from 'node:child_process';
import { readFileSync, mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CONCURRENT = Number(process.argv[2] ?? 8);
const MB = Number(process.argv[3] ?? 75);
const root = new URL('..', import.meta.url).pathname;

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One POST of `MB` megabytes; resolves with the status (or the error) once the server answered or cut it. */
function post(url: string, path: string, chunked: boolean): Promise<{ status: number | string; sentMb: number }> {
  return new Promise((resolve) => {
    const u = new URL(path, url);
    const total = MB * 1024 * 1024;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (!chunked) headers['content-length'] = String(total);
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers });
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let sent = 0;
    let done = false;
    const finish = (status: number | string) => {
      if (done) return;
      done = true;
      req.destroy();
      resolve({ status, sentMb: Math.round(sent / 1024 / 1024) });
    };
    req.on('response', (res) => {
      res.resume();
      finish(res.statusCode ?? 0);
    });
    req.on('error', (err) => finish((err as NodeJS.ErrnoException).code ?? err.message));
    const pump = () => {
      while (!done && sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (!done && sent >= total) req.end();
    };
    pump();
  });
}

const dataDir = mkdtempSync(join(tmpdir(), 'om-bench-upload-'));
const server = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
  cwd: root,
  env: { ...process.env, PORT: '0', HTTPS_PORT: '0', DATA_DIR: dataDir, ADMIN_PASSWORD: 'bench-pw', NODE_ENROLLMENT_KEY: 'bench-key', LOG_LEVEL: 'warn' },
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

try {
  // Warm up the routes once so start-up allocations are not counted as the attack's.
  await fetch(`${url}/trpc/auth.login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username":"admin","password":"wrong"}' });
  await sleep(1_000);
  const runs = [];
  for (const [path, chunked] of [
    ['/trpc/auth.login', false],
    ['/trpc/auth.login', true],
    ['/api/admin/command/v1/platform/restore/', false],
    ['/api/admin/command/v1/platform/restore/', true],
    // The console's streamed uploads (a backup file, a theme ZIP) without a session.
    ['/upload/restore/', false],
    ['/upload/theme/', true],
  ] as const) {
    const before = rssMb(server.pid!);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb(server.pid!))), 50);
    const t0 = performance.now();
    const results = await Promise.all(Array.from({ length: CONCURRENT }, () => post(url, path, chunked)));
    const seconds = (performance.now() - t0) / 1000;
    await sleep(2_000);
    clearInterval(sampler);
    const after = rssMb(server.pid!);
    runs.push({
      path,
      body: chunked ? 'chunked' : 'content-length',
      statuses: [...new Set(results.map((r) => r.status))],
      clientSentMb: results.reduce((s, r) => s + r.sentMb, 0),
      seconds: Number(seconds.toFixed(2)),
      rssBeforeMb: Math.round(before),
      rssPeakMb: Math.round(peak),
      rssAfterMb: Math.round(after),
      peakGrowthMb: Math.round(peak - before),
    });
  }
  const worst = Math.max(...runs.map((r) => r.peakGrowthMb));
  console.log(JSON.stringify({ concurrent: CONCURRENT, megabytesEach: MB, goalMb: 50, worstPeakGrowthMb: worst, met: worst < 50, runs }, null, 2));
} finally {
  server.kill('SIGTERM');
}
