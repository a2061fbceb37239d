import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/client.js';
import { INTERNAL_ERROR_MESSAGE } from '../errors/internalError.js';
import { ManagementServer } from '../ManagementServer.js';
import { BAD_CHARACTERS } from './errorHandling.js';

const BASE = '/api/admin/configuration/v1';
const auth = `Basic ${Buffer.from('admin:errors-pw').toString('base64')}`;

describe('error bodies', () => {
  let server: ManagementServer;
  const logLines: string[] = [];
  const api = (path: string, init: RequestInit = {}) =>
    fetch(server.url + path, { ...init, headers: { authorization: auth, 'content-type': 'application/json', ...(init.headers as Record<string, string>) } });
  const trpc = (path: string, body: string, cookie = '') =>
    fetch(`${server.url}/trpc/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body });

  beforeAll(async () => {
    const logger = pino({ level: 'info' }, { write: (s: string) => void logLines.push(s) });
    server = await ManagementServer.start({
      port: 0,
      database: await openDatabase({ dataDir: 'memory://' }),
      adminPassword: 'errors-pw',
      enrollmentKey: 'k',
      webRoot: '/nonexistent',
      logger,
    });
  });
  afterAll(() => server.stop());

  it('NUL characters and lone surrogates are 400s, in a body, a query or a tRPC input, and nothing is stored', async () => {
    const nul = await api(`${BASE}/system_location/`, { method: 'POST', body: JSON.stringify({ name: 'a\u0000b' }) });
    expect(nul.status).toBe(400);
    expect(await nul.json()).toEqual({ error: BAD_CHARACTERS, field: 'name' });
    // JSON.stringify would escape a lone surrogate the same way: \ud800 with no partner.
    const surrogate = await api(`${BASE}/system_location/`, { method: 'POST', body: '{"name":"a\\ud800b","description":"x"}' });
    expect(surrogate.status).toBe(400);
    // A well-formed pair (an emoji) is fine.
    const emoji = await api(`${BASE}/system_location/`, { method: 'POST', body: '{"name":"loc \\ud83d\\ude00"}' });
    expect(emoji.status).toBe(201);
    const query = await api(`${BASE}/system_location/?name=a%00b`);
    expect(query.status).toBe(400);
    const list = (await (await api(`${BASE}/system_location/?limit=100`)).json()) as { objects: { name: string }[] };
    expect(list.objects.map((o) => o.name)).toEqual(['loc 😀']);

    const login = await trpc('auth.login', JSON.stringify({ username: 'admin', password: 'errors-pw' }));
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const viaTrpc = await trpc('config.create', '{"resource":"system_location","values":{"name":"x\\u0000y"}}', cookie);
    expect(viaTrpc.status).toBe(400);
    expect(await viaTrpc.json()).toEqual({ error: BAD_CHARACTERS, field: 'body.values.name' });
    const viaTrpcQuery = await fetch(`${server.url}/trpc/config.list?input=${encodeURIComponent('{"resource":"system_location","search":"a\\u0000"}')}`, {
      headers: { cookie },
    });
    expect(viaTrpcQuery.status).toBe(400);
    expect(await viaTrpcQuery.json()).toEqual({ error: BAD_CHARACTERS, field: 'input.search' });
  });

  it('offset=1e20, huge numbers and order_by=__proto__ are 400s in Tastypie’s words', async () => {
    for (const [q, message] of [
      ['offset=1e20', "Invalid offset '1e20' provided. Please provide a positive integer."],
      ['offset=100000000000000000000', "Invalid offset '100000000000000000000' provided. Please provide a positive integer."],
      ['offset=-1', "Invalid offset '-1' provided. Please provide a positive integer."],
      ['limit=abc', "Invalid limit 'abc' provided. Please provide a positive integer."],
      ['order_by=__proto__', "No matching '__proto__' field for ordering on."],
      ['order_by=-constructor', "No matching 'constructor' field for ordering on."],
    ] as const) {
      for (const resource of ['system_location', 'conference']) {
        const r = await api(`${BASE}/${resource}/?${q}`);
        expect(r.status, `${resource}?${q}`).toBe(400);
        expect(await r.json()).toEqual({ error: message });
      }
    }
    // What is valid still works.
    expect((await api(`${BASE}/system_location/?order_by=-name&offset=0&limit=5`)).status).toBe(200);
    const status = await api('/api/admin/status/v1/participant/?offset=1e20');
    expect(status.status).toBe(400);
  });

  it('a real failure answers a generic message with a request id (REST and tRPC, no SQL, no stack, no file path) and logs the detail', async () => {
    const login = await trpc('auth.login', JSON.stringify({ username: 'admin', password: 'errors-pw' }));
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    expect((await api(`${BASE}/system_location/`)).status).toBe(200); // credentials now cached
    // A real fault: the database goes away under the running server.
    await server.database.close();

    const rest = await api(`${BASE}/system_location/`);
    expect(rest.status).toBe(500);
    const restBody = (await rest.json()) as { error: string; request_id: string };
    expect(restBody.error).toBe(INTERNAL_ERROR_MESSAGE);
    expect(restBody.request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Object.keys(restBody).sort()).toEqual(['error', 'request_id']);

    const viaTrpc = await fetch(`${server.url}/trpc/config.list?input=${encodeURIComponent(JSON.stringify({ resource: 'system_location' }))}`, {
      headers: { cookie },
    });
    expect(viaTrpc.status).toBe(500);
    const text = await viaTrpc.text();
    expect(text).not.toMatch(/\.ts\b|\/work\/|node_modules|select |stack/i);
    const trpcBody = JSON.parse(text) as { error: { message: string; data: { requestId: string } } };
    expect(trpcBody.error.message).toBe(INTERNAL_ERROR_MESSAGE);

    // The log has the detail, under the same ids.
    const logged = logLines.map((l) => JSON.parse(l) as { requestId?: string; err?: { message?: string; stack?: string } });
    const restLog = logged.find((l) => l.requestId === restBody.request_id);
    expect(restLog?.err?.stack).toBeTruthy();
    expect(logged.find((l) => l.requestId === trpcBody.error.data.requestId)?.err).toBeTruthy();
  });
});
