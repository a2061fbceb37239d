import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { strToU8, zipSync } from 'fflate';
import { solidJpeg } from '../server/theme/media.js';
import { startPlatform, type Platform } from './support/platform.js';

/**
 * What the node does with its configuration, seen from the meeting client: Virtual Reception,
 * Guests waiting for a Host, the Test Call Service, maintenance mode, client STUN/TURN servers
 * and chat. Real management server, real node, real Chromium with a fake camera.
 */
let platform: Platform;
test.beforeAll(async () => {
  platform = await startPlatform({ managementPort: 18580, nodePort: 18581, mediaPorts: '47000-47999' });
});
test.afterAll(async () => platform?.stop());

const CONFIG = '/api/admin/configuration/v1';
async function api(path: string, init: { method?: string; body?: unknown } = {}) {
  const res = await fetch(`${platform.consoleUrl}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Basic ${Buffer.from(`admin:${platform.adminPassword}`).toString('base64')}`,
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
  });
  const text = await res.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON of many resource shapes
  let body: any;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  return { status: res.status, body, location: res.headers.get('location') ?? '' };
}
async function create(resource: string, body: Record<string, unknown>): Promise<string> {
  const res = await api(`${CONFIG}/${resource}/`, { method: 'POST', body });
  expect(res.status, `create ${resource}: ${JSON.stringify(res.body)}`).toBe(201);
  return new URL(res.location, platform.consoleUrl).pathname;
}
async function patch(uri: string, body: Record<string, unknown>) {
  const res = await api(uri, { method: 'PATCH', body });
  expect(res.status, `patch ${uri}: ${JSON.stringify(res.body)}`).toBe(202);
}

/** Services the node has (its health endpoint): a service created through the API has reached it once this grows. */
async function nodeServices(): Promise<number> {
  return ((await (await fetch(`${platform.nodeUrl}/healthz`)).json()) as { services: number }).services;
}
/** Creates a service and waits until the node has it. */
async function createService(body: Record<string, unknown>): Promise<string> {
  const before = await nodeServices();
  const uri = await create('conference', body);
  await expect.poll(nodeServices, { timeout: 10_000 }).toBeGreaterThan(before);
  return uri;
}

/** Each participant is its own browser context, closed after the test. */
const contexts: BrowserContext[] = [];
test.afterEach(async () => {
  await Promise.all(contexts.splice(0).map((c) => c.close()));
});
async function open(browser: Browser, alias: string, name: string): Promise<Page> {
  const ctx = await browser.newContext();
  contexts.push(ctx);
  const page = await ctx.newPage();
  await page.goto(`${platform.nodeUrl}/webapp/?alias=${encodeURIComponent(alias)}`);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join' }).click();
  return page;
}
async function enterPin(page: Page, pin: string) {
  await page.getByLabel('PIN').fill(pin);
  await page.getByRole('button', { name: 'Join' }).click();
}

/**
 * Video the participant actually sees: the <video> element has a picture size, its playback time
 * advances and new frames are presented (requestVideoFrameCallback) over one second.
 */
async function seenFrames(page: Page, testId = 'remote-video') {
  return page.evaluate(async (id) => {
    const v = document.querySelector<HTMLVideoElement>(`[data-testid="${id}"]`);
    if (!v || v.videoWidth === 0) return 0;
    const t0 = v.currentTime;
    let frames = 0;
    await new Promise<void>((resolve) => {
      const tick = () => {
        frames++;
        v.requestVideoFrameCallback(tick);
      };
      v.requestVideoFrameCallback(tick);
      setTimeout(resolve, 1_000);
    });
    return v.currentTime > t0 ? frames : 0;
  }, testId);
}
async function expectVideo(page: Page, testId = 'remote-video') {
  await expect.poll(() => seenFrames(page, testId), { timeout: 25_000, intervals: [500] }).toBeGreaterThanOrEqual(3);
}

const splash = (page: Page) => page.getByTestId('splash');

