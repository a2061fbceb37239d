import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/client.js';
import { NodeAgent } from '../../node-agent/NodeAgent.js';
import type { SupportLogRow } from '../../shared/admin/supportLog.schema.js';
import { until } from '../../shared/testing/until.js';
import { ManagementServer } from '../ManagementServer.js';

/**
 * The support log in the console: a real management server and a real conferencing node over the
 * node link; the console's tRPC over HTTP with a signed-in session. Both processes are given silent
 * loggers: what the support log keeps does not depend on the local log level.
 */
const KEY = 'support-log-key';
const NODE = 'support-node';
const PIN = '8675309142';
const WRONG_PIN = '5550001234';
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

describe('support log: the management node and each conferencing node', () => {
  let server: ManagementServer;
  let node: NodeAgent;
  let admin = '';
  const rest = async (method: string, path: string, body?: object) => {
    const r = await fetch(`${server.url}/api/admin/configuration/v1/${path}`, {
      method,
      headers: { authorization: basic('admin', 'pw'), 'content-type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
    return r;
  };
  const signIn = async (username: string, password: string) => {
    const r = await fetch(`${server.url}/trpc/auth.login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    expect(r.status).toBe(200);
    return r.headers.get('set-cookie')!.split(';')[0]!;
  };
  const trpc = (cookie: string, path: string, input: unknown) =>
    fetch(`${server.url}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`, { headers: { cookie } });
  const list = async (input: object) => {
    const r = await trpc(admin, 'supportLog.list', { limit: 500, ...input });
    expect(r.status).toBe(200);
    return ((await r.json()) as { result: { data: { items: SupportLogRow[]; total: number } } }).result.data;
  };
  const requestToken = (alias: string, name: string, pin?: string) =>
    fetch(`${node.url}/api/client/v2/conferences/${encodeURIComponent(alias)}/request_token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(pin ? { pin } : {}) },
      body: JSON.stringify({ display_name: name }),
    });

  beforeAll(async () => {
    server = await ManagementServer.start({
      port: 0,
      database: await openDatabase({ dataDir: 'memory://' }),
      adminPassword: 'pw',
      enrollmentKey: KEY,
      webRoot: '/nonexistent',
      logger: pino({ level: 'silent' }),
    });
    node = await NodeAgent.start({
      name: NODE,
      managementUrl: server.url,
      enrollmentKey: KEY,
      port: 0,
      dataDir: mkdtempSync(join(tmpdir(), 'om-supportlog-')),
      webRoot: '/nonexistent',
      mediaPortRange: [45900, 45949],
      logger: pino({ level: 'silent' }),
    });
    await until(
      () => node.link.connected && node.link.config !== null,
      (c) => c,
    );
    await rest('POST', 'conference/', { name: 'Support Room', aliases: [{ alias: 'support.room' }], pin: PIN });
    await until(
      () => node.manager.directory.lookup('support.room'),
      (s) => s !== undefined,
    );
    admin = await signIn('admin', 'pw');
  });
  afterAll(async () => {
    await node?.stop();
    await server?.stop();
  });

  it("keeps a node's lines under the node's name, and the management node's own; search, level and source filters work; never a PIN", async () => {
    expect((await requestToken('support.room', 'Mallory', WRONG_PIN)).status).toBe(403);
    const joined = await requestToken('support.room', 'Alice Support', PIN);
    expect(joined.status).toBe(200);

    // The node's line reaches the server's support log within its batching interval.
    const rows = await until(
      async () => (await list({ search: 'Alice Support' })).items,
      (items) => items.some((r) => r.message.includes('PIN entry correct.')),
      5_000,
    );
    const pinOk = rows.find((r) => r.message.includes('PIN entry correct.'))!;
    expect(pinOk).toMatchObject({ source: NODE, level: 'info', module: 'node.client-api' });
    expect(pinOk.message).toMatch(/^Message="PIN entry correct\." /);
    expect(Math.abs(pinOk.time - Date.now())).toBeLessThan(10_000);

    // The management node's own lines (here: the node connecting), under its own source.
    const mine = await list({ source: 'Management Node', search: 'conferencing node connected' });
    expect(mine.total).toBeGreaterThanOrEqual(1);
    expect(mine.items[0]).toMatchObject({ source: 'Management Node', level: 'info', module: 'management.nodes' });
    expect(mine.items[0]!.message).toContain(`node="${NODE}"`);
    const sources = ((await (await trpc(admin, 'supportLog.sources', undefined)).json()) as { result: { data: string[] } }).result.data;
    expect(sources).toEqual(['Management Node', NODE]);

    // Source filter: the node's line is not the management node's.
    expect((await list({ source: 'Management Node', search: 'Alice Support' })).total).toBe(0);
    expect((await list({ source: NODE, search: 'alice support' })).total).toBeGreaterThanOrEqual(1);

    // Level filter: the lowest level shown. The wrong PIN is an info line (the guide's).
    await until(
      async () => (await list({ search: 'Mallory' })).total,
      (n) => n >= 1,
      5_000,
    );
    expect((await list({ search: 'Mallory', level: 'warning' })).total).toBe(0);
    const everything = await list({});
    const warnings = await list({ level: 'warning' });
    expect(everything.total).toBeGreaterThan(warnings.total);
    expect(warnings.items.every((r) => r.level === 'warning' || r.level === 'error')).toBe(true);
    expect(everything.items.some((r) => r.level === 'info')).toBe(true);

    // Time range and paging.
    expect((await list({ from: '2099-01-01T00:00:00Z' })).total).toBe(0);
    const page = await list({ limit: 2, offset: 1 });
    expect(page.items).toHaveLength(2);
    expect(page.items[0]!.seq).toBe(everything.items[1]!.seq);
    // Newest first.
    expect(everything.items[0]!.seq).toBeGreaterThan(everything.items[everything.items.length - 1]!.seq);

    // Never a secret: neither the right PIN nor the wrong one, in any line.
    const all = JSON.stringify(everything.items);
    expect(all).toContain('Mallory');
    expect(all).not.toContain(PIN);
    expect(all).not.toContain(WRONG_PIN);

    // Bad input is refused with a clear error, not a crash.
    expect((await trpc(admin, 'supportLog.list', { level: 'loud' })).status).toBe(400);
  });

  it('is refused without "May view logs"', async () => {
    const role = await rest('POST', 'role/', { name: 'Web, no logs', permissions: ['is_administrator', 'may_use_web', 'view_vmr'] });
    await rest('POST', 'user/', { username: 'nologs', password: 'nologs-pw-1', password_confirm: 'nologs-pw-1', roles: [role.headers.get('location')] });
    const nologs = await signIn('nologs', 'nologs-pw-1');
    expect((await trpc(nologs, 'supportLog.list', {})).status).toBe(403);
    expect((await trpc(nologs, 'supportLog.sources', undefined)).status).toBe(403);
    expect((await fetch(`${server.url}/trpc/supportLog.list?input=${encodeURIComponent('{}')}`)).status).toBe(401);
  });
});
