import { mkdtempSync, readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { openDatabase } from '../../db/client.js';
import { NodeAgent } from '../../node-agent/NodeAgent.js';
import { until } from '../../shared/testing/until.js';
import { ManualClock } from '../../shared/time/ManualClock.js';
import { generateTlsCertificate } from '../certificate/certificate.service.js';
import { ManagementServer } from '../ManagementServer.js';
import { CONTENT_SECURITY_POLICY } from '../http/webSecurity.js';
import { fingerprintOf, SELF_SIGNED_FILES } from './managementCertificate.js';

/**
 * Issue 11, finding 8 over real sockets: the management server's HTTPS port with its self-signed
 * certificate (kept across restarts) or the Management Node's from the certificate store, the
 * browser protections on every answer, the Secure session cookie, the same-origin rule on the
 * console's tRPC (HTTP and WebSocket), and a node's link over TLS with a trusted or pinned certificate.
 */
const silent = pino({ level: 'silent' });
const KEY = 'https-test-key';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  fingerprint?: string;
}

/** One request over HTTP or HTTPS (trusting `ca`), with the certificate the server showed. */
function call(url: string, init: { method?: string; headers?: Record<string, string>; body?: string; ca?: string } = {}): Promise<Answer> {
  const u = new URL(url);
  const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(u, { method: init.method ?? 'GET', headers: init.headers, ...(init.ca ? { ca: init.ca } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      // Read while the socket is still attached to the answer.
      const socket = res.socket as Partial<import('node:tls').TLSSocket> | null;
      const peer = socket?.getPeerCertificate?.();
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString(), fingerprint: peer?.fingerprint256 });
      });
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** A TCP relay to 127.0.0.1:`port` that counts the connections made through it (how often a node has tried). */
async function countingRelay(port: number): Promise<{ url: string; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const open = new Set<Socket>();
  const relay = createServer((inbound) => {
    connections++;
    const outbound = connect(port, '127.0.0.1');
    const end = () => [inbound, outbound].forEach((s) => s.destroy());
    for (const s of [inbound, outbound]) {
      open.add(s);
      s.on('error', end).on('close', () => (open.delete(s), end()));
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(relay.address() as AddressInfo).port}`,
    connections: () => connections,
    close: () => {
      open.forEach((s) => s.destroy());
      return new Promise((resolve) => relay.close(() => resolve()));
    },
  };
}

/** Opens the console's tRPC WebSocket with `origin` and the session cookie; resolves with the first subscription data, or the refusal. */
function trpcSocket(url: string, origin: string, cookie: string, ca?: string): Promise<{ opened: boolean; status?: number; data?: unknown }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws') + '/trpc', { origin, headers: { cookie }, ...(ca ? { ca } : {}) });
    const timer = setTimeout(() => {
      ws.terminate();
      resolve({ opened: true });
    }, 5_000);
    ws.on('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      resolve({ opened: false, status: res.statusCode });
    });
    ws.on('open', () => ws.send(JSON.stringify({ id: 1, method: 'subscription', params: { path: 'status.live' } })));
    ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw)) as { result?: { type?: string; data?: unknown } };
      if (msg.result?.type === 'data') {
        clearTimeout(timer);
        ws.close();
        resolve({ opened: true, data: msg.result.data });
      }
    });
    ws.on('error', () => {});
  });
}

describe('management server over HTTPS', () => {
  const tlsDir = mkdtempSync(join(tmpdir(), 'om-tls-'));
  let server: ManagementServer;
  let ca: string;
  const start = async () =>
    ManagementServer.start({
      port: 0,
      httpsPort: 0,
      tlsDir,
      database: await openDatabase({ dataDir: 'memory://' }),
      adminPassword: 'pw',
      enrollmentKey: KEY,
      webRoot: '/nonexistent',
      logger: silent,
    });
  const login = (base: string, headers: Record<string, string> = {}) =>
    call(`${base}/trpc/auth.login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ username: 'admin', password: 'pw' }),
      ca,
    });
  const cookieOf = (a: Answer) => String(a.headers['set-cookie']?.[0] ?? '');

  beforeAll(async () => {
    server = await start();
    ca = readFileSync(join(tlsDir, SELF_SIGNED_FILES.cert), 'utf8');
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('serves HTTPS with a self-signed certificate generated on first start and kept across restarts', async () => {
    expect(server.https?.certificate.source).toBe('self-signed');
    const first = await call(`${server.httpsUrl}/healthz`, { ca });
    expect(first.status).toBe(200);
    expect(first.fingerprint).toBe(fingerprintOf(ca));
    // A client that trusts nothing in particular refuses it (it is self-signed).
    await expect(call(`${server.httpsUrl}/healthz`)).rejects.toThrow(/self[- ]signed/i);

    await server.stop();
    server = await start();
    const again = await call(`${server.httpsUrl}/healthz`, { ca });
    expect(again.fingerprint).toBe(first.fingerprint);
  });

  it('sends CSP (frame-ancestors none), nosniff and X-Frame-Options on every answer, and HSTS only over HTTPS', async () => {
    for (const base of [server.url, server.httpsUrl!]) {
      for (const [path, status] of [
        ['/healthz', 200],
        ['/api/admin/configuration/v1/conference/', 401],
        ['/nope', 404],
      ] as const) {
        const a = await call(`${base}${path}`, { ca });
        expect(a.status).toBe(status);
        expect(a.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
        expect(a.headers['content-security-policy']).toContain("frame-ancestors 'none'");
        expect(a.headers['x-content-type-options']).toBe('nosniff');
        expect(a.headers['x-frame-options']).toBe('DENY');
        expect(a.headers['strict-transport-security']).toBe(base.startsWith('https:') ? 'max-age=31536000' : undefined);
      }
    }
  });

  it('marks the session cookie Secure when signed in over HTTPS (not over loopback HTTP)', async () => {
    const overTls = await login(server.httpsUrl!);
    expect(overTls.status).toBe(200);
    expect(cookieOf(overTls)).toMatch(/om_session=.+; .*Secure/);
    expect(cookieOf(overTls)).toContain('HttpOnly');
    const plain = await login(server.url);
    expect(plain.status).toBe(200);
    expect(cookieOf(plain)).not.toContain('Secure');
  });

  it('refuses the console’s tRPC from a page on another origin: no WebSocket, no mutation', async () => {
    const cookie = cookieOf(await login(server.httpsUrl!)).split(';')[0]!;
    // The console's own origin streams live status.
    const own = await trpcSocket(server.httpsUrl!, server.httpsUrl!, cookie, ca);
    expect(own).toMatchObject({ opened: true, data: [] });
    const ownHttp = await trpcSocket(server.url, server.url, cookie);
    expect(ownHttp).toMatchObject({ opened: true, data: [] });
    // Another site, another port of this host, a sandboxed frame ("null") and a non-web scheme are refused at the handshake.
    for (const origin of [
      'https://evil.example',
      server.httpsUrl!.replace(/:\d+$/, ':1'),
      server.url,
      'null',
      `chrome-extension://${new URL(server.httpsUrl!).host}`,
    ]) {
      expect(await trpcSocket(server.httpsUrl!, origin, cookie, ca)).toEqual({ opened: false, status: 403 });
    }
    // Over HTTP: a foreign page's form or fetch cannot call a mutation with the cookie.
    const forged = await call(`${server.httpsUrl}/trpc/auth.logout`, {
      method: 'POST',
      headers: { origin: 'https://evil.example', cookie, 'content-type': 'application/json' },
      body: '{}',
      ca,
    });
    expect(forged.status).toBe(403);
    expect(forged.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect((await login(server.httpsUrl!, { origin: 'https://evil.example' })).status).toBe(403);
    // The same call from the console's own origin works (and the session is still valid: the forged logout did nothing).
    const me = await call(`${server.httpsUrl}/trpc/auth.me`, { headers: { origin: server.httpsUrl!, cookie }, ca });
    expect(me.status).toBe(200);
    expect(me.body).toContain('"username":"admin"');
  });

  it('serves the Management Node’s certificate from the certificate store once assigned, without a restart', async () => {
    const stored = await generateTlsCertificate({ ...server.dom, actor: 'admin' }, { common_name: 'localhost', subject_alt_names: ['127.0.0.1'] });
    const auth = { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}`, 'content-type': 'application/json' };
    const patched = await call(`${server.url}/api/admin/configuration/v1/management_vm/1/`, {
      method: 'PATCH',
      headers: auth,
      body: JSON.stringify({ tls_certificate: `/api/admin/configuration/v1/tls_certificate/${stored.id}/` }),
    });
    expect(patched.status, patched.body).toBeLessThan(300);
    const storedCa = (await call(`${server.url}/api/admin/configuration/v1/tls_certificate/${stored.id}/`, { headers: auth })).body;
    const pem = (JSON.parse(storedCa) as { certificate: string }).certificate;
    await until(
      () => server.https!.certificate.source,
      (s) => s === 'store',
    );
    const a = await call(`${server.httpsUrl}/healthz`, { ca: pem });
    expect(a.status).toBe(200);
    expect(a.fingerprint).toBe(fingerprintOf(pem));
    expect(a.fingerprint).not.toBe(fingerprintOf(ca));
    // Back to the self-signed one when the assignment is removed.
    await call(`${server.url}/api/admin/configuration/v1/management_vm/1/`, {
      method: 'PATCH',
      headers: auth,
      body: JSON.stringify({ tls_certificate: null }),
    });
    await until(
      () => server.https!.certificate.source,
      (s) => s === 'self-signed',
    );
  });

  it('a node links over wss with the server’s certificate trusted or pinned, and not otherwise', async () => {
    // The links' reconnection backoff runs on a clock the test moves; TLS and sockets are real.
    const clock = new ManualClock();
    const startNode = (name: string, managementTls?: { ca?: string; fingerprint?: string }, managementUrl = server.httpsUrl!) =>
      NodeAgent.start({
        name,
        managementUrl,
        managementTls,
        linkClock: clock,
        enrollmentKey: KEY,
        port: 0,
        dataDir: mkdtempSync(join(tmpdir(), 'om-tls-node-')),
        webRoot: '/nonexistent',
        mediaWorkers: 1,
        logger: silent,
      });
    const trusted = await startNode('tls-ca', { ca });
    const pinned = await startNode('tls-pin', { fingerprint: fingerprintOf(ca).toLowerCase() });
    // The refused ones reach the server through relays that count their attempts.
    const wrongPinRelay = await countingRelay(server.https!.port);
    const untrustingRelay = await countingRelay(server.https!.port);
    const wrongPin = await startNode('tls-wrong-pin', { fingerprint: 'AA:'.repeat(31) + 'AA' }, wrongPinRelay.url);
    const untrusting = await startNode('tls-none', undefined, untrustingRelay.url);
    try {
      await until(
        () => trusted.link.connected && pinned.link.connected,
        (c) => c,
        15_000,
      );
      // The others try again when their backoff (0.5 s) runs out, and never get in.
      // Never faster than real time: the linked nodes' heartbeats are on this clock too.
      await clock.advanceUntil(() => wrongPinRelay.connections() >= 2 && untrustingRelay.connections() >= 2, { stepMs: 250, maxMs: 20_000, ioMs: 250 });
      expect(wrongPin.link.connected).toBe(false);
      expect(untrusting.link.connected).toBe(false);
      expect(server.registry.nodeNames().size).toBe(2);
      expect([...server.registry.nodeNames().values()].sort()).toEqual(['tls-ca', 'tls-pin']);
    } finally {
      await Promise.all([trusted, pinned, wrongPin, untrusting].map((n) => n.stop()));
      await Promise.all([wrongPinRelay, untrustingRelay].map((r) => r.close()));
    }
  });
});

/** An address of this machine that is not loopback (the test needs one to be "another machine"). */
const lanAddress = Object.values(networkInterfaces())
  .flatMap((l) => l ?? [])
  .find((i) => i.family === 'IPv4' && !i.internal)?.address;

describe.skipIf(!lanAddress)('plain HTTP with HTTPS on: for this machine only', () => {
  let server: ManagementServer;
  const tlsDir = mkdtempSync(join(tmpdir(), 'om-tls-lan-'));
  beforeAll(async () => {
    server = await ManagementServer.start({
      host: '0.0.0.0',
      port: 0,
      httpsPort: 0,
      tlsDir,
      database: await openDatabase({ dataDir: 'memory://' }),
      adminPassword: 'pw',
      enrollmentKey: KEY,
      webRoot: '/nonexistent',
      logger: silent,
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('redirects reads to HTTPS, refuses writes and the node link over HTTP from another address; loopback keeps HTTP', async () => {
    const httpPort = new URL(server.url).port;
    const httpsPort = server.https!.port;
    const auth = { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}`, 'content-type': 'application/json' };
    const read = await call(`http://${lanAddress}:${httpPort}/api/admin/configuration/v1/conference/?limit=1`, { headers: auth });
    expect(read.status).toBe(301);
    expect(read.headers.location).toBe(`https://${lanAddress}:${httpsPort}/api/admin/configuration/v1/conference/?limit=1`);
    const write = await call(`http://${lanAddress}:${httpPort}/api/admin/configuration/v1/conference/`, {
      method: 'POST',
      headers: auth,
      body: '{"name":"x"}',
    });
    expect(write).toMatchObject({ status: 403, body: '{"error":"Use HTTPS."}' });
    expect((await call(`http://127.0.0.1:${httpPort}/api/admin/configuration/v1/conference/?limit=1`, { headers: auth })).status).toBe(200);

    // The certificate names this machine's addresses, so the same request over HTTPS verifies.
    const ca = readFileSync(join(tlsDir, SELF_SIGNED_FILES.cert), 'utf8');
    expect((await call(`https://${lanAddress}:${httpsPort}/api/admin/configuration/v1/conference/?limit=1`, { headers: auth, ca })).status).toBe(200);

    const link = (url: string, options: WebSocket.ClientOptions = {}) =>
      new Promise<number | 'open'>((resolve) => {
        const ws = new WebSocket(url, options);
        ws.on('open', () => {
          ws.close();
          resolve('open');
        });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('error', () => {});
      });
    expect(await link(`ws://${lanAddress}:${httpPort}/api/node/v1/ws`)).toBe(403);
    expect(await link(`wss://${lanAddress}:${httpsPort}/api/node/v1/ws`, { ca })).toBe('open');
    expect(await link(`ws://127.0.0.1:${httpPort}/api/node/v1/ws`)).toBe('open');
  });
});