test('Virtual Reception: the caller keys in a conference number and is transferred into the VMR', async ({ browser }) => {
  await createService({ name: 'Reception Target', aliases: [{ alias: '1234' }] });
  await createService({ name: 'Front Desk', service_type: 'two_stage_dialing', aliases: [{ alias: 'reception' }] });

  const alice = await open(browser, '1234', 'Alice');
  await expect(alice.getByRole('heading', { name: 'Reception Target' })).toBeVisible();

  const bob = await open(browser, 'reception', 'Bob');
  await expect(bob.getByRole('heading', { name: 'Virtual Reception' })).toBeVisible();
  await expect(splash(bob)).toHaveAttribute('data-screen', 'virtual_reception_welcome');
  await expect(splash(bob)).toContainText(/Enter conference ID|Enter the conference number followed by #/);
  await expect(bob.getByRole('group', { name: 'Keypad' })).toBeVisible();

  // A number that is no conference, on the on-screen keypad: told so, then asked again.
  const keypad = bob.getByRole('group', { name: 'Keypad' });
  for (const key of ['9', '9']) await keypad.getByRole('button', { name: key, exact: true }).click();
  await expect(splash(bob)).toHaveAttribute('data-screen', 'virtual_reception_conference_id_entry');
  await expect(splash(bob)).toHaveText('99');
  await keypad.getByRole('button', { name: 'Pound' }).click();
  await expect(splash(bob)).toHaveAttribute('data-screen', 'virtual_reception_conference_id_invalid');
  await expect(splash(bob)).toContainText(/Conference ID invalid|That number is not valid/);
  await expect(splash(bob)).toHaveAttribute('data-screen', 'virtual_reception_welcome');

  // The right number on the keyboard: Bob is transferred into Alice's room.
  await bob.keyboard.type('1234#');
  await expect(bob.getByRole('heading', { name: 'Reception Target' })).toBeVisible({ timeout: 15_000 });
  await expect(bob.getByRole('group', { name: 'Keypad' })).toHaveCount(0);
  await expect(splash(bob)).toHaveCount(0);
  for (const page of [alice, bob]) await expect(page.getByTestId('roster').getByRole('listitem')).toHaveCount(2, { timeout: 10_000 });
  await expect(alice.getByTestId('roster')).toContainText('Bob');
  await expectVideo(bob);
  await expectVideo(alice);

  // The reception leg is gone: only the two in the VMR are live.
  const status = await api('/api/admin/status/v1/participant/');
  expect((status.body.objects as { display_name: string }[]).map((p) => p.display_name).sort()).toEqual(['Alice', 'Bob']);
  await bob.getByRole('button', { name: 'Leave' }).click();
  await alice.getByRole('button', { name: 'Leave' }).click();
});

test("Virtual Reception: the target room's PIN still applies after the transfer", async ({ browser }) => {
  await createService({ name: 'Locked Target', aliases: [{ alias: '5678' }], pin: '8642' });
  const cara = await open(browser, 'reception', 'Cara');
  await expect(splash(cara)).toHaveAttribute('data-screen', 'virtual_reception_welcome');
  await cara.keyboard.type('5678#');
  await expect(cara.getByText('This meeting is protected by a PIN.')).toBeVisible({ timeout: 15_000 });
  await enterPin(cara, '1111');
  await expect(cara.getByRole('alert')).toContainText('The PIN is invalid for this conference.');
  await enterPin(cara, '8642');
  await expect(cara.getByRole('heading', { name: 'Locked Target' })).toBeVisible();
  await expect(cara.locator('header').getByText('Host', { exact: true })).toBeVisible();
  // Only Cara, in the target room: the reception leg has gone.
  await expect(cara.getByTestId('roster').getByTestId('participant-name')).toHaveText(['Cara']);
  await expect(cara.getByTestId('roster').getByTestId('participant')).toContainText('Host');
  await expect.poll(async () => ((await api('/api/admin/status/v1/participant/')).body.objects as unknown[]).length).toBe(1);
  await cara.getByRole('button', { name: 'Leave' }).click();
});

test('Guests wait for a Host: held with the waiting screen, released when the Host joins', async ({ browser }) => {
  await createService({ name: 'Hosted Room', aliases: [{ alias: 'meet.hosted' }], pin: '2468', allow_guests: true });

  const guest = await open(browser, 'meet.hosted', 'Gina Guest');
  await expect(guest.getByText('Guests may leave it blank.')).toBeVisible();
  await enterPin(guest, '');
  await expect(splash(guest)).toHaveAttribute('data-screen', 'waiting_for_host');
  await expect(splash(guest)).toContainText(/Waiting for the host/);
  await expect(guest.locator('header').getByText('Guest', { exact: true })).toBeVisible();

  const host = await open(browser, 'meet.hosted', 'Harry Host');
  await enterPin(host, '2468');
  await expect(host.locator('header').getByText('Host', { exact: true })).toBeVisible();

  await expect(splash(guest)).toHaveCount(0, { timeout: 10_000 });
  await expectVideo(guest);
  await expectVideo(host);
  await expect(host.getByTestId('roster')).toContainText('Gina Guest');
  await guest.getByRole('button', { name: 'Leave' }).click();
  await host.getByRole('button', { name: 'Leave' }).click();
});

test("themes: the waiting screen shows the service theme's text and background image", async ({ browser }) => {
  const zip = zipSync({
    'themeconfig.json': strToU8(
      JSON.stringify({
        theme_version: 2,
        splash_screens: {
          labels: { waiting_for_host: 'Hold on, <b>{conference_name}</b> starts soon' },
          screens: { waiting_for_host: { background: { path: 'background_wait.jpg' } } },
        },
      }),
    ),
    'background_wait.jpg': solidJpeg(1920, 1080, [200, 30, 30]),
  });
  const form = new FormData();
  form.append('name', 'E2E Branded');
  form.append('package', new Blob([new Uint8Array(zip)], { type: 'application/zip' }), 'theme.zip');
  const uploaded = await fetch(`${platform.consoleUrl}${CONFIG}/ivr_theme/`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`admin:${platform.adminPassword}`).toString('base64')}` },
    body: form,
  });
  expect(uploaded.status, await uploaded.clone().text()).toBe(201);
  const themeUri = new URL(uploaded.headers.get('location')!, platform.consoleUrl).pathname;
  await createService({ name: 'Branded Room', aliases: [{ alias: 'meet.branded' }], pin: '4321', allow_guests: true, ivr_theme: themeUri });
  // The node fetches the theme package after the configuration names it.
  await expect
    .poll(
      async () => {
        const res = await fetch(`${platform.nodeUrl}/api/client/v2/conferences/meet.branded/theme/`);
        if (res.status !== 200) return null;
        const body = (await res.json()) as { result: Record<string, { background?: { path?: string } }> };
        return body.result.waiting_for_host?.background?.path ?? null;
      },
      { timeout: 15_000 },
    )
    .toBe('background_wait.jpg');

  const guest = await open(browser, 'meet.branded', 'Gus');
  await enterPin(guest, '');
  await expect(splash(guest)).toHaveAttribute('data-screen', 'waiting_for_host');
  await expect(splash(guest)).toHaveText('Hold on, <b>Branded Room</b> starts soon');
  await expect(splash(guest).locator('b')).toHaveCount(0);
  // The theme's background, loaded and painted: a red picture, not the default one.
  const background = splash(guest).getByTestId('splash-background');
  await expect(background).toBeVisible();
  await expect
    .poll(() =>
      background.evaluate((img: HTMLImageElement) => {
        if (!img.complete || img.naturalWidth === 0) return null;
        const c = document.createElement('canvas');
        c.width = c.height = 8;
        const ctx = c.getContext('2d')!;
        ctx.drawImage(img, 0, 0, 8, 8);
        const [r, g, b] = ctx.getImageData(4, 4, 1, 1).data;
        return { width: img.naturalWidth, red: r! > 150 && g! < 80 && b! < 80 };
      }),
    )
    .toEqual({ width: 1920, red: true });
  await guest.getByRole('button', { name: 'Leave' }).click();
});

test('a Guest nobody admits is told why they were disconnected', async ({ browser }) => {
  await patch(`${CONFIG}/global/1/`, { waiting_for_chair_timeout: 3 });
  try {
    // The node's configuration comes whole: once it has this newer service, it has the setting too.
    await createService({ name: 'Empty Hosted Room', aliases: [{ alias: 'meet.nohost' }], pin: '1357', allow_guests: true });
    const guest = await open(browser, 'meet.nohost', 'Lonely Guest');
    await enterPin(guest, '');
    await expect(splash(guest)).toContainText(/Waiting for the host/);
    // The plain-language text, with the guide's reason beside it.
    await expect(guest.getByRole('status')).toContainText('Timeout waiting for conference host to join or permit access to locked conference', {
      timeout: 15_000,
    });
    await expect(guest.getByRole('status')).toContainText('no Host joined or admitted you in time');
    await expect(guest.getByTestId('ended')).toBeVisible();
  } finally {
    await patch(`${CONFIG}/global/1/`, { waiting_for_chair_timeout: 900 });
  }
});

test('Test Call: the caller sees the test call screens and their own video looped back, then is disconnected', async ({ browser }) => {
  const existing = await api(`${CONFIG}/conference/?service_type=test_call`);
  const hasTestCall = (existing.body?.objects as { aliases: { alias: string }[] }[] | undefined)?.some((s) => s.aliases.some((a) => a.alias === 'test_call'));
  if (!hasTestCall) await createService({ name: 'Test Call Service', service_type: 'test_call', aliases: [{ alias: 'test_call' }] });

  const page = await open(browser, 'test_call', 'Tess');
  await expect(page.getByRole('heading', { name: 'Test call' })).toBeVisible();
  await expect(page.getByTestId('test-call-label')).toBeVisible();
  await expect(splash(page)).toHaveAttribute('data-screen', 'test_call_welcome');
  await expect(splash(page)).toContainText('Live Test');
  // Own video, back from the node after its delay, is the main video.
  await expectVideo(page);
  await expect(splash(page)).toHaveAttribute('data-screen', 'test_call_in_progress', { timeout: 15_000 });
  await expect(splash(page)).toContainText('two second delay');
  await expect(page.getByRole('status').filter({ hasText: 'Test call finished' })).toBeVisible({ timeout: 30_000 });
});

test('maintenance mode: new joins are refused with the reason, and accepted again afterwards', async ({ browser }) => {
  await createService({ name: 'Maintenance Room', aliases: [{ alias: 'meet.maint' }] });
  const nodes = await api(`${CONFIG}/worker_vm/`);
  const node = (nodes.body.objects as { name: string; resource_uri: string }[]).find((n) => n.name === 'e2e-node');
  expect(node).toBeDefined();
  const probe = async () =>
    (
      await fetch(`${platform.nodeUrl}/api/client/v2/conferences/no.such.alias/request_token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"display_name":"probe"}',
      })
    ).status;

  await patch(new URL(node!.resource_uri, platform.consoleUrl).pathname, { maintenance_mode: true });
  try {
    await expect.poll(probe, { timeout: 10_000 }).toBe(503);
    const page = await open(browser, 'meet.maint', 'Mia');
    await expect(page.getByRole('alert')).toContainText('System in maintenance mode');
    await expect(page.getByTestId('remote-video')).toHaveCount(0);

    await patch(new URL(node!.resource_uri, platform.consoleUrl).pathname, { maintenance_mode: false });
    await expect.poll(probe, { timeout: 10_000 }).toBe(404);
    await page.getByRole('button', { name: 'Join' }).click();
    await expect(page.getByRole('heading', { name: 'Maintenance Room' })).toBeVisible();
    await page.getByRole('button', { name: 'Leave' }).click();
  } finally {
    await api(new URL(node!.resource_uri, platform.consoleUrl).pathname, { method: 'PATCH', body: { maintenance_mode: false } });
  }
});

