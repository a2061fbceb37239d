/**
 * Resident memory of an idle management server, as `npm start` runs it (`node <flags> --import tsx
 * server/main.ts`, the flags from scripts/server-flags.mjs), on the embedded database (first start
 * on a new directory, then a second start on the same one) and, when TEST_DATABASE_URL is set, on
 * Postgres. Prints JSON.
 *
 *   npx tsx bench/idle-memory.ts [idleSeconds=10]
 *
 * RSS is read from /proc after the server answers /healthz and has idled; `pgliteSettings` shows the
 * Postgres settings the embedded database runs with (db/embeddedPostgres.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMBEDDED_POSTGRES_CONF } from '../db/embeddedPostgres.js';
import { rssMiB } from '../e2e/support/platform.js';
import { MANAGEMENT_SERVER_NODE_FLAGS } from '../scripts/server-flags.mjs';

const IDLE_S = Number(process.argv[2] ?? 10);
const ROOT = new URL('..', import.meta.url).pathname;
const PORT = 28380;

async function idleServer(env: Record<string, string>): Promise<{ startMs: number; rssMiB: number }> {
  const started = Date.now();
  const child: ChildProcess = spawn(process.execPath, [...MANAGEMENT_SERVER_NODE_FLAGS, '--import', 'tsx', 'server/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', PORT: String(PORT), HTTPS_PORT: '0', ADMIN_PASSWORD: 'bench-password', NODE_ENROLLMENT_KEY: 'bench-key', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode})`);
      if (
        await fetch(`http://127.0.0.1:${PORT}/healthz`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const startMs = Date.now() - started;
    await new Promise((r) => setTimeout(r, IDLE_S * 1_000));
    return { startMs, rssMiB: rssMiB(child.pid!) };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
  }
}

const dir = mkdtempSync(join(tmpdir(), 'om-idle-'));
try {
  const result: Record<string, unknown> = {
    idleSeconds: IDLE_S,
    node: process.version,
    nodeFlags: MANAGEMENT_SERVER_NODE_FLAGS,
    pgliteSettings: EMBEDDED_POSTGRES_CONF,
    pgliteFirstStart: await idleServer({ DATA_DIR: dir }),
    pgliteSecondStart: await idleServer({ DATA_DIR: dir }),
  };
  if (process.env.TEST_DATABASE_URL) result.postgres = await idleServer({ DATABASE_URL: process.env.TEST_DATABASE_URL });
  console.log(JSON.stringify(result, null, 2));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
