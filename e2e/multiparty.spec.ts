import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import {
  COLORS,
  presentationColor,
  sampleTiles,
  setTone,
  tileColors,
  toneLevels,
  TONES,
  useFakeMedia,
  type ColorName,
  type FakeMediaOptions,
} from './support/fakeMedia.js';
import { createVmr, startPlatform, type Platform } from './support/platform.js';

/**
 * Multi-stream meetings: four browsers in one VMR, each sending its own colour and tone
 * (e2e/support/fakeMedia.ts) through the node's mediasoup SFU. Everyone must decode the three
 * others' videos and hear their tones (not their own), follow the active speaker within 2 s, and
 * decode a screen share. Real management server, real node, real Chromium.
 */
let platform: Platform;
test.beforeAll(async () => {
  platform = await startPlatform({ managementPort: 18780, nodePort: 18781, mediaPorts: '48000-48999' });
});
test.afterAll(async () => platform?.stop());

interface Person {
  name: string;
  camera: ColorName;
  screen: ColorName;
  tone: number;
}
const PEOPLE: Person[] = [
  { name: 'Ann', camera: 'red', screen: 'magenta', tone: TONES[0] },
  { name: 'Ben', camera: 'green', screen: 'cyan', tone: TONES[1] },
  { name: 'Cat', camera: 'blue', screen: 'orange', tone: TONES[2] },
  { name: 'Dan', camera: 'yellow', screen: 'white', tone: TONES[3] },
];
const fakeOf = (p: Person): FakeMediaOptions => ({ color: [...COLORS[p.camera]], screenColor: [...COLORS[p.screen]], toneHz: p.tone });

/** A tone counts as heard above this level (dB, AnalyserNode); silence is about -100, a received tone about -30. */
const HEARD_DB = -65;
/**
 * In each track you receive, your own tone must be this far (dB) below that track's sender's tone:
 * a track carrying your tone would have it at the sender's level. (An absolute limit sat at the
 * analyser's leakage floor, -75 dB, and failed at -74.98 on a loaded machine.)
 */
const OWN_MARGIN_DB = 30;

const contexts: BrowserContext[] = [];
test.afterEach(async () => {
  await Promise.all(contexts.splice(0).map((c) => c.close()));
});

async function join(browser: Browser, alias: string, person: Person): Promise<Page> {
  const ctx = await browser.newContext();
  contexts.push(ctx);
  await useFakeMedia(ctx, fakeOf(person));
  const page = await ctx.newPage();
  page.on('pageerror', (err) => console.error(`[${person.name}] ${err.message}`));
  await page.goto(`${platform.nodeUrl}/webapp/?alias=${encodeURIComponent(alias)}&name=${encodeURIComponent(person.name)}`);
  await page.getByRole('button', { name: 'Join' }).click();
  await expect(page.getByRole('heading', { name: 'Multiparty Room' })).toBeVisible({ timeout: 15_000 });
  return page;
}

const tile = (page: Page, name: string) => page.locator(`[data-testid="participant-tile"][data-display-name="${name}"]`);

/** Per sender (by tile name): the loudest known tone in that sender's audio, if any is heard; and the page's own tone's level. */
async function hearing(page: Page, self: Person): Promise<{ bySender: Record<string, string | null>; own: number; ownMargin: number }> {
  const levels = await toneLevels(page, TONES);
  const names = new Map((await sampleTiles(page)).map((t) => [t.uuid, t.name]));
  const bySender: Record<string, string | null> = {};
  let own = -200;
  // How far below each track's loudest tone your own tone is, in the worst track.
  let ownMargin = Infinity;
  for (const [uuid, byHz] of Object.entries(levels)) {
    let best: Person | null = null;
    for (const p of PEOPLE) if ((byHz[p.tone] ?? -200) > HEARD_DB && (!best || byHz[p.tone]! > byHz[best.tone]!)) best = p;
    bySender[names.get(uuid) ?? uuid] = best?.name ?? null;
    own = Math.max(own, byHz[self.tone] ?? -200);
    const loudest = Math.max(...PEOPLE.filter((p) => p !== self).map((p) => byHz[p.tone] ?? -200));
    ownMargin = Math.min(ownMargin, loudest - (byHz[self.tone] ?? -200));
  }
  return { bySender, own, ownMargin };
}

/**
 * Whose camera video is flowing into the page: per participant uuid, whether its decoded frame
 * count grows over one second (inbound-rtp stats matched to the session's tracks).
 */
async function videoFlowing(page: Page): Promise<Record<string, boolean>> {
  const frames = () =>
    page.evaluate(async () => {
      const m = window.meeting!;
      const owner = new Map(
        m.media
          .remoteTracks()
          .filter((t) => t.kind === 'video' && t.source === 'camera')
          .map((t) => [t.track.id, t.participant_uuid]),
      );
      const out: Record<string, number> = {};
      (await m.pc.getStats()).forEach((r: { type: string; trackIdentifier?: string; framesDecoded?: number }) => {
        const uuid = r.type === 'inbound-rtp' && r.trackIdentifier ? owner.get(r.trackIdentifier) : undefined;
        if (uuid) out[uuid] = (out[uuid] ?? 0) + (r.framesDecoded ?? 0);
      });
      return out;
    });
  const before = await frames();
  await page.waitForTimeout(1_000);
  const after = await frames();
  return Object.fromEntries(Object.keys(after).map((u) => [u, after[u]! > (before[u] ?? 0)]));
}

