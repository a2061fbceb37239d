import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Registrar } from './registrar/Registrar.js';
import { forkToRegistrations } from './SipFork.js';
import { SipServer } from './SipServer.js';

const scenarios = join(import.meta.dirname, 'sipp');
const ALIAS = 'room@example.com';

/** A free UDP port on loopback (bound then released) for a sipp device to listen on. */
async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A sipp device answering one call with `scenario` on `port`; resolves with its exit code (0: every step as scripted). */
function sippDevice(scenario: string, port: number): { exit: Promise<number>; out: () => string } {
  const child = spawn(
    'sipp',
    [
      '-sf',
      join(scenarios, scenario),
      '-p',
      String(port),
      '-i',
      '127.0.0.1',
      '-m',
      '1',
      '-nostdin',
      '-timeout',
      '15s',
      '-timeout_error',
      '-trace_err',
      '-error_file',
      '/dev/stderr',
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return { exit: new Promise((r) => child.on('exit', (code) => r(code ?? -1))), out: () => out };
}

/** Registers `contactPort` for the alias from a socket of its own (Via names that socket: not NATed). */
async function register(sipPort: number, contactPort: number): Promise<string> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const own = sock.address().port;
  const answer = new Promise<string>((resolve) => sock.once('message', (m) => resolve(m.toString())));
  sock.send(
    `REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${own};branch=z9hG4bKreg${contactPort}\r\nFrom: <sip:${ALIAS}>;tag=r${contactPort}\r\nTo: <sip:${ALIAS}>\r\nCall-ID: reg-${contactPort}\r\nCSeq: 1 REGISTER\r\nContact: <sip:dev@127.0.0.1:${contactPort}>\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n`,
    sipPort,
    '127.0.0.1',
  );
  const text = await answer;
  sock.close();
  return text.split('\r\n')[0] ?? '';
}

describe('a call to a registered alias forks to every registration (real sipp devices)', () => {
  let server: SipServer;
  let registrar: Registrar;
  let port: number;

  beforeEach(async () => {
    const log = pino({ level: 'silent' });
    registrar = new Registrar({ devices: () => [{ alias: ALIAS, enableSip: true }], maintenanceMode: () => false, log });
    server = new SipServer({ host: '127.0.0.1', port: 0, directory: { lookup: () => undefined }, registrar, log });
    port = await server.start();
  });
  afterEach(async () => {
    await server.stop();
    registrar.stop();
  });

  it('the first 200 wins and is ACKed, the ringing one is CANCELled (487 ACKed), and our BYE ends the call', async () => {
    const [answering, ringing] = [await freePort(), await freePort()];
    const a = sippDevice('uas-answer.xml', answering);
    const b = sippDevice('uas-ring-cancel.xml', ringing);
    await new Promise((r) => setTimeout(r, 300)); // sipp binds its port
    expect(await register(port, ringing)).toBe('SIP/2.0 200 OK');
    expect(await register(port, answering)).toBe('SIP/2.0 200 OK');
    expect(registrar.lookup(ALIAS)).toHaveLength(2);
    const provisional: number[] = [];
    const ended: string[] = [];
    const result = await forkToRegistrations(server, registrar.lookup(ALIAS), {
      from: '"Alice" <sip:alice@openmeet>',
      body: Buffer.from('v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\n'),
      dialog: { ended: (reason) => ended.push(reason), reinvite: () => Promise.resolve({ status: 488, reason: 'Not Acceptable Here' }) },
      onProvisional: (status) => provisional.push(status),
    });
    expect(result.answer.status).toBe(200);
    expect(result.answer.body.toString()).toContain('m=audio 41000 RTP/AVP 96');
    expect(result.registration?.contact).toBe(`sip:dev@127.0.0.1:${answering}`);
    expect(provisional).toContain(180);
    expect(await b.exit, b.out()).toBe(0); // CANCEL, 200, 487, ACK
    expect(server.calls).toBe(1);
    server.hangUp(result.callId!);
    expect(await a.exit, a.out()).toBe(0); // ACK, then our BYE
    expect(server.calls).toBe(0);
    expect(ended).toEqual([]); // we hung up: not the peer
  }, 30_000);

  it('a busy device gives its 486 to the caller (ACKed), and an alias with no registration gives 404', async () => {
    const busy = await freePort();
    const device = sippDevice('uas-busy.xml', busy);
    await new Promise((r) => setTimeout(r, 300));
    expect(await register(port, busy)).toBe('SIP/2.0 200 OK');
    const dialog = { ended: () => undefined, reinvite: () => Promise.resolve({ status: 488, reason: 'Not Acceptable Here' }) };
    const result = await forkToRegistrations(server, registrar.lookup(ALIAS), { from: '<sip:alice@openmeet>', dialog });
    expect(result.answer).toMatchObject({ status: 486, reason: 'Busy Here' });
    expect(result.callId).toBeUndefined();
    expect(await device.exit, device.out()).toBe(0);
    expect(server.calls).toBe(0);
    expect((await forkToRegistrations(server, [], { from: '<sip:alice@openmeet>', dialog })).answer.status).toBe(404);
  }, 30_000);

  it('calls a device behind NAT registered over TCP on the connection it registered over', async () => {
    const device = connect(port, '127.0.0.1');
    await new Promise<void>((r) => device.once('connect', () => r()));
    const received: string[] = [];
    device.on('data', (d: Buffer) => received.push(d.toString()));
    // Its Via names a private address: the registrar sees it behind NAT.
    device.write(
      `REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 192.168.1.20:5060;branch=z9hG4bKtcpreg\r\nFrom: <sip:${ALIAS}>;tag=t\r\nTo: <sip:${ALIAS}>\r\nCall-ID: tcp-reg\r\nCSeq: 1 REGISTER\r\nContact: <sip:dev@192.168.1.20:5060;transport=tcp>\r\nExpires: 60\r\nContent-Length: 0\r\n\r\n`,
    );
    await expect.poll(() => received.join('')).toMatch(/^SIP\/2\.0 200 OK/);
    expect(registrar.lookup(ALIAS)).toMatchObject([{ transport: 'tcp', isNatted: true }]);
    received.length = 0;
    const dialog = { ended: () => undefined, reinvite: () => Promise.resolve({ status: 488, reason: 'Not Acceptable Here' }) };
    const call = forkToRegistrations(server, registrar.lookup(ALIAS), { from: '<sip:alice@openmeet>', dialog });
    await expect.poll(() => received.join('')).toMatch(/^INVITE sip:dev@192\.168\.1\.20:5060;transport=tcp SIP\/2\.0/);
    const invite = received.join('');
    const copy = invite.split('\r\n').filter((l) => /^(Via|From|To|Call-ID|CSeq):/i.test(l));
    received.length = 0;
    device.write(`SIP/2.0 486 Busy Here\r\n${copy.map((l) => (/^To:/i.test(l) ? `${l};tag=dev` : l)).join('\r\n')}\r\nContent-Length: 0\r\n\r\n`);
    expect((await call).answer.status).toBe(486);
    await expect.poll(() => received.join('')).toMatch(/^ACK sip:dev@192\.168\.1\.20:5060;transport=tcp SIP\/2\.0/);
    device.destroy();
  });
});
