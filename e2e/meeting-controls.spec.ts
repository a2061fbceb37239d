import { expect, test, type Browser, type BrowserContext, type Page, type TestInfo } from '@playwright/test';
import { COLORS, nearestColor, presentationColor, sampleTiles, setTone, toneLevels, TONES, useFakeMedia, type ColorName } from './support/fakeMedia.js';
import { lowContrastText } from './support/contrast.js';
import { createVmr, startPlatform, type Platform } from './support/platform.js';

/**
 * Meeting control as people use it, through the meeting client (/webapp/): a Host mutes,
 * locks and admits, spotlights, makes Hosts, transfers; Guests raise hands and see the Host's
 * layout. Each participant sends its own colour and tone (e2e/support/fakeMedia.ts) and we check
 * who hears and sees whom. Real management server, real node, real Chromium.
 */
let platform: Platform;
test.beforeAll(async () => {
  platform = await startPlatform({ managementPort: 19180, nodePort: 19181, mediaPorts: '39000-39999' });
});
test.afterAll(async () => platform?.stop());

interface Person {
  name: string;
  camera: ColorName;
  tone: number;
}
const ANN: Person = { name: 'Ann', camera: 'red', tone: TONES[0] };
const BEN: Person = { name: 'Ben', camera: 'green', tone: TONES[1] };
const CAT: Person = { name: 'Cat', camera: 'blue', tone: TONES[2] };
const DAN: Person = { name: 'Dan', camera: 'yellow', tone: TONES[3] };

const HOST_PIN = '2468';
/** A tone counts as heard above this level (dB); silence is about -100, a received tone about -30. */
const HEARD_DB = -65;
const SILENT_DB = -80;

const contexts: BrowserContext[] = [];
test.afterEach(async () => {
  await Promise.all(contexts.splice(0).map((c) => c.close()));
});

