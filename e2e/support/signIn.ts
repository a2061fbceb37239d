import { expect, type Page } from '@playwright/test';
import type { Platform } from './platform.js';

export interface SignInAs {
  /** Default the platform's administrator, `admin`. */
  user?: string;
  /** Default the platform's administrator password. */
  password?: string;
  /** The console's address; default its HTTP one (`platform.consoleHttpsUrl` for HTTPS). */
  url?: string;
}

/**
 * Fills and sends the console's sign-in form, as a person would, whatever the answer: a signed-out
 * visitor to any console page is sent to it first.
 */
export async function submitSignIn(page: Page, platform: Pick<Platform, 'consoleUrl' | 'adminPassword'>, as: SignInAs = {}): Promise<void> {
  await page.goto(`${as.url ?? platform.consoleUrl}/`);
  await expect(page).toHaveURL(/\/login$/);
  await page.getByLabel('Username').fill(as.user ?? 'admin');
  await page.getByLabel('Password').fill(as.password ?? platform.adminPassword);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Signs in to the console through its sign-in page and waits until the console shows the signed-in session. */
export async function signIn(page: Page, platform: Pick<Platform, 'consoleUrl' | 'adminPassword'>, as: SignInAs = {}): Promise<void> {
  await submitSignIn(page, platform, as);
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
}
