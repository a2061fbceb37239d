import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSelfSigned } from '../../server/certificate/pem.js';
import { fingerprintOf } from '../../server/tls/managementCertificate.js';
import { managementGet } from './managementGet.js';

describe('managementGet over HTTPS with the node link’s trust', () => {
  const cert = generateSelfSigned({ commonName: '127.0.0.1' });
  const seen: (string | undefined)[] = [];
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer({ cert: cert.certificate, key: cert.privateKey }, (req, res) => {
      seen.push(req.headers['x-node-session'] as string | undefined);
      res.setHeader('etag', '"abc"');
      res.end('package');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/theme`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  const get = (trust?: { ca?: string; fingerprint?: string }) =>
    managementGet(url, { 'x-node-session': 's3cret' }, { trust, timeoutMs: 5_000, maxBytes: 1_000 });

  it('fetches from a server showing the pinned certificate, or one signed by the given CA', async () => {
    const pinned = await get({ fingerprint: fingerprintOf(cert.certificate) });
    expect(pinned).toMatchObject({ status: 200, headers: { etag: '"abc"' } });
    expect(String(pinned.body)).toBe('package');
    expect((await get({ ca: cert.certificate })).status).toBe(200);
  });

  it('sends nothing to a server showing another certificate, and refuses an untrusted one', async () => {
    const before = seen.length;
    await expect(get({ fingerprint: 'AA:'.repeat(31) + 'AA' })).rejects.toThrow(/pinned fingerprint/);
    await expect(get()).rejects.toThrow(/self-signed|certificate/);
    expect(seen.length).toBe(before);
  });

  it('refuses an answer larger than allowed', async () => {
    await expect(managementGet(url, {}, { trust: { ca: cert.certificate }, timeoutMs: 5_000, maxBytes: 3 })).rejects.toThrow(/too large/);
  });
});
