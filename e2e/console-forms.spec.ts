import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { strToU8, zipSync } from 'fflate';
import { startPlatform, type Platform } from './support/platform.js';
import { signIn } from './support/signIn.js';

/**
 * The console's hand-made forms (backups, themes, certificates) in the one form pattern: the shared
 * zod schema checks in the browser, the server's field errors land beside their fields, and the
 * settings nothing acts on yet carry a badge.
 */
let platform: Platform;
test.beforeAll(async () => {
  platform = await startPlatform({ managementPort: 18380, nodePort: 18381, mediaPorts: '45000-45499' });
});
test.afterAll(async () => platform?.stop());

const nav = (page: Page, name: string) => page.getByRole('navigation').getByRole('link', { name, exact: true }).click();
/** The error shown beside a field: Field gives it the id `<input id>-error`. */
const errorOf = (page: Page, id: string) => page.locator(`#${id}-error`);

test('backups: passphrase rules in the browser, the server answer beside the form', async ({ page }) => {
  await signIn(page, platform);
  await nav(page, 'Backup/Restore');
  const create = page.getByRole('form', { name: 'Create backup' });
  await create.getByLabel('Passphrase', { exact: true }).fill('one passphrase');
  await create.getByLabel('Re-enter passphrase').fill('another');
  await create.getByRole('button', { name: 'Create backup' }).click();
  await expect(errorOf(page, 'backup-passphrase-confirm')).toHaveText('The passphrases do not match.');
  await create.getByLabel('Re-enter passphrase').fill('one passphrase');
  await create.getByRole('button', { name: 'Create backup' }).click();
  await expect(create.getByRole('status')).toContainText('Successfully created the backup file');
  await expect(page.getByTestId('backup-file')).toHaveCount(1);

  const restore = page.getByRole('form', { name: 'Restore backup' });
  await restore.getByLabel('Passphrase', { exact: true }).fill('one passphrase');
  await restore.getByRole('button', { name: 'Restore backup' }).click();
  await expect(errorOf(page, 'restore-file')).toHaveText('This field is required.');
  // Not a backup: the server says so (a form-wide answer, or beside the file).
  await restore.getByLabel('Backup file').setInputFiles({ name: 'not-a-backup.bak', mimeType: 'application/octet-stream', buffer: Buffer.from('hello') });
  await restore.getByRole('button', { name: 'Restore backup' }).click();
  await expect(restore.getByRole('alert')).toContainText(/not a backup file|Decryption Error/);
});

test('themes: a missing ZIP is refused in the browser, a file that is not a ZIP by the server beside the field, a real one uploaded raw and downloaded back', async ({
  page,
}) => {
  await signIn(page, platform);
  await nav(page, 'Themes');
  await page.getByLabel('Name', { exact: true }).fill('Console theme');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(errorOf(page, 'theme-package')).toHaveText('This field is required.');
  await page.getByLabel('Theme', { exact: true }).setInputFiles({ name: 'theme.zip', mimeType: 'application/zip', buffer: Buffer.from('not a zip at all') });
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(errorOf(page, 'theme-package')).toHaveText('The uploaded file is not a valid ZIP file.');
  await expect(page.getByLabel('Name', { exact: true })).toHaveValue('Console theme');

  // A real ZIP goes up as the raw file (not base64 in JSON), and "Download theme" gives it back byte for byte.
  const zip = Buffer.from(zipSync({ 'themeconfig.json': strToU8('{"theme_version": 2, "recording_indicator_text": "REC"}') }));
  const sent = page.waitForRequest((r) => r.url().endsWith('/upload/theme/') && r.method() === 'POST');
  await page.getByLabel('Theme', { exact: true }).setInputFiles({ name: 'theme.zip', mimeType: 'application/zip', buffer: zip });
  await page.getByRole('button', { name: 'Save' }).click();
  expect((await sent).headers()['content-type']).toBe('application/octet-stream');
  const row = page.getByRole('row', { name: /Console theme/ });
  await expect(row).toContainText('New style');
  const download = page.waitForEvent('download');
  await row.getByRole('link', { name: 'Download theme' }).click();
  const saved = await download;
  expect(saved.suggestedFilename()).toBe('Console_theme.zip');
  expect(readFileSync((await saved.path())!).equals(zip)).toBe(true);
});

