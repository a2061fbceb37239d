import { expect, test, type Page } from '@playwright/test';
import { startPlatform, type Platform } from './support/platform.js';
import { signIn } from './support/signIn.js';

/** The configuration model in the console: every service type, a read-only administrator, CSV import. */
let platform: Platform;
test.beforeAll(async () => {
  platform = await startPlatform({ managementPort: 18280, nodePort: 18281, mediaPorts: '46000-46999' });
});
test.afterAll(async () => platform?.stop());

const basic = (user: string, pw: string) => `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}`;
async function api(path: string, init: { method?: string; body?: unknown; auth?: string } = {}) {
  const res = await fetch(`${platform.consoleUrl}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: init.auth ?? basic('admin', platform.adminPassword), ...(init.body ? { 'content-type': 'application/json' } : {}) },
    body: init.body ? JSON.stringify(init.body) : undefined,
  });
  return { status: res.status, body: res.status === 204 || res.status === 202 ? null : await res.json().catch(() => null) };
}

test('an administrator creates one of each service in the console', async ({ page }) => {
  await signIn(page, platform);
  const services: [menu: string, add: string, name: string, alias: string, extra?: (p: Page) => Promise<void>][] = [
    ['Virtual Meeting Rooms', 'Add Virtual Meeting Room', 'Console VMR', 'meet.console', async (p) => p.getByLabel('Host PIN').fill('1234')],
    ['Virtual Auditoriums', 'Add Virtual Auditorium', 'Console Auditorium', 'lecture.console', async (p) => p.getByLabel('Mute all Guests').check()],
    [
      'Virtual Receptions',
      'Add Virtual Reception',
      'Console Reception',
      'reception.console',
      async (p) => p.getByLabel('Destination alias regex match').fill('(\\d{4})'),
    ],
    ['Test Call Service', 'Add Test Call Service', 'Console Test Call', 'test_call.console'],
  ];
  for (const [menu, add, name, alias, extra] of services) {
    await page.getByRole('navigation').getByRole('link', { name: menu, exact: true }).click();
    await page.getByRole('link', { name: add }).click();
    await page.getByLabel('Name', { exact: true }).fill(name);
    await page.getByLabel('Alias 1', { exact: true }).fill(alias);
    await extra?.(page);
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page.getByRole('link', { name })).toBeVisible();
  }
  // A Call Routing Rule too, with the guide's regex syntax.
  await page.getByRole('navigation').getByRole('link', { name: 'Call Routing Rules' }).click();
  await page.getByRole('link', { name: 'Add Call Routing Rule' }).click();
  await page.getByLabel('Name', { exact: true }).fill('To SIP');
  await page.getByLabel('Priority').fill('200');
  await page.getByLabel('Destination alias regex match').fill('(?P<user>.+)@example\\.com');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('link', { name: 'To SIP' })).toBeVisible();

  // What the console saved is what the management API reports.
  const list = await api('/api/admin/configuration/v1/conference/?limit=50');
  const byName = Object.fromEntries((list.body.objects as { name: string; service_type: string }[]).map((o) => [o.name, o]));
  expect(byName['Console VMR']).toMatchObject({ service_type: 'conference', pin: '1234' });
  expect(byName['Console Auditorium']).toMatchObject({ service_type: 'lecture', mute_all_guests: true });
  expect(byName['Console Reception']).toMatchObject({ service_type: 'two_stage_dialing', match_string: '(\\d{4})' });
  expect(byName['Console Test Call']).toMatchObject({ service_type: 'test_call' });
  const rules = await api('/api/admin/configuration/v1/gateway_routing_rule/');
  expect(rules.body.objects).toEqual([expect.objectContaining({ name: 'To SIP', priority: 200, match_string: '(?P<user>.+)@example\\.com' })]);

  // The conferencing node got the new services within a second of the last change.
  await expect
    .poll(async () => ((await (await fetch(`${platform.nodeUrl}/healthz`)).json()) as { services: number }).services, { timeout: 1_000 })
    .toBeGreaterThanOrEqual(4);
});

test('a read-only administrator sees the services but cannot change them', async ({ browser }) => {
  await api('/api/admin/configuration/v1/conference/', { method: 'POST', body: { name: 'Guarded room', aliases: [{ alias: 'meet.guarded' }] } });
  const roles = await api('/api/admin/configuration/v1/role/?name=Read-only');
  const readOnly = (roles.body.objects as { resource_uri: string }[])[0]!.resource_uri;
  const created = await api('/api/admin/configuration/v1/user/', {
    method: 'POST',
    body: { username: 'auditor', password: 'auditor-pass-1', password_confirm: 'auditor-pass-1', roles: [readOnly] },
  });
  expect(created.status).toBe(201);

  const page = await browser.newPage();
  await signIn(page, platform, { user: 'auditor', password: 'auditor-pass-1' });
  await page.getByRole('navigation').getByRole('link', { name: 'Virtual Meeting Rooms', exact: true }).click();
  await expect(page.getByRole('link', { name: 'Guarded room' })).toBeVisible();
  // No Add button, no Delete buttons; the form is shown read-only without Save.
  await expect(page.getByRole('link', { name: 'Add Virtual Meeting Room' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Delete' })).toHaveCount(0);
  await page.getByRole('link', { name: 'Guarded room' }).click();
  await expect(page.getByLabel('Name', { exact: true })).toBeDisabled();
  await expect(page.getByRole('button', { name: 'Save' })).toHaveCount(0);
  // The add page itself says Access denied.
  await page.goto(`${platform.consoleUrl}/vmrs/new`);
  await expect(page.getByRole('heading', { name: 'Access denied' })).toBeVisible();

  // And the API refuses the same change with 403.
  const auth = basic('auditor', 'auditor-pass-1');
  expect((await api('/api/admin/configuration/v1/conference/', { auth })).status).toBe(200);
  const refused = await api('/api/admin/configuration/v1/conference/', { method: 'POST', auth, body: { name: 'Nope' } });
  expect(refused).toEqual({ status: 403, body: { error: 'Access denied' } });
});

test('a CSV with one bad row is rejected whole, with the row number shown', async ({ page }) => {
  await signIn(page, platform);
  await page.getByRole('navigation').getByRole('link', { name: 'Import/Export (CSV)' }).click();
  const csv = [
    'name,description,pin,allow_guests,guest_pin,alias_alias',
    'csv.one,,1234,false,,meet.csv.one',
    'csv.two,,12x4,false,,meet.csv.two',
    'csv.three,,,false,,meet.csv.three',
  ].join('\n');
  const panel = page.getByRole('region', { name: 'Virtual Meeting Rooms' });
  await panel.getByLabel('Import Virtual Meeting Rooms from a CSV file').setInputFiles({ name: 'vmrs.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await panel.getByRole('button', { name: 'Save' }).click();
  await expect(panel.getByRole('alert')).toContainText('Line 3');
  await expect(panel.getByRole('alert')).toContainText('PIN must be 4-20 digits long');
  // Nothing of the file was stored: not even the good first row.
  const stored = await api('/api/admin/configuration/v1/conference/?name__icontains=csv.');
  expect(stored.body.meta.total_count).toBe(0);

  // Fixed, the same file imports.
  await panel
    .getByLabel('Import Virtual Meeting Rooms from a CSV file')
    .setInputFiles({ name: 'vmrs.csv', mimeType: 'text/csv', buffer: Buffer.from(csv.replace('12x4', '4321')) });
  await panel.getByRole('button', { name: 'Save' }).click();
  await expect(panel.getByRole('status')).toHaveText('Imported: 3 created, 0 changed, 0 rejected.');
  expect((await api('/api/admin/configuration/v1/conference/?name__icontains=csv.')).body.meta.total_count).toBe(3);
});

test('a large CSV import shows a progress bar, then a summary of what was created, changed and rejected', async ({ page }) => {
  await signIn(page, platform);
  await page.getByRole('navigation').getByRole('link', { name: 'Import/Export (CSV)' }).click();
  const panel = page.getByRole('region', { name: 'Virtual Meeting Rooms' });
  const file = (names: string[]) => ({ name: 'vmrs.csv', mimeType: 'text/csv', buffer: Buffer.from(names.map((n) => `${n},,,false,,meet.${n}`).join('\n')) });
  const many = Array.from({ length: 5_000 }, (_, i) => `bulk${String(i).padStart(4, '0')}`);
  await panel.getByLabel('Import Virtual Meeting Rooms from a CSV file').setInputFiles(file(many));
  await panel.getByRole('button', { name: 'Save' }).click();
  const bar = panel.getByRole('progressbar', { name: 'Importing Virtual Meeting Rooms' });
  await expect(bar).toBeVisible();
  await expect(panel.getByRole('status')).toHaveText('Imported: 5,000 created, 0 changed, 0 rejected.', { timeout: 60_000 });
  await expect(bar).toBeHidden();
  expect((await api('/api/admin/configuration/v1/conference/?name__icontains=bulk')).body.meta.total_count).toBe(5_000);

  // Two of them again, with a third that is new: two changed, one created.
  await panel.getByLabel('Import Virtual Meeting Rooms from a CSV file').setInputFiles(file(['bulk0001', 'bulk0002', 'bulknew']));
  await panel.getByRole('button', { name: 'Save' }).click();
  await expect(panel.getByRole('status')).toHaveText('Imported: 1 created, 2 changed, 0 rejected.');

  // A rejected file: nothing imported, the number of rejected rows and each one's message.
  await panel
    .getByLabel('Import Virtual Meeting Rooms from a CSV file')
    .setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from('bulkx,,12x4,,,meet.bulkx\nbulky,,1y,,,meet.bulky\nbulkz,,,,,meet.bulkz\n') });
  await panel.getByRole('button', { name: 'Save' }).click();
  await expect(panel.getByRole('status')).toHaveText('Nothing was imported: 2 rows rejected.');
  await expect(panel.getByRole('alert')).toContainText('Line 1');
  await expect(panel.getByRole('alert')).toContainText('Line 2');
  expect((await api('/api/admin/configuration/v1/conference/?name__icontains=bulkz')).body.meta.total_count).toBe(0);
});
