import { createSocket } from 'node:dgram';
import { expect, test } from '@playwright/test';
import { startPlatform, type Platform } from './support/platform.js';
import { signIn } from './support/signIn.js';

/**
 * Issue 13 in the console: Services > Registrar set in its form reaches the node's registrar, and
 * a device's registration appears under Live status (alias, contact, protocol, node, expiry)
 * without a reload, and leaves when the device de-registers.
 */
const SIP_PORT = 20895;
let platform: Platform;
test.beforeAll(async () => {
  platform = await startPlatform({
    managementPort: 20880,
    nodePort: 20881,
    mediaPorts: '49600-49699',
    nodeEnv: { NODE_SIP_PORT: String(SIP_PORT), NODE_SIP_TLS_PORT: 'off' },
  });
});
test.afterAll(async () => platform?.stop());

const admin = () => ({ authorization: `Basic ${Buffer.from(`admin:${platform.adminPassword}`).toString('base64')}`, 'content-type': 'application/json' });
const config = (path: string, method: string, body?: unknown) =>
  fetch(`${platform.consoleUrl}/api/admin/configuration/v1/${path}`, { method, headers: admin(), body: body === undefined ? undefined : JSON.stringify(body) });

/** A REGISTER from the test's own UDP socket (a device that is not behind NAT): the answer's status and granted expiry. */
async function register(alias: string, expires: number): Promise<{ status: number; expires?: number }> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const own = sock.address().port;
  const msg = [
    'REGISTER sip:127.0.0.1 SIP/2.0',
    `Via: SIP/2.0/UDP 127.0.0.1:${own};branch=z9hG4bK${Math.random().toString(36).slice(2)};rport`,
    `From: <sip:${alias}>;tag=d`,
    `To: <sip:${alias}>`,
    `Call-ID: e2e-reg-${own}`,
    'CSeq: 1 REGISTER',
    `Contact: <sip:phone@127.0.0.1:5099>`,
    `Expires: ${expires}`,
    'User-Agent: e2e phone',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  return new Promise((resolve) => {
    const timer = setTimeout(() => (sock.close(), resolve({ status: 0 })), 1000);
    sock.on('message', (m) => {
      clearTimeout(timer);
      sock.close();
      const text = m.toString();
      const granted = /;expires=(\d+)/.exec(text)?.[1];
      resolve({ status: Number(/^SIP\/2\.0 (\d{3})/.exec(text)?.[1]), ...(granted ? { expires: Number(granted) } : {}) });
    });
    sock.send(msg, SIP_PORT, '127.0.0.1');
  });
}

test('the Registrar form reaches the node, and a registration is listed under Live status until the device leaves', async ({ page }) => {
  expect((await config('global/1/', 'PATCH', { enable_sip_udp: true })).status).toBeLessThan(300);
  expect((await config('device/', 'POST', { alias: 'room@example.com', enable_sip: true })).status).toBe(201);

  await signIn(page, platform);
  await page.getByRole('navigation').getByRole('link', { name: 'Registrar', exact: true }).click();
  await page.getByLabel('Registration refresh strategy').selectOption({ label: 'Basic' });
  await page.getByLabel('Maximum refresh interval (Basic)').fill('240');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Saved.')).toBeVisible();
  expect(await (await config('registration/1/', 'GET')).json()).toMatchObject({ refresh_strategy: 'maximum', maximum_max_refresh: 240 });

  await page.getByRole('navigation').getByRole('link', { name: 'Live status' }).click();
  await expect(page.getByText('No devices are registered')).toBeVisible();
  // The device is allowed and Basic's maximum applies once the node has the new configuration.
  await expect.poll(async () => (await register('room@example.com', 3600)).expires, { timeout: 15_000 }).toBe(240);

  const row = page.getByTestId('registration');
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('room@example.com');
  await expect(row).toContainText('sip:phone@127.0.0.1:5099');
  await expect(row).toContainText('SIP (UDP)');
  await expect(row).toContainText('e2e-node');

  // De-registered: gone from the open page.
  expect((await register('room@example.com', 0)).status).toBe(200);
  await expect(row).toHaveCount(0);
  await expect(page.getByText('No devices are registered')).toBeVisible();
});
