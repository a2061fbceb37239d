import { expect, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { useFakeMedia, type Rgb } from './fakeMedia.js';
import type { Platform } from './platform.js';

export interface JoinAsGuestOptions {
  alias: string;
  name: string;
  /** The participant's own camera colour and tone, so tests can tell who sees and hears whom. */
  color: Rgb;
  toneHz: number;
  screenColor: Rgb;
  /** When given, the meeting's heading to wait for (the call has started). */
  heading?: string;
}

/**
 * A browser joins a meeting through the web app as a Guest without a PIN, in a context of its own
 * (pushed on `contexts` so the spec closes it after each test).
 */
export async function joinAsGuest(browser: Browser, platform: Platform, contexts: BrowserContext[], o: JoinAsGuestOptions): Promise<Page> {
  const ctx = await browser.newContext();
  contexts.push(ctx);
  await useFakeMedia(ctx, { color: o.color, screenColor: o.screenColor, toneHz: o.toneHz });
  const page = await ctx.newPage();
  page.on('pageerror', (err) => console.error(`[${o.name}] ${err.message}`));
  await page.goto(`${platform.nodeUrl}/webapp/?alias=${encodeURIComponent(o.alias)}&name=${encodeURIComponent(o.name)}`);
  await page.getByRole('button', { name: 'Join' }).click();
  if (o.heading) await expect(page.getByRole('heading', { name: o.heading })).toBeVisible({ timeout: 15_000 });
  return page;
}
