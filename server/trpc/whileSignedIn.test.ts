import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READ_WRITE_PERMISSIONS } from '../../shared/admin/permissions.js';
import { openDatabase } from '../../db/client.js';
import { ManualClock } from '../../shared/time/ManualClock.js';
import { ManagementServer } from '../ManagementServer.js';
import { LIVE_VIEW_LISTENERS } from '../status/LiveStatus.js';
import { appRouter } from './root.js';
import type { Context } from './trpc.js';

describe('a live subscription detaches its listener however it ends (issue 12, item 4)', () => {
  let server: ManagementServer;
  // The session rechecks never fire unless the test moves this clock: only the consumer ends the views.
  const clock = new ManualClock();
  const ctx = (): Context => ({
    dom: server.dom,
    status: server.status,
    registry: server.registry,
    clock,
    admin: { id: 1, username: 'admin', mayUseWeb: true, mayUseApi: true, permissions: READ_WRITE_PERMISSIONS },
    sessionToken: undefined,
    setCookie: () => {},
  });

  beforeAll(async () => {
    server = await ManagementServer.start({
      port: 0,
      database: await openDatabase({ dataDir: 'memory://' }),
      adminPassword: 'pw',
      enrollmentKey: 'k',
      webRoot: '/nonexistent',
      logger: pino({ level: 'silent' }),
      clock,
    });
  });
  afterAll(() => server?.stop());

  it('a consumer that stops without an abort signal (createCaller) leaves no listener or recheck behind', async () => {
    const before = server.status.listenerCount('live');
    const timersBefore = clock.pending;
    const views = await Promise.all([1, 2, 3].map(async () => (await appRouter.createCaller(ctx()).status.liveCounters())[Symbol.asyncIterator]()));
    for (const view of views) expect((await view.next()).done).toBe(false);
    expect(server.status.listenerCount('live')).toBe(before + 3);
    expect(clock.pending).toBe(timersBefore + 3);

    // One view sees a change first, then all stop as a `for await … break` does.
    server.status.emit('live');
    expect((await views[0]!.next()).done).toBe(false);
    for (const view of views) await view.return!(undefined);
    expect(server.status.listenerCount('live')).toBe(before);
    expect(clock.pending).toBe(timersBefore);
  });

  it('a subscription ended by its signal detaches too', async () => {
    const before = server.status.listenerCount('changed');
    const abort = new AbortController();
    const caller = appRouter.createCaller(ctx(), { signal: abort.signal });
    const view = (await caller.status.live())[Symbol.asyncIterator]();
    await view.next();
    expect(server.status.listenerCount('changed')).toBe(before + 1);
    const last = view.next();
    abort.abort();
    expect((await last).done).toBe(true);
    expect(server.status.listenerCount('changed')).toBe(before);
  });

  it('keeps a max-listeners bound, so a leak still warns', () => {
    expect(server.status.getMaxListeners()).toBe(LIVE_VIEW_LISTENERS);
  });
});
