import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { asc, eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASES } from '../../db/testing.js';
import {
  adminLog,
  adminRole,
  adminSession,
  adminUser,
  configBackup,
  conference,
  conferenceAlias,
  configObject,
  ivrTheme,
  ivrThemePart,
  platformSetting,
  systemLocation,
} from '../../db/schema.js';
import { BACKUP_MESSAGES } from '../../shared/backup/backup.schema.js';
import { createObject, deleteObject, getObject, updateObject } from '../config/config.service.js';
import { AppError } from '../errors/AppError.js';
import { ManagementServer } from '../ManagementServer.js';
import { appRouter } from '../trpc/root.js';
import type { Context } from '../trpc/trpc.js';
import { READ_ONLY_PERMISSIONS, READ_WRITE_PERMISSIONS } from '../../shared/admin/permissions.js';
import { open as openArchive, seal, SCHEMA_VERSION, SOFTWARE_VERSION } from './archive.js';
import { registerBackupRoutes } from './backup.routes.js';
import { RestoreUploads } from './RestoreUploads.js';
import {
  BackupScheduler,
  CONFIGURATION_TABLES,
  createBackup,
  deleteBackup,
  downloadBackup,
  getAutomaticBackupSchedule,
  inspectBackup,
  listBackups,
  restoreBackup,
  setAutomaticBackupPassphrase,
} from './backup.service.js';

const silent = pino({ level: 'silent' });

async function fieldsOf(p: Promise<unknown>): Promise<{ message: string; fields: Record<string, string[]> }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AppError) return { message: err.message, fields: err.fields ?? {} };
    throw err;
  }
  throw new Error('expected an AppError');
}

describe('backup archive', () => {
  const payload = {
    product: 'openmeet' as const,
    version: SOFTWARE_VERSION,
    schema: SCHEMA_VERSION,
    createdAt: new Date().toISOString(),
    tables: { t: [{ a: 1 }] },
  };

  it('round-trips and is neither plain nor repeatable', async () => {
    const a = await seal(payload, 'secret');
    const b = await seal(payload, 'secret');
    expect(a.equals(b)).toBe(false);
    expect(a.includes(Buffer.from('openmeet'))).toBe(false);
    expect(await openArchive(a, 'secret')).toEqual(payload);
  });

  it('refuses a wrong passphrase, a changed byte and a file that is not a backup', async () => {
    const a = await seal(payload, 'secret');
    expect(await fieldsOf(openArchive(a, 'Secret'))).toEqual({ message: BACKUP_MESSAGES.restoreFailed, fields: { passphrase: [BACKUP_MESSAGES.decryption] } });
    for (const at of [20, a.length - 1]) {
      const t = Buffer.from(a);
      t[at]! ^= 1;
      expect((await fieldsOf(openArchive(t, 'secret'))).fields).toEqual({ passphrase: [BACKUP_MESSAGES.decryption] });
    }
    expect((await fieldsOf(openArchive(randomBytes(200), 'secret'))).fields).toEqual({ archive: [BACKUP_MESSAGES.notBackup] });
  });
});

