import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, unzipSync, zipSync } from 'fflate';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASES } from '../../db/testing.js';
import { nodeConfigSnapshotSchema, NODE_KEY_HEADER } from '../../shared/node-protocol/messages.js';
import { ManagementServer } from '../../server/ManagementServer.js';
import { basePackage } from '../../server/theme/baseTheme.js';
import { solidJpeg } from '../../server/theme/media.js';
import { NodeAgent } from '../NodeAgent.js';
import { ThemeCache } from './ThemeCache.js';
import { until } from '../../shared/testing/until.js';

const silent = pino({ level: 'silent' });
const KEY = 'theme-integration-key';
const ADMIN = '/api/admin/configuration/v1';

const WAIT_BG = solidJpeg(1920, 1080, [200, 30, 30]);
const WAIT_ICON = strToU8('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#FF0000"/></svg>');
const themeZip = (waitingText: string) =>
  zipSync({
    'themeconfig.json': strToU8(
      JSON.stringify({
        theme_version: 2,
        splash_screens: { labels: { waiting_for_host: waitingText }, screens: { waiting_for_host: { background: { path: 'background_wait.jpg' } } } },
      }),
    ),
    'background_wait.jpg': WAIT_BG,
    'icon_waiting_for_host.svg': WAIT_ICON,
  });
const BASE_FILES = unzipSync(basePackage());

type ThemeResult = Record<string, { layout_type: string; background: { path?: string }; elements: { type: string; text?: string; color?: number }[] }>;
const waitingText = (r: ThemeResult | null) => r?.waiting_for_host?.elements.find((e) => e.type === 'text')?.text;

