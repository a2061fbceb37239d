import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../../shared/testing/until.js';
import { TestPlatform } from '../../../testing/TestPlatform.js';

/** One REGISTER without credentials over UDP: the status code of the answer. */
function probe(port: number, alias: string): Promise<number> {
  const sock = createSocket('udp4');
  const msg = [
    'REGISTER sip:127.0.0.1 SIP/2.0',
    `Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK${Math.random().toString(36).slice(2)};rport`,
    `From: <sip:${alias}>;tag=p`,
    `To: <sip:${alias}>`,
    `Call-ID: probe-${Math.random()}`,
    'CSeq: 1 REGISTER',
    'Contact: <sip:probe@127.0.0.1:9>',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  return new Promise((resolve) => {
    const timer = setTimeout(() => (sock.close(), resolve(0)), 1000);
    sock.on('message', (m) => {
      clearTimeout(timer);
      sock.close();
      resolve(Number(/^SIP\/2\.0 (\d{3})/.exec(m.toString())?.[1]));
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
});
