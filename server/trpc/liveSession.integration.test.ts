import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { adminSession } from '../../db/schema.js';
import { openDatabase } from '../../db/client.js';
import { ManagementServer } from '../ManagementServer.js';
import { SESSION_RECHECK_MS } from './trpc.js';
import { ManualClock } from '../../shared/time/ManualClock.js';

interface Reply {
  id?: number;
  result?: { type?: string; data?: unknown };
  error?: { message?: string; data?: { code?: string } };
}

/** The console's tRPC WebSocket with a session cookie, as the browser opens it; every reply kept. */
async function consoleSocket(url: string, cookie: string): Promise<{ ws: WebSocket; replies: Reply[]; closed: Promise<void> }> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/trpc`, { origin: url, headers: { cookie } });
  const replies: Reply[] = [];
  ws.on('message', (raw) => replies.push(JSON.parse(String(raw)) as Reply));
  const closed = new Promise<void>((r) => ws.on('close', () => r()));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, replies, closed };
}

const waitFor = async <T>(fn: () => T | undefined, ms: number): Promise<T> => {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe("the console's live WebSocket ends with its session (issue 11, finding 7)", () => {
  let server: ManagementServer;
  // The session rechecks run on a clock the test moves; the socket, HTTP and database stay real.
  const clock = new ManualClock();
  /** Moves the clock on, one recheck at a time, until the live view has ended. */
  const recheckUntil = (done: () => unknown) =>
    clock.advanceUntil(() => done() !== undefined, { stepMs: SESSION_RECHECK_MS, maxMs: 2 * SESSION_RECHECK_MS, ioMs: 200 });
  const login = async () => {
    const r = await fetch(`${server.url}/trpc/auth.login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: server.url },
      body: JSON.stringify({ username: 'admin', password: 'live-pw' }),
    });
    expect(r.status).toBe(200);
    return r.headers.get('set-cookie')!.split(';')[0]!;
  };

  beforeAll(async () => {
    server = await ManagementServer.start({
      port: 0,
      database: await openDatabase({ dataDir: 'memory://' }),
      adminPassword: 'live-pw',
      enrollmentKey: 'k',
      webRoot: '/nonexistent',
      logger: pino({ level: 'silent' }),
      clock,
    });
  });
  afterAll(() => server?.stop());

  it('a session idle past the timeout stops the live view and refuses further calls on the same socket', async () => {
    const cookie = await login();
    const { ws, replies } = await consoleSocket(server.url, cookie);
    ws.send(JSON.stringify({ id: 1, method: 'subscription', params: { path: 'status.live' } }));
    await waitFor(() => replies.find((m) => m.id === 1 && m.result?.type === 'data'), 5_000);

    // The live view alone is not activity: idle for 31 minutes (the default timeout is 30).
    await server.database.db.update(adminSession).set({ lastSeenAt: new Date(Date.now() - 31 * 60_000) });
    expect(await recheckUntil(() => replies.find((m) => m.id === 1 && m.error))).toBe(SESSION_RECHECK_MS);
    const ended = replies.find((m) => m.id === 1 && m.error)!;
    expect(ended.error?.data?.code).toBe('UNAUTHORIZED');

    // A call on the socket opened while signed in is refused too.
    ws.send(JSON.stringify({ id: 2, method: 'query', params: { path: 'status.conferences' } }));
    const refused = await waitFor(() => replies.find((m) => m.id === 2), 5_000);
    expect(refused.error?.data?.code).toBe('UNAUTHORIZED');
    ws.close();
  }, 30_000);

  it('signing out ends the live view; a session in use keeps it', async () => {
    const cookie = await login();
    const { ws, replies } = await consoleSocket(server.url, cookie);
    ws.send(JSON.stringify({ id: 1, method: 'subscription', params: { path: 'status.live' } }));
    await waitFor(() => replies.find((m) => m.id === 1 && m.result?.type === 'data'), 5_000);

    // Still signed in after more than one check: the stream stays open.
    await clock.run(2 * SESSION_RECHECK_MS, { stepMs: SESSION_RECHECK_MS, ioMs: 200 });
    expect(replies.some((m) => m.id === 1 && m.error)).toBe(false);
    ws.send(JSON.stringify({ id: 2, method: 'query', params: { path: 'status.conferences' } }));
    expect((await waitFor(() => replies.find((m) => m.id === 2), 5_000)).result?.type).toBe('data');

    const out = await fetch(`${server.url}/trpc/auth.logout`, {
      method: 'POST',
      headers: { cookie, origin: server.url, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(out.status).toBe(200);
    await recheckUntil(() => replies.find((m) => m.id === 1 && m.error));
    expect(replies.find((m) => m.id === 1 && m.error)!.error?.data?.code).toBe('UNAUTHORIZED');
    ws.close();
  }, 30_000);
});
