import { expect, test } from '@playwright/test';
import { startBaresipCallee, type BaresipCallee } from '../node-agent/testing/baresipCallee.js';
import { createVmr, startPlatform, type Platform } from './support/platform.js';
import { signIn } from './support/signIn.js';

/**
 * An administrator dials out from a live conference in the console (guide: Dial out to
 * participant, issue 13): a real baresip that auto-answers is called over SIP, joins with the name
 * and role given, is listed under the conference, and leaves the list when it hangs up.
 */
const SIP_PORT = 21_090;
let platform: Platform;
let callee: BaresipCallee | undefined;
test.beforeAll(async () => {
  platform = await startPlatform({
    managementPort: 21080,
    nodePort: 21081,
    mediaPorts: '37600-37699',
    nodeEnv: { NODE_SIP_PORT: String(SIP_PORT), NODE_SIP_TLS_PORT: 'off' },
  });
});
test.afterAll(async () => {
  await callee?.stop();
  await platform?.stop();
});

test('an administrator dials a phone into a live conference from the console; it joins as a Host under its name', async ({ page }) => {
  const alias = 'meet.console.dial';
  await createVmr(platform, { name: 'Console Dial Room', aliases: [{ alias }], pin: '1357' });
  // A Host in the meeting (client API), so the conference is live.
  const requestToken = () =>
    fetch(`${platform.nodeUrl}/api/client/v2/conferences/${alias}/request_token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', pin: '1357' },
      body: '{"display_name":"Hana"}',
    });
  await expect.poll(async () => (await requestToken()).status, { timeout: 15_000 }).toBe(200);
  callee = await startBaresipCallee({ user: 'grace', toneHz: 700 });

  await signIn(page, platform);
  await page.getByRole('link', { name: 'Live status' }).click();
  const card = page.locator('article.conference').filter({ hasText: 'Console Dial Room' });
  await expect(card).toBeVisible({ timeout: 15_000 });
  await card.getByRole('button', { name: 'Dial out to participant' }).click();
  // Over TCP: the node's SIP UDP follows the global setting, off by default.
  await card.getByLabel('Participant alias').fill(`sip:grace@127.0.0.1:${callee.port};transport=tcp`);
  await card.getByLabel('Role').selectOption('chair');
  await card.getByLabel('Participant display name').fill('Grace');
  await card.getByRole('button', { name: 'Dial', exact: true }).click();

  const row = page.getByTestId('live-participant').filter({ hasText: 'Grace' });
  await expect(row).toBeVisible({ timeout: 15_000 });
  await expect.poll(() => callee!.output(), { timeout: 15_000 }).toMatch(/established/i);
  await expect(row).toContainText(/host|chair/i);
  // The phone hangs up: the node takes it out of the conference and the console's list.
  await callee.stop();
  callee = undefined;
  await expect(row).toHaveCount(0, { timeout: 15_000 });
});
