import { eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASES } from '../../db/testing.js';
import { adminSession, adminUser } from '../../db/schema.js';
import { ManagementServer } from '../ManagementServer.js';
import { LoginThrottle } from './LoginThrottle.js';

const BASE = '/api/admin/configuration/v1';
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

describe('LoginThrottle', () => {
  it('refuses an account after 5 failures in the window, an address after 20, and forgets them as the window slides', () => {
    let now = 1_000_000;
    const t = new LoginThrottle({ clock: { now: () => now } });
    for (let i = 0; i < 5; i++) {
      expect(t.retryAfterMs('alice', '10.0.0.1')).toBe(0);
      t.failed('alice', '10.0.0.1');
      now += 1_000;
    }
    // Refused until the oldest failure is 15 minutes old; case variants count as the same account.
    expect(t.retryAfterMs('ALICE', '10.0.0.2')).toBe(15 * 60_000 - 5_000);
    expect(t.retryAfterMs('bob', '10.0.0.1')).toBe(0);
    now += 15 * 60_000 - 5_000;
    expect(t.retryAfterMs('alice', '10.0.0.1')).toBe(0);
    // A success clears the account's count.
    for (let i = 0; i < 4; i++) t.failed('carol', '10.0.0.3');
    t.succeeded('carol');
    t.failed('carol', '10.0.0.3');
    expect(t.retryAfterMs('carol', '10.0.0.4')).toBe(0);
    // One address guessing many accounts: 20 failures, then every account is refused from there.
    for (let i = 0; i < 20; i++) t.failed(`user${i}`, '10.0.0.9');
    expect(t.retryAfterMs('dave', '10.0.0.9')).toBeGreaterThan(0);
    expect(t.retryAfterMs('dave', '10.0.0.8')).toBe(0);
  });

  it('keeps a bounded number of keys', () => {
    const t = new LoginThrottle({ maxKeys: 100 });
    for (let i = 0; i < 10_000; i++) t.failed(`u${i}`, `a${i}`);
    const failures: unknown = Reflect.get(t, 'failures');
    expect(failures).toBeInstanceOf(Map);
    expect((failures as Map<string, number[]>).size).toBeLessThanOrEqual(100);
  });
});