describe.each(TEST_DATABASES)('configuration backup and restore on $name', ({ open }) => {
  let server: ManagementServer;
  let api: FastifyInstance;
  let apiUrl = '';
  const auth = `Basic ${Buffer.from('admin:pw').toString('base64')}`;
  const rest = (path: string, init: RequestInit = {}) =>
    fetch(apiUrl + path, { ...init, headers: { authorization: auth, ...(init.body ? { 'content-type': 'application/json' } : {}) } });

  beforeAll(async () => {
    server = await ManagementServer.start({
      port: 0,
      database: await open(),
      adminPassword: 'pw',
      enrollmentKey: 'k',
      webRoot: '/nonexistent',
      logger: silent,
    });
    api = Fastify();
    registerBackupRoutes(api, server.dom);
    await api.listen({ port: 0, host: '127.0.0.1' });
    apiUrl = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await api?.close();
    await server?.stop();
  });

  /** Every configuration table, rows ordered by key, as the database holds them. */
  async function snapshot() {
    const db = server.dom.db;
    return {
      location: await db.select().from(systemLocation).orderBy(asc(systemLocation.id)),
      conference: await db.select().from(conference).orderBy(asc(conference.id)),
      alias: await db.select().from(conferenceAlias).orderBy(asc(conferenceAlias.id)),
      users: await db.select().from(adminUser).orderBy(asc(adminUser.id)),
      roles: await db.select().from(adminRole).orderBy(asc(adminRole.id)),
      objects: await db.select().from(configObject).orderBy(asc(configObject.id)),
      themes: await db.select().from(ivrTheme).orderBy(asc(ivrTheme.id)),
      themeParts: await db.select().from(ivrThemePart).orderBy(asc(ivrThemePart.themeId), asc(ivrThemePart.seq)),
      // Scheduled-run claims (scheduledRuns.ts) are written by the server's timers whenever they fire.
      settings: (await db.select().from(platformSetting).orderBy(asc(platformSetting.key))).filter((s) => !s.key.startsWith('scheduled:')),
    };
  }

  it('backs up every table but sessions, backups and the administrator log, parents first', () => {
    const names = CONFIGURATION_TABLES.map((t) => t.name);
    expect(names).not.toContain('admin_session');
    expect(names).not.toContain('config_backup');
    expect(names).not.toContain('admin_log');
    for (const n of ['conference_history', 'participant_history', 'media_stream_history', 'backplane_history', 'alarm']) expect(names).not.toContain(n);
    for (const n of [
      'system_location',
      'conferencing_node',
      'conference',
      'conference_alias',
      'admin_user',
      'admin_role',
      'admin_user_role',
      'config_object',
      'ivr_theme',
      'ivr_theme_part',
      'platform_setting',
    ]) {
      expect(names).toContain(n);
    }
    expect(names.indexOf('conference')).toBeLessThan(names.indexOf('conference_alias'));
    expect(names.indexOf('system_location')).toBeLessThan(names.indexOf('conferencing_node'));
    expect(names.indexOf('admin_user')).toBeLessThan(names.indexOf('admin_user_role'));
    expect(names.indexOf('ivr_theme')).toBeLessThan(names.indexOf('ivr_theme_part'));
  });

  it('restores the configuration exactly, ids included, and new objects still get fresh ids', async () => {
    const dom = { ...server.dom, actor: 'admin' };
    const loc = await createObject(dom, 'system_location', { name: 'Oslo', description: 'HQ', mtu: 1400 });
    const vmr1 = await createObject(dom, 'vmr', {
      name: 'Backup room',
      aliases: [{ alias: 'backup.room' }, { alias: 'backup.room@example.com', description: 'SIP' }],
      pin: '1234',
    });
    const vmr2 = await createObject(dom, 'vmr', { name: 'Other room', aliases: [{ alias: 'other.room' }] });
    const db = server.dom.db;
    await db
      .insert(configObject)
      .values({ resource: 'sip_proxy', uniqueKey: 'proxy', data: { name: 'Proxy', address: '10.0.0.1', nested: { list: [1, 'two', null] } } });
    const [theme] = await db
      .insert(ivrTheme)
      .values({
        name: 'Theme',
        uuid: '00000000-0000-0000-0000-000000000001',
        packageSha256: 'a'.repeat(64),
        packageSize: 9,
        contents: { files: ['a.jpg'], config: {} },
      })
      .returning({ id: ivrTheme.id });
    // The package's parts are bytes (a backslash and 'x' among them, as bytea renders in JSON).
    await db.insert(ivrThemePart).values([
      { themeId: theme!.id, seq: 0, data: Buffer.from([0, 1, 2, 255, 92, 120]) },
      { themeId: theme!.id, seq: 1, data: Buffer.from([92, 92, 0]) },
    ]);
    // A signed-in console session, which must survive the restore.
    const [admin] = await db.select().from(adminUser).where(eq(adminUser.username, 'admin'));
    await db.insert(adminSession).values({ tokenHash: 'h'.repeat(64), adminUserId: admin!.id, expiresAt: new Date(Date.now() + 3_600_000) });
    const before = await snapshot();

    const file = await createBackup(dom, { passphrase: 'correct horse', passphrase_confirm: 'correct horse' });
    expect(file).toMatchObject({ kind: 'manual', version: SOFTWARE_VERSION });
    expect(file.file_name).toMatch(new RegExp(`^openmeet_backup_.+_${SOFTWARE_VERSION.replaceAll('.', '\\.')}_\\d{8}_\\d{6}\\.bak$`));
    const { archive } = await downloadBackup(dom, file.id);
    expect(archive.length).toBe(file.size);

    // Change, delete and add configuration after the backup.
    await updateObject(dom, 'vmr', vmr1.id, { description: 'changed', aliases: [{ alias: 'renamed.room' }] });
    await deleteObject(dom, 'vmr', vmr2.id);
    await createObject(dom, 'vmr', { name: 'Added later', aliases: [{ alias: 'later' }] });
    await db.delete(configObject);
    await db.update(ivrThemePart).set({ data: Buffer.from('changed') });
    await db.update(platformSetting).set({ value: 'other' }).where(eq(platformSetting.key, 'node_enrollment_key'));
    expect(await snapshot()).not.toEqual(before);

    const summary = await inspectBackup(archive.toString('base64'), 'correct horse');
    // The two rooms made here, and the Test Call Service a new install ships with.
    expect(summary).toMatchObject({ version: SOFTWARE_VERSION, schema: SCHEMA_VERSION, counts: { conference: 3, conference_alias: 4 } });

    const logsBefore = (await db.select().from(adminLog)).length;
    const changes: string[] = [];
    server.dom.bus.on('changed', (what) => changes.push(what));
    await restoreBackup(dom, archive, 'correct horse');
    expect(await snapshot()).toEqual(before);
    expect(changes).toContain('restore');
    expect(((await getObject(dom, 'vmr', vmr1.id)).aliases as { alias: string }[]).map((a) => a.alias)).toEqual(['backup.room', 'backup.room@example.com']);
    // The administrator log is kept and records the restore; the session is still there.
    const logs = await db.select().from(adminLog).orderBy(asc(adminLog.id));
    expect(logs.length).toBe(logsBefore + 1);
    expect(logs.at(-1)).toMatchObject({ username: 'admin', action: 'changed', objectType: 'Configuration backup', objectName: 'restore' });
    expect(
      await db
        .select()
        .from(adminSession)
        .where(eq(adminSession.tokenHash, 'h'.repeat(64))),
    ).toHaveLength(1);
    // The backup files themselves are not part of the configuration.
    expect((await listBackups(dom)).map((b) => b.id)).toContain(file.id);

    // Sequences moved past the restored ids.
    const added = await createObject(dom, 'vmr', { name: 'After restore', aliases: [{ alias: 'after.restore' }] });
    expect(added.id).toBeGreaterThan(Math.max(...before.conference.map((c) => c.id)));
    expect((added.aliases as { id: number }[])[0]!.id).toBeGreaterThan(Math.max(...before.alias.map((a) => a.id)));
    const loc2 = await createObject(dom, 'system_location', { name: 'Bergen' });
    expect(loc2.id).toBeGreaterThan(loc.id);
    await deleteObject(dom, 'system_location', loc2.id);
  });

  it('refuses a wrong passphrase, a tampered file and another version, changing nothing', async () => {
    const dom = { ...server.dom, actor: 'admin' };
    const file = await createBackup(dom, { passphrase: 'pass' });
    const { archive } = await downloadBackup(dom, file.id);
    const before = await snapshot();

    expect((await fieldsOf(restoreBackup(dom, archive, 'wrong'))).fields).toEqual({ passphrase: [BACKUP_MESSAGES.decryption] });
    const tampered = Buffer.from(archive);
    tampered[tampered.length - 5]! ^= 0x40;
    expect((await fieldsOf(restoreBackup(dom, tampered, 'pass'))).fields).toEqual({ passphrase: [BACKUP_MESSAGES.decryption] });
    expect((await fieldsOf(restoreBackup(dom, Buffer.from('not a backup at all, just text'), 'pass'))).fields).toEqual({
      archive: [BACKUP_MESSAGES.notBackup],
    });
    expect((await fieldsOf(restoreBackup(dom, archive, ''))).fields).toEqual({ passphrase: [BACKUP_MESSAGES.required] });

    const payload = await openArchive(archive, 'pass');
    const older = await seal({ ...payload, version: '0.0.9' }, 'pass');
    expect(await fieldsOf(restoreBackup(dom, older, 'pass'))).toEqual({
      message: BACKUP_MESSAGES.restoreFailed,
      fields: { archive: [`This backup was made by version 0.0.9 and cannot be restored on version ${SOFTWARE_VERSION}.`] },
    });
    const otherSchema = await seal({ ...payload, schema: '0001_admin_log' }, 'pass');
    expect((await fieldsOf(restoreBackup(dom, otherSchema, 'pass'))).fields.archive?.[0]).toContain('cannot be restored');
    expect(await snapshot()).toEqual(before);
  });

  it('checks the passphrase and its confirmation', async () => {
    expect((await fieldsOf(createBackup(server.dom, { passphrase: '' }))).fields).toEqual({ passphrase: [BACKUP_MESSAGES.required] });
    expect((await fieldsOf(createBackup(server.dom, { passphrase: 'a', passphrase_confirm: 'b' }))).fields).toEqual({
      passphrase_confirm: [BACKUP_MESSAGES.mismatch],
    });
    expect((await fieldsOf(createBackup(server.dom, { passphrase: 'x'.repeat(1001) }))).fields.passphrase).toEqual([BACKUP_MESSAGES.tooLong]);
  });

  it('keeps the 5 newest manual and the 5 newest automatic backups', async () => {
    await server.dom.db.delete(configBackup);
    const manual: number[] = [];
    for (let i = 0; i < 7; i++) manual.push((await createBackup(server.dom, { passphrase: 'p' })).id);
    const scheduler = new BackupScheduler(server.dom, silent);
    expect(await scheduler.runOnce()).toBeNull(); // no passphrase: skipped
    expect(await listBackups(server.dom, { kind: 'automatic' })).toEqual([]);
    await setAutomaticBackupPassphrase(server.dom, { passphrase: 'auto', passphrase_confirm: 'auto' });
    expect((await getAutomaticBackupSchedule(server.dom)).enabled).toBe(true);
    for (let i = 0; i < 6; i++) expect(await scheduler.runOnce()).not.toBeNull();
    const kept = await listBackups(server.dom, { kind: 'manual' });
    expect(kept.map((b) => b.id).sort((a, b) => a - b)).toEqual(manual.slice(2));
    const auto = await listBackups(server.dom, { kind: 'automatic' });
    expect(auto).toHaveLength(5);
    expect(auto[0]!.file_name).toMatch(/^openmeet_auto_backup_/);
    // The automatic backup opens with the automatic passphrase.
    expect((await inspectBackup((await downloadBackup(server.dom, auto[0]!.id)).archive, 'auto')).version).toBe(SOFTWARE_VERSION);
    const log = await server.dom.db.select().from(adminLog).where(eq(adminLog.objectName, auto[0]!.file_name));
    expect(log[0]).toMatchObject({ username: 'system', action: 'added', changes: { message: { after: BACKUP_MESSAGES.automaticCreated } } });

    await deleteBackup(server.dom, auto[0]!.id);
    expect(await listBackups(server.dom, { kind: 'automatic' })).toHaveLength(4);
    expect((await fieldsOf(deleteBackup(server.dom, auto[0]!.id))).message).toContain('not found');
    await setAutomaticBackupPassphrase(server.dom, { passphrase: '' });
    expect((await getAutomaticBackupSchedule(server.dom)).enabled).toBe(false);
  });

  it('schedules the automatic backup daily at 01:02 UTC', () => {
    const scheduler = new BackupScheduler(server.dom, silent);
    expect(scheduler.nextRun()).toBeNull();
    scheduler.start();
    try {
      const next = scheduler.nextRun()!;
      expect(next.getUTCHours()).toBe(1);
      expect(next.getUTCMinutes()).toBe(2);
      expect(next.getUTCSeconds()).toBe(0);
      expect(next.getTime() - Date.now()).toBeGreaterThan(0);
      expect(next.getTime() - Date.now()).toBeLessThanOrEqual(24 * 3_600_000);
    } finally {
      scheduler.stop();
    }
    expect(scheduler.nextRun()).toBeNull();
  });

  it('serves backups and the restore over the management REST API', async () => {
    expect((await fetch(`${apiUrl}/api/admin/configuration/v1/backup/`)).status).toBe(401);
    const bad = await rest('/api/admin/configuration/v1/backup/', { method: 'POST', body: JSON.stringify({ passphrase: '' }) });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ passphrase: [BACKUP_MESSAGES.required] });

    const created = await rest('/api/admin/configuration/v1/backup/', { method: 'POST', body: JSON.stringify({ passphrase: 'rest pass' }) });
    expect(created.status).toBe(201);
    const location = created.headers.get('location')!;
    expect(location).toMatch(/^\/api\/admin\/configuration\/v1\/backup\/\d+\/$/);
    const obj = await created.json();
    expect(obj).toMatchObject({ kind: 'manual', version: SOFTWARE_VERSION, resource_uri: location });

    const list = await (await rest('/api/admin/configuration/v1/backup/?kind=manual')).json();
    expect(list.meta.total_count).toBeGreaterThan(0);
    expect(list.objects.map((o: { resource_uri: string }) => o.resource_uri)).toContain(location);

    const dl = await rest(`${location}download/`);
    expect(dl.status).toBe(200);
    expect(dl.headers.get('content-type')).toBe('application/octet-stream');
    expect(dl.headers.get('content-disposition')).toBe(`attachment; filename="${obj.file_name}"`);
    const bytes = Buffer.from(await dl.arrayBuffer());
    expect(bytes.length).toBe(obj.size);

    const vmr = await createObject(server.dom, 'vmr', { name: 'Made after REST backup', aliases: [{ alias: 'rest.after' }] });
    const wrong = await rest('/api/admin/command/v1/platform/restore/', {
      method: 'POST',
      body: JSON.stringify({ archive: bytes.toString('base64'), passphrase: 'nope' }),
    });
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toEqual({ passphrase: [BACKUP_MESSAGES.decryption], error: BACKUP_MESSAGES.restoreFailed });
    const ok = await rest('/api/admin/command/v1/platform/restore/', {
      method: 'POST',
      body: JSON.stringify({ archive: bytes.toString('base64'), passphrase: 'rest pass' }),
    });
    expect(ok.status).toBe(202);
    expect(await ok.json()).toMatchObject({ status: 'success', message: BACKUP_MESSAGES.restored });
    expect((await fieldsOf(getObject(server.dom, 'vmr', vmr.id))).message).toContain('not found');

    // Pexip's form: multipart with the file as `package`, streamed to a temporary file (removed afterwards).
    const leftovers = () => readdirSync(tmpdir()).filter((n) => n.startsWith('openmeet-restore-'));
    const before = leftovers();
    const again = await createObject(server.dom, 'vmr', { name: 'Made before multipart restore', aliases: [{ alias: 'multipart.before' }] });
    const multipartRestore = (passphrase: string) => {
      const form = new FormData();
      form.append('passphrase', passphrase);
      form.append('package', new Blob([new Uint8Array(bytes)], { type: 'application/octet-stream' }), obj.file_name);
      return fetch(`${server.url}/api/admin/command/v1/platform/backup_restore/`, { method: 'POST', headers: { authorization: auth }, body: form });
    };
    const wrongMultipart = await multipartRestore('nope');
    expect(wrongMultipart.status).toBe(400);
    expect(await wrongMultipart.json()).toEqual({ passphrase: [BACKUP_MESSAGES.decryption], error: BACKUP_MESSAGES.restoreFailed });
    const okMultipart = await multipartRestore('rest pass');
    expect(okMultipart.status).toBe(202);
    expect((await fieldsOf(getObject(server.dom, 'vmr', again.id))).message).toContain('not found');
    expect(leftovers()).toEqual(before);

    expect((await rest(location, { method: 'DELETE' })).status).toBe(204);
    expect((await rest(location)).status).toBe(404);
    expect((await rest(`${location}download/`)).status).toBe(404);
  });
  it('serves the console through tRPC, with permissions and field errors', async () => {
    const ctx = (permissions: string[]): Context => ({
      dom: server.dom,
      status: server.status,
      registry: server.registry,
      admin: { id: 1, username: 'admin', mayUseWeb: true, mayUseApi: true, permissions },
      sessionToken: undefined,
      setCookie: () => {},
    });
    const rw = appRouter.createCaller(ctx(READ_WRITE_PERMISSIONS));
    const ro = appRouter.createCaller(ctx(READ_ONLY_PERMISSIONS));
    await expect(rw.backup.create({ passphrase: 'a', passphrase_confirm: 'b' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      cause: { issues: [expect.objectContaining({ path: ['passphrase_confirm'], message: BACKUP_MESSAGES.mismatch })] },
    });
    const made = await rw.backup.create({ passphrase: 'console', passphrase_confirm: 'console' });
    expect(made.message).toBe(`Successfully created the backup file: ${made.file.file_name}`);
    expect((await ro.backup.list()).map((b) => b.id)).toContain(made.file.id);
    await expect(ro.backup.download({ id: made.file.id })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(ro.backup.create({ passphrase: 'x' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const { base64, fileName } = await rw.backup.download({ id: made.file.id });
    expect(fileName).toBe(made.file.file_name);
    // The console uploads the file first (streamed to disk), then names it by id.
    const { id: upload } = await RestoreUploads.of(server.dom.db).receive('admin', Readable.from([Buffer.from(base64, 'base64')]), 1 << 30);
    await expect(ro.backup.startRestore({ upload, passphrase: 'console' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(rw.backup.inspect({ upload, passphrase: 'nope' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: BACKUP_MESSAGES.restoreFailed,
    });
    expect((await rw.backup.inspect({ upload, passphrase: 'console' })).version).toBe(SOFTWARE_VERSION);
    const job = await rw.backup.startRestore({ upload, passphrase: 'console' });
    expect(job.stage).toBe('checking');
    await expect(rw.backup.startRestore({ upload, passphrase: 'console' })).rejects.toMatchObject({ code: 'CONFLICT' });
    let seen = job;
    while (seen.stage !== 'done' && seen.stage !== 'failed') {
      await new Promise((r) => setTimeout(r, 20));
      seen = await rw.backup.restoreJob({ id: job.id });
    }
    expect(seen).toMatchObject({ stage: 'done', summary: { version: SOFTWARE_VERSION } });
    expect(seen.read).toBe(seen.total);
    // The upload is removed once restored.
    await expect(rw.backup.inspect({ upload, passphrase: 'console' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(await rw.backup.setAutomaticPassphrase({ passphrase: 'auto', passphrase_confirm: 'auto' })).toMatchObject({ enabled: true });
    const schedule = await ro.backup.getSchedule();
    expect(new Date(schedule.next_run).getUTCHours()).toBe(1);
    expect(new Date(schedule.next_run).getUTCMinutes()).toBe(2);
    expect(await rw.backup.delete({ id: made.file.id })).toBe(true);
  });
});
