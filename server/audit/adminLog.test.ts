import { READ_WRITE_PERMISSIONS } from '../../shared/admin/permissions.js';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASES } from '../../db/testing.js';
import { ManagementServer } from '../ManagementServer.js';
import { appRouter } from '../trpc/root.js';
import { diff } from './adminLog.service.js';

describe('diff', () => {
  it('lists changed fields only and never PIN values', () => {
    expect(diff({ name: 'a', pin: '1234', aliases: ['x'] }, { name: 'b', pin: '5678', aliases: ['x'] })).toEqual({
      name: { before: 'a', after: 'b' },
      pin: { before: '(hidden)', after: '(hidden)' },
    });
    expect(diff({ pin: '' }, { pin: '1234' })).toEqual({ pin: { before: '', after: '(hidden)' } });
  });
});

describe.each(TEST_DATABASES)('administrator log on $name', ({ open }) => {
  let server: ManagementServer;
  beforeAll(async () => {
    server = await ManagementServer.start({
      port: 0,
      database: await open(),
      adminPassword: 'log-pw',
      enrollmentKey: 'k',
      webRoot: '/nonexistent',
      logger: pino({ level: 'silent' }),
    });
  });
  afterAll(() => server.stop());

  it('records console and API changes with who, what and before/after', async () => {
    const caller = appRouter.createCaller({
      dom: server.dom,
      status: server.status,
      registry: server.registry,
      admin: { id: 1, username: 'admin', mayUseWeb: true, mayUseApi: true, permissions: READ_WRITE_PERMISSIONS },
      sessionToken: undefined,
      setCookie: () => {},
    });
    const v = await caller.config.create({
      resource: 'vmr',
      values: { name: 'Logged room', aliases: [{ alias: 'logged.room', description: '' }], pin: '1234' },
    });
    await caller.config.update({ resource: 'vmr', id: v.id, patch: { description: 'now described', pin: '4321' } });
    const r = await fetch(`${server.url}/api/admin/configuration/v1/conference/${v.id}/`, {
      method: 'DELETE',
      headers: { authorization: `Basic ${Buffer.from('admin:log-pw').toString('base64')}` },
    });
    expect(r.status).toBe(204);
    // A refused change writes nothing.
    await expect(caller.config.create({ resource: 'vmr', values: { name: '', pin: '1' } })).rejects.toThrow();

    const log = await caller.adminLog.list({ search: 'Logged room' });
    expect(log.items.map((e) => `${e.username} ${e.action} ${e.objectType}`)).toEqual([
      'admin deleted Virtual Meeting Room',
      'admin changed Virtual Meeting Room',
      'admin added Virtual Meeting Room',
    ]);
    const changed = log.items[1]!;
    expect(changed.changes).toEqual({
      description: { before: '', after: 'now described' },
      pin: { before: '(hidden)', after: '(hidden)' },
    });
    expect(JSON.stringify(log.items)).not.toContain('4321');
    expect((await caller.adminLog.list({ search: 'deleted' })).items).toHaveLength(1);
  });
});
