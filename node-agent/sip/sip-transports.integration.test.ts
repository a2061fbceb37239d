import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectTls } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSelfSigned } from '../../server/certificate/pem.js';
import { until } from '../../shared/testing/until.js';
import { TestPlatform } from '../../testing/TestPlatform.js';
import { baresipCall } from '../testing/baresip.js';
import type { SipCallLeg } from './SipCallLeg.js';

const options = (transport: string, branch: string) =>
  `OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/${transport} 127.0.0.1:9;branch=z9hG4bK${branch}\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:n@127.0.0.1>\r\nCall-ID: ${branch}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`;

/** OPTIONS over UDP: the answer's status line, or '' after 700 ms. */
function udpOptions(port: number): Promise<string> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    const timer = setTimeout(() => (sock.close(), resolve('')), 700);
    sock.on('message', (m) => (clearTimeout(timer), sock.close(), resolve(m.toString().split('\r\n')[0] ?? '')));
    sock.send(options('UDP', `u${Math.random().toString(36).slice(2)}`), port, '127.0.0.1');
  });
}

/** OPTIONS over TCP: the answer's status line, or '' when refused. */
function tcpOptions(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write(options('TCP', `t${Math.random().toString(36).slice(2)}`)));
    s.on('data', (d: Buffer) => (s.destroy(), resolve(d.toString().split('\r\n')[0] ?? '')));
    s.on('error', () => resolve(''));
  });
}

/** OPTIONS over TLS trusting only `ca`: the answer's status line, or '' when refused or not trusted. */
function tlsOptions(port: number, ca: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connectTls({ host: '127.0.0.1', port, ca, checkServerIdentity: () => undefined }, () =>
      s.write(options('TLS', `s${Math.random().toString(36).slice(2)}`)),
    );
    s.on('data', (d: Buffer) => (s.destroy(), resolve(d.toString().split('\r\n')[0] ?? '')));
    s.on('error', () => resolve(''));
  });
}

interface Listing {
  meta: { total_count: number };
  objects: Record<string, unknown>[];
}

/** The enrolled node's SIP transports follow Global settings and the node's TLS certificate. */
describe('SIP transports on an enrolled node (UDP, TCP, TLS on its own port)', () => {
  let platform: TestPlatform;
  let port: number;
  const cert = generateSelfSigned({ commonName: 'sip-node.example.com' });

  beforeAll(async () => {
    platform = await TestPlatform.start({ node: { sipPort: 0, sipTlsPort: 0 } });
    port = platform.node.sip!.port!;
    const nodes = (await (await platform.rest('GET', 'worker_vm/')).json()) as Listing;
    await platform.rest('POST', 'tls_certificate/', { certificate: cert.certificate, private_key: cert.privateKey, nodes: [nodes.objects[0]!.resource_uri] });
    await platform.rest('POST', 'device/', { alias: 'tls-phone@example.com', username: 'tp', password: 'pw-tls', enable_sip: true });
    await until(
      () => platform.node.sip!.tlsPort,
      (p) => p !== undefined,
      15_000,
    );
  }, 120_000);
  afterAll(() => platform?.stop());

  it("answers over TLS with the node's assigned certificate, and a real baresip registers over TLS", async () => {
    const tlsPort = platform.node.sip!.tlsPort!;
    expect(await tlsOptions(tlsPort, cert.certificate)).toBe('SIP/2.0 200 OK');
    const dir = mkdtempSync(join(tmpdir(), 'om-baresip-tls-'));
    writeFileSync(
      join(dir, 'accounts'),
      `<sip:tls-phone@example.com>;auth_user=tp;auth_pass=pw-tls;outbound="sip:127.0.0.1:${tlsPort};transport=tls";regint=600\n`,
    );
    writeFileSync(
      join(dir, 'config'),
      [
        'module_path /usr/lib/baresip/modules',
        'module stdio.so',
        'module_app account.so',
        'sip_listen 127.0.0.1:0',
        'sip_verify_server no',
        'audio_player none',
        'audio_source none',
        '',
      ].join('\n'),
    );
    const phone = spawn('baresip', ['-f', dir], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    phone.stdout.on('data', (d: Buffer) => (out += d.toString()));
    phone.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const listing = async (): Promise<Listing> => (await (await platform.rest('GET', '/api/admin/status/v1/registration_alias/')).json()) as Listing;
    try {
      await until(listing, (l) => l.meta.total_count === 1, 20_000).catch(async () => {
        throw new Error(`not registered over TLS; baresip said:\n${out}\nlisting: ${JSON.stringify(await listing())}`);
      });
      expect(platform.node.sip!.registrar?.list()).toMatchObject([{ alias: 'tls-phone@example.com', transport: 'tls' }]);
    } finally {
      phone.stdin.write('/quit\n');
      await new Promise((r) => phone.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('a real baresip calls a VMR over TLS: a SIP participant whose audio reaches the node', async () => {
    await platform.rest('POST', 'conference/', { name: 'TLS room', aliases: [{ alias: 'tls.room' }] });
    await until(
      () => platform.node.manager.directory.lookup('tls.room'),
      (s) => s !== undefined,
      15_000,
    );
    const sipParticipants = () =>
      platform.node.manager
        .conferences()
        .flatMap((c) => c.participants)
        .filter((p) => p.protocol === 'sip');
    let audioIn = 0;
    const { out } = await baresipCall(`sip:tls.room@127.0.0.1:${platform.node.sip!.tlsPort!};transport=tls`, {
      toneHz: 700,
      holdMs: 4000,
      during: async () => {
        const [p] = await until(sipParticipants, (ps) => ps.length === 1, 8_000);
        const stats = await until(
          () => (p!.leg as SipCallLeg).packets(),
          (s) => s.packetsIn.audio > 20,
          8_000,
        );
        audioIn = stats.packetsIn.audio;
      },
    });
    expect(out).toMatch(/established/i);
    expect(audioIn, out).toBeGreaterThan(20);
    await until(sipParticipants, (ps) => ps.length === 0, 10_000);
  }, 60_000);

  it('switches SIP UDP and then all of SIP off and on from Global settings, on the same ports', async () => {
    const tlsPort = platform.node.sip!.tlsPort!;
    expect(await udpOptions(port)).toBe('SIP/2.0 200 OK');
    await platform.rest('PATCH', 'global/1/', { enable_sip_udp: false });
    await until(
      () => udpOptions(port),
      (s) => s === '',
      15_000,
    );
    expect(await tcpOptions(port)).toBe('SIP/2.0 200 OK');
    expect(await tlsOptions(tlsPort, cert.certificate)).toBe('SIP/2.0 200 OK');
    await platform.rest('PATCH', 'global/1/', { enable_sip: false });
    await until(
      () => tcpOptions(port),
      (s) => s === '',
      15_000,
    );
    expect(await tlsOptions(tlsPort, cert.certificate)).toBe('');
    await platform.rest('PATCH', 'global/1/', { enable_sip: true, enable_sip_udp: true });
    await until(
      () => udpOptions(port),
      (s) => s === 'SIP/2.0 200 OK',
      15_000,
    );
    expect(await tcpOptions(port)).toBe('SIP/2.0 200 OK');
    await until(
      () => tlsOptions(tlsPort, cert.certificate),
      (s) => s === 'SIP/2.0 200 OK',
      15_000,
    );
  }, 60_000);
});