test("ICE servers: the location's client STUN and TURN servers reach the browser's RTCPeerConnection", async ({ browser }) => {
  await createService({ name: 'ICE Room', aliases: [{ alias: 'meet.ice' }] });
  const turn = await create('turn_server', {
    name: 'E2E TURN',
    address: 'turn.e2e.example.com',
    port: 3479,
    server_type: 'namepsw',
    username: 'turnuser',
    password: 'turn-secret-1',
  });
  const stun = await create('stun_server', { name: 'E2E STUN', address: 'stun.e2e.example.com', port: 19302 });
  const nodes = await api(`${CONFIG}/worker_vm/`);
  const node = (nodes.body.objects as { name: string; system_location: string }[]).find((n) => n.name === 'e2e-node')!;
  const location = new URL(node.system_location, platform.consoleUrl).pathname;
  await patch(location, { client_turn_servers: [turn], client_stun_servers: [stun] });

  // The node hands them out in request_token once it has the new configuration.
  const iceOfJoin = async () => {
    const res = await fetch(`${platform.nodeUrl}/api/client/v2/conferences/meet.ice/request_token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"display_name":"probe"}',
    });
    const body = (await res.json()) as { result: { token: string; turn?: unknown[] } };
    await fetch(`${platform.nodeUrl}/api/client/v2/conferences/meet.ice/release_token`, {
      method: 'POST',
      headers: { token: body.result.token, 'content-type': 'application/json' },
      body: '{}',
    });
    return body.result.turn?.length ?? 0;
  };
  await expect.poll(iceOfJoin, { timeout: 10_000 }).toBe(1);

  const page = await open(browser, 'meet.ice', 'Ivy');
  await expect(page.getByTestId('ice-servers')).toHaveText('ICE servers: 2');
  const config = await page.evaluate(() => {
    const c = window.meeting!.pc.getConfiguration();
    return {
      policy: c.iceTransportPolicy,
      servers: (c.iceServers ?? []).map((s) => ({ urls: ([] as string[]).concat(s.urls), username: s.username || null, credential: s.credential || null })),
    };
  });
  expect(config.policy).toBe('all');
  expect(config.servers).toEqual(
    expect.arrayContaining([
      { urls: ['stun:stun.e2e.example.com:19302'], username: null, credential: null },
      { urls: [expect.stringMatching(/^turn:turn\.e2e\.example\.com:3479(\?transport=udp)?$/)], username: 'turnuser', credential: 'turn-secret-1' },
    ]),
  );
  await page.getByRole('button', { name: 'Leave' }).click();

  // Relay only: the browser is told to use TURN candidates only.
  await patch(location, { use_relay_candidates_only: true });
  await expect
    .poll(
      async () => {
        const res = await fetch(`${platform.nodeUrl}/api/client/v2/conferences/meet.ice/request_token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"display_name":"probe"}',
        });
        const body = (await res.json()) as { result: { token: string; use_relay_candidates_only?: boolean } };
        await fetch(`${platform.nodeUrl}/api/client/v2/conferences/meet.ice/release_token`, {
          method: 'POST',
          headers: { token: body.result.token, 'content-type': 'application/json' },
          body: '{}',
        });
        return body.result.use_relay_candidates_only;
      },
      { timeout: 10_000 },
    )
    .toBe(true);
  await page.getByRole('button', { name: 'Join' }).click();
  await expect(page.getByTestId('ice-servers')).toHaveText('ICE servers: 2 (relay only)');
  expect(await page.evaluate(() => window.meeting!.pc.getConfiguration().iceTransportPolicy)).toBe('relay');
  await page.getByRole('button', { name: 'Leave' }).click();
  await patch(location, { use_relay_candidates_only: false, client_turn_servers: [], client_stun_servers: [] });
});