let rooms = 0;
/** A VMR with a Host PIN where Guests enter without one. */
async function room(name: string, extra: Record<string, unknown> = {}): Promise<string> {
  const alias = `meet.controls.${++rooms}.${Date.now()}`;
  await createVmr(platform, { name, aliases: [{ alias }], pin: HOST_PIN, allow_guests: true, ...extra });
  // The node has it once its request_token no longer answers "not found".
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

/** Joins through the pre-join page, as a Host (with the Host PIN) or a Guest (PIN left blank). */
async function join(
  browser: Browser,
  alias: string,
  person: Person,
  role: 'host' | 'guest',
  opts: { viewport?: { width: number; height: number }; heading?: string } = {},
): Promise<Joined> {
  const ctx = await browser.newContext(opts.viewport ? { viewport: opts.viewport } : {});
  contexts.push(ctx);
  await useFakeMedia(ctx, { color: [...COLORS[person.camera]], screenColor: [...COLORS.white], toneHz: person.tone });
  const page = await ctx.newPage();
  page.on('pageerror', (err) => console.error(`[${person.name}] ${err.message}`));
  await page.goto(`${platform.nodeUrl}/webapp/?alias=${encodeURIComponent(alias)}&name=${encodeURIComponent(person.name)}`);
  await page.getByRole('button', { name: 'Join' }).click();
  await page.getByLabel('PIN').fill(role === 'host' ? HOST_PIN : '');
  await page.getByRole('button', { name: 'Join' }).click();
  if (opts.heading) await expect(page.getByRole('heading', { name: opts.heading })).toBeVisible({ timeout: 20_000 });
  await expect.poll(() => page.evaluate(() => window.meeting?.token.participant_uuid ?? ''), { timeout: 20_000 }).not.toBe('');
  const uuid = await page.evaluate(() => window.meeting!.token.participant_uuid);
  return { page, uuid };
}

const roster = (page: Page) => page.getByTestId('roster');
const row = (page: Page, name: string) =>
  roster(page)
    .getByTestId('participant')
    .filter({ has: page.getByTestId('participant-name').getByText(name, { exact: true }) });
const header = (page: Page) => page.locator('main.call header');

/** Opens a participant's action menu in the Host's list and presses one action. */
async function hostAction(page: Page, name: string, action: string) {
  const summary = roster(page).getByLabel(`Actions for ${name}`);
  const details = row(page, name).locator('details.actions');
  if (!(await details.evaluate((d) => (d as HTMLDetailsElement).open))) await summary.click();
  await row(page, name).getByRole('button', { name: action, exact: true }).click();
}

/** The level (dB) at which `listener` hears `speaker`'s tone in what it receives from `speaker`; -200 when nothing. */
async function levelOf(listener: Page, speaker: Joined, person: Person): Promise<number> {
  const levels = await toneLevels(listener, TONES);
  return levels[speaker.uuid]?.[person.tone] ?? -200;
}

/** The named colour of the video in the page's main tile, and whose tile it is. */
async function mainTile(page: Page): Promise<{ name: string; color: ColorName | null } | null> {
  const main = await page
    .locator('[data-testid="participant-tile"][data-area="main"]')
    .first()
    .getAttribute('data-display-name')
    .catch(() => null);
  if (!main) return null;
  const tile = (await sampleTiles(page)).find((t) => t.name === main);
  return { name: main, color: nearestColor(tile?.rgb ?? null) };
}

async function screenshot(page: Page, info: TestInfo, name: string) {
  // Kept under test-results/ (not committed) and attached to the report.
  const path = info.outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await info.attach(name, { path, contentType: 'image/png' });
}

test('a Host mutes a Guest: the others stop hearing that Guest, then hear them again after unmute', async ({ browser }) => {
  const alias = await room('Mute Room');
  const ann = await join(browser, alias, ANN, 'host', { heading: 'Mute Room' });
  const ben = await join(browser, alias, BEN, 'guest', { heading: 'Mute Room' });
  const cat = await join(browser, alias, CAT, 'guest', { heading: 'Mute Room' });
  for (const p of [ann, ben, cat]) await expect(roster(p.page).getByTestId('participant')).toHaveCount(3, { timeout: 15_000 });

  // Everyone hears Ben's tone first.
  for (const listener of [ann, cat]) await expect.poll(() => levelOf(listener.page, ben, BEN), { timeout: 20_000 }).toBeGreaterThan(HEARD_DB);

  await hostAction(ann.page, 'Ben', 'Mute Ben');
  await expect(row(cat.page, 'Ben').getByTestId('muted-by-host')).toBeVisible();
  await expect(cat.page.locator('[data-testid="participant-tile"][data-display-name="Ben"]').getByRole('img', { name: 'Microphone muted' })).toBeVisible();
  await expect(ben.page.getByTestId('toast').filter({ hasText: 'A Host muted your microphone' })).toBeVisible();
  await expect(ben.page.getByRole('toolbar').getByRole('button', { name: 'Unmute', exact: true })).toBeVisible();
  for (const listener of [ann, cat]) await expect.poll(() => levelOf(listener.page, ben, BEN), { timeout: 10_000 }).toBeLessThan(SILENT_DB);
  // Only Ben: Cat still hears Ann.
  await expect.poll(() => levelOf(cat.page, ann, ANN), { timeout: 10_000 }).toBeGreaterThan(HEARD_DB);

  await hostAction(ann.page, 'Ben', 'Unmute Ben');
  await expect(row(cat.page, 'Ben').getByTestId('muted-by-host')).toHaveCount(0);
  for (const listener of [ann, cat]) await expect.poll(() => levelOf(listener.page, ben, BEN), { timeout: 15_000 }).toBeGreaterThan(HEARD_DB);
});

test('a Host locks the meeting: a new Guest waits in the lobby until the Host admits them', async ({ browser }) => {
  const alias = await room('Lobby Room');
  const ann = await join(browser, alias, ANN, 'host', { heading: 'Lobby Room' });
  await expect(ann.page.getByTestId('alone')).toHaveText(/You are the only one here/);

  await ann.page.getByRole('button', { name: 'Lock meeting' }).click();
  await expect(header(ann.page).getByTestId('locked')).toBeVisible();

  const dan = await join(browser, alias, DAN, 'guest');
  await expect(dan.page.getByTestId('splash')).toBeVisible({ timeout: 15_000 });
  await expect(row(ann.page, 'Dan')).toContainText('In the lobby', { timeout: 15_000 });
  await expect(ann.page.getByTestId('toast').filter({ hasText: 'Dan is waiting in the lobby' })).toBeVisible();
  // Held: Dan sees nobody's video.
  await expect(dan.page.locator('[data-testid="participant-tile"][data-display-name="Ann"] video')).toHaveCount(0);

  await roster(ann.page).getByRole('button', { name: 'Admit Dan' }).click();
  await expect(dan.page.getByTestId('splash')).toHaveCount(0, { timeout: 15_000 });
  await expect(row(ann.page, 'Dan')).not.toContainText('In the lobby');
  // In: Dan sees Ann's red camera, Ann sees Dan's yellow one.
  await expect.poll(async () => (await mainTile(dan.page))?.color, { timeout: 20_000 }).toBe('red');
  await expect.poll(async () => (await mainTile(ann.page))?.color, { timeout: 20_000 }).toBe('yellow');

  await ann.page.getByRole('button', { name: 'Unlock meeting' }).click();
  await expect(header(ann.page).getByTestId('locked')).toHaveCount(0);
});

test('spotlight: the spotlit participant leads the stage for everyone, whoever speaks', async ({ browser }) => {
  const alias = await room('Spotlight Room');
  const ann = await join(browser, alias, ANN, 'host', { heading: 'Spotlight Room' });
  const ben = await join(browser, alias, BEN, 'guest', { heading: 'Spotlight Room' });
  const cat = await join(browser, alias, CAT, 'guest', { heading: 'Spotlight Room' });
  // Only Ben speaks: he is on the main tile for Ann.
  await setTone(ann.page, false);
  await setTone(cat.page, false);
  await expect.poll(async () => (await mainTile(ann.page))?.name, { timeout: 20_000 }).toBe('Ben');

  await hostAction(ann.page, 'Cat', 'Spotlight Cat');
  for (const p of [ann, ben]) {
    await expect.poll(async () => await mainTile(p.page), { timeout: 15_000 }).toEqual({ name: 'Cat', color: 'blue' });
    await expect(row(p.page, 'Cat').getByTestId('spotlit')).toBeVisible();
  }
  await expect(cat.page.getByTestId('toast').filter({ hasText: 'You are in the spotlight' })).toBeVisible();

  await hostAction(ann.page, 'Cat', 'Remove spotlight from Cat');
  await expect.poll(async () => (await mainTile(ann.page))?.name, { timeout: 15_000 }).toBe('Ben');
});

test('make Host: a promoted Guest can mute others', async ({ browser }) => {
  const alias = await room('Role Room');
  const ann = await join(browser, alias, ANN, 'host', { heading: 'Role Room' });
  const ben = await join(browser, alias, BEN, 'guest', { heading: 'Role Room' });
  const cat = await join(browser, alias, CAT, 'guest', { heading: 'Role Room' });
  await expect(header(ben.page).getByText('Guest', { exact: true })).toBeVisible();
  await expect(roster(ben.page).getByLabel('Actions for Cat')).toHaveCount(0);
  await expect.poll(() => levelOf(ann.page, cat, CAT), { timeout: 20_000 }).toBeGreaterThan(HEARD_DB);

  await hostAction(ann.page, 'Ben', 'Make Ben a Host');
  await expect(header(ben.page).getByText('Host', { exact: true })).toBeVisible({ timeout: 10_000 });
  await expect(ben.page.getByTestId('toast').filter({ hasText: 'You are now a Host' })).toBeVisible();
  await expect(row(ann.page, 'Ben')).toContainText('Host');

  await hostAction(ben.page, 'Cat', 'Mute Cat');
  await expect(row(ann.page, 'Cat').getByTestId('muted-by-host')).toBeVisible();
  await expect.poll(() => levelOf(ann.page, cat, CAT), { timeout: 10_000 }).toBeLessThan(SILENT_DB);
});

test('transfer: a Host moves a Guest to another meeting, where they land', async ({ browser }) => {
  const alias = await room('Transfer Room');
  const target = await room('Transfer Target');
  const ann = await join(browser, alias, ANN, 'host', { heading: 'Transfer Room' });
  const ben = await join(browser, alias, BEN, 'guest', { heading: 'Transfer Room' });
  const dan = await join(browser, alias, DAN, 'guest', { heading: 'Transfer Room' });
  await expect(roster(ann.page).getByTestId('participant')).toHaveCount(3, { timeout: 15_000 });

  // As a Host there, without that meeting's Host PIN: the transfer fails, and as the guide says
  // Dan is disconnected rather than kept here; the Host is told why.
  await hostAction(ann.page, 'Dan', 'Transfer Dan…');
  const danForm = ann.page.getByRole('form', { name: 'Transfer Dan' });
  await danForm.getByLabel('To meeting alias').fill(target);
  await danForm.getByRole('combobox').selectOption('host');
  await danForm.getByRole('button', { name: 'Transfer', exact: true }).click();
  await expect(ann.page.getByRole('region', { name: 'Participants' }).getByRole('alert')).toContainText(
    "was disconnected. Check the alias, and give that meeting's Host PIN",
  );
  await expect(dan.page.getByText('You could not be moved to the other meeting.')).toBeVisible({ timeout: 15_000 });
  await expect(roster(ann.page).getByTestId('participant')).toHaveCount(2, { timeout: 15_000 });

  await hostAction(ann.page, 'Ben', 'Transfer Ben…');
  const form = ann.page.getByRole('form', { name: 'Transfer Ben' });
  await form.getByLabel('To meeting alias').fill(target);
  await form.getByRole('combobox').selectOption('host');
  await form.getByLabel('Their PIN there (if any)').fill(HOST_PIN);
  await form.getByRole('button', { name: 'Transfer', exact: true }).click();

  await expect(ben.page.getByRole('heading', { name: 'Transfer Target' })).toBeVisible({ timeout: 20_000 });
  // Transferred as a Host: he is Host there without its PIN, and alone.
  await expect(header(ben.page).getByText('Host', { exact: true })).toBeVisible();
  await expect(ben.page.getByTestId('alone')).toHaveText(/You are the only one here/);
  await expect(roster(ann.page).getByTestId('participant')).toHaveCount(1, { timeout: 15_000 });
  await expect(ann.page.getByTestId('toast').filter({ hasText: 'Ben left' })).toBeVisible();
  // Ben's camera and microphone came along: Cat, joining the target, sees and hears him.
  const cat = await join(browser, target, CAT, 'guest', { heading: 'Transfer Target' });
  await expect.poll(async () => (await mainTile(cat.page))?.color, { timeout: 20_000 }).toBe('green');
  await expect
    .poll(async () => levelOf(cat.page, { page: ben.page, uuid: await ben.page.evaluate(() => window.meeting!.token.participant_uuid) }, BEN), {
      timeout: 20_000,
    })
    .toBeGreaterThan(HEARD_DB);
});

/** Decoded frames of the page's presentation video so far; -1 when it shows none. */
const presentationFrames = (page: Page) =>
  page.evaluate(() => document.querySelector<HTMLVideoElement>('video[data-testid="presentation-video"]')?.getVideoPlaybackQuality().totalVideoFrames ?? -1);
/** Whether the presentation video is advancing: more frames decoded over one second. */
async function presentationFlowing(page: Page): Promise<boolean> {
  const before = await presentationFrames(page);
  await page.waitForTimeout(1_000);
  const after = await presentationFrames(page);
  return before >= 0 && after > before;
}

test('a Host stops sending the presentation to one Guest: that Guest gets no frames while the other still does, then gets it back', async ({ browser }) => {
  const alias = await room('Presentation Room', { guests_can_present: true });
  const ann = await join(browser, alias, ANN, 'host', { heading: 'Presentation Room' });
  const ben = await join(browser, alias, BEN, 'guest', { heading: 'Presentation Room' });
  const cat = await join(browser, alias, CAT, 'guest', { heading: 'Presentation Room' });
  for (const p of [ann, ben, cat]) await expect(roster(p.page).getByTestId('participant')).toHaveCount(3, { timeout: 15_000 });

  await ann.page.getByRole('button', { name: 'Share screen' }).click();
  await expect(ann.page.getByRole('button', { name: 'Stop sharing' })).toBeVisible({ timeout: 10_000 });
  for (const p of [ben, cat]) {
    await expect.poll(() => presentationColor(p.page), { timeout: 30_000 }).toBe('white');
    await expect.poll(() => presentationFlowing(p.page), { timeout: 10_000 }).toBe(true);
  }

  await hostAction(ann.page, 'Cat', 'Stop sending the presentation to Cat');
  await expect(row(ann.page, 'Cat').getByTestId('presentation-denied')).toBeVisible();
  // The node stops forwarding it: Cat's presentation video goes, and she is told why.
  await expect(cat.page.getByTestId('presentation-video')).toHaveCount(0, { timeout: 10_000 });
  await expect(cat.page.getByTestId('presentation-withheld')).toHaveText('A Host stopped the presentation being sent to you');
  expect(await presentationFlowing(cat.page)).toBe(false);
  // Ben still receives it, frame after frame.
  expect(await presentationFlowing(ben.page)).toBe(true);
  expect(await presentationColor(ben.page)).toBe('white');

  await hostAction(ann.page, 'Cat', 'Send the presentation to Cat');
  await expect.poll(() => presentationColor(cat.page), { timeout: 20_000 }).toBe('white');
  await expect.poll(() => presentationFlowing(cat.page), { timeout: 10_000 }).toBe(true);
  await expect(row(ann.page, 'Cat').getByTestId('presentation-denied')).toHaveCount(0);
});

test('a Host renames a tile: the others see the overlay text instead of the name', async ({ browser }) => {
  const alias = await room('Overlay Room');
  const ann = await join(browser, alias, ANN, 'host', { heading: 'Overlay Room' });
  await join(browser, alias, BEN, 'guest', { heading: 'Overlay Room' });
  const cat = await join(browser, alias, CAT, 'guest', { heading: 'Overlay Room' });
  await expect(roster(ann.page).getByTestId('participant')).toHaveCount(3, { timeout: 15_000 });
  ann.page.once('dialog', (d) => void d.accept('Ben (interpreter)'));
  await hostAction(ann.page, 'Ben', "Rename Ben's tile…");
  for (const p of [ann, cat])
    await expect(p.page.locator('[data-testid="participant-tile"][data-display-name="Ben (interpreter)"]')).toBeVisible({ timeout: 10_000 });
  // The roster keeps his own name.
  await expect(row(cat.page, 'Ben')).toHaveCount(1);
});

test('a raised hand is seen by the Host, who lowers it', async ({ browser }) => {
  const alias = await room('Hand Room');
  const ann = await join(browser, alias, ANN, 'host', { heading: 'Hand Room' });
  const ben = await join(browser, alias, BEN, 'guest', { heading: 'Hand Room' });
  await ben.page.getByRole('button', { name: 'Raise hand' }).click();
  await expect(row(ann.page, 'Ben').getByTestId('hand-raised')).toBeVisible();
  await expect(ann.page.getByTestId('toast').filter({ hasText: 'Ben raised their hand' })).toBeVisible();
  await expect(ben.page.getByRole('button', { name: 'Lower hand' })).toHaveAttribute('aria-pressed', 'true');

  await ann.page.getByRole('button', { name: 'Lower all hands' }).click();
  await expect(row(ann.page, 'Ben').getByTestId('hand-raised')).toHaveCount(0);
  await expect(ben.page.getByRole('button', { name: 'Raise hand' })).toHaveAttribute('aria-pressed', 'false');
});

test('the layout a Host chooses for everyone is what Guests see', async ({ browser }) => {
  const alias = await room('Layout Room');
  const ann = await join(browser, alias, ANN, 'host', { heading: 'Layout Room' });
  const ben = await join(browser, alias, BEN, 'guest', { heading: 'Layout Room' });
  await expect(ben.page.getByTestId('media-stage')).toHaveAttribute('data-layout', '1:7');

  // Without "For everyone" the choice is the Host's own.
  await ann.page.getByLabel('Layout').selectOption('1:0');
  await expect(ann.page.getByTestId('media-stage')).toHaveAttribute('data-layout', '1:0');
  await ben.page.waitForTimeout(1_500);
  await expect(ben.page.getByTestId('media-stage')).toHaveAttribute('data-layout', '1:7');

  await ann.page.getByLabel('For everyone').check();
  await ann.page.getByLabel('Layout').selectOption('4:0');
  await expect(ben.page.getByTestId('media-stage')).toHaveAttribute('data-layout', '4:0', { timeout: 10_000 });
  await expect(ben.page.getByLabel('Layout')).toHaveValue('4:0');
  // Every layout of Pexip's set reaches the Guests; the gallery is not in it, so it is offered for the Host alone.
  for (const l of ['1:21', '2:21', '1:0', '1:7']) {
    await ann.page.getByLabel('Layout').selectOption(l);
    await expect(ben.page.getByTestId('media-stage')).toHaveAttribute('data-layout', l, { timeout: 10_000 });
  }
  await expect(ann.page.getByRole('option', { name: 'Gallery (only for you)' })).toBeDisabled();
  await ann.page.getByLabel('For everyone').uncheck();
  await ann.page.getByLabel('Layout').selectOption('auto');
  await expect(ann.page.getByTestId('media-stage')).toHaveAttribute('data-layout', 'auto');
  await ben.page.waitForTimeout(1_500);
  await expect(ben.page.getByTestId('media-stage')).toHaveAttribute('data-layout', '1:7');
});

test('on a phone the participant and chat panels open over the stage without squeezing it, and close again', async ({ browser }, info) => {
  const alias = await room('Phone Room');
  await join(browser, alias, ANN, 'host', { heading: 'Phone Room' });
  const ben = await join(browser, alias, BEN, 'guest', { heading: 'Phone Room', viewport: { width: 390, height: 844 } });
  const page = ben.page;
  const stage = page.getByRole('region', { name: 'Video' });
  await expect.poll(async () => (await mainTile(page))?.color, { timeout: 20_000 }).toBe('red');
  const before = await stage.boundingBox();

  const people = page.getByRole('toolbar').getByRole('button', { name: /People/ });
  await people.click();
  const panel = page.getByRole('complementary', { name: 'Participants and chat' });
  await expect(panel).toBeVisible();
  await expect(page.locator('#panel-participants')).toBeFocused();
  // Drawn over the page (fixed, within the screen), the stage keeps its size and place.
  expect(await panel.evaluate((a) => getComputedStyle(a).position)).toBe('fixed');
  const box = (await panel.boundingBox())!;
  expect(box.x).toBe(0);
  expect(box.width).toBeLessThanOrEqual(390);
  expect(box.y + box.height).toBeLessThanOrEqual(844 + 1);
  expect(await stage.boundingBox()).toEqual(before);
  await expect(row(page, 'Ann')).toBeVisible();
  expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
  await screenshot(page, info, 'people-panel-390');
  expect(await lowContrastText(page)).toEqual([]);

  // Escape closes it and gives the focus back to the People button; the Close button does too (chat).
  await page.keyboard.press('Escape');
  await expect(panel).toBeHidden();
  await expect(people).toBeFocused();
  await page.getByRole('toolbar').getByRole('button', { name: /Chat/ }).click();
  await expect(page.locator('#panel-chat')).toBeFocused();
  expect(await stage.boundingBox()).toEqual(before);
  await panel.getByRole('button', { name: 'Close' }).click();
  await expect(panel).toBeHidden();
});

test('on a 390 px phone and at 1440 px; a keyboard alone joins and mutes', async ({ browser }, info) => {
  const alias = await room('Screens Room');
  const ann = await join(browser, alias, ANN, 'host', { heading: 'Screens Room', viewport: { width: 1440, height: 900 } });

  // Dan uses only the keyboard on a phone-sized screen.
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } });
  contexts.push(ctx);
  await useFakeMedia(ctx, { color: [...COLORS.yellow], screenColor: [...COLORS.white], toneHz: DAN.tone });
  const dan = await ctx.newPage();
  await dan.goto(`${platform.nodeUrl}/webapp/?alias=${encodeURIComponent(alias)}`);
  await expect(dan.getByTestId('preview-video')).toBeVisible();
  // The preview is mirrored.
  expect(await dan.getByTestId('preview-video').evaluate((v) => getComputedStyle(v).transform)).toMatch(/^matrix\(-1/);
  await screenshot(dan, info, 'prejoin-390');
  expect(await lowContrastText(dan)).toEqual([]);
  const noSideways = () => dan.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  expect(await noSideways()).toBe(true);

  await dan.getByLabel('Your name').focus();
  await dan.keyboard.type('Dan');
  await dan.keyboard.press('Tab');
  await expect(dan.getByRole('button', { name: 'Join' })).toBeFocused();
  await dan.keyboard.press('Enter');
  await expect(dan.getByLabel('PIN')).toBeFocused();
  await dan.keyboard.press('Enter');
  await expect(dan.getByRole('heading', { name: 'Screens Room' })).toBeVisible({ timeout: 20_000 });
  // Remembered for next time.
  expect(await dan.evaluate(() => localStorage.getItem('openmeet.displayName'))).toBe('Dan');

  // Tab to the microphone button and press it.
  const mic = dan.getByRole('toolbar').getByRole('button', { name: 'Mute', exact: true });
  for (let i = 0; i < 40 && !(await mic.evaluate((b) => b === document.activeElement)); i++) await dan.keyboard.press('Tab');
  await expect(mic).toBeFocused();
  // The focused control is visibly outlined.
  expect(await mic.evaluate((b) => getComputedStyle(b).outlineStyle)).not.toBe('none');
  await dan.keyboard.press('Enter');
  await expect(dan.getByRole('toolbar').getByRole('button', { name: 'Unmute', exact: true })).toHaveAttribute('aria-pressed', 'true');

  await expect.poll(async () => (await mainTile(dan))?.color, { timeout: 20_000 }).toBe('red');
  expect(await noSideways()).toBe(true);
  for (const b of await dan.getByRole('toolbar').getByRole('button').all()) {
    const box = await b.boundingBox();
    expect(box && box.x >= 0 && box.x + box.width <= 390).toBe(true);
  }
  await screenshot(dan, info, 'in-call-guest-390');
  expect(await lowContrastText(dan)).toEqual([]);
  await expect.poll(async () => (await mainTile(ann.page))?.color, { timeout: 20_000 }).toBe('yellow');
  await screenshot(ann.page, info, 'in-call-host-1440');
  expect(await lowContrastText(ann.page)).toEqual([]);
  // The Host's list says Dan muted himself (client_mute).
  await expect(row(ann.page, 'Dan')).toContainText('Muted', { timeout: 10_000 });
});