test('four participants see and hear each other, follow the active speaker and see a presentation', async ({ browser }) => {
  test.setTimeout(300_000);
  const before = ((await (await fetch(`${platform.nodeUrl}/healthz`)).json()) as { services: number }).services;
  await createVmr(platform, { name: 'Multiparty Room', aliases: [{ alias: 'meet.multi' }] });
  await expect
    .poll(async () => ((await (await fetch(`${platform.nodeUrl}/healthz`)).json()) as { services: number }).services, { timeout: 10_000 })
    .toBeGreaterThan(before);

  const pages: Page[] = [];
  for (const p of PEOPLE) pages.push(await join(browser, 'meet.multi', p));
  for (const page of pages) await expect(page.getByTestId('roster').getByRole('listitem')).toHaveCount(PEOPLE.length, { timeout: 15_000 });

  await test.step('each decodes the three others’ cameras, in the tiles named after them', async () => {
    for (const [i, page] of pages.entries()) {
      const others = Object.fromEntries(PEOPLE.filter((_, j) => j !== i).map((p) => [p.name, p.camera]));
      await expect.soft
        .poll(() => tileColors(page), { message: `${PEOPLE[i]!.name} sees the others' colours`, timeout: 45_000, intervals: [500, 1_000] })
        .toEqual(others);
    }
  });

  await test.step('each hears the three others’ tones on their own tracks, and not its own', async () => {
    for (const [i, page] of pages.entries()) {
      const me = PEOPLE[i]!;
      const others = Object.fromEntries(PEOPLE.filter((_, j) => j !== i).map((p) => [p.name, p.name]));
      await expect.soft
        .poll(async () => (await hearing(page, me)).bySender, { message: `${me.name} hears the others`, timeout: 30_000, intervals: [500, 1_000] })
        .toEqual(others);
      const { own, ownMargin } = await hearing(page, me);
      expect.soft(ownMargin, `${me.name} does not hear their own tone (at most ${own.toFixed(1)} dB)`).toBeGreaterThan(OWN_MARGIN_DB);
    }
  });

  await test.step('the active speaker highlight follows the one participant talking, within 2 s', async () => {
    const [ann, ben, cat, dan] = pages as [Page, Page, Page, Page];
    // Ben alone first, so that the move to Cat is seen.
    await Promise.all([setTone(ann, false), setTone(cat, false), setTone(dan, false), setTone(ben, true)]);
    for (const page of [ann, cat, dan]) await expect(tile(page, 'Ben')).toHaveAttribute('data-active-speaker', 'true', { timeout: 10_000 });

    await Promise.all([setTone(ben, false), setTone(cat, true)]);
    const moved = Date.now();
    await Promise.all(
      [ann, ben, dan].map(async (page) => {
        await expect(tile(page, 'Cat')).toHaveAttribute('data-active-speaker', 'true', { timeout: 2_000 });
        await expect(page.locator('[data-testid="participant-tile"][data-active-speaker="true"]')).toHaveCount(1);
      }),
    );
    expect(Date.now() - moved).toBeLessThan(2_500);
    // Cat sees herself as the active speaker; her main tile is the previous speaker (Ben).
    await expect(cat.getByTestId('self-view')).toHaveAttribute('data-active-speaker', 'true', { timeout: 2_000 });
    await expect(tile(cat, 'Ben')).toHaveAttribute('data-area', 'main');
    await expect(tile(ann, 'Cat')).toHaveAttribute('data-area', 'main');

    // Layouts are drawn by the client: speaker only shows Cat and counts the two others, whose
    // video the node stops sending (last-N: their consumers paused).
    const uuids = Object.fromEntries((await sampleTiles(ann)).map((t) => [t.uuid, t.name]));
    await ann.getByLabel('Layout').selectOption('1:0');
    await expect(ann.getByTestId('participant-tile')).toHaveCount(1);
    await expect(tile(ann, 'Cat')).toBeVisible();
    await expect(ann.getByTestId('overflow')).toHaveText('+2');
    await expect.poll(() => tileColors(ann), { timeout: 15_000 }).toEqual({ Cat: 'blue' });
    await expect
      .poll(async () => Object.fromEntries(Object.entries(await videoFlowing(ann)).map(([u, on]) => [uuids[u] ?? u, on])), { timeout: 15_000 })
      .toEqual({ Ben: false, Cat: true, Dan: false });
    await ann.getByLabel('Layout').selectOption('1:7');
    await expect(ann.getByTestId('participant-tile')).toHaveCount(3);
    await expect.poll(() => tileColors(ann), { timeout: 15_000 }).toEqual({ Ben: 'green', Cat: 'blue', Dan: 'yellow' });
    await expect
      .poll(async () => Object.fromEntries(Object.entries(await videoFlowing(ann)).map(([u, on]) => [uuids[u] ?? u, on])), { timeout: 15_000 })
      .toEqual({ Ben: true, Cat: true, Dan: true });
  });

  await test.step('a screen share is decoded by the three others', async () => {
    const [ann, ...rest] = pages as [Page, Page, Page, Page];
    await ann.getByRole('button', { name: 'Share screen' }).click();
    await expect(ann.getByRole('button', { name: 'Stop sharing' })).toBeVisible({ timeout: 10_000 });
    for (const page of rest) {
      await expect.soft
        .poll(() => presentationColor(page), { message: 'the presentation is Ann’s screen', timeout: 30_000, intervals: [500, 1_000] })
        .toBe('magenta');
      await expect.soft(page.getByTestId('presenter-name')).toHaveText('Ann is presenting');
      // The people stay beside it.
      await expect.soft(page.getByTestId('participant-tile')).toHaveCount(3);
    }
    await ann.getByRole('button', { name: 'Stop sharing' }).click();
    for (const page of rest) await expect(page.getByTestId('presentation')).toHaveCount(0, { timeout: 15_000 });
  });

  for (const page of pages) await page.getByRole('button', { name: 'Leave' }).click();
  for (const page of pages) await expect(page.getByRole('heading', { name: 'You left the meeting' })).toBeVisible();
});
