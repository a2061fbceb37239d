import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../../shared/testing/until.js';
import { TestPlatform } from '../../../testing/TestPlatform.js';

/** One REGISTER without credentials over UDP: the status code of the answer. */
async function probe(port: number, alias: string): Promise<number> {
  return (await register(port, alias)).status;
}

/** One REGISTER over UDP (Expires as given; a Via naming another address looks NATed): the answer's status and granted expiry. */
async function register(port: number, alias: string, expires?: number, viaHost?: string): Promise<{ status: number; expires?: number }> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const sentBy = viaHost ? `${viaHost}:9` : `127.0.0.1:${sock.address().port}`;
  const msg = [
    'REGISTER sip:127.0.0.1 SIP/2.0',
    `Via: SIP/2.0/UDP ${sentBy};branch=z9hG4bK${Math.random().toString(36).slice(2)};rport`,
    `From: <sip:${alias}>;tag=p`,
    `To: <sip:${alias}>`,
    `Call-ID: probe-${Math.random()}`,
    'CSeq: 1 REGISTER',
    'Contact: <sip:probe@127.0.0.1:9>',
    ...(expires === undefined ? [] : [`Expires: ${expires}`]),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  return new Promise((resolve) => {
    const timer = setTimeout(() => (sock.close(), resolve({ status: 0 })), 1000);
    sock.on('message', (m) => {
      clearTimeout(timer);
      sock.close();
      const text = m.toString();
      const granted = /Contact: <sip:probe@127\.0\.0\.1:9>;expires=(\d+)/.exec(text)?.[1];
      resolve({ status: Number(/^SIP\/2\.0 (\d{3})/.exec(text)?.[1]), ...(granted ? { expires: Number(granted) } : {}) });
    });
    sock.send(msg, port, '127.0.0.1');
  });
}

interface Listing {
  meta: { total_count: number };
  objects: Record<string, unknown>[];
}

/** The enrolled node's registrar: devices from the configuration API, registrations in status/v1. */
describe('SIP registrar on an enrolled node', () => {
  let platform: TestPlatform;
  let port: number;

  beforeAll(async () => {
    platform = await TestPlatform.start({ node: { sipPort: 0 } });
    await platform.rest('POST', 'device/', { alias: 'alice@example.com', username: 'alice', password: 's3cret', enable_sip: true });
    port = platform.node.sip!.port!;
    // The device reaches the node with the configuration push: its alias is then challenged, not refused.
    await until(
      () => probe(port, 'alice@example.com'),
      (status) => status === 401,
      15_000,
    );
  }, 120_000);
  afterAll(() => platform?.stop());

  const listing = async (): Promise<Listing> => (await (await platform.rest('GET', '/api/admin/status/v1/registration_alias/')).json()) as Listing;

  it('a real baresip registers with the device alias credentials and is listed in status/v1 registration_alias', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'om-baresip-reg-'));
    writeFileSync(
      join(dir, 'accounts'),
      `<sip:alice@example.com>;auth_user=alice;auth_pass=s3cret;outbound="sip:127.0.0.1:${port};transport=udp";regint=600\n`,
    );
    writeFileSync(
      join(dir, 'config'),
      [
        'module_path /usr/lib/baresip/modules',
        'module stdio.so',
        'module_app account.so',
        'sip_listen 127.0.0.1:0',
        'audio_player none',
        'audio_source none',
        '',
      ].join('\n'),
    );
    const phone = spawn('baresip', ['-f', dir], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    phone.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const list = await until(listing, (l) => l.meta.total_count === 1, 20_000).catch(async () => {
        throw new Error(`not registered; baresip said:\n${out}\nlisting: ${JSON.stringify(await listing())}`);
      });
      expect(list.objects[0]).toMatchObject({
        id: 1,
        alias: 'alice@example.com',
        username: 'alice',
        protocol: 'SIP',
        remote_address: '127.0.0.1',
        is_natted: false,
        resource_uri: '/api/admin/status/v1/registration_alias/1/',
      });
      expect(String(list.objects[0]!.vendor)).toMatch(/baresip/i);
      expect(Date.parse(String(list.objects[0]!.start_time))).toBeGreaterThan(Date.now() - 60_000);
    } finally {
      phone.stdin.write('/quit\n');
      await new Promise((r) => phone.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
    // baresip de-registers as it quits (Expires: 0): the listing empties.
    await until(listing, (l) => l.meta.total_count === 0, 10_000);
  }, 60_000);

  it('applies Services > Registrar from the configuration API: Basic bounds, NAT bounds, and the registrar switched off', async () => {
    await platform.rest('POST', 'device/', { alias: 'open@example.com', enable_sip: true });
    await until(
      () => probe(port, 'open@example.com'),
      (status) => status === 200,
      15_000,
    );
    // Adaptive with few registrations: a long request is shortened towards the minimum, never below it.
    expect((await register(port, 'open@example.com', 3600)).expires).toBeLessThan(3600);
    await platform.rest('PATCH', 'registration/1/', { refresh_strategy: 'maximum', maximum_min_refresh: 120, maximum_max_refresh: 240 });
    await until(
      () => register(port, 'open@example.com', 3600),
      (r) => r.expires === 240,
      15_000,
    );
    // Below the minimum: 423 with the minimum.
    expect((await register(port, 'open@example.com', 100)).status).toBe(423);
    // A device behind NAT (its Via names an address its packets do not come from) gets the NAT bounds.
    expect(await register(port, 'open@example.com', 3600, '192.0.2.7')).toEqual({ status: 200, expires: 90 });
    await platform.rest('PATCH', 'registration/1/', { enable: false });
    await until(
      () => probe(port, 'open@example.com'),
      (status) => status === 403,
      15_000,
    );
    await platform.rest('PATCH', 'registration/1/', { enable: true, refresh_strategy: 'adaptive' });
    await until(
      () => probe(port, 'open@example.com'),
      (status) => status === 200,
      15_000,
    );
    await register(port, 'open@example.com', 0);
  }, 60_000);
});
