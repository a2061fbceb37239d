import { createHash, randomBytes } from 'node:crypto';
import { asc, eq, sql } from 'drizzle-orm';
import Fastify, { type FastifyInstance } from 'fastify';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { adminUser, adminUserRole, ivrTheme, ivrThemePart } from '../../db/schema.js';
import { TEST_DATABASES } from '../../db/testing.js';
import { NODE_KEY_HEADER, NODE_THEMES_PATH } from '../../shared/node-protocol/messages.js';
import { READ_ONLY_PERMISSIONS, READ_WRITE_PERMISSIONS } from '../../shared/admin/permissions.js';
import { MAX_THEME_PACKAGE_BYTES, THEME_UPLOAD_PATH, themeDownloadPath } from '../../shared/theme/theme.schema.js';
import { listAdminLog } from '../audit/adminLog.service.js';
import { createSession, ensureBuiltinRoles } from '../auth/admin.service.js';
import { ManagementServer } from '../ManagementServer.js';
import { appRouter } from '../trpc/root.js';
import { SESSION_COOKIE, type Context } from '../trpc/trpc.js';
import { basePackage } from './baseTheme.js';
import { solidJpeg, tones, wav48kMono } from './media.js';
import { registerThemeRoutes } from './theme.routes.js';
import { registerThemeDeliveryRoutes } from './themeDelivery.routes.js';
import { THEME_PART_BYTES } from './themeStorage.js';

const BASE = '/api/admin/configuration/v1/ivr_theme/';

const goodZip = (extra: Record<string, Uint8Array> = {}) =>
  zipSync({
    'themeconfig.json': strToU8(JSON.stringify({ theme_version: 2, recording_indicator_text: 'REC' })),
    'conf-waitforleader_48kHz_mono.wav': wav48kMono(tones([{ hz: 440, ms: 50 }])),
    'background.jpg': solidJpeg(1920, 1080, [10, 20, 30]),
    ...extra,
  });

