import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataDirLock, DataDirLockedError, LOCK_FILE } from './DataDirLock.js';

const root = new URL('..', import.meta.url).pathname;
const children: ChildProcess[] = [];

interface Started {
  child: ChildProcess;
  /** Resolves with the URL once listening, or rejects with the output when the process exits first. */
  ready: Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>;
}

/** A real management server process (server/main.ts) on `dataDir`, any free port. */
function startServer(dataDir: string): Started {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      PORT: '0',
      HTTPS_PORT: '0',
      DATA_DIR: dataDir,
      ADMIN_PASSWORD: 'lock-test-pw',
      NODE_ENROLLMENT_KEY: 'lock-test-key',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, output })),
  );
  const ready = new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = /management server at (http:\/\/\S+)/.exec(output);
      if (m) resolve(m[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((e) => reject(new Error(`server exited (${e.code ?? e.signal}) before listening:\n${e.output}`)));
  });
  ready.catch(() => {});
  return { child, ready, exited };
}

const basic = 'Basic ' + Buffer.from('admin:lock-test-pw').toString('base64');
async function createLocation(url: string, name: string): Promise<number> {
  const r = await fetch(`${url}/api/admin/configuration/v1/system_location/`, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  return r.status;
}
async function locationNames(url: string): Promise<string[]> {
  const r = await fetch(`${url}/api/admin/configuration/v1/system_location/?limit=100`, { headers: { authorization: basic } });
  return ((await r.json()) as { objects: { name: string }[] }).objects.map((o) => o.name);
}

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

describe('the embedded database directory is locked', () => {
  it('a second server on the same directory refuses to start; a killed server’s lock is cleared on the next start', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'om-lock-'));
    const first = startServer(dataDir);
    const firstUrl = await first.ready;
    // server/main.ts keeps the database in DATA_DIR/db (in DATA_DIR itself before that layout).
    const dbDir = existsSync(join(dataDir, 'db', LOCK_FILE)) ? join(dataDir, 'db') : dataDir;
    expect(await createLocation(firstUrl, 'written-by-first')).toBe(201);
    const lock = JSON.parse(readFileSync(join(dbDir, LOCK_FILE), 'utf8')) as { pid: number };
    expect(lock.pid).toBe(first.child.pid);

    // The second server must not run at all (it once ran and its writes were lost).
    const second = startServer(dataDir);
    const end = await second.exited;
    expect(end.code).toBe(1);
    // One clear line, not a stack trace.
    expect(end.output).not.toMatch(/\n\s+at /);
    expect(end.output).toContain(`The database directory ${dbDir} is in use by another management server (process ${first.child.pid}`);
    expect(end.output).not.toContain('management server at');
    // The first one still serves, and still holds the lock.
    expect(await locationNames(firstUrl)).toContain('written-by-first');
    expect(existsSync(join(dbDir, LOCK_FILE))).toBe(true);

    // A crash: SIGKILL leaves the lock file behind with a dead pid.
    first.child.kill('SIGKILL');
    await first.exited;
    expect(existsSync(join(dbDir, LOCK_FILE))).toBe(true);

    const third = startServer(dataDir);
    const thirdUrl = await third.ready;
    expect(JSON.parse(readFileSync(join(dbDir, LOCK_FILE), 'utf8')).pid).toBe(third.child.pid);
    expect(await locationNames(thirdUrl)).toContain('written-by-first');

    // A clean stop releases the lock.
    third.child.kill('SIGTERM');
    expect((await third.exited).code).toBe(0);
    expect(existsSync(join(dbDir, LOCK_FILE))).toBe(false);
  }, 120_000);

  it('in one process: a held lock is refused, a released one can be taken again, an unreadable one is cleared', () => {
    const dir = mkdtempSync(join(tmpdir(), 'om-lock-unit-'));
    const a = DataDirLock.acquire(dir);
    expect(() => DataDirLock.acquire(dir)).toThrow(DataDirLockedError);
    a.release();
    const b = DataDirLock.acquire(dir);
    b.release();
    // A crash in the middle of writing the file leaves it empty: that is stale too.
    writeFileSync(join(dir, LOCK_FILE), '');
    const c = DataDirLock.acquire(dir);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    c.release();
  });
});
