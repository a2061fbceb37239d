import { mkdtempSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type PeerCertificate } from 'node:tls';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASES } from '../../db/testing.js';
import { generateSelfSigned } from '../../server/certificate/pem.js';
import { ManagementServer } from '../../server/ManagementServer.js';
import { NodeAgent } from '../NodeAgent.js';
import { until } from '../../shared/testing/until.js';

// Everything both sides log, to check that no private key is ever written.
let logged = '';
const capture = pino({ level: 'trace' }, { write: (line: string) => void (logged += line) });
const KEY = 'tls-key';
const BASE = '/api/admin/configuration/v1';

/** The certificate a fresh TLS connection to `url` is shown. */
function peerCertificate(url: string): Promise<PeerCertificate> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect({ host: u.hostname, port: Number(u.port), rejectUnauthorized: false }, () => {
      resolve(s.getPeerCertificate());
      s.end();
    });
    s.on('error', reject);
  });
}

/** SHA-256 fingerprint as Node prints it (AA:BB:...), from a PEM certificate. */
async function fingerprintOf(pem: string): Promise<string> {
  const { X509Certificate } = await import('node:crypto');
  return new X509Certificate(pem).fingerprint256;
}

describe.each(TEST_DATABASES)('the node serves HTTPS with its assigned TLS certificate on $name', ({ open }) => {
  let server: ManagementServer;
  let node: NodeAgent;
  let nodeUri = '';
  const authorization = `Basic ${Buffer.from('admin:pw').toString('base64')}`;
  const rest = (path: string, method = 'GET', body?: unknown) =>
    fetch(`${server.url}${path}`, {
      method,
      headers: body === undefined ? { authorization } : { authorization, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  beforeAll(async () => {
    server = await ManagementServer.start({
      port: 0,
      database: await open(),
      adminPassword: 'pw',
      enrollmentKey: KEY,
      webRoot: '/nonexistent',
      logger: capture,
    });
    node = await NodeAgent.start({
      name: 'tls-node',
      managementUrl: server.url,
      enrollmentKey: KEY,
      port: 0,
      httpsPort: 0,
      dataDir: mkdtempSync(join(tmpdir(), 'om-tls-')),
      webRoot: '/nonexistent',
      mediaPortRange: [45600, 45699],
      logger: capture,
    });
    await until(
      () => node.link.connected,
      (c) => c,
    );
    const list = await (await rest(`${BASE}/worker_vm/`)).json();
    nodeUri = list.objects[0].resource_uri;
  });
  afterAll(async () => {
    await node?.stop();
    await server?.stop();
  });

  it('listens only while a certificate is assigned, shows that certificate, and swaps it without a restart', async () => {
    expect(node.tls?.url).toBeNull();

    const first = generateSelfSigned({ commonName: 'node1.example.com' });
    const created = await rest(`${BASE}/tls_certificate/`, 'POST', { certificate: first.certificate, private_key: first.privateKey, nodes: [nodeUri] });
    expect(created.status).toBe(201);
    const firstUri = created.headers.get('location')!;
    const t0 = Date.now();
    const url = await until(
      () => node.tls?.url ?? null,
      (u) => u !== null,
      2_000,
    );
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect((await peerCertificate(url!)).fingerprint256).toBe(await fingerprintOf(first.certificate));

    // The client API answers over HTTPS, trusted with exactly this certificate.
    const body = await new Promise<string>((resolve, reject) => {
      const u = new URL('/healthz', url!);
      httpsGet({ host: u.hostname, port: u.port, path: u.pathname, ca: first.certificate, checkServerIdentity: () => undefined }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve(text));
      }).on('error', reject);
    });
    expect(JSON.parse(body)).toMatchObject({ ok: true, configured: true });

    // Assigning another certificate from the node's side: new connections get it, same port.
    const second = generateSelfSigned({ commonName: 'node2.example.com' });
    const secondUri = (await rest(`${BASE}/tls_certificate/`, 'POST', { certificate: second.certificate, private_key: second.privateKey })).headers.get(
      'location',
    )!;
    expect((await rest(nodeUri, 'PATCH', { tls_certificate: secondUri })).status).toBe(202);
    const want = await fingerprintOf(second.certificate);
    await until(
      async () => (await peerCertificate(url!)).fingerprint256,
      (f) => f === want,
      2_000,
    );
    expect(node.tls?.url).toBe(url);

    // No certificate: HTTPS stops (connections are refused).
    expect((await rest(nodeUri, 'PATCH', { tls_certificate: null })).status).toBe(202);
    await until(
      () => node.tls?.url ?? null,
      (u) => u === null,
      2_000,
    );
    await expect(peerCertificate(url!)).rejects.toThrow(/ECONNREFUSED/);
    // The keys travelled to the node but were never logged on either side.
    for (const k of [first.privateKey, second.privateKey]) expect(logged).not.toContain(k.split('\n')[1]!);
    expect(logged).toContain('HTTPS listening with the assigned TLS certificate');
    for (const uri of [firstUri, secondUri]) {
      const del = await rest(uri, 'DELETE');
      expect(del.status, await del.text()).toBe(204);
    }
  });
});
