import { expect, test, type Browser, type Page } from '@playwright/test';
import { createVmr, startPlatform, type Platform } from './support/platform.js';
import { signIn } from './support/signIn.js';

// Ports apart from the defaults so a running instance on :8080/:8081 does not interfere.
let platform: Platform;
test.beforeAll(async () => {
  platform = await startPlatform({ managementPort: 18080, nodePort: 18081, mediaPorts: '42000-42999' });
});
test.afterAll(async () => {
  await platform?.stop();
});

async function openJoin(browser: Browser, alias: string, name: string): Promise<Page> {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${platform.nodeUrl}/webapp/?alias=${encodeURIComponent(alias)}`);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join' }).click();
  return page;
}

async function enterPin(page: Page, pin: string) {
  await page.getByLabel('PIN').fill(pin);
  await page.getByRole('button', { name: 'Join' }).click();
}

/** What the participant's browser reports about the media it receives (RTCPeerConnection.getStats()). */
async function inbound(page: Page) {
  return page.evaluate(async () => {
    const pc = window.meeting?.pc;
    const out = { videoFramesDecoded: 0, audioPacketsReceived: 0 };
    if (!pc) return out;
    (await pc.getStats()).forEach((r: { type: string; kind?: string; framesDecoded?: number; packetsReceived?: number }) => {
      if (r.type !== 'inbound-rtp') return;
      if (r.kind === 'video') out.videoFramesDecoded += r.framesDecoded ?? 0;
      if (r.kind === 'audio') out.audioPacketsReceived += r.packetsReceived ?? 0;
    });
    return out;
  });
}

test('an administrator creates a PIN-protected VMR; two browsers meet in it; live status follows', async ({ browser }) => {
  const admin = await browser.newPage();
  await signIn(admin, platform);

  await admin.getByRole('navigation').getByRole('link', { name: 'Virtual Meeting Rooms', exact: true }).click();
  await admin.getByRole('link', { name: 'Add Virtual Meeting Room' }).click();
  await admin.getByLabel('Name', { exact: true }).fill('E2E Room');
  await admin.getByLabel('Alias 1', { exact: true }).fill('meet.e2e@example.com');
  await admin.getByLabel('Host PIN').fill('2468');
  await admin.getByRole('button', { name: 'Save' }).click();
  await expect(admin).toHaveURL(/\/vmrs$/);
  await expect(admin.getByRole('link', { name: 'E2E Room' })).toBeVisible();

  await admin.goto(`${platform.consoleUrl}/status`);
  await expect(admin.getByTestId('live-participant-count')).toHaveText('0 participants');

  // Alice dials the alias as a SIP URI would arrive; normalisation ignores the scheme and case.
  const alice = await openJoin(browser, 'sip:Meet.E2E@example.com', 'Alice');
  await enterPin(alice, '2468');
  const bob = await openJoin(browser, 'meet.e2e@example.com', 'Bob');
  await enterPin(bob, '1111');
  await expect(bob.getByRole('alert')).toContainText('The PIN is invalid for this conference.');
  await enterPin(bob, '2468');

  for (const page of [alice, bob]) {
    await expect.poll(async () => (await inbound(page)).videoFramesDecoded, { timeout: 20_000 }).toBeGreaterThan(0);
    await expect.poll(async () => (await inbound(page)).audioPacketsReceived, { timeout: 20_000 }).toBeGreaterThan(0);
    await expect(page.getByTestId('roster').getByRole('listitem')).toHaveCount(2);
  }

  // The console page was never reloaded: the WebSocket subscription brought the joins.
  await expect(admin.getByTestId('live-participant-count')).toHaveText('2 participants', { timeout: 2_000 });
  await expect(admin.getByTestId('live-participant')).toHaveCount(2);
  await expect(admin.getByTestId('live-participant').filter({ hasText: 'Alice' })).toContainText('sip:Meet.E2E@example.com');

  await alice.getByRole('button', { name: 'Leave' }).click();
  await expect(admin.getByTestId('live-participant')).toHaveCount(1, { timeout: 2_000 });
  await expect(admin.getByTestId('live-participant')).toContainText('Bob');
  await expect(bob.getByTestId('roster').getByRole('listitem')).toHaveCount(1);
  await bob.getByRole('button', { name: 'Leave' }).click();
  await expect(admin.getByTestId('live-participant-count')).toHaveText('0 participants', { timeout: 2_000 });
  await expect(admin.getByText('No active conferences')).toBeVisible();
});

test('three wrong PINs end the attempt with the guide message', async ({ browser }) => {
  const services = async () => ((await (await fetch(`${platform.nodeUrl}/healthz`)).json()) as { services: number }).services;
  const before = await services();
  await createVmr(platform, { name: 'PIN Room', aliases: [{ alias: 'meet.pin' }], pin: '1357' });
  await expect.poll(services).toBe(before + 1);
  const page = await openJoin(browser, 'meet.pin', 'Mallory');
  for (let i = 0; i < 3; i++) await enterPin(page, '9999');
  await expect(page.getByRole('alert')).toHaveText('Participant exceeded PIN entry retries.');
  await expect(page.getByLabel('PIN')).toHaveCount(0);
});

test("the console shows the guide's validation errors beside the fields", async ({ browser }) => {
  await createVmr(platform, { name: 'Taken', aliases: [{ alias: 'meet.taken' }] });
  const admin = await browser.newPage();
  await signIn(admin, platform);
  await admin.goto(`${platform.consoleUrl}/vmrs/new`);
  await admin.getByLabel('Name', { exact: true }).fill('Clashing room');
  await admin.getByLabel('Host PIN').fill('1234');
  await admin.getByLabel('Allow Guests').check();
  await admin.getByLabel('Guest PIN').fill('12345');
  await admin.getByLabel('Alias 1', { exact: true }).fill('SIP:Meet.Taken');
  await admin.getByRole('button', { name: 'Save' }).click();
  // Client-side first (the shared schema), beside Guest PIN.
  await expect(admin.locator('#guest_pin-error')).toHaveText('Host and Guest PINs must have the same number of digits unless both end in #.');
  await admin.getByLabel('Guest PIN').fill('5678');
  await admin.getByRole('button', { name: 'Save' }).click();
  // Then the server's uniqueness check, beside the alias that clashes.
  await expect(admin.locator('#alias-0-error')).toHaveText('This alias is already in use by the service "Taken".');
  await expect(admin).toHaveURL(/\/vmrs\/new$/);

  // Fixed, it saves; the administrator log shows who added it, without the PIN values.
  await admin.getByLabel('Alias 1', { exact: true }).fill('meet.clash.fixed');
  await admin.getByRole('button', { name: 'Save' }).click();
  await expect(admin).toHaveURL(/\/vmrs$/);
  await admin.getByRole('link', { name: 'Administrator log' }).click();
  // The room list has a Search box too: type once the log's page is there (a loaded CI typed into the list's).
  await expect(admin.getByRole('heading', { name: 'Administrator log' })).toBeVisible();
  await admin.getByLabel('Search').fill('Clashing room');
  const entry = admin.getByTestId('admin-log-entry');
  await expect(entry).toHaveCount(1);
  await expect(entry).toContainText('admin');
  await expect(entry).toContainText('added');
  await expect(entry).toContainText('meet.clash.fixed');
  await expect(entry).not.toContainText('5678');
});