describe.each(TEST_DATABASES)('themes reach the nodes on $name', ({ open }) => {
  let server: ManagementServer;
  /** A test stopped it already: afterAll must not stop it twice. */
  let serverStopped = false;
  let node: NodeAgent;
  const dataDir = mkdtempSync(join(tmpdir(), 'om-theme-node-'));
  const auth = { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` };
  const json = (method: string, path: string, body: object) =>
    fetch(`${server.url}${path}`, { method, headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const upload = async (method: string, path: string, zip: Uint8Array, name?: string) => {
    const form = new FormData();
    if (name) form.append('name', name);
    form.append('package', new Blob([new Uint8Array(zip)], { type: 'application/zip' }), 'theme.zip');
    const res = await fetch(`${server.url}${path}`, { method, headers: auth, body: form });
    expect(res.status, await res.clone().text()).toBe(method === 'POST' ? 201 : 202);
    return res;
  };
  const theme = (alias: string, file = '') => fetch(`${node.url}/api/client/v2/conferences/${encodeURIComponent(alias)}/theme/${file}`);
  const themeJson = async (alias: string) => {
    const r = await theme(alias);
    return r.status === 200 ? ((await r.json()) as { status: string; result: ThemeResult }).result : null;
  };
  let themeUri = '';
  let themeId = 0;

  beforeAll(async () => {
    server = await ManagementServer.start({
      port: 0,
      database: await open(),
      adminPassword: 'pw',
      enrollmentKey: KEY,
      webRoot: '/nonexistent',
      logger: silent,
    });
    node = await NodeAgent.start({
      name: 'theme-node',
      managementUrl: server.url,
      enrollmentKey: KEY,
      port: 0,
      dataDir,
      webRoot: '/nonexistent',
      mediaPortRange: [42000, 42999],
      logger: silent,
    });
    await until(
      () => node.link.connected,
      (c) => c,
    );
  });
  afterAll(async () => {
    await node?.stop();
    if (!serverStopped) await server?.stop();
  });

  it('serves theme packages to nodes only with the enrollment key', async () => {
    const zip = themeZip('Hold on, {conference_name} starts soon');
    const res = await upload('POST', `${ADMIN}/ivr_theme/`, zip, 'Branded');
    themeUri = new URL(res.headers.get('location')!, server.url).pathname;
    themeId = Number(/(\d+)\/$/.exec(themeUri)![1]);
    const get = (path: string, headers: Record<string, string> = {}) => fetch(`${server.url}/api/node/v1/themes/${path}`, { headers });

    for (const path of ['base', String(themeId)]) {
      expect((await get(path)).status).toBe(401);
      expect((await get(path, { [NODE_KEY_HEADER]: 'wrong' })).status).toBe(401);
      expect((await get(path, { [NODE_KEY_HEADER]: `${KEY}x` })).status).toBe(401);
      // Admin credentials are not a node's credentials.
      expect((await get(path, auth)).status).toBe(401);
    }
    const base = await get('base', { [NODE_KEY_HEADER]: KEY });
    expect(base.status).toBe(200);
    expect(base.headers.get('content-type')).toBe('application/zip');
    expect(Buffer.from(await base.arrayBuffer()).equals(Buffer.from(basePackage()))).toBe(true);
    expect((await get('base', { [NODE_KEY_HEADER]: KEY, 'if-none-match': base.headers.get('etag')! })).status).toBe(304);
    const pkg = await get(String(themeId), { [NODE_KEY_HEADER]: KEY });
    expect(pkg.status).toBe(200);
    expect(Buffer.from(await pkg.arrayBuffer()).equals(Buffer.from(zip))).toBe(true);
    expect((await get('999999', { [NODE_KEY_HEADER]: KEY })).status).toBe(404);
    expect((await get('nope', { [NODE_KEY_HEADER]: KEY })).status).toBe(404);
  });

  it('gives a VMR its theme on the node within seconds, and another VMR the Base theme', async () => {
    const created = await json('POST', `${ADMIN}/conference/`, { name: 'Branded room', aliases: [{ alias: 'branded.room' }] });
    expect(created.status).toBe(201);
    expect((await json('POST', `${ADMIN}/conference/`, { name: 'Plain room', aliases: [{ alias: 'plain.room' }] })).status).toBe(201);
    await until(
      () => themeJson('plain.room'),
      (r) => waitingText(r) === 'Waiting for the host...',
    );

    const t0 = Date.now();
    const patched = await json('PATCH', new URL(created.headers.get('location')!, server.url).pathname, { ivr_theme: themeUri });
    expect(patched.status).toBe(202);
    const r = await until(
      () => themeJson('branded.room'),
      (x) => waitingText(x) === 'Hold on, Branded room starts soon',
    );
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(r!.waiting_for_host!.background).toEqual({ path: 'background_wait.jpg' });
    expect(r!.direct_media_waiting_for_host).toEqual({
      layout_type: 'direct_media',
      background: { path: 'background_wait.jpg' },
      elements: [{ type: 'text', color: 0xffffffff, text: 'Hold on, Branded room starts soon' }],
    });
    // The file served is the uploaded one, byte for byte, with an image content type.
    const bg = await theme('branded.room', 'background_wait.jpg');
    expect(bg.status).toBe(200);
    expect(bg.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await bg.arrayBuffer()).equals(Buffer.from(WAIT_BG))).toBe(true);
    const icon = await theme('branded.room', 'icon_waiting_for_host.svg');
    expect(icon.headers.get('content-type')).toBe('image/svg+xml');
    expect(Buffer.from(await icon.arrayBuffer()).equals(Buffer.from(WAIT_ICON))).toBe(true);
    // Files the theme does not override come from Base.
    const fallback = await theme('branded.room', 'background.jpg');
    expect(Buffer.from(await fallback.arrayBuffer()).equals(Buffer.from(BASE_FILES['background.jpg']!))).toBe(true);

    const plain = (await themeJson('plain.room'))!;
    expect(plain.waiting_for_host!.background).toEqual({ path: 'background.jpg' });
    expect(waitingText(plain)).toBe('Waiting for the host...');
    const baseIcon = await theme('plain.room', 'icon_waiting_for_host.svg');
    expect(Buffer.from(await baseIcon.arrayBuffer()).equals(Buffer.from(BASE_FILES['icon_waiting_for_host.svg']!))).toBe(true);
    expect((await theme('plain.room', 'background_wait.jpg')).status).toBe(404);
  });

  it('follows a replaced package and the global default theme', async () => {
    await upload('PATCH', themeUri, themeZip('New words'));
    await until(
      () => themeJson('branded.room'),
      (x) => waitingText(x) === 'New words',
    );
    expect(waitingText(await themeJson('plain.room'))).toBe('Waiting for the host...');
    expect((await json('PATCH', `${ADMIN}/global/1/`, { default_theme: themeUri })).status).toBe(202);
    await until(
      () => themeJson('plain.room'),
      (x) => waitingText(x) === 'New words',
    );
  });

  it('answers unknown aliases and bad file names as the client API does', async () => {
    const none = await theme('no.such.room');
    expect(none.status).toBe(404);
    expect(await none.json()).toEqual({ status: 'failed', result: 'Neither conference nor gateway found' });
    expect((await theme('no.such.room', 'background.jpg')).status).toBe(404);
    for (const bad of ['..%2F..%2Fconfig.json', '..%2Fthemes%2Findex.json', 'themeconfig.json', '%2Fetc%2Fpasswd', 'conf-getpin_48kHz_mono.wav']) {
      const res = await theme('branded.room', bad);
      expect(res.status, bad).toBe(400);
    }
    expect((await theme('branded.room', 'background_missing.jpg')).status).toBe(404);
  });

  it('keeps the previous package when a download fails, on disk for the next start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'om-theme-cache-'));
    const snapshot = (hash: string) =>
      nodeConfigSnapshotSchema.parse({
        version: hash,
        generatedAt: new Date().toISOString(),
        node: { id: 1, name: 'n', systemLocation: 'x' },
        services: [],
        themes: [{ id: themeId, hash }],
      });
    const good = new ThemeCache({ managementUrl: server.url, enrollmentKey: KEY, dataDir: dir, log: silent });
    await good.apply(snapshot('one'));
    expect(good.hashOf(themeId)).toBe('one');
    good.close();

    // A node whose key the server refuses keeps, from disk, what it had.
    const refused = new ThemeCache({ managementUrl: server.url, enrollmentKey: 'wrong', dataDir: dir, log: silent, retryMs: 60_000 });
    await refused.load();
    await refused.apply(snapshot('two'));
    expect(refused.hashOf(themeId)).toBe('one');
    const [layer] = refused.layersFor({ themeId });
    expect(Buffer.from(layer!.files.get('background_wait.jpg')!).equals(Buffer.from(WAIT_BG))).toBe(true);
    refused.close();
  });

  it('still serves the cached theme after the node restarts while the management server is down', async () => {
    const before = await themeJson('branded.room');
    const managementUrl = server.url;
    // Node first: the management server's shutdown waits for connected nodes' WebSockets.
    await node.stop();
    serverStopped = true;
    await server.stop();
    node = await NodeAgent.start({
      name: 'theme-node',
      managementUrl,
      enrollmentKey: KEY,
      port: 0,
      dataDir,
      webRoot: '/nonexistent',
      mediaPortRange: [42000, 42999],
      logger: silent,
    });
    expect(node.link.connected).toBe(false);
    expect(await themeJson('branded.room')).toEqual(before);
    const bg = await theme('branded.room', 'background_wait.jpg');
    expect(Buffer.from(await bg.arrayBuffer()).equals(Buffer.from(WAIT_BG))).toBe(true);
    const baseBg = await theme('plain.room', 'background_test_call.jpg');
    expect(Buffer.from(await baseBg.arrayBuffer()).equals(Buffer.from(BASE_FILES['background_test_call.jpg']!))).toBe(true);
  });
});
