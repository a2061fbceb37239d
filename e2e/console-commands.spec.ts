import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { COLORS, toneLevels, TONES, useFakeMedia, type ColorName } from './support/fakeMedia.js';
import { createVmr, startPlatform, type Platform } from './support/platform.js';
import { signIn } from './support/signIn.js';

/**
 * An administrator acts on a live meeting from the console's Live status page (issue 12): muting a
 * Host there silences their tone for the other participant's browser, unmuting brings it back;
 * locking the conference there makes a newcomer wait; a transfer there moves a Guest to another meeting. Real server, real node, real Chromium; each
 * participant sends its own colour and tone (e2e/support/fakeMedia.ts).
 */
let platform: Platform;
test.beforeAll(async () => {
  platform = await startPlatform({ managementPort: 20080, nodePort: 20081, mediaPorts: '38400-38599' });
});
test.afterAll(async () => platform?.stop());

interface Person {
  name: string;
  camera: ColorName;
  tone: number;
}
const ANN: Person = { name: 'Ann', camera: 'red', tone: TONES[0] };
const BEN: Person = { name: 'Ben', camera: 'green', tone: TONES[1] };
const HOST_PIN = '1357';
/** A tone counts as heard above this level (dB); silence is about -100, a received tone about -30. */
const HEARD_DB = -65;
const SILENT_DB = -80;

const contexts: BrowserContext[] = [];
test.afterEach(async () => {
  await Promise.all(contexts.splice(0).map((c) => c.close()));
});

let rooms = 0;
async function room(name: string): Promise<string> {
  const alias = `meet.console.${++rooms}.${Date.now()}`;
  await createVmr(platform, { name, aliases: [{ alias }], pin: HOST_PIN, allow_guests: true });
  await expect
    .poll(
      async () =>
        (
          await fetch(`${platform.nodeUrl}/api/client/v2/conferences/${alias}/request_token`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{"display_name":"probe"}',
          })
        ).status,
      { timeout: 15_000 },
    )
    .not.toBe(404);
  return alias;
}

interface Joined {
  page: Page;
  uuid: string;
}

async function join(browser: Browser, alias: string, person: Person, role: 'host' | 'guest', heading?: string): Promise<Joined> {
  const ctx = await browser.newContext();
  contexts.push(ctx);
  await useFakeMedia(ctx, { color: [...COLORS[person.camera]], screenColor: [...COLORS.white], toneHz: person.tone });
  const page = await ctx.newPage();
  page.on('pageerror', (err) => console.error(`[${person.name}] ${err.message}`));
  await page.goto(`${platform.nodeUrl}/webapp/?alias=${encodeURIComponent(alias)}&name=${encodeURIComponent(person.name)}`);
  await page.getByRole('button', { name: 'Join' }).click();
  await page.getByLabel('PIN').fill(role === 'host' ? HOST_PIN : '');
  await page.getByRole('button', { name: 'Join' }).click();
  if (heading) await expect(page.getByRole('heading', { name: heading })).toBeVisible({ timeout: 20_000 });
  await expect.poll(() => page.evaluate(() => window.meeting?.token.participant_uuid ?? ''), { timeout: 20_000 }).not.toBe('');
  return { page, uuid: await page.evaluate(() => window.meeting!.token.participant_uuid) };
}

async function levelOf(listener: Page, speaker: Joined, person: Person): Promise<number> {
  const levels = await toneLevels(listener, TONES);
  return levels[speaker.uuid]?.[person.tone] ?? -200;
}

async function console_(browser: Browser): Promise<Page> {
  const ctx = await browser.newContext();
  contexts.push(ctx);
  const page = await ctx.newPage();
  await signIn(page, platform);
  await page.getByRole('link', { name: 'Live status' }).click();
  return page;
}

const participantRow = (page: Page, name: string) => page.getByTestId('live-participant').filter({ hasText: name });

