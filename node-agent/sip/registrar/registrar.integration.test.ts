import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ServiceDirectory } from '../../conference/ServiceDirectory.js';
import { ManualClock } from '../../../shared/time/ManualClock.js';
import { SipServer } from '../SipServer.js';
import { SIP_REGISTRAR_REALM } from '../../../shared/node-protocol/messages.js';
import { digestHa1 } from './DigestAuth.js';
import { Registrar, type RegistrarDevice, type RegistrarSettings, DEFAULT_REGISTRAR_SETTINGS } from './Registrar.js';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

/** A tiny real-socket SIP UA: sends REGISTERs over UDP and reads the answers. */
class Ua {
  private readonly sock: Socket = createSocket('udp4');
  private cseq = 1;
  private readonly callId = `${Math.random().toString(36).slice(2)}@127.0.0.1`;
  localPort = 0;
  async open(): Promise<void> {
    await new Promise<void>((r) => this.sock.bind(0, '127.0.0.1', () => r()));
    this.localPort = this.sock.address().port;
  }
  close(): void {
    this.sock.close();
  }
  register(port: number, alias: string, opts: { expires?: number; auth?: string; contact?: string } = {}): Promise<{ status: number; headers: string[] }> {
    const branch = `z9hG4bK${Math.random().toString(36).slice(2)}`;
    const lines = [
      `REGISTER sip:127.0.0.1 SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${this.localPort};branch=${branch};rport`,
      `Max-Forwards: 70`,
      `From: <sip:${alias}>;tag=abc`,
      `To: <sip:${alias}>`,
      `Call-ID: ${this.callId}`,
      `CSeq: ${this.cseq++} REGISTER`,
      `Contact: ${opts.contact ?? `<sip:dev@127.0.0.1:${this.localPort}>`}`,
      ...(opts.expires === undefined ? [] : [`Expires: ${opts.expires}`]),
      ...(opts.auth ? [`Authorization: ${opts.auth}`] : []),
      `User-Agent: test-ua`,
      `Content-Length: 0`,
      '',
      '',
    ];
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer')), 2000);
      this.sock.once('message', (m) => {
        clearTimeout(timer);
        const text = m.toString();
        resolve({ status: Number(/^SIP\/2\.0 (\d{3})/.exec(text)?.[1]), headers: text.split('\r\n') });
      });
      this.sock.send(lines.join('\r\n'), port, '127.0.0.1');
    });
  }
}

