import { expect, test, type Page } from '@playwright/test';
import { startPlatform, type Platform } from './support/platform.js';

/**
 * Restoring a large backup from the console (issue 11): the file is uploaded once, checked, then
 * restored as a job whose progress the page shows, then a summary of what was restored.
 */
let platform: Platform;
test.beforeAll(async () => {
  platform = await startPlatform({ managementPort: 20280, nodePort: 20281, mediaPorts: '38600-38699' });
});
test.afterAll(async () => platform?.stop());

const VMRS = 3_000;
const auth = () => ({ authorization: `Basic ${Buffer.from(`admin:${platform.adminPassword}`).toString('base64')}` });
const REST = '/api/admin/configuration/v1';
const vmrCount = async (name: string) =>
  (
    (await (await fetch(`${platform.consoleUrl}${REST}/conference/?name__icontains=${name}&limit=1`, { headers: auth() })).json()) as {
      meta: { total_count: number };
    }
  ).meta.total_count;

async function signIn(page: Page) {
  await page.goto(`${platform.consoleUrl}/`);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(platform.adminPassword);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
}

test(`restores a backup of ${VMRS.toLocaleString('en')} VMRs from the console: progress, then what was restored`, async ({ page }) => {
  test.setTimeout(180_000);
  // The configuration to back up, made over the management API.
  const csv = Array.from({ length: VMRS }, (_, i) => `restored${String(i).padStart(5, '0')},,,,,meet.restored${i}`).join('\n');
  const imported = await fetch(`${platform.consoleUrl}${REST}/bulk/vmr/import/`, {
    method: 'POST',
    headers: { ...auth(), 'content-type': 'text/csv' },
    body: csv,
  });
  expect(imported.status).toBe(200);
  const made = await fetch(`${platform.consoleUrl}${REST}/backup/`, {
    method: 'POST',
    headers: { ...auth(), 'content-type': 'application/json' },
    body: JSON.stringify({ passphrase: 'big restore' }),
  });
  expect(made.status).toBe(201);
  const { download_uri } = (await made.json()) as { download_uri: string };
  const archive = Buffer.from(await (await fetch(`${platform.consoleUrl}${download_uri}`, { headers: auth() })).arrayBuffer());
  // Made after the backup: the restore takes it away.
  const later = await fetch(`${platform.consoleUrl}${REST}/conference/`, {
    method: 'POST',
    headers: { ...auth(), 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Made after the backup', service_type: 'conference' }),
  });
  expect(later.status).toBe(201);
  expect(await vmrCount('Made after the backup')).toBe(1);

  await signIn(page);
  await page.getByRole('navigation').getByRole('link', { name: 'Backup/Restore', exact: true }).click();
  const form = page.getByRole('form', { name: 'Restore backup' });
  const file = { name: 'big.bak', mimeType: 'application/octet-stream', buffer: archive };

  // A wrong passphrase: said beside the passphrase once the file is uploaded and checked; nothing changes.
  await form.getByLabel('Passphrase', { exact: true }).fill('not it');
  await form.getByLabel('Backup file').setInputFiles(file);
  await form.getByRole('button', { name: 'Restore backup' }).click();
  await expect(page.locator('#restore-passphrase-error')).toHaveText('Decryption Error: decryption failed');

  await form.getByLabel('Passphrase', { exact: true }).fill('big restore');
  await form.getByRole('button', { name: 'Restore backup' }).click();
  const dialog = form.getByRole('dialog', { name: 'Restore Backup' });
  // The Test Call Service a new install ships with, besides the VMRs.
  await expect(dialog).toContainText(`It holds ${(VMRS + 1).toLocaleString('en')} services, ${(VMRS + 1).toLocaleString('en')} aliases`);
  await dialog.getByRole('button', { name: 'Restore backup' }).click();
  const bar = form.getByRole('progressbar', { name: 'Restoring the backup' });
  await expect(bar).toBeVisible();
  // The page polls the job: the bar's value only grows, up to the rows of the file.
  const values: number[] = [];
  while (await bar.isVisible()) {
    const v = await bar.getAttribute('value').catch(() => null);
    if (v !== null) values.push(Number(v));
    await page.waitForTimeout(100);
  }
  for (let i = 1; i < values.length; i++) expect(values[i]!).toBeGreaterThanOrEqual(values[i - 1]!);
  const summary = form.getByTestId('restore-summary');
  await expect(summary).toContainText('Successfully restored the backup file.');
  await expect(summary).toContainText(`${(VMRS + 1).toLocaleString('en')} services, ${(VMRS + 1).toLocaleString('en')} aliases`);
  await expect(dialog).toBeHidden();

  expect(await vmrCount('Made after the backup')).toBe(0);
  expect(await vmrCount('restored')).toBe(VMRS);
  // Still signed in: the session survived the restore of the administrator accounts.
  await page.getByRole('navigation').getByRole('link', { name: 'Virtual Meeting Rooms', exact: true }).click();
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
  await expect(page).not.toHaveURL(/\/login$/);
});
