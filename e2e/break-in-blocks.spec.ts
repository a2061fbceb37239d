import { expect, test } from '@playwright/test';
import { createVmr, startPlatform, type Platform } from './support/platform.js';
import { signIn } from './support/signIn.js';

/**
 * Issue 11, finding 6 in the console: a VMR blocked by PIN brute-force resistance is listed under
 * Live status with the node that blocked it, and an administrator lifts the block with one button:
 * the real Host, refused until then, is let in at once.
 */
let platform: Platform;
test.beforeAll(async () => {
  platform = await startPlatform({ managementPort: 19280, nodePort: 19281, mediaPorts: '45300-45399' });
});
test.afterAll(async () => platform?.stop());

const admin = () => ({ authorization: `Basic ${Buffer.from(`admin:${platform.adminPassword}`).toString('base64')}`, 'content-type': 'application/json' });
const requestToken = (pin: string) =>
  fetch(`${platform.nodeUrl}/api/client/v2/conferences/blocked.room/request_token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', pin },
    body: JSON.stringify({ display_name: 'Caller' }),
  });

test('a service blocked by wrong PINs is shown under Live status and the Lift button lets the Host in', async ({ page, browser }) => {
  const patched = await fetch(`${platform.consoleUrl}/api/admin/configuration/v1/global/1/`, {
    method: 'PATCH',
    headers: admin(),
    body: JSON.stringify({ bdpm_max_pin_failures_per_window: 5 }),
  });
  expect(patched.status).toBeLessThan(300);
  await createVmr(platform, { name: 'Blocked room', aliases: [{ alias: 'blocked.room' }], pin: '2468' });
  // The node has the VMR and the threshold once a right PIN is accepted.
  await expect.poll(async () => (await requestToken('2468')).status, { timeout: 15_000 }).toBe(200);

  await signIn(page, platform);
  await page.getByRole('navigation').getByRole('link', { name: 'Live status' }).click();
  await expect(page.getByText('No services or addresses are blocked')).toBeVisible();

  for (let i = 0; i < 6; i++) expect((await requestToken('0000')).status).toBe(403);
  expect((await requestToken('2468')).status).toBe(404);

  // Pushed to the open page: no reload.
  const row = page.getByTestId('break-in-block');
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('Service: Blocked room');
  await expect(row).toContainText('Too many incorrect PINs');
  await expect(row).toContainText('e2e-node');

  // An administrator who may only view conference status sees the block, with no Lift button.
  const base = `${platform.consoleUrl}/api/admin/configuration/v1`;
  const role = await fetch(`${base}/role/`, {
    method: 'POST',
    headers: admin(),
    body: JSON.stringify({ name: 'Status viewer', permissions: ['is_administrator', 'may_use_web', 'view_conference_status'] }),
  });
  expect(role.status).toBe(201);
  const user = await fetch(`${base}/user/`, {
    method: 'POST',
    headers: admin(),
    body: JSON.stringify({ username: 'viewer', password: 'viewer-pw-1', password_confirm: 'viewer-pw-1', roles: [role.headers.get('location')] }),
  });
  expect(user.status).toBe(201);
  const viewerContext = await browser.newContext();
  const viewer = await viewerContext.newPage();
  await signIn(viewer, platform, { user: 'viewer', password: 'viewer-pw-1' });
  await viewer.getByRole('navigation').getByRole('link', { name: 'Live status' }).click();
  await expect(viewer.getByTestId('break-in-block')).toContainText('Service: Blocked room');
  await expect(viewer.getByRole('button', { name: 'Lift' })).toHaveCount(0);

  await row.getByRole('button', { name: 'Lift' }).click();
  await expect(row).toHaveCount(0);
  await expect(page.getByText('No services or addresses are blocked')).toBeVisible();
  expect((await requestToken('2468')).status).toBe(200);
  // The viewer's open page follows.
  await expect(viewer.getByText('No services or addresses are blocked')).toBeVisible();
  await viewerContext.close();
});