const header = (h: string[], name: string): string[] =>
  h.filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`)).map((l) => l.slice(name.length + 1).trim());

function answer(challenge: string, user: string, password: string, uri = 'sip:127.0.0.1'): string {
  const realm = /realm="([^"]+)"/.exec(challenge)![1]!;
  const nonce = /nonce="([^"]+)"/.exec(challenge)![1]!;
  const cnonce = 'c0ffee';
  const nc = '00000001';
  const response = md5(`${md5(`${user}:${realm}:${password}`)}:${nonce}:${nc}:${cnonce}:auth:${md5(`REGISTER:${uri}`)}`);
  return `Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5, qop=auth, nc=${nc}, cnonce="${cnonce}"`;
}

describe('SIP registrar (real UDP sockets)', () => {
  let server: SipServer;
  let registrar: Registrar;
  let port: number;
  let ua: Ua;
  let maintenance = false;
  let settings: RegistrarSettings = DEFAULT_REGISTRAR_SETTINGS;
  const reports: number[] = [];
  const devices: RegistrarDevice[] = [
    { alias: 'alice@example.com', enableSip: true, username: 'alice', ha1: digestHa1('alice', SIP_REGISTRAR_REALM, 's3cret') },
    { alias: 'open@example.com', enableSip: true },
    { alias: 'h323only@example.com', enableSip: false },
  ];

  beforeEach(async () => {
    maintenance = false;
    settings = DEFAULT_REGISTRAR_SETTINGS;
    reports.length = 0;
    const log = pino({ level: 'silent' });
    registrar = new Registrar({
      devices: () => devices,
      settings: () => settings,
      maintenanceMode: () => maintenance,
      onChange: (r) => reports.push(r.length),
      log,
    });
    server = new SipServer({ host: '127.0.0.1', port: 0, directory: new ServiceDirectory(), registrar, log });
    port = await server.start();
    ua = new Ua();
    await ua.open();
  });
  afterEach(async () => {
    ua.close();
    registrar.stop();
    await server.stop();
  });

  it('challenges with 401, accepts the right credentials with 200 and an Expires within the Adaptive bounds', async () => {
    const first = await ua.register(port, 'alice@example.com', { expires: 7200 });
    expect(first.status).toBe(401);
    const challenge = header(first.headers, 'WWW-Authenticate')[0]!;
    expect(challenge).toMatch(/^Digest realm="[^"]+", nonce="[^"]+", algorithm=MD5, qop="auth"$/);
    const ok = await ua.register(port, 'alice@example.com', { expires: 7200, auth: answer(challenge, 'alice', 's3cret') });
    expect(ok.status).toBe(200);
    const expires = Number(header(ok.headers, 'Expires')[0]);
    expect(expires).toBeGreaterThanOrEqual(60);
    expect(expires).toBeLessThanOrEqual(3600);
    expect(header(ok.headers, 'Contact')[0]).toBe(`<sip:dev@127.0.0.1:${ua.localPort}>;expires=${expires}`);
    expect(registrar.lookup('alice@example.com')).toHaveLength(1);
    expect(registrar.list()[0]).toMatchObject({
      alias: 'alice@example.com',
      username: 'alice',
      protocol: 'SIP',
      remoteAddress: '127.0.0.1',
      vendor: 'test-ua',
      isNatted: false,
    });
    expect(reports.at(-1)).toBe(1);
  });

  it('Basic clamps the request to 60..300 s and refuses one below the minimum with 423', async () => {
    settings = { ...DEFAULT_REGISTRAR_SETTINGS, strategy: 'basic' };
    const long = await ua.register(port, 'open@example.com', { expires: 3600 });
    expect(long.status).toBe(200);
    expect(header(long.headers, 'Expires')[0]).toBe('300');
    const mid = await ua.register(port, 'open@example.com', { expires: 120 });
    expect(header(mid.headers, 'Expires')[0]).toBe('120');
    const short = await ua.register(port, 'open@example.com', { expires: 30 });
    expect(short.status).toBe(423);
    expect(header(short.headers, 'Min-Expires')[0]).toBe('60');
  });

  it('a wrong password gets 401 again, as the guide shows, and registers nothing', async () => {
    const first = await ua.register(port, 'alice@example.com');
    const again = await ua.register(port, 'alice@example.com', { auth: answer(header(first.headers, 'WWW-Authenticate')[0]!, 'alice', 'wrong') });
    expect(again.status).toBe(401);
    expect(registrar.list()).toHaveLength(0);
  });

  it('an alias not in the allow-list, or not enabled for SIP, gets 403', async () => {
    expect((await ua.register(port, 'mallory@example.com')).status).toBe(403);
    expect((await ua.register(port, 'h323only@example.com')).status).toBe(403);
    settings = { ...DEFAULT_REGISTRAR_SETTINGS, enabled: false };
    expect((await ua.register(port, 'open@example.com')).status).toBe(403);
  });

  it('maintenance mode answers 503', async () => {
    maintenance = true;
    expect((await ua.register(port, 'open@example.com')).status).toBe(503);
  });

  it('Expires: 0 de-registers; several devices may hold one alias', async () => {
    expect((await ua.register(port, 'open@example.com', { expires: 600 })).status).toBe(200);
    const other = new Ua();
    await other.open();
    const both = await other.register(port, 'open@example.com', { expires: 600 });
    expect(header(both.headers, 'Contact')).toHaveLength(2);
    expect(registrar.lookup('open@example.com')).toHaveLength(2);
    expect((await ua.register(port, 'open@example.com', { expires: 0 })).status).toBe(200);
    expect(registrar.lookup('open@example.com').map((r) => r.contact)).toEqual([`sip:dev@127.0.0.1:${other.localPort}`]);
    expect((await other.register(port, 'open@example.com', { expires: 0, contact: '*' })).status).toBe(200);
    expect(registrar.list()).toHaveLength(0);
    other.close();
  });

  it('a registration expires when not refreshed', async () => {
    const clock = new ManualClock();
    const log = pino({ level: 'silent' });
    const r = new Registrar({ devices: () => devices, maintenanceMode: () => false, log, clock });
    const s = new SipServer({ host: '127.0.0.1', port: 0, directory: new ServiceDirectory(), registrar: r, log });
    const p = await s.start();
    expect((await ua.register(p, 'open@example.com', { expires: 60 })).status).toBe(200);
    expect(r.lookup('open@example.com')).toHaveLength(1);
    // Past its 60 s: no longer found, and the sweeper (every second, on the clock) has dropped it.
    await clock.advance(61_000);
    expect(r.lookup('open@example.com')).toHaveLength(0);
    expect(r.list()).toHaveLength(0);
    r.stop();
    await s.stop();
  });

  it('a real baresip registers with Digest credentials', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baresip-'));
    writeFileSync(
      join(dir, 'accounts'),
      `<sip:alice@example.com>;auth_user=alice;auth_pass=s3cret;outbound="sip:127.0.0.1:${port};transport=udp";regint=600\n`,
    );
    writeFileSync(
      join(dir, 'config'),
      [
        'module_path /usr/lib/baresip/modules',
        'module stdio.so',
        'module account.so',
        'sip_listen 127.0.0.1:0',
        'audio_player none',
        'audio_source none',
        '',
      ].join('\n'),
    );
    const proc = spawn('baresip', ['-f', dir], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && registrar.lookup('alice@example.com').length === 0) await new Promise((r) => setTimeout(r, 100));
      expect(registrar.lookup('alice@example.com'), out).toHaveLength(1);
      expect(registrar.list()[0]!.vendor).toMatch(/baresip/i);
    } finally {
      proc.kill('SIGTERM');
    }
  });
});