test('TLS certificates: the validity rule in the browser, a bad PEM refused by the server beside its field, a generated one listed', async ({ page }) => {
  await signIn(page, platform);
  await nav(page, 'TLS certificates');
  await page.getByLabel('Common name').fill('node1.example.com');
  await page.getByLabel('Validity (days)').fill('0');
  await page.getByRole('button', { name: 'Generate' }).click();
  await expect(errorOf(page, 'gen-days')).toHaveText('Ensure this value is between 1 and 825.');
  await page.getByLabel('Validity (days)').fill('30');
  await page.getByRole('button', { name: 'Generate' }).click();
  await expect(page.getByRole('button', { name: 'node1.example.com' })).toBeVisible();
  await expect(page.getByLabel('Common name')).toHaveValue('');

  await page.locator('#tls-certificate').fill('-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(errorOf(page, 'tls-certificate')).toBeVisible();
});

test('global settings mark what nothing acts on yet', async ({ page }) => {
  await signIn(page, platform);
  await nav(page, 'Global settings');
  const fieldOf = (label: string) => page.locator('.field').filter({ has: page.getByLabel(label, { exact: true }) });
  for (const label of ['Enable H.323', 'Enable RTMP', 'Enable bursting to the cloud']) await expect(fieldOf(label).getByText('Not acted on yet')).toBeVisible();
  // SIP signalling runs on the nodes now (issue 13).
  for (const label of ['Enable chat', 'Guests-only timeout', 'Enable SIP', 'Enable SIP UDP'])
    await expect(fieldOf(label).getByText('Not acted on yet')).toHaveCount(0);
});

test('sign-in: empty fields refused in the browser, a wrong password and then throttling said in the form', async ({ page }) => {
  await page.goto(`${platform.consoleUrl}/`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(errorOf(page, 'username')).toHaveText('This field is required.');
  await expect(errorOf(page, 'password')).toHaveText('This field is required.');
  // An account of its own, so that throttling it leaves `admin` free for the other tests.
  await page.getByLabel('Username').fill('nobody-b3');
  for (let i = 0; i < 5; i++) {
    await page.getByLabel('Password').fill(`wrong ${i}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.locator('.form-error')).toHaveText('Please enter a correct username and password.');
  }
  await page.getByLabel('Password').fill('wrong 5');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('.form-error')).toHaveText(/^Too many failed sign-in attempts\. Try again in \d+ minutes?\.$/);
  await expect(page.getByRole('button', { name: 'Sign out' })).toHaveCount(0);
});

test('regular expression tester: the result and groups, a pattern Python refuses beside its field', async ({ page }) => {
  await signIn(page, platform);
  await nav(page, 'Regular Expression Tester');
  await page.getByLabel('Input').fill('meet.alice@example.com');
  await page.getByLabel('Regex match').fill('meet\\.(?P<who>.*)@example\\.com');
  await page.getByLabel('Regex replace string').fill('\\g<who>');
  await page.getByRole('button', { name: 'Test Regular Expression' }).click();
  await expect(page.getByTestId('regex-result')).toHaveText('alice');
  await expect(page.getByTestId('regex-status')).toHaveText('Successful match');
  await expect(page.getByRole('row').filter({ hasText: 'who' })).toContainText('alice');

  await page.getByLabel('Regex match').fill('meet\\.(.*');
  await page.getByRole('button', { name: 'Test Regular Expression' }).click();
  await expect(errorOf(page, 'rx-regex')).toContainText('missing ), unterminated subpattern');
  await expect(page.getByTestId('regex-result')).toHaveCount(0);
});
