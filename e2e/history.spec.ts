import { readFileSync } from 'node:fs';
import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { COLORS, TONES } from './support/fakeMedia.js';
import { joinAsGuest } from './support/joinMeeting.js';
import { createVmr, startPlatform, type Platform } from './support/platform.js';
import { signIn } from './support/signIn.js';

/**
 * Conference history in the console: two people meet in a VMR from their browsers (each with its
 * own colour and tone), both leave, and History & Logs > Conference history lists the conference
 * with its duration and participant count; it opens to both participants, and a participant to its
 * media streams as the node measured them. Real management server, real node, real Chromium.
 */
let platform: Platform;
test.beforeAll(async () => {
  platform = await startPlatform({ managementPort: 19780, nodePort: 19781, mediaPorts: '49400-49599' });
});
test.afterAll(async () => platform?.stop());

const contexts: BrowserContext[] = [];
test.afterEach(async () => {
  await Promise.all(contexts.splice(0).map((c) => c.close()));
});

const join = (browser: Browser, name: string, color: keyof typeof COLORS, toneHz: number, screen: keyof typeof COLORS): Promise<Page> =>
  joinAsGuest(browser, platform, contexts, {
    alias: 'history.room',
    name,
    color: [...COLORS[color]],
    toneHz,
    screenColor: [...COLORS[screen]],
    heading: 'History Room',
  });

test('after everyone leaves, Conference history lists the meeting with its duration and participants', async ({ browser }) => {
  test.setTimeout(120_000);
  await createVmr(platform, { name: 'History Room', aliases: [{ alias: 'history.room' }] });
  await expect
    .poll(async () => ((await (await fetch(`${platform.nodeUrl}/healthz`)).json()) as { services: number }).services, { timeout: 10_000 })
    .toBeGreaterThan(0);
  const ann = await join(browser, 'Ann', 'red', TONES[0], 'magenta');
  const ben = await join(browser, 'Ben', 'green', TONES[1], 'cyan');
  await expect(ann.getByTestId('roster').getByRole('listitem')).toHaveCount(2, { timeout: 15_000 });
  await expect(ben.getByTestId('roster').getByRole('listitem')).toHaveCount(2, { timeout: 15_000 });
  // Long enough for the node's media measurements (every 5 s) to see both directions.
  await ann.waitForTimeout(6_000);
  await ben.getByRole('button', { name: 'Leave' }).click();
  await expect(ann.getByTestId('roster').getByRole('listitem')).toHaveCount(1, { timeout: 15_000 });
  await ann.getByRole('button', { name: 'Leave' }).click();

  const ctx = await browser.newContext();
  contexts.push(ctx);
  const page = await ctx.newPage();
  await signIn(page, platform);
  await page.getByRole('navigation').getByRole('link', { name: 'Conference history' }).click();
  // The list refreshes by itself; the record is written once the node reports the end.
  const row = page.getByTestId('history-conference').filter({ hasText: 'History Room' });
  await expect(row).toHaveCount(1, { timeout: 20_000 });
  await expect(row.getByTestId('history-participant-count')).toHaveText('2');
  const seconds = Number((await row.getByTestId('history-duration').getAttribute('title'))?.replace(' s', ''));
  expect(seconds).toBeGreaterThanOrEqual(6);
  expect(seconds).toBeLessThan(120);
  await expect(row.getByTestId('history-duration')).toHaveText(/^\d+:\d\d$/);

  // Search narrows the list; a search that matches nothing says so.
  await page.getByLabel('Search').fill('nothing like it');
  await expect(page.getByText('No completed conferences match the search.')).toBeVisible();
  await page.getByLabel('Search').fill('history');
  await expect(row).toHaveCount(1);

  // A date range after today: nothing; from today: the meeting.
  await page.getByLabel('From').fill('2099-01-01');
  await expect(page.getByText('No completed conferences match the search.')).toBeVisible();
  const today = new Date();
  const day = `${today.getFullYear()}-${String(today.getMonth() + 1).padStart(2, '0')}-${String(today.getDate()).padStart(2, '0')}`;
  await page.getByLabel('From').fill(day);
  await page.getByLabel('To').fill(day);
  await expect(row).toHaveCount(1);

  // The CSV export of the filtered list: a header and the one conference.
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export CSV' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toBe('conference_history.csv');
  const csv = readFileSync(await file.path(), 'utf8');
  const lines = csv.trim().split('\n');
  expect(lines[0]).toBe('name,start_time,end_time,duration,participant_count,service_type,tag,instant_message_count');
  expect(lines).toHaveLength(2);
  expect(lines[1]).toMatch(new RegExp(`^History Room,.*,${seconds},2,conference,,0$`));

  // The conference opens to both participants; a participant to its media streams.
  await row.getByRole('link', { name: 'History Room' }).click();
  const people = page.getByTestId('history-participant');
  await expect(people).toHaveCount(2);
  await expect(people.filter({ hasText: 'Ann' })).toHaveCount(1);
  await expect(people.filter({ hasText: 'Ben' })).toHaveCount(1);
  await people.filter({ hasText: 'Ann' }).getByRole('link').click();
  await expect(page.getByRole('heading', { name: 'Ann' })).toBeVisible();
  await expect(page.getByTestId('history-disconnect-reason')).not.toHaveText('—');
  // Under 20 s: Unknown (guide).
  await expect(page.getByTestId('history-call-quality')).toHaveText('Unknown');
  const streams = page.getByTestId('history-media-stream');
  await expect(streams.filter({ hasText: 'audio' })).toHaveCount(1);
  await expect(streams.filter({ hasText: 'video' })).toHaveCount(1);
  const audio = streams.filter({ hasText: 'audio' });
  await expect(audio).toContainText('opus');
  // Rx bitrate (5th column): what the node last measured of Ann's tone, non-zero.
  expect(Number(await audio.locator('td').nth(4).textContent())).toBeGreaterThan(0);
  console.info(`Ann's history media streams: ${(await page.locator('table').innerText()).replace(/\s+/g, ' ')}`);

  // Participant history lists both calls, newest first (Ben left first but joined last), and searches by name.
  await page.getByRole('navigation').getByRole('link', { name: 'Participant history' }).click();
  const calls = page.getByTestId('history-participant');
  await expect(calls).toHaveCount(2);
  await expect(calls.first()).toContainText('Ben');
  await expect(calls.first()).toContainText('History Room');
  await page.getByLabel('Search').fill('ann');
  await expect(calls).toHaveCount(1);
  await expect(calls.first()).toContainText('Ann');
});
