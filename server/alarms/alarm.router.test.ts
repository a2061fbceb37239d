import { TRPCError } from '@trpc/server';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { TEST_DATABASES } from '../../db/testing.js';
import { READ_ONLY_PERMISSIONS, READ_WRITE_PERMISSIONS, type Permission } from '../../shared/admin/permissions.js';
import { ConfigBus } from '../platform/ConfigBus.js';
import { NodeRegistry } from '../platform/NodeRegistry.js';
import { LiveStatus } from '../status/LiveStatus.js';
import { appRouter } from '../trpc/root.js';
import type { Context } from '../trpc/trpc.js';
import { AlarmManager } from './AlarmManager.js';

const code = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    if (err instanceof TRPCError) return err.code;
    throw err;
  }
  return 'OK';
};

describe.each(TEST_DATABASES)('alarm router ($name)', ({ open }) => {
  it('lists the history with filters; acknowledging needs "May modify conference status"; an unknown alarm is not found', async () => {
    const { db } = await open();
    const alarms = new AlarmManager(db, pino({ level: 'silent' }));
    const dom = { db, bus: new ConfigBus() };
    const status = new LiveStatus();
    const registry = new NodeRegistry(dom, status, 'k', pino({ level: 'silent' }));
    const ctx = (permissions: Permission[], withAlarms = true): Context => ({
      dom,
      status,
      registry,
      ...(withAlarms ? { alarms } : {}),
      admin: {
        id: 1,
        username: 'a',
        mayUseWeb: true,
        mayUseApi: true,
        permissions,
      },
      sessionToken: undefined,
      setCookie: () => {},
    });
    const a = await alarms.raise({ alarm: 'configuration_sync_failure', node: 'n1', instance: 'n1' });
    await alarms.raise({ alarm: 'eventsink_maximum_backoff', node: 'n1', instance: 'sink' });
    await alarms.lower({ alarm: 'eventsink_maximum_backoff', node: 'n1', instance: 'sink' });

    const viewer = appRouter.createCaller(ctx(READ_ONLY_PERMISSIONS));
    const all = await viewer.alarm.history({});
    expect(all.total).toBe(2);
    expect(all.alarms.map((x) => [x.name, x.timeLowered === null])).toEqual([
      ['Eventsink Reached Maximum Backoff', false],
      ['Configuration not synchronized', true],
    ]);
    expect(all.alarms[1]!.help?.cause).toMatch(/has not applied the configuration/);
    expect((await viewer.alarm.history({ level: 'critical' })).alarms.map((x) => x.identifier)).toEqual([36]);
    expect((await viewer.alarm.history({ name: 'not synch' })).alarms.map((x) => x.identifier)).toEqual([18]);
    expect(await code(viewer.alarm.history({ limit: 0 }))).toBe('BAD_REQUEST');

    expect(await code(viewer.alarm.acknowledge({ id: a.id }))).toBe('FORBIDDEN');
    const operator = appRouter.createCaller(ctx(READ_WRITE_PERMISSIONS));
    expect(await operator.alarm.acknowledge({ id: a.id })).toEqual({ id: a.id });
    expect((await alarms.active()).map((x) => x.acknowledged)).toEqual([true]);
    expect(await code(operator.alarm.acknowledge({ id: 999_999 }))).toBe('NOT_FOUND');
    expect(await code(appRouter.createCaller(ctx([])).alarm.history({}))).toBe('FORBIDDEN');
    // A server without alarms running says so rather than pretending.
    expect(await code(appRouter.createCaller(ctx(READ_WRITE_PERMISSIONS, false)).alarm.acknowledge({ id: a.id }))).toBe('INTERNAL_SERVER_ERROR');
    registry.close();
  });
});