test('chat: two participants exchange messages; untrusted text is shown as text', async ({ browser }) => {
  await createService({ name: 'Chat Room', aliases: [{ alias: 'meet.chat' }] });
  await createService({ name: 'Quiet Room', aliases: [{ alias: 'meet.quiet' }], enable_chat: 'no' });

  const ann = await open(browser, 'meet.chat', 'Ann');
  const ben = await open(browser, 'meet.chat', 'Ben <b>bold</b>');
  for (const page of [ann, ben]) await expect(page.getByTestId('roster').getByRole('listitem')).toHaveCount(2);

  const chatOf = (page: Page) => page.getByRole('region', { name: 'Chat' });
  await chatOf(ann).getByLabel('Message').fill('Hello Ben');
  await chatOf(ann).getByRole('button', { name: 'Send' }).click();
  // Who, when (hh:mm), what.
  await expect(chatOf(ben).getByTestId('chat-messages').getByRole('listitem')).toHaveText([/^Ann \d{1,2}:\d{2}( [AP]M)? Hello Ben$/]);
  await expect(chatOf(ann).getByTestId('chat-messages').getByRole('listitem')).toHaveText([/^Ann \d{1,2}:\d{2}( [AP]M)? Hello Ben$/]);

  const markup = '<img src=x onerror="window.__pwned=1"> hi';
  await chatOf(ben).getByLabel('Message').fill(markup);
  await chatOf(ben).getByRole('button', { name: 'Send' }).click();
  const last = chatOf(ann).getByTestId('chat-messages').getByRole('listitem').last();
  await expect(last.locator('strong')).toHaveText('Ben <b>bold</b>');
  await expect(last.locator('span')).toHaveText(markup);
  await expect(chatOf(ann).locator('img, b')).toHaveCount(0);
  expect(await ann.evaluate(() => (window as Window & { __pwned?: number }).__pwned)).toBeUndefined();

  // Chat switched off for a service: no chat panel there.
  const quiet = await open(browser, 'meet.quiet', 'Quinn');
  await expect(quiet.getByRole('heading', { name: 'Quiet Room' })).toBeVisible();
  await expect(quiet.getByTestId('roster').getByRole('listitem')).toHaveCount(1);
  await expect(chatOf(quiet)).toHaveCount(0);
  for (const page of [ann, ben, quiet]) await page.getByRole('button', { name: 'Leave' }).click();
});
