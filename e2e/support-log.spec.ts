import { expect, test } from '@playwright/test';
import WebSocket from 'ws';
import { createVmr, startPlatform, type Platform } from './support/platform.js';
import { signIn } from './support/signIn.js';

/**
 * History & logs > Support log: the management node's lines and the e2e node's, in one table with
 * the guide's UTC times; the level filter narrows it to warnings and errors, the source filter to one
 * node, the search to matching lines. Real management server and node processes, real Chromium.
 */
let platform: Platform;
test.beforeAll(async () => {
  platform = await startPlatform({ managementPort: 20480, nodePort: 20481, mediaPorts: '38700-38799' });
});
test.afterAll(async () => platform?.stop());

test('the support log lists the management node and the e2e node, and its filters narrow it', async ({ page }) => {
  test.setTimeout(90_000);
  // A line on the node: a conference instance starts when someone asks to join.
  await createVmr(platform, { name: 'Support Log Room', aliases: [{ alias: 'support.log.room' }] });
  // Asked until the node has the new room (configuration pushes take well under a second).
  const requestToken = () =>
    fetch(`${platform.nodeUrl}/api/client/v2/conferences/support.log.room/request_token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ display_name: 'Logged Person' }),
    });
  await expect.poll(async () => (await requestToken()).status, { timeout: 10_000 }).toBe(200);
  // A warning on the management node: a page elsewhere tries the console's WebSocket.
  await new Promise<void>((resolve) => {
    const ws = new WebSocket(`${platform.consoleUrl.replace('http', 'ws')}/trpc`, { origin: 'http://elsewhere.example' });
    ws.on('error', () => resolve());
    ws.on('close', () => resolve());
  });

  await signIn(page, platform);
  await page.getByRole('navigation').getByRole('link', { name: 'Support log' }).click();
  await expect(page.getByRole('heading', { name: 'Support log' })).toBeVisible();
  const rows = page.getByTestId('support-log-entry');
  const fromNode = rows.filter({ hasText: 'conference instance started' });
  await expect(fromNode.first()).toBeVisible({ timeout: 10_000 });
  await expect(fromNode.first().getByRole('cell').nth(2)).toHaveText('e2e-node');
  await expect(fromNode.first().getByRole('cell').nth(3)).toHaveText('node.conference');
  await expect(fromNode.first().getByRole('cell').first()).toHaveText(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/);
  await expect(rows.filter({ hasText: 'cross-origin WebSocket refused' }).first().getByRole('cell').nth(2)).toHaveText('Management Node');
  const allCount = await rows.count();
  expect(await page.locator('[data-testid="support-log-entry"][data-source="e2e-node"]').count()).toBeGreaterThan(0);
  expect(await page.locator('[data-testid="support-log-entry"][data-source="Management Node"]').count()).toBeGreaterThan(0);
  expect(await page.locator('[data-testid="support-log-entry"][data-level="info"]').count()).toBeGreaterThan(0);

  // Level: warnings and above only — the node's info line goes, the management node's warning stays.
  await page.getByLabel('Level').selectOption('warning');
  await expect(rows.filter({ hasText: 'conference instance started' })).toHaveCount(0);
  await expect(rows.filter({ hasText: 'cross-origin WebSocket refused' }).first()).toBeVisible();
  const levels = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-level')));
  expect(levels.length).toBeGreaterThan(0);
  expect(levels.length).toBeLessThan(allCount);
  expect(levels.every((l) => l === 'warning' || l === 'error')).toBe(true);

  // Source: the e2e node only; search: one line.
  await page.getByLabel('Level').selectOption('');
  await page.getByLabel('Source').selectOption('e2e-node');
  await expect(rows.filter({ hasText: 'cross-origin WebSocket refused' })).toHaveCount(0);
  await expect(rows.filter({ hasText: 'conference instance started' }).first()).toBeVisible();
  expect((await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-source')))).every((s) => s === 'e2e-node')).toBe(true);
  await page.getByLabel('Search').fill('Support Log Room');
  await expect(rows.first()).toBeVisible();
  expect((await rows.allTextContents()).every((t) => t.includes('Support Log Room'))).toBe(true);
  await page.getByLabel('Search').fill('nothing like it at all');
  await expect(page.getByText('No entries match the filters.')).toBeVisible();

  // Time range (UTC): from next year, nothing; from an hour ago, the line again.
  await page.getByLabel('Search').fill('Support Log Room');
  await page.getByLabel('From (UTC)').fill(`${new Date().getUTCFullYear() + 1}-01-01T00:00`);
  await expect(page.getByText('No entries match the filters.')).toBeVisible();
  await page.getByLabel('From (UTC)').fill(new Date(Date.now() - 3_600_000).toISOString().slice(0, 16));
  await expect(rows.filter({ hasText: 'conference instance started' }).first()).toBeVisible();
});
