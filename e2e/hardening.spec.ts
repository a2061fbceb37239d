import { expect, test } from '@playwright/test';
import { startPlatform, type Platform } from './support/platform.js';
import { signIn, submitSignIn } from './support/signIn.js';

/** Issue 11 in the console: write-only secrets in forms, and the login history. */
let platform: Platform;
test.beforeAll(async () => {
  platform = await startPlatform({ managementPort: 18980, nodePort: 18981, mediaPorts: '45200-45299' });
});
test.afterAll(async () => platform?.stop());

const basic = (user: string, pw: string) => `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}`;
const REST = '/api/admin/configuration/v1';

test('a TURN server’s shared secret is never shown, and saving the form unchanged keeps it', async ({ page }) => {
  const auth = basic('admin', platform.adminPassword);
  const created = await fetch(`${platform.consoleUrl}${REST}/turn_server/`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Coturn', address: 'turn.example.com', server_type: 'coturn_shared', secret_key: 'S3cret-shared-key' }),
  });
  expect(created.status, await created.clone().text()).toBe(201);
  const uri = created.headers.get('location')!;
  const id = uri.split('/').at(-2);

  await signIn(page, platform);
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
  const seen: string[] = [];
  page.on('response', async (r) => {
    if (r.url().includes('/trpc/')) seen.push(await r.text().catch(() => ''));
  });
  await page.goto(`${platform.consoleUrl}/turn-servers/${id}`);
  await expect(page.getByLabel('Name', { exact: true })).toHaveValue('Coturn');
  await expect(page.getByLabel('Shared secret')).toHaveValue('');
  await page.getByLabel('Username').fill('bindings');
  await page.getByRole('button', { name: 'Save' }).click();
  // Saved (the form would stop at "This field is required." on the blank secret otherwise).
  await expect(page.getByRole('link', { name: 'Coturn' })).toBeVisible();
  expect(seen.join('\n')).not.toContain('S3cret-shared-key');

  const got = (await (await fetch(`${platform.consoleUrl}${uri}`, { headers: { authorization: auth } })).json()) as Record<string, unknown>;
  expect(got).toMatchObject({ username: 'bindings', secret_key: '' });
  // The administrator log shows what the save changed: the username, not the secret.
  await page.getByRole('navigation').getByRole('link', { name: 'Administrator log' }).click();
  const entry = page.getByTestId('admin-log-entry').filter({ hasText: 'Coturn' }).filter({ hasText: 'changed' }).first();
  await expect(entry).toContainText('username');
  await expect(entry).not.toContainText('secret_key');
});

test('failed and successful sign-ins are in the login history', async ({ page }) => {
  await submitSignIn(page, platform, { password: 'not-the-password' });
  await expect(page.getByRole('alert')).toContainText('Please enter a correct username and password.');
  await signIn(page, platform);
  await page.getByRole('navigation').getByRole('link', { name: 'Login history' }).click();
  await expect(page.getByRole('heading', { name: 'Login history' })).toBeVisible();
  const rows = page.getByTestId('login-history-entry');
  await expect(rows.first()).toContainText('admin');
  await expect(rows.first()).toContainText('Success');
  await expect(rows.filter({ hasText: 'Failed (invalid credentials)' }).first()).toContainText('127.0.0.1');
});
