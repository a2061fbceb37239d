import { request } from 'node:http';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/client.js';
import { ManagementServer } from '../ManagementServer.js';
import { UNAUTHENTICATED_BODY_LIMIT } from './bodyLimits.js';

const BASE = '/api/admin/configuration/v1';
const auth = `Basic ${Buffer.from('admin:limits-pw').toString('base64')}`;

/**
 * Starts a POST and sends `first` bytes of a body that never ends (chunked, no length). The server
 * must answer without waiting for the rest: proof that it decided before reading the body.
 */
function endlessPost(url: string, path: string, headers: Record<string, string>, first: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(path, url);
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': 'application/json', ...headers } });
    const timer = setTimeout(() => reject(new Error('no answer while the body was still being sent')), 10_000);
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        clearTimeout(timer);
        req.destroy();
        resolve({ status: res.statusCode!, body });
      });
    });
    req.on('error', () => {}); // the server closes the connection under us: expected
    req.write(Buffer.alloc(first, 0x20));
    // ...and keep sending slowly, never ending.
    const more = setInterval(() => (req.destroyed ? clearInterval(more) : req.write(Buffer.alloc(4096, 0x20))), 50);
  });
}

describe('request body limits are decided before the body is read', () => {
  let server: ManagementServer;
  beforeAll(async () => {
    server = await ManagementServer.start({
      port: 0,
      database: await openDatabase({ dataDir: 'memory://' }),
      adminPassword: 'limits-pw',
      enrollmentKey: 'k',
      webRoot: '/nonexistent',
      logger: pino({ level: 'silent' }),
    });
  });
  afterAll(() => server.stop());

  it('the management API answers 401 to an unauthenticated body at once, without reading it', async () => {
    const r = await endlessPost(server.url, `${BASE}/system_location/`, {}, 64 * 1024);
    expect(r.status).toBe(401);
    expect(JSON.parse(r.body)).toEqual({ error: 'Authentication credentials were not provided.' });
    const wrong = await endlessPost(
      server.url,
      '/api/admin/command/v1/platform/restore/',
      { authorization: `Basic ${Buffer.from('admin:nope').toString('base64')}` },
      64 * 1024,
    );
    expect(wrong.status).toBe(401);
  });

  it('the sign-in endpoint takes a few kilobytes: a large body is refused by its length, an endless one as it streams', async () => {
    const big = await fetch(`${server.url}/trpc/auth.login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'x'.repeat(UNAUTHENTICATED_BODY_LIMIT) }),
    });
    expect(big.status).toBe(413);
    const endless = await endlessPost(server.url, '/trpc/auth.login', {}, 8 * 1024);
    expect(endless.status).toBe(413);
    // Multipart is not read by tRPC here at all (its reader has no limit).
    const form = await endlessPost(server.url, '/trpc/auth.login', { 'content-type': 'multipart/form-data; boundary=x' }, 8 * 1024);
    expect(form.status).toBe(415);
    // A normal sign-in still works.
    const ok = await fetch(`${server.url}/trpc/auth.login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'limits-pw' }),
    });
    expect(ok.status).toBe(200);
  });

  it('a signed-in administrator gets 1 MB on ordinary requests and the larger limit on uploads', async () => {
    const name = 'n'.repeat(2 * 1024 * 1024);
    const big = await fetch(`${server.url}${BASE}/system_location/`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify({ name }),
    });
    expect(big.status).toBe(413);
    const small = await fetch(`${server.url}${BASE}/system_location/`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'limits-loc' }),
    });
    expect(small.status).toBe(201);
    // A 2 MB CSV import is read and judged on its content (a validation answer, not 413).
    const csv = `${'x'.repeat(2 * 1024 * 1024)}\n`;
    const imported = await fetch(`${server.url}${BASE}/bulk/vmr/import/`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'text/csv' },
      body: csv,
    });
    expect(imported.status).toBe(400);
    expect(await imported.json()).toHaveProperty('file');
  });
});
