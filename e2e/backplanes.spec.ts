import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { COLORS, sampleTiles, tileColors, toneLevels, TONES } from './support/fakeMedia.js';
import { joinAsGuest } from './support/joinMeeting.js';
import { createVmr, startPlatform, type Platform } from './support/platform.js';
import { signIn } from './support/signIn.js';

/**
 * Issue 14: one meeting across two conferencing nodes. A browser joins through node 1's web app and
 * another through node 2's; the nodes join their halves of the conference over a backplane the
 * management server brokers. Each browser decodes the other's camera (its own colour) and hears its
 * tone, and the console's live conference page lists the backplane, one link each way, until one
 * side leaves.
 */
// The platform takes 21280-21283 (console, node, and their HTTPS ports).
const SECOND_NODE_PORT = 21284;
let platform: Platform;
let second: ChildProcess | null = null;
const dataDir = mkdtempSync(join(tmpdir(), 'om-e2e-node2-'));
const contexts: BrowserContext[] = [];
const HEARD_DB = -50;

test.beforeAll(async () => {
  platform = await startPlatform({ managementPort: 21280, nodePort: 21281, mediaPorts: '52000-52499' });
  // A second node agent on this machine, enrolled with the platform key as the first one is.
  second = spawn(process.execPath, ['--import', 'tsx', 'node-agent/main.ts'], {
    cwd: new URL('..', import.meta.url).pathname,
    env: {
      ...process.env,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      NODE_NAME: 'e2e-node-2',
      NODE_PORT: String(SECOND_NODE_PORT),
      MANAGEMENT_URL: platform.consoleUrl,
      NODE_ENROLLMENT_KEY: 'e2e-enrollment-key',
      NODE_DATA_DIR: dataDir,
      MEDIA_PORTS: '52500-52999',
      NODE_REQUEST_TOKEN_PER_ADDRESS: '100000',
      NODE_STREAMS_PER_ADDRESS: '100000',
      NODE_SIP_PORT: 'off',
      NODE_SIP_TLS_PORT: 'off',
      NODE_HTTPS_PORT: 'off',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await expect
    .poll(
      () =>
        fetch(`http://127.0.0.1:${SECOND_NODE_PORT}/healthz`)
          .then((r) => r.json() as Promise<{ configured?: boolean }>)
          .then((b) => b.configured === true)
          .catch(() => false),
      { timeout: 60_000 },
    )
    .toBe(true);
});
test.afterAll(async () => {
  await Promise.all(contexts.map((c) => c.close()));
  if (second && second.exitCode === null) {
    const exited = new Promise((r) => second!.once('exit', r));
    second.kill('SIGTERM');
    await exited;
  }
  await platform?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Per tile name: the level of `hz` in that participant's audio as the page plays it. */
async function heard(page: Page, hz: number): Promise<Record<string, number>> {
  const levels = await toneLevels(page, [hz]);
  const names = new Map((await sampleTiles(page)).map((t) => [t.uuid, t.name]));
  return Object.fromEntries(Object.entries(levels).map(([uuid, byHz]) => [names.get(uuid) ?? uuid, byHz[hz] ?? -200]));
}

test('a browser on each of two nodes: each sees and hears the other; the console lists the backplane both ways', async ({ browser }) => {
  test.setTimeout(120_000);
  await createVmr(platform, { name: 'Spread Room', aliases: [{ alias: 'meet.spread' }] });
  const nodeTwo = { ...platform, nodeUrl: `http://127.0.0.1:${SECOND_NODE_PORT}` };
  const alice = await joinAsGuest(browser, platform, contexts, {
    alias: 'meet.spread',
    name: 'Alice',
    color: [...COLORS.red],
    toneHz: TONES[0],
    screenColor: [...COLORS.white],
  });
  const bob = await joinAsGuest(browser, nodeTwo, contexts, {
    alias: 'meet.spread',
    name: 'Bob',
    color: [...COLORS.blue],
    toneHz: TONES[1],
    screenColor: [...COLORS.white],
  });

  // Each decodes the other's camera, across the backplane, and hears the other's tone.
  await expect.poll(() => tileColors(alice), { timeout: 30_000 }).toEqual({ Bob: 'blue' });
  await expect.poll(() => tileColors(bob), { timeout: 30_000 }).toEqual({ Alice: 'red' });
  await expect.poll(async () => ((await heard(alice, TONES[1])).Bob ?? -200) > HEARD_DB, { timeout: 20_000 }).toBe(true);
  await expect.poll(async () => ((await heard(bob, TONES[0])).Alice ?? -200) > HEARD_DB, { timeout: 20_000 }).toBe(true);

  // The console: the conference's backplane, one link each way, Local (both nodes in one location).
  const admin = await browser.newPage();
  contexts.push(admin.context());
  await signIn(admin, platform);
  await admin.goto(`${platform.consoleUrl}/live/conferences/${encodeURIComponent('Spread Room')}`);
  const links = admin.getByTestId('live-conference-backplane');
  await expect(links).toHaveCount(2, { timeout: 10_000 });
  await expect(links.filter({ hasText: 'e2e-node-2' })).toHaveCount(2);
  for (const row of await links.all()) await expect(row).toContainText('Local');

  // Bob leaves: node 2 holds nobody, the backplane closes and the console drops it without a reload.
  await bob.context().close();
  await expect(links).toHaveCount(0, { timeout: 15_000 });
  await expect.poll(() => tileColors(alice), { timeout: 15_000 }).toEqual({});
});

test("a browser signalled on node 1 whose media node 2 handles (node 1's location sends media to node 2's): it and a browser on node 2 see and hear each other", async ({
  browser,
}) => {
  test.setTimeout(120_000);
  const auth = { authorization: `Basic ${Buffer.from(`admin:${platform.adminPassword}`).toString('base64')}`, 'content-type': 'application/json' };
  const rest = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(path.startsWith('/') ? `${platform.consoleUrl}${path}` : `${platform.consoleUrl}/api/admin/configuration/v1/${path}`, {
      method,
      headers: auth,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
    return r;
  };
  const created = async (path: string, body: unknown) => new URL((await rest('POST', path, body)).headers.get('location')!, platform.consoleUrl).pathname;
  // Node 2 in Oslo; node 1 in London, whose transcoding location is Oslo.
  const oslo = await created('system_location/', { name: 'Oslo e2e' });
  const london = await created('system_location/', { name: 'London e2e', transcoding_location: oslo });
  const nodes = ((await (await rest('GET', 'worker_vm/')).json()) as { objects: { name: string }[] }).objects;
  const one = nodes.find((n) => n.name !== 'e2e-node-2')!;
  // The administrator moves the nodes in the console (Platform > Conferencing nodes).
  const admin = await browser.newPage();
  contexts.push(admin.context());
  await signIn(admin, platform);
  await admin.goto(`${platform.consoleUrl}/node-status`);
  await admin.getByLabel('System location of e2e-node-2', { exact: true }).selectOption({ label: 'Oslo e2e' });
  await expect(admin.getByLabel('System location of e2e-node-2', { exact: true })).toHaveValue(/\d+/);
  await admin.getByLabel(`System location of ${one.name}`, { exact: true }).selectOption({ label: 'London e2e' });
  await expect
    .poll(
      async () =>
        ((await (await rest('GET', 'worker_vm/')).json()) as { objects: { name: string; system_location: string }[] }).objects
          .map((n) => `${n.name}: ${n.system_location}`)
          .sort(),
      { timeout: 10_000 },
    )
    .toEqual([`${one.name}: ${london}`, `e2e-node-2: ${oslo}`].sort());
  await createVmr(platform, { name: 'Remote Room', aliases: [{ alias: 'meet.remote' }] });
  const nodeTwo = { ...platform, nodeUrl: `http://127.0.0.1:${SECOND_NODE_PORT}` };
  const dora = await joinAsGuest(browser, nodeTwo, contexts, {
    alias: 'meet.remote',
    name: 'Dora',
    color: [...COLORS.green],
    toneHz: TONES[2],
    screenColor: [...COLORS.white],
  });
  const carl = await joinAsGuest(browser, platform, contexts, {
    alias: 'meet.remote',
    name: 'Carl',
    color: [...COLORS.red],
    toneHz: TONES[3],
    screenColor: [...COLORS.white],
  });
  await expect.poll(() => tileColors(carl), { timeout: 30_000 }).toEqual({ Dora: 'green' });
  await expect.poll(() => tileColors(dora), { timeout: 30_000 }).toEqual({ Carl: 'red' });
  await expect.poll(async () => ((await heard(carl, TONES[2])).Dora ?? -200) > HEARD_DB, { timeout: 20_000 }).toBe(true);
  await expect.poll(async () => ((await heard(dora, TONES[3])).Carl ?? -200) > HEARD_DB, { timeout: 20_000 }).toBe(true);
  // Carl's call: signalled by node 1, its media on node 2.
  const carlStatus = async () =>
    ((await (await rest('GET', '/api/admin/status/v1/participant/?display_name=Carl')).json()) as { objects: Record<string, unknown>[] }).objects[0];
  await expect.poll(async () => (await carlStatus())?.media_node, { timeout: 10_000 }).toBe('e2e-node-2');
  expect((await carlStatus())?.signalling_node).toBe(one.name);
});
