import { expect, test } from '@playwright/test';
import { startPlatform, type Platform } from './support/platform.js';
import { signIn } from './support/signIn.js';

/**
 * Issue 11, finding 8 in a real browser: a page on another origin of the same host (here the
 * node's, so the administrator's SameSite cookie still rides along) can neither stream live status
 * over the console's tRPC WebSocket nor create an object through tRPC; the console itself can, and
 * every answer carries the browser protections.
 */
let platform: Platform;
test.beforeAll(async () => {
  platform = await startPlatform({ managementPort: 19380, nodePort: 19381, mediaPorts: '45400-45499' });
});
test.afterAll(async () => platform?.stop());

const admin = () => ({ authorization: `Basic ${Buffer.from(`admin:${platform.adminPassword}`).toString('base64')}` });
const vmrNamed = async (name: string) => {
  const r = await fetch(`${platform.consoleUrl}/api/admin/configuration/v1/conference/?name=${encodeURIComponent(name)}`, { headers: admin() });
  return ((await r.json()) as { meta: { total_count: number } }).meta.total_count;
};

test('a page on another origin cannot use the administrator’s session; the console can', async ({ page, context }) => {
  const consoleAnswer = await page.goto(`${platform.consoleUrl}/`);
  expect(consoleAnswer?.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
  expect(consoleAnswer?.headers()['x-content-type-options']).toBe('nosniff');
  await signIn(page, platform);
  // The console's own live view streams over the WebSocket.
  await page.getByRole('navigation').getByRole('link', { name: 'Live status' }).click();
  await expect(page.getByTestId('live-participant-count')).toBeVisible();
  expect((await context.cookies(platform.consoleUrl)).map((c) => c.name)).toContain('om_session');

  // Another origin on the same host: the node's.
  const evil = await context.newPage();
  await evil.goto(`${platform.nodeUrl}/healthz`);
  const consoleWs = platform.consoleUrl.replace('http', 'ws') + '/trpc';
  const ws = await evil.evaluate(
    (url) =>
      new Promise<{ opened: boolean; data: boolean }>((resolve) => {
        const socket = new WebSocket(url);
        let opened = false;
        let data = false;
        socket.onopen = () => {
          opened = true;
          socket.send(JSON.stringify({ id: 1, method: 'subscription', params: { path: 'status.live' } }));
        };
        socket.onmessage = (m) => (data ||= String(m.data).includes('"type":"data"'));
        socket.onclose = () => resolve({ opened, data });
        setTimeout(() => resolve({ opened, data }), 3_000);
      }),
    consoleWs,
  );
  expect(ws).toEqual({ opened: false, data: false });

  // A "simple" cross-origin POST (no preflight) with the cookie: nothing created (the Origin check
  // refuses it; tRPC would also refuse its text/plain body — the vitest test checks the 403 itself).
  const status = await evil.evaluate(async (url) => {
    try {
      const r = await fetch(url, {
        method: 'POST',
        mode: 'no-cors',
        credentials: 'include',
        headers: { 'content-type': 'text/plain' },
        body: JSON.stringify({ resource: 'vmr', values: { name: 'Planted by evil' } }),
      });
      return r.type;
    } catch {
      return 'error';
    }
  }, `${platform.consoleUrl}/trpc/config.create`);
  expect(status).toBe('opaque');
  expect(await vmrNamed('Planted by evil')).toBe(0);

  // The same mutation from the console's own page works.
  const own = await page.evaluate(async (url) => {
    const r = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ resource: 'vmr', values: { name: 'Made by the console' } }),
    });
    return r.status;
  }, `${platform.consoleUrl}/trpc/config.create`);
  expect(own).toBe(200);
  expect(await vmrNamed('Made by the console')).toBe(1);
});

test('the console over HTTPS: HSTS, a Secure session cookie, and live status over wss', async ({ browser }) => {
  // The run's certificate is self-signed (generated on first start): this browser is told to accept it.
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  const answer = await page.goto(`${platform.consoleHttpsUrl}/`);
  expect(answer?.headers()['strict-transport-security']).toBe('max-age=31536000');
  // Listening from the start: the console's alarm badge opens the live socket as soon as it is signed in.
  const sockets: string[] = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));
  await signIn(page, platform, { url: platform.consoleHttpsUrl });
  const session = (await context.cookies(platform.consoleHttpsUrl)).find((c) => c.name === 'om_session');
  expect(session).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Strict' });
  await page.getByRole('navigation').getByRole('link', { name: 'Live status' }).click();
  await expect(page.getByTestId('live-participant-count')).toHaveText('0 participants');
  await expect(page.getByText('No services or addresses are blocked')).toBeVisible();
  expect(sockets.some((u) => u.startsWith('wss://'))).toBe(true);
  await context.close();
});