describe.each(TEST_DATABASES)('themes on $name', ({ open }) => {
  let server: ManagementServer;
  // The lead wires registerThemeRoutes into ManagementServer; until then the routes get their own
  // Fastify instance on the same domain (routes cannot be added to a listening server).
  let app: FastifyInstance;
  let url: string;
  const auth = `Basic ${Buffer.from('admin:pw').toString('base64')}`;
  const api = (path: string, init: RequestInit = {}) =>
    fetch(url + path, { ...init, headers: { authorization: auth, ...(init.headers as Record<string, string>) } });
  const upload = (fields: Record<string, string>, zip?: Uint8Array, method = 'POST', path = BASE) => {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    if (zip) form.append('package', new Blob([new Uint8Array(zip)], { type: 'application/zip' }), 'theme.zip');
    return api(path, { method, body: form });
  };

  beforeAll(async () => {
    server = await ManagementServer.start({
      port: 0,
      database: await open(),
      adminPassword: 'pw',
      enrollmentKey: 'k',
      webRoot: '/nonexistent',
      logger: pino({ level: 'silent' }),
    });
    // Connections cut mid-upload (the ZIP bomb test) must not hold up close().
    app = Fastify({ bodyLimit: 10 * 1024 * 1024, forceCloseConnections: true });
    registerThemeRoutes(app, server.dom);
    await app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app.close();
    await server.stop();
  });

  it('refuses requests without valid credentials', async () => {
    expect((await fetch(url + BASE)).status).toBe(401);
    expect((await fetch(`${url}${BASE}1/package/`)).status).toBe(401);
    const form = new FormData();
    form.append('name', 'x');
    expect((await fetch(url + BASE, { method: 'POST', body: form })).status).toBe(401);
  });

  it('uploads a theme as multipart/form-data, lists, reads, patches, downloads and deletes it', async () => {
    const zip = goodZip();
    const created = await upload({ name: 'Corporate', description: 'Our branding' }, zip);
    expect(created.status).toBe(201);
    const location = created.headers.get('location')!;
    expect(location).toMatch(/^\/api\/admin\/configuration\/v1\/ivr_theme\/\d+\/$/);
    const body = await created.json();
    expect(body).toMatchObject({ name: 'Corporate', description: 'Our branding', resource_uri: location, package: `${location}package/` });
    expect(body.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.creation_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);

    const list = await (await api(BASE)).json();
    expect(list.meta).toMatchObject({ total_count: 1, offset: 0, next: null, previous: null });
    expect(list.objects[0]).toMatchObject({ name: 'Corporate', resource_uri: location });
    expect((await (await api(`${BASE}?name=Nope`)).json()).meta.total_count).toBe(0);

    expect(await (await api(location)).json()).toEqual(body);

    const download = await api(`${location}package/`);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('application/zip');
    expect(download.headers.get('content-disposition')).toBe('attachment; filename="Corporate.zip"');
    expect(Buffer.from(await download.arrayBuffer()).equals(Buffer.from(zip))).toBe(true);

    const patched = await api(location, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Corporate 2', description: 'changed' }),
    });
    expect(patched.status).toBe(202);
    expect(await (await api(location)).json()).toMatchObject({ name: 'Corporate 2', description: 'changed', uuid: body.uuid });

    // A new ZIP replaces all of the theme's files (no merge).
    const replacement = zipSync({ 'themeconfig.json': strToU8('{"theme_version": 2}') });
    expect((await upload({}, replacement, 'PATCH', location)).status).toBe(202);
    expect(Object.keys(unzipSync(new Uint8Array(await (await api(`${location}package/`)).arrayBuffer())))).toEqual(['themeconfig.json']);

    const log = await listAdminLog(server.dom, { search: 'Theme' });
    const entries = log.items.filter((e) => e.objectType === 'Theme');
    expect(entries.map((e) => e.action)).toEqual(['changed', 'changed', 'added']);
    expect(entries.every((e) => e.username === 'admin')).toBe(true);
    expect(entries[0]!.changes.files).toEqual({
      before: ['background.jpg', 'conf-waitforleader_48kHz_mono.wav', 'themeconfig.json'],
      after: ['themeconfig.json'],
    });
    expect(JSON.stringify(entries)).not.toContain('package');

    expect((await api(location, { method: 'DELETE' })).status).toBe(204);
    expect((await api(location)).status).toBe(404);
    expect((await api(`${location}package/`)).status).toBe(404);
    expect((await api(location, { method: 'DELETE' })).status).toBe(404);
  });

  it("refuses bad packages with the guide's messages beside the package field", async () => {
    const cases: [Uint8Array | undefined, string[]][] = [
      [undefined, ['This field is required.']],
      [strToU8('not a zip'), ['The uploaded file is not a valid ZIP file.']],
      [zipSync({ 'themeconfig.json': strToU8('{"theme_version": 2,}') }), ['Invalid file in theme: themeconfig.json']],
      [goodZip({ 'background.jpg': solidJpeg(1024, 768, [0, 0, 0]) }), ['Invalid file in theme: background.jpg']],
      [goodZip({ 'conf-getpin_48kHz_mono.wav': strToU8('RIFF....WAVE') }), ['Invalid file in theme: conf-getpin_48kHz_mono.wav']],
    ];
    for (const [zip, messages] of cases) {
      const res = await upload({ name: 'Bad theme' }, zip);
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ package: messages });
    }
    // Field and package errors come back together.
    const both = await upload({ name: '' }, strToU8('nope'));
    expect(await both.json()).toEqual({ name: ['This field is required.'], package: ['The uploaded file is not a valid ZIP file.'] });
    expect((await (await api(BASE)).json()).meta.total_count).toBe(0);
  });

  it('refuses a ZIP over the size limit without storing it', async () => {
    const res = await upload({ name: 'Huge' }, new Uint8Array(MAX_THEME_PACKAGE_BYTES + 10));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ package: ['The theme ZIP file must be no larger than 50 MB.'] });
  });

  it('refuses a ZIP bomb while it is still being uploaded (entry sizes checked as the headers arrive)', async () => {
    // A local file header declaring 300 MB unpacked, then compressed data that never ends.
    const name = Buffer.from('background.jpg');
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(8, 8); // deflate
    header.writeUInt32LE(10 * 1024 * 1024, 18); // compressed size
    header.writeUInt32LE(300 * 1024 * 1024, 22); // unpacked size
    header.writeUInt16LE(name.length, 26);
    const boundary = 'bomb-boundary';
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nBomb\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="package"; filename="bomb.zip"\r\nContent-Type: application/zip\r\n\r\n`,
    );
    const u = new URL(BASE, url);
    const answer = await new Promise<{ status: number; body: string; sentMb: number }>((resolve, reject) => {
      const req = request({
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        headers: { authorization: auth, 'content-type': `multipart/form-data; boundary=${boundary}` },
      });
      let sent = 0;
      const timer = setTimeout(() => reject(new Error('no answer while the upload was still being sent')), 15_000);
      req.on('response', (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => {
          clearTimeout(timer);
          clearInterval(more);
          req.destroy();
          resolve({ status: res.statusCode!, body, sentMb: sent / 1024 / 1024 });
        });
      });
      req.on('error', () => {});
      req.write(Buffer.concat([head, header, name]));
      const more = setInterval(() => {
        if (req.destroyed) return clearInterval(more);
        req.write(Buffer.alloc(64 * 1024, 0x55));
        sent += 64 * 1024;
      }, 10);
    });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toEqual({ package: ['The theme must unpack to no more than 200 MB.'] });
    expect(answer.sentMb).toBeLessThan(10);
    expect((await (await api(`${BASE}?name=Bomb`)).json()).meta.total_count).toBe(0);
  });

  it('spools uploads to DATA_DIR/uploads, refuses a path-traversal entry, and leaves no temp file behind', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'theme-spool-'));
    const before = process.env.DATA_DIR;
    process.env.DATA_DIR = dataDir;
    try {
      const evil = await upload({ name: 'Traversal' }, goodZip({ '../../evil.wav': wav48kMono(tones([{ hz: 440, ms: 20 }])) }));
      expect(evil.status).toBe(400);
      expect(await evil.json()).toEqual({ package: ['Invalid file in theme: ../../evil.wav'] });
      const good = await upload({ name: 'Spooled' }, goodZip());
      expect(good.status).toBe(201);
      const id = (await good.json()).id as number;
      // What was stored is byte for byte what was sent, read back from the spool file.
      const stored = new Uint8Array(await (await api(`${BASE}${id}/package/`)).arrayBuffer());
      expect(Object.keys(unzipSync(stored)).sort()).toEqual(['background.jpg', 'conf-waitforleader_48kHz_mono.wav', 'themeconfig.json']);
      expect(await readdir(join(dataDir, 'uploads'))).toEqual([]);
      expect((await api(`${BASE}${id}/`, { method: 'DELETE' })).status).toBe(204);
    } finally {
      if (before === undefined) delete process.env.DATA_DIR;
      else process.env.DATA_DIR = before;
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('stores a package in parts of 1 MiB, streams it back byte for byte, and gives nodes its stored hash as ETag', async () => {
    // 40 s of noise stored uncompressed: a ZIP of several parts.
    const noise = new Int16Array(new Uint8Array(randomBytes(48_000 * 40 * 2)).buffer);
    const zip = zipSync({ 'conf-getpin_48kHz_mono.wav': [wav48kMono(noise), { level: 0 }] });
    const created = await upload({ name: 'In parts' }, zip);
    expect(created.status).toBe(201);
    const id = (await created.json()).id as number;
    const db = server.dom.db;
    const parts = await db
      .select({ seq: ivrThemePart.seq, size: sql<number>`octet_length(${ivrThemePart.data})`.mapWith(Number) })
      .from(ivrThemePart)
      .where(eq(ivrThemePart.themeId, id))
      .orderBy(asc(ivrThemePart.seq));
    expect(parts.length).toBe(Math.ceil(zip.length / THEME_PART_BYTES));
    expect(parts.length).toBeGreaterThan(3);
    expect(parts.map((p) => p.seq)).toEqual(parts.map((_, i) => i));
    expect(parts.every((p) => p.size <= THEME_PART_BYTES)).toBe(true);
    expect(parts.reduce((n, p) => n + p.size, 0)).toBe(zip.length);
    const sha = createHash('sha256').update(zip).digest('hex');
    const [row] = await db.select({ sha: ivrTheme.packageSha256, size: ivrTheme.packageSize }).from(ivrTheme).where(eq(ivrTheme.id, id));
    expect(row).toEqual({ sha, size: zip.length });

    const download = await api(`${BASE}${id}/package/`);
    expect(download.headers.get('content-length')).toBe(String(zip.length));
    expect(Buffer.from(await download.arrayBuffer()).equals(Buffer.from(zip))).toBe(true);

    // What nodes fetch: the same bytes, the stored hash as ETag, 304 when they have it.
    const nodeApi = Fastify();
    registerThemeDeliveryRoutes(nodeApi, server.dom);
    await nodeApi.listen({ port: 0, host: '127.0.0.1' });
    try {
      const nodeUrl = `http://127.0.0.1:${(nodeApi.server.address() as AddressInfo).port}${NODE_THEMES_PATH}/${id}`;
      const fetched = await fetch(nodeUrl, { headers: { [NODE_KEY_HEADER]: 'k' } });
      expect(fetched.status).toBe(200);
      expect(fetched.headers.get('etag')).toBe(`"${sha}"`);
      expect(Buffer.from(await fetched.arrayBuffer()).equals(Buffer.from(zip))).toBe(true);
      expect((await fetch(nodeUrl, { headers: { [NODE_KEY_HEADER]: 'k', 'if-none-match': `"${sha}"` } })).status).toBe(304);
    } finally {
      await nodeApi.close();
    }

    // Replacing the package replaces every part; deleting the theme removes them.
    expect((await upload({}, goodZip(), 'PATCH', `${BASE}${id}/`)).status).toBe(202);
    expect((await db.select().from(ivrThemePart).where(eq(ivrThemePart.themeId, id))).length).toBe(1);
    expect((await api(`${BASE}${id}/`, { method: 'DELETE' })).status).toBe(204);
    expect(await db.select().from(ivrThemePart).where(eq(ivrThemePart.themeId, id))).toEqual([]);
  });

  it('keeps theme names unique', async () => {
    expect((await upload({ name: 'Unique' }, goodZip())).status).toBe(201);
    const dup = await upload({ name: 'Unique' }, goodZip());
    expect(dup.status).toBe(400);
    expect(await dup.json()).toEqual({ name: ['A theme with this name already exists.'] });
  });

  it('serves the console: the ZIP sent raw to the upload route and named by id over tRPC, downloads streamed, each with its permissions', async () => {
    const db = server.dom.db;
    const roles = await ensureBuiltinRoles(db);
    const [viewer] = await db.insert(adminUser).values({ username: 'theme-viewer', passwordHash: 'unused' }).returning();
    await db.insert(adminUserRole).values({ adminUserId: viewer!.id, adminRoleId: roles.readOnly });
    const [admin] = await db.select().from(adminUser).where(eq(adminUser.username, 'admin'));
    const adminCookie = `${SESSION_COOKIE}=${await createSession(db, admin!.id)}`;
    const viewerCookie = `${SESSION_COOKIE}=${await createSession(db, viewer!.id)}`;
    const raw = { 'content-type': 'application/octet-stream', 'x-requested-with': 'openmeet-console' };
    const send = async (headers: Record<string, string>, body: Uint8Array) =>
      fetch(server.url + THEME_UPLOAD_PATH, { method: 'POST', headers, body: new Uint8Array(body) });
    const uploadId = async (body: Uint8Array) => {
      const res = await send({ cookie: adminCookie, ...raw }, body);
      expect(res.status).toBe(200);
      return z.object({ id: z.string(), size: z.literal(body.length) }).parse(await res.json()).id;
    };
    const ctx = (permissions: string[], username: string): Context => ({
      dom: server.dom,
      status: server.status,
      registry: server.registry,
      admin: { id: 1, username, mayUseWeb: true, mayUseApi: true, permissions },
      sessionToken: undefined,
      setCookie: () => {},
    });
    const rw = appRouter.createCaller(ctx(READ_WRITE_PERMISSIONS, 'admin'));
    const ro = appRouter.createCaller(ctx(READ_ONLY_PERMISSIONS, 'theme-viewer'));

    // The upload: a session, our own header (no other origin can send it), and a theme permission.
    expect((await send(raw, goodZip())).status).toBe(401);
    expect((await send({ cookie: adminCookie, 'content-type': 'application/octet-stream' }, goodZip())).status).toBe(403);
    expect((await send({ cookie: viewerCookie, ...raw }, goodZip())).status).toBe(403);
    const tooBig = await send({ cookie: adminCookie, ...raw }, new Uint8Array(MAX_THEME_PACKAGE_BYTES + 10));
    expect(tooBig.status).toBe(400);
    expect(await tooBig.json()).toEqual({ package: ['The theme ZIP file must be no larger than 50 MB.'] });

    const created = await rw.theme.create({ name: 'From the console', upload: await uploadId(goodZip()) });
    expect(created).toMatchObject({
      name: 'From the console',
      theme_version: 2,
      files: ['background.jpg', 'conf-waitforleader_48kHz_mono.wav', 'themeconfig.json'],
    });
    // The Base theme itself can be uploaded as a theme (e.g. as a starting point).
    const copy = await rw.theme.create({ name: 'Base copy', upload: await uploadId(basePackage()) });
    expect(copy.files.length).toBeGreaterThan(30);

    // An upload is used once, and only by the administrator who sent it.
    const once = await uploadId(goodZip());
    await expect(ro.theme.create({ name: 'x', upload: once })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(appRouter.createCaller(ctx(READ_WRITE_PERMISSIONS, 'someone-else')).theme.create({ name: 'Not mine', upload: once })).rejects.toMatchObject({
      cause: { fields: { package: ['The uploaded file is gone; choose it again.'] } },
    });
    await expect(rw.theme.create({ name: 'Broken', upload: await uploadId(strToU8('nope')) })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      cause: { fields: { package: ['The uploaded file is not a valid ZIP file.'] } },
    });
    await expect(rw.theme.create({ name: 'No file' })).rejects.toMatchObject({ cause: { fields: { package: ['This field is required.'] } } });
    const listed = await ro.theme.list({ search: 'console' });
    expect(listed.items.map((t) => t.name)).toEqual(['From the console']);

    const updated = await rw.theme.update({
      id: created.id,
      patch: { description: 'new', upload: await uploadId(zipSync({ 'icon_x.svg': strToU8('<svg/>') })) },
    });
    expect(updated).toMatchObject({ description: 'new', files: ['icon_x.svg'], theme_version: 1 });

    // Downloads, for anyone who may view themes.
    expect((await fetch(server.url + themeDownloadPath(created.id))).status).toBe(401);
    const dl = await fetch(server.url + themeDownloadPath(created.id), { headers: { cookie: viewerCookie } });
    expect(dl.status).toBe(200);
    expect(dl.headers.get('content-disposition')).toBe('attachment; filename="From_the_console.zip"');
    expect(Object.keys(unzipSync(new Uint8Array(await dl.arrayBuffer())))).toEqual(['icon_x.svg']);
    const base = await fetch(server.url + themeDownloadPath('base'), { headers: { cookie: viewerCookie } });
    expect(Buffer.from(await base.arrayBuffer()).equals(Buffer.from(basePackage()))).toBe(true);
    expect((await fetch(server.url + themeDownloadPath(99_999), { headers: { cookie: viewerCookie } })).status).toBe(404);

    await rw.theme.delete({ id: created.id });
    await rw.theme.delete({ id: copy.id });
    await expect(ro.theme.get({ id: created.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
