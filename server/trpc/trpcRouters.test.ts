import { READ_WRITE_PERMISSIONS } from '../../shared/admin/permissions.js';
import { TRPCError } from '@trpc/server';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASES } from '../../db/testing.js';
import { ManagementServer } from '../ManagementServer.js';
import { appRouter } from './root.js';
import type { Context } from './trpc.js';

describe.each(TEST_DATABASES)('tRPC routers on $name', ({ open }) => {
  let server: ManagementServer;
  const cookies: string[] = [];
  const ctx = (admin: Context['admin']): Context => ({
    dom: server.dom,
    status: server.status,
    registry: server.registry,
    admin,
    sessionToken: undefined,
    setCookie: (c) => cookies.push(c),
  });
  const asAdmin = () => appRouter.createCaller(ctx({ id: 1, username: 'admin', mayUseWeb: true, mayUseApi: true, permissions: READ_WRITE_PERMISSIONS }));

  beforeAll(async () => {
    server = await ManagementServer.start({
      port: 0,
      database: await open(),
      adminPassword: 'trpc-pw',
      enrollmentKey: 'k',
      webRoot: '/nonexistent',
      logger: pino({ level: 'silent' }),
    });
  });
  afterAll(() => server.stop());

  it('refuses everything but sign-in to an anonymous caller', async () => {
    const anon = appRouter.createCaller(ctx(null));
    await expect(anon.config.list({ resource: 'vmr' })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(anon.status.conferences()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect(await anon.auth.me()).toBeNull();
  });

  it('refuses an account that may not use the web interface', async () => {
    const api = appRouter.createCaller(
      ctx({ id: 2, username: 'api', mayUseWeb: false, mayUseApi: true, permissions: READ_WRITE_PERMISSIONS.filter((p) => p !== 'may_use_web') }),
    );
    await expect(api.config.list({ resource: 'vmr' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('signs in with the right password only, and sets an httpOnly session cookie', async () => {
    const anon = appRouter.createCaller(ctx(null));
    await expect(anon.auth.login({ username: 'admin', password: 'wrong' })).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
      message: 'Please enter a correct username and password.',
    });
    expect(cookies).toHaveLength(0);
    expect(await anon.auth.login({ username: 'admin', password: 'trpc-pw' })).toMatchObject({
      username: 'admin',
      permissions: expect.arrayContaining(['is_administrator', 'may_use_web']),
    });
    expect(cookies[0]).toMatch(/^om_session=[\w-]{20,}; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Strict$/);
  });

  it('creates, lists, updates and deletes VMRs; through the configuration router; validation errors carry fields', async () => {
    const c = asAdmin();
    const v = await c.config.create({ resource: 'vmr', values: { name: 'tRPC room', aliases: [{ alias: 'trpc.room', description: '' }], pin: '1234' } });
    expect((await c.config.list({ resource: 'vmr', search: 'trpc' })).items.map((x) => x.id)).toEqual([v.id]);
    expect((await c.config.update({ resource: 'vmr', id: v.id, patch: { description: 'changed' } })).description).toBe('changed');

    const err = await c.config
      .create({ resource: 'vmr', values: { name: 'Bad', pin: '1234', guest_pin: '1234', allow_guests: true } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TRPCError);
    expect((err as TRPCError).code).toBe('BAD_REQUEST');
    const clash = await c.config
      .create({ resource: 'vmr', values: { name: 'Clash', aliases: [{ alias: 'TRPC.ROOM', description: '' }] } })
      .catch((e: unknown) => e as TRPCError);
    expect((clash as TRPCError).code).toBe('BAD_REQUEST');
    expect(((clash as TRPCError).cause as { fields?: Record<string, string[]> }).fields).toEqual({
      'aliases.0.alias': ['This alias is already in use by the service "tRPC room".'],
    });

    expect(await c.config.delete({ resource: 'vmr', id: v.id })).toBe(true);
    await expect(c.config.get({ resource: 'vmr', id: v.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('manages system locations', async () => {
    const c = asAdmin();
    const l = await c.config.create({ resource: 'system_location', values: { name: 'Oslo', description: '', mtu: 1500 } });
    expect((await c.config.update({ resource: 'system_location', id: l.id, patch: { mtu: 1400 } })).mtu).toBe(1400);
    expect((await c.config.options({ resource: 'system_location' })).map((x) => x.name)).toContain('Oslo');
    expect(await c.config.delete({ resource: 'system_location', id: l.id })).toBe(true);
  });

  it('moves a node to another location; an unknown location is refused beside the field, an unknown node not found', async () => {
    const c = asAdmin();
    const from = await c.config.create({ resource: 'system_location', values: { name: 'Node from' } });
    const to = await c.config.create({ resource: 'system_location', values: { name: 'Node to' } });
    const n = await c.config.create({ resource: 'worker_vm', values: { name: 'mover', hostname: 'mover', address: '192.0.2.10', system_location: from.id } });
    expect(await c.node.setLocation({ id: n.id, systemLocationId: to.id })).toBe(true);
    expect((await c.config.get({ resource: 'worker_vm', id: n.id })).system_location).toBe(to.id);
    expect((await c.node.list()).find((x) => x.id === n.id)?.system_location).toEqual({ id: to.id, name: 'Node to' });

    const bad = await c.node.setLocation({ id: n.id, systemLocationId: 999_999 }).catch((e: unknown) => e as TRPCError);
    expect((bad as TRPCError).code).toBe('BAD_REQUEST');
    expect(Object.keys(((bad as TRPCError).cause as { fields?: Record<string, string[]> }).fields ?? {})).toEqual(['system_location']);
    await expect(c.node.setLocation({ id: 999_999, systemLocationId: to.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await c.config.delete({ resource: 'worker_vm', id: n.id });
  });
});