describe.each(TEST_DATABASES)('sign-in throttling, login history and the idle timeout on $name', ({ open }) => {
  let server: ManagementServer;
  const api = (auth: string, path: string, init: RequestInit = {}) =>
    fetch(server.url + path, { ...init, headers: { authorization: auth, 'content-type': 'application/json', ...(init.headers as Record<string, string>) } });
  const login = (username: string, password: string) =>
    fetch(`${server.url}/trpc/auth.login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  const cookieOf = (r: Response) => r.headers.get('set-cookie')!.split(';')[0]!;
  const check = (cookie: string) => fetch(`${server.url}/trpc/auth.check`, { headers: { cookie } });

  async function account(username: string, permissions: string[]): Promise<void> {
    const admin = basic('admin', 'signin-pw');
    const role = await api(admin, `${BASE}/role/`, { method: 'POST', body: JSON.stringify({ name: `role ${username}`, permissions }) });
    const user = await api(admin, `${BASE}/user/`, {
      method: 'POST',
      body: JSON.stringify({ username, password: `${username}-pw-1`, password_confirm: `${username}-pw-1`, roles: [role.headers.get('location')] }),
    });
    expect(user.status).toBe(201);
  }

  beforeAll(async () => {
    server = await ManagementServer.start({
      port: 0,
      database: await open(),
      adminPassword: 'signin-pw',
      enrollmentKey: 'k',
      webRoot: '/nonexistent',
      logger: pino({ level: 'silent' }),
    });
    const all = ['is_administrator', 'may_use_web', 'may_use_api'];
    await account('idle', [...all, 'view_vmr']);
    await account('webuser', [...all, 'view_vmr']);
    await account('apiuser', [...all, 'view_vmr']);
    await account('auditor', [...all, 'view_logs']);
  });
  afterAll(() => server.stop());

  it('a console session idle longer than the Global Settings timeout is signed out; with the timeout disabled it is not', async () => {
    const cookie = cookieOf(await login('idle', 'idle-pw-1'));
    expect((await check(cookie)).status).toBe(200);
    const [user] = await server.database.db.select().from(adminUser).where(eq(adminUser.username, 'idle'));
    const idleFor = async (minutes: number) =>
      server.database.db
        .update(adminSession)
        .set({ lastSeenAt: new Date(Date.now() - minutes * 60_000) })
        .where(eq(adminSession.adminUserId, user!.id));

    // 29 minutes idle: still signed in (the default is 30), and the request counts as activity.
    await idleFor(29);
    expect((await check(cookie)).status).toBe(200);
    const [session] = await server.database.db.select().from(adminSession).where(eq(adminSession.adminUserId, user!.id));
    expect(Date.now() - session!.lastSeenAt.getTime()).toBeLessThan(10_000);
    await idleFor(31);
    expect((await check(cookie)).status).toBe(401);
    expect((await check(cookie)).status).toBe(401); // the session is gone, not just refused once

    // The guide's setting: disabled, a session idle for hours stays (a permanent live view).
    const admin = basic('admin', 'signin-pw');
    expect((await api(admin, `${BASE}/global/1/`, { method: 'PATCH', body: JSON.stringify({ session_timeout_enabled: false }) })).status).toBe(202);
    const again = cookieOf(await login('idle', 'idle-pw-1'));
    await idleFor(600);
    expect((await check(again)).status).toBe(200);
    // A shorter timeout applies at once.
    expect(
      (await api(admin, `${BASE}/global/1/`, { method: 'PATCH', body: JSON.stringify({ session_timeout_enabled: true, management_session_timeout: 5 }) }))
        .status,
    ).toBe(202);
    await idleFor(6);
    expect((await check(again)).status).toBe(401);
  });

  it('the console sign-in is throttled per account: after 5 wrong passwords even the right one is refused (429)', async () => {
    for (let i = 0; i < 5; i++) expect((await login('webuser', `wrong-${i}`)).status).toBe(401);
    const right = await login('webuser', 'webuser-pw-1');
    expect(right.status).toBe(429);
    expect(((await right.json()) as { error: { message: string } }).error.message).toMatch(/^Too many failed sign-in attempts\. Try again in \d+ minutes?\.$/);
    expect(right.headers.get('set-cookie')).toBeNull();
    // Another account from the same address is not affected.
    expect((await login('auditor', 'auditor-pw-1')).status).toBe(200);
  });

  it('the management API is throttled the same way, with Retry-After', async () => {
    for (let i = 0; i < 5; i++) expect((await api(basic('apiuser', `nope-${i}`), `${BASE}/conference/`)).status).toBe(401);
    const right = await api(basic('apiuser', 'apiuser-pw-1'), `${BASE}/conference/`);
    expect(right.status).toBe(429);
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await right.json()) as { error: string }).error).toMatch(/^Too many failed sign-in attempts/);
  });

  it('sign-ins and failures are in the login history (username, address and port, outcome), for those who may view logs', async () => {
    const auditor = cookieOf(await login('auditor', 'auditor-pw-1'));
    const r = await fetch(`${server.url}/trpc/auth.loginHistory`, { headers: { cookie: auditor } });
    expect(r.status).toBe(200);
    const entries = (
      (await r.json()) as {
        result: { data: { username: string; address: string; port: number; channel: string; success: boolean; reason: string; time: string }[] };
      }
    ).result.data;
    expect(entries.length).toBeLessThanOrEqual(100);
    // Newest first: the auditor's own sign-in.
    expect(entries[0]).toMatchObject({ username: 'auditor', channel: 'web', success: true });
    expect(entries[0]!.address).toMatch(/127\.0\.0\.1$/);
    expect(entries[0]!.port).toBeGreaterThan(0);
    const web = entries.filter((e) => e.username === 'webuser');
    expect(web.filter((e) => !e.success && e.reason === 'invalid credentials')).toHaveLength(5);
    expect(web.filter((e) => e.reason === 'throttled')).toHaveLength(1);
    const apiEntries = entries.filter((e) => e.username === 'apiuser');
    expect(apiEntries.every((e) => e.channel === 'api' && !e.success)).toBe(true);
    expect(apiEntries.some((e) => e.reason === 'throttled')).toBe(true);
    // A role without "May view logs" does not see it.
    const web2 = cookieOf(await login('idle', 'idle-pw-1'));
    expect((await fetch(`${server.url}/trpc/auth.loginHistory`, { headers: { cookie: web2 } })).status).toBe(403);
  });

  it('one address guessing many accounts is throttled after 20 failures', async () => {
    for (let i = 0; i < 20; i++) await login(`nobody${i}`, 'guess');
    expect((await login('auditor', 'auditor-pw-1')).status).toBe(429);
  });
});