test('an administrator mutes a Host from the console: the other browser stops hearing their tone, and hears it again on unmute', async ({ browser }) => {
  const alias = await room('Console Mute Room');
  const ann = await join(browser, alias, ANN, 'host', 'Console Mute Room');
  const ben = await join(browser, alias, BEN, 'guest', 'Console Mute Room');
  await expect.poll(() => levelOf(ben.page, ann, ANN), { timeout: 20_000 }).toBeGreaterThan(HEARD_DB);
  // The node timed both joins (request_token to media set up).
  const nodeMetrics = await (await fetch(`${platform.nodeUrl}/metrics`)).text();
  expect(Number(/^openmeet_node_join_seconds_count\{[^}]*\} (\d+)/m.exec(nodeMetrics)?.[1])).toBeGreaterThanOrEqual(2);
  // …and counts the media bytes it received from them and sent to them.
  for (const direction of ['rx', 'tx'])
    expect(Number(new RegExp(`^openmeet_node_media_bytes_total\\{direction="${direction}"[^}]*\\} (\\d+)`, 'm').exec(nodeMetrics)?.[1])).toBeGreaterThan(
      10_000,
    );

  const admin = await console_(browser);
  const annRow = participantRow(admin, 'Ann');
  await expect(annRow).toBeVisible({ timeout: 15_000 });
  await annRow.getByRole('button', { name: 'Mute', exact: true }).click();
  // The node reports the new state back: the row now offers Unmute only.
  await expect(annRow.getByRole('button', { name: 'Unmute', exact: true })).toBeVisible();
  await expect(annRow.getByRole('button', { name: 'Mute', exact: true })).toHaveCount(0);
  await expect.poll(() => levelOf(ben.page, ann, ANN), { timeout: 10_000 }).toBeLessThan(SILENT_DB);
  // Only Ann is silenced: Ann still hears Ben.
  await expect.poll(() => levelOf(ann.page, ben, BEN), { timeout: 10_000 }).toBeGreaterThan(HEARD_DB);

  await annRow.getByRole('button', { name: 'Unmute', exact: true }).click();
  await expect(annRow.getByRole('button', { name: 'Mute', exact: true })).toBeVisible();
  await expect.poll(() => levelOf(ben.page, ann, ANN), { timeout: 15_000 }).toBeGreaterThan(HEARD_DB);
});

test('an administrator locks a conference from the console: a new Guest waits until admitted there', async ({ browser }) => {
  const alias = await room('Console Lock Room');
  await join(browser, alias, ANN, 'host', 'Console Lock Room');
  const admin = await console_(browser);
  const card = admin.locator('article.conference').filter({ hasText: 'Console Lock Room' });
  await expect(card).toBeVisible({ timeout: 15_000 });
  await card.getByRole('button', { name: 'Lock', exact: true }).click();
  await expect(card.getByRole('button', { name: 'Unlock', exact: true })).toBeVisible();

  const ben = await join(browser, alias, BEN, 'guest');
  await expect(ben.page.getByTestId('splash')).toBeVisible({ timeout: 15_000 });
  await participantRow(admin, 'Ben').getByRole('button', { name: 'Admit', exact: true }).click();
  await expect(ben.page.getByTestId('splash')).toHaveCount(0, { timeout: 15_000 });
  await card.getByRole('button', { name: 'Unlock', exact: true }).click();
  await expect(card.getByRole('button', { name: 'Lock', exact: true })).toBeVisible();
});

test('an administrator transfers a Guest from the console: they land in the other meeting, listed under it', async ({ browser }) => {
  const alias = await room('Console Transfer Room');
  const target = await room('Console Transfer Target');
  await join(browser, alias, ANN, 'host', 'Console Transfer Room');
  const ben = await join(browser, alias, BEN, 'guest', 'Console Transfer Room');
  const admin = await console_(browser);
  const benRow = participantRow(admin, 'Ben');
  await benRow.getByRole('button', { name: 'Transfer…' }).click();
  const form = benRow.getByRole('form', { name: 'Transfer Ben' });
  await form.getByLabel('Alias to transfer to').fill(target);
  await form.getByRole('button', { name: 'Transfer', exact: true }).click();
  await expect(ben.page.getByRole('heading', { name: 'Console Transfer Target' })).toBeVisible({ timeout: 20_000 });
  await expect(
    admin.locator('article.conference').filter({ hasText: 'Console Transfer Target' }).getByTestId('live-participant').filter({ hasText: 'Ben' }),
  ).toBeVisible({
    timeout: 15_000,
  });
  await expect(admin.locator('article.conference').filter({ hasText: 'Console Transfer Room' }).getByTestId('live-participant')).toHaveCount(1);
});

test('an administrator spotlights a Guest from the console: the row then offers only Remove spotlight, and the Host sees the spotlight', async ({
  browser,
}) => {
  const alias = await room('Console Spotlight Room');
  const ann = await join(browser, alias, ANN, 'host', 'Console Spotlight Room');
  await join(browser, alias, BEN, 'guest', 'Console Spotlight Room');
  const admin = await console_(browser);
  const benRow = participantRow(admin, 'Ben');
  await expect(benRow).toBeVisible({ timeout: 15_000 });
  // The node reports Ben is not spotlighted: only Spotlight is offered.
  const spotlight = benRow.getByRole('button', { name: 'Spotlight', exact: true });
  const remove = benRow.getByRole('button', { name: 'Remove spotlight', exact: true });
  await expect(spotlight).toBeVisible();
  await expect(remove).toHaveCount(0);
  const benInAnnsList = ann.page.getByTestId('participant').filter({ has: ann.page.getByTestId('participant-name').getByText('Ben', { exact: true }) });

  await spotlight.click();
  await expect(remove).toBeVisible();
  await expect(spotlight).toHaveCount(0);
  await expect(benInAnnsList.getByTestId('spotlit')).toBeVisible({ timeout: 10_000 });

  await remove.click();
  await expect(spotlight).toBeVisible();
  await expect(remove).toHaveCount(0);
  await expect(benInAnnsList.getByTestId('spotlit')).toHaveCount(0, { timeout: 10_000 });
});
