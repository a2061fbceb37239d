import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { COLORS, TONES, type Rgb } from './support/fakeMedia.js';
import { joinAsGuest } from './support/joinMeeting.js';
import { createVmr, startPlatform, type Platform } from './support/platform.js';
import { signIn } from './support/signIn.js';

/**
 * The console's home page after sign-in is the live view (issue 12): without a reload, its counters
 * and graphs follow two browsers joining a meeting within 2 s, and the conference opens to its
 * participants and a participant to their media streams.
 */
let platform: Platform;
const contexts: BrowserContext[] = [];
test.beforeAll(async () => {
  platform = await startPlatform({ managementPort: 20680, nodePort: 20681, mediaPorts: '51000-51499' });
});
test.afterAll(async () => {
  await Promise.all(contexts.map((c) => c.close()));
  await platform?.stop();
});

const join = (browser: Browser, name: string, color: Rgb, toneHz: number): Promise<Page> =>
  joinAsGuest(browser, platform, contexts, { alias: 'meet.live', name, color, toneHz, screenColor: [...COLORS.white] });

/** The latest point of a chart's first series as echarts holds it ([t, value]). */
async function latestPoint(admin: Page, testId: string): Promise<[number, number | null] | null> {
  const raw = await admin.getByTestId(testId).getAttribute('data-latest-point');
  if (!raw) return null;
  const series = JSON.parse(raw) as [string, [number, number | null] | null][];
  return series[0]?.[1] ?? null;
}

test('the live view follows a meeting without reloading; conference and participant drill down', async ({ browser }) => {
  await createVmr(platform, { name: 'Live Room', aliases: [{ alias: 'meet.live' }] });
  const admin = await browser.newPage();
  await signIn(admin, platform);
  await expect(admin).toHaveURL(/\/live$/);
  await expect(admin.getByRole('heading', { name: 'Live view' })).toBeVisible();
  await expect(admin.getByTestId('live-participants')).toHaveText('0');
  await expect(admin.getByTestId('live-conferences')).toHaveText('0');
  await expect(admin.getByTestId('live-nodes')).toHaveText('1 / 0', { timeout: 10_000 });
  // The chart has drawn the hour's points (echarts loaded lazily) with no one in a call.
  await expect.poll(() => latestPoint(admin, 'graph-participants'), { timeout: 10_000 }).toEqual([expect.any(Number), 0]);
  const before = (await latestPoint(admin, 'graph-participants'))![0];

  const alice = await join(browser, 'Alice', [...COLORS.red], TONES[0]);
  const bob = await join(browser, 'Bob', [...COLORS.blue], TONES[1]);
  for (const page of [alice, bob]) await expect(page.getByTestId('roster').getByRole('listitem')).toHaveCount(2, { timeout: 15_000 });
  const joined = Date.now();

  // Within 2 s of the joins, without a reload.
  await expect(admin.getByTestId('live-participants')).toHaveText('2', { timeout: 2_000 });
  await expect(admin.getByTestId('live-conferences')).toHaveText('1', { timeout: 2_000 });
  await expect(admin.getByTestId('live-protocol-api')).toHaveText('2');
  // A count change is a graph point at once (the 2-s tick only adds points between changes).
  await expect.poll(() => latestPoint(admin, 'graph-participants'), { timeout: 2_000, intervals: [100] }).toEqual([expect.any(Number), 2]);
  const graphMs = Date.now() - joined;
  console.log(`graph's latest point showed 2 participants ${graphMs} ms after both rosters showed the join`);
  expect(graphMs).toBeLessThan(2_000);
  expect((await latestPoint(admin, 'graph-participants'))![0]).toBeGreaterThan(before);
  await expect.poll(() => latestPoint(admin, 'graph-conferences'), { timeout: 2_000, intervals: [100] }).toEqual([expect.any(Number), 1]);
  await expect(admin.getByTestId('graph-participants-latest')).toHaveText('(now 2)');

  // Another range: the day's 1-min points, the latest holding the meeting's peak.
  await admin.getByRole('radio', { name: '1 day' }).check();
  await expect.poll(() => latestPoint(admin, 'graph-participants'), { timeout: 5_000 }).toEqual([expect.any(Number), 2]);
  await admin.getByRole('radio', { name: '1 hour' }).check();

  // Conference → its participants.
  await admin.getByTestId('live-conference').getByRole('link', { name: 'Live Room' }).click();
  await expect(admin).toHaveURL(/\/live\/conferences\/Live%20Room$/);
  const rows = admin.getByTestId('live-conference-participant');
  await expect(rows).toHaveCount(2);
  await expect(rows.filter({ hasText: 'Alice' })).toContainText('API');
  await expect(rows.filter({ hasText: 'Bob' })).toContainText('Guest');
  // ConferenceActions and ParticipantActions sit beside them.
  await expect(rows.filter({ hasText: 'Alice' }).getByRole('button').first()).toBeVisible();

  // Participant → media streams with a non-zero bitrate, and a call quality.
  await rows.filter({ hasText: 'Alice' }).getByRole('link', { name: 'Alice' }).click();
  await expect(admin.getByRole('heading', { name: 'Alice' })).toBeVisible();
  await expect(admin.getByTestId('call-quality').first()).toBeVisible({ timeout: 15_000 });
  await expect(admin.getByTestId('call-quality').first()).toHaveText(/Unknown|Good|OK|Bad|Terrible/);
  const streams = admin.getByTestId('media-stream');
  await expect.poll(() => streams.count(), { timeout: 15_000 }).toBeGreaterThanOrEqual(4);
  await expect
    .poll(
      async () => {
        const rx = await admin
          .locator('[data-testid="media-stream"][data-type="video"][data-direction="rx"] [data-testid="stream-bitrate"]')
          .first()
          .textContent();
        return Number.parseInt(rx ?? '0', 10) || 0;
      },
      { timeout: 15_000 },
    )
    .toBeGreaterThan(0);
  await expect(admin.getByTestId('graph-participant')).toHaveAttribute('data-latest-point', /\[/);
});
