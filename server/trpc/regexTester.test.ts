import { TRPCError } from '@trpc/server';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASES } from '../../db/testing.js';
import { READ_WRITE_PERMISSIONS, type Permission } from '../../shared/admin/permissions.js';
import { ManagementServer } from '../ManagementServer.js';
import { appRouter } from './root.js';
import type { Context } from './trpc.js';

// The tester touches no tables, so one database is enough.
const db = TEST_DATABASES[0]!;

describe('regexTester.test (Utilities > Regular Expression Tester)', () => {
  let server: ManagementServer;
  const ctx = (admin: Context['admin']): Context => ({
    dom: server.dom,
    status: server.status,
    registry: server.registry,
    admin,
    sessionToken: undefined,
    setCookie: () => {},
  });
  const as = (permissions: Permission[]) => appRouter.createCaller(ctx({ id: 1, username: 'admin', mayUseWeb: true, mayUseApi: true, permissions }));
  const fieldsOf = (e: unknown) => ((e as TRPCError).cause as { fields?: Record<string, string[]> }).fields;

  beforeAll(async () => {
    server = await ManagementServer.start({
      port: 0,
      database: await db.open(),
      adminPassword: 'pw',
      enrollmentKey: 'k',
      webRoot: '/nonexistent',
      logger: pino({ level: 'silent' }),
    });
  });
  afterAll(() => server.stop());

  it('transforms a fully matching input and lists the groups', async () => {
    const c = as(READ_WRITE_PERMISSIONS);
    expect(await c.regexTester.test({ input: 'alice@example.net', regex: '(.+)(@example\\.net$)', replace: '\\1@example.com' })).toEqual({
      result: 'alice@example.com',
      status: 'successful',
      groups: [
        { index: 1, value: 'alice' },
        { index: 2, value: '@example.net' },
      ],
    });
    // No replace string: the Result is the Input, providing it was a full match.
    expect(await c.regexTester.test({ input: 'Oslo1@Example.com', regex: '[a-z]+\\d@example\\.com' })).toEqual({
      result: 'Oslo1@Example.com',
      status: 'successful',
      groups: [],
    });
  });

  it('reports partial and failed matches', async () => {
    const c = as(READ_WRITE_PERMISSIONS);
    expect(await c.regexTester.test({ input: '9123abc', regex: '9([0-9]+)', replace: '\\1' })).toEqual({
      result: null,
      status: 'partial',
      groups: [{ index: 1, value: '123' }],
    });
    expect(await c.regexTester.test({ input: 'meet.alice', regex: 'meet(?!\\.).*', replace: '' })).toEqual({ result: null, status: 'failed', groups: [] });
  });

  it('shows a bad regex or replace string beside its field', async () => {
    const c = as(READ_WRITE_PERMISSIONS);
    const bad = await c.regexTester.test({ input: 'x', regex: '(abc', replace: '' }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(TRPCError);
    expect((bad as TRPCError).code).toBe('BAD_REQUEST');
    expect(fieldsOf(bad)).toEqual({ regex: ['Invalid regular expression: missing ), unterminated subpattern at position 0'] });
    const badReplace = await c.regexTester.test({ input: 'x', regex: '(x)', replace: '\\2' }).catch((e: unknown) => e);
    expect(fieldsOf(badReplace)).toEqual({ replace: ['Invalid replace string: invalid group reference 2 at position 1'] });
  });

  it('limits each field to 250 characters', async () => {
    const c = as(READ_WRITE_PERMISSIONS);
    await expect(c.regexTester.test({ input: 'x'.repeat(251), regex: '.*' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(c.regexTester.test({ input: 'x', regex: 'x'.repeat(251) })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('needs sign-in and the system view permission', async () => {
    await expect(appRouter.createCaller(ctx(null)).regexTester.test({ input: 'x', regex: 'x' })).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    const noSystem = READ_WRITE_PERMISSIONS.filter((p) => p !== 'view_system' && p !== 'modify_system');
    await expect(as(noSystem).regexTester.test({ input: 'x', regex: 'x' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});
