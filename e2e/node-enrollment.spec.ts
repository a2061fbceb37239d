import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { startPlatform, type Platform } from './support/platform.js';
import { signIn } from './support/signIn.js';

/**
 * Issue 14, node images and enrollment: a conferencing node added in the console is deployed from
 * the bundle the console offers (unpacked and started here), goes from "Never contacted" to live,
 * and a revoked node stops.
 */
let platform: Platform;
let bundled: ChildProcess | null = null;
let dir: string | null = null;
test.beforeAll(async () => {
  platform = await startPlatform({ managementPort: 18480, nodePort: 18481, mediaPorts: '45500-45599' });
});
test.afterAll(async () => {
  bundled?.kill('SIGKILL');
  await platform?.stop();
  // Its node_modules is a link to the repository's: rmSync removes the link, not what it points to.
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('adding a node in the console offers its bundle; started elsewhere it enrolls and goes live; revoked, it stops', async ({ page }) => {
  test.setTimeout(180_000);
  await signIn(page, platform);
  await page.getByRole('navigation').getByRole('link', { name: 'Conferencing node status', exact: true }).click();
  await expect(page.getByTestId('node-row').filter({ hasText: 'e2e-node' })).toContainText('Live');

  await page.getByRole('link', { name: 'Add conferencing node' }).click();
  await page.getByLabel('Name', { exact: true }).fill('bundled-node');
  await page.getByLabel('Hostname', { exact: true }).fill('bundled-node');
  // Its own address (the first node has 127.0.0.1): all of 127/8 is this machine.
  await page.getByLabel('IPv4 address', { exact: true }).fill('127.0.0.2');
  await page.getByLabel('Network mask', { exact: true }).fill('255.0.0.0');
  await page.getByLabel('Gateway IPv4 address', { exact: true }).fill('127.0.0.1');
  await page.getByLabel('System location', { exact: true }).selectOption({ label: 'Default location' });
  await page.getByRole('button', { name: 'Save' }).click();

  // Straight to its deployment downloads; it has never contacted the server.
  const panel = page.getByRole('region', { name: 'Deploy bundled-node' });
  await expect(panel).toBeVisible();
  const row = page.getByTestId('node-row').filter({ hasText: 'bundled-node' });
  await expect(row).toContainText('Never contacted');
  const download = page.waitForEvent('download');
  await panel.getByRole('button', { name: 'Deployment bundle (.tar.gz)' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toBe('openmeet-node-bundled-node.tar.gz');
  dir = mkdtempSync(join(tmpdir(), 'om-e2e-bundle-'));
  await file.saveAs(join(dir, 'bundle.tar.gz'));
  expect(spawnSync('tar', ['xzf', 'bundle.tar.gz'], { cwd: dir }).status).toBe(0);
  const root = join(dir, 'openmeet-node-bundled-node');
  expect(existsSync(join(root, 'start.sh'))).toBe(true);

  // "Another machine": its own folder and ports; the repository's node_modules (the bundle carries none).
  let exitCode: number | null = null;
  bundled = spawn(join(root, 'start.sh'), [], {
    env: {
      ...process.env,
      OPENMEET_NODE_MODULES: join(process.cwd(), 'node_modules'),
      NODE_PORT: '18483',
      NODE_HTTPS_PORT: 'off',
      MEDIA_PORTS: '45600-45699',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  bundled.on('exit', (code) => (exitCode = code));
  await expect(row).toContainText('Live', { timeout: 60_000 });

  page.once('dialog', (d) => void d.accept());
  await row.getByRole('button', { name: 'Revoke' }).click();
  await expect(row).toContainText('Revoked');
  await expect.poll(() => exitCode, { timeout: 20_000 }).toBe(78);
});

test("moving a node to another location in the console changes its worker_vm object's system location", async ({ page }) => {
  const auth = { authorization: `Basic ${Buffer.from(`admin:${platform.adminPassword}`).toString('base64')}`, 'content-type': 'application/json' };
  const CONFIG = `${platform.consoleUrl}/api/admin/configuration/v1`;
  const created = await fetch(`${CONFIG}/system_location/`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'Second site' }) });
  expect(created.status).toBe(201);
  const second = new URL(created.headers.get('location')!, platform.consoleUrl).pathname;
  const nodeLocation = async () => {
    const nodes = (await (await fetch(`${CONFIG}/worker_vm/?name=e2e-node`, { headers: auth })).json()) as { objects: { system_location: string }[] };
    return new URL(nodes.objects[0]!.system_location, platform.consoleUrl).pathname;
  };
  const first = await nodeLocation();
  expect(first).not.toBe(second);

  await signIn(page, platform);
  await page.getByRole('navigation').getByRole('link', { name: 'Conferencing node status', exact: true }).click();
  const select = page.getByLabel('System location of e2e-node', { exact: true });
  await select.selectOption({ label: 'Second site' });
  await expect.poll(nodeLocation).toBe(second);
  await page.reload();
  await expect(select.locator('option:checked')).toHaveText('Second site');

  await select.selectOption({ value: /\/(\d+)\/$/.exec(first)![1]! });
  await expect.poll(nodeLocation).toBe(first);
});
