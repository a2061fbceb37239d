import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import fc from 'fast-check';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nodeConfigSnapshotSchema } from '../../shared/node-protocol/messages.js';
import { BreakInResistance, DEFAULT_POLICY } from '../conference/BreakInResistance.js';
import { ServiceDirectory } from '../conference/ServiceDirectory.js';
import { MAX_MESSAGE_BYTES } from './SipMessage.js';
import { SipServer, type IncomingSipCall } from './SipServer.js';

const run = promisify(execFile);
const scenarios = join(import.meta.dirname, 'sipp');

/** Runs one sipp scenario once against the node; resolves with sipp's exit code (0: every step as scripted). */
async function sipp(scenario: string, port: number, service: string, transport: 'u1' | 't1' = 'u1'): Promise<number> {
  try {
    await run(
      'sipp',
      [
        '-sf',
        join(scenarios, scenario),
        `127.0.0.1:${port}`,
        '-s',
        service,
        '-t',
        transport,
        '-m',
        '1',
        '-p',
        '0',
        '-i',
        '127.0.0.1',
        '-nostdin',
        '-timeout',
        '10s',
        '-timeout_error',
        '-trace_err',
        '-error_file',
        '/dev/stderr',
      ],
      { timeout: 20_000 },
    );
    return 0;
  } catch (err) {
    return (err as { code?: number }).code ?? -1;
  }
}

/** Sends one datagram and resolves with the first answer (or undefined after `ms`). */
function udpExchange(port: number, payload: Buffer | string, ms = 1500): Promise<string | undefined> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    const timer = setTimeout(() => {
      sock.close();
      resolve(undefined);
    }, ms);
    sock.on('message', (m) => {
      clearTimeout(timer);
      sock.close();
      resolve(m.toString());
    });
    sock.send(typeof payload === 'string' ? Buffer.from(payload) : payload, port, '127.0.0.1');
  });
}

const options = (branch: string) =>
  `OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK${branch}\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:n@127.0.0.1>\r\nCall-ID: ${branch}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`;

describe('SIP signalling on the node (real sipp and sockets)', () => {
  let server: SipServer;
  let port: number;
  let breakIn: BreakInResistance;
  let holdInvite: ((call: IncomingSipCall) => Promise<{ status: number; reason: string }>) | undefined;

  beforeEach(async () => {
    const directory = new ServiceDirectory();
    directory.load(
      nodeConfigSnapshotSchema.parse({
        version: 'v1',
        generatedAt: new Date().toISOString(),
        node: { id: 1, name: 'node1', systemLocation: 'Oslo' },
        services: [
          { id: 7, name: 'Alice', serviceType: 'conference', pin: '1234', guestPin: '', allowGuests: false, participantLimit: null, aliases: ['meet.alice'] },
        ],
      }),
    );
    const log = pino({ level: 'silent' });
    breakIn = new BreakInResistance(log);
    breakIn.configure({ ...DEFAULT_POLICY, maxScanAttemptsPerWindow: 3 });
    holdInvite = undefined;
    server = new SipServer({
      host: '127.0.0.1',
      port: 0,
      directory,
      breakIn,
      log,
      onServiceInvite: (call) => (holdInvite ? holdInvite(call) : Promise.resolve({ status: 480, reason: 'Temporarily Unavailable' })),
    });
    port = await server.start();
  });
  afterEach(async () => {
    await server.stop();
  });

  it('answers OPTIONS over UDP and TCP with 200 and its Allow list', async () => {
    expect(await sipp('options.xml', port, 'x', 'u1')).toBe(0);
    expect(await sipp('options.xml', port, 'x', 't1')).toBe(0);
  });

  it('answers an INVITE to an alias that matches nothing with 404 and counts it for break-in resistance', async () => {
    expect(await sipp('invite-unknown.xml', port, 'nobody', 'u1')).toBe(0);
    expect(await sipp('invite-unknown.xml', port, 'nobody2', 't1')).toBe(0);
    expect(await sipp('invite-unknown.xml', port, 'nobody3', 'u1')).toBe(0);
    // The fourth scan from the address is over the threshold of 3: the address is quarantined.
    expect(await sipp('invite-unknown.xml', port, 'nobody4', 'u1')).toBe(0);
    expect(breakIn.blocks().some((b) => b.kind === 'address' && b.key === '127.0.0.1')).toBe(true);
  });

  it('resolves a VMR alias with the shared lookup and reads the PIN from alias**PIN', async () => {
    const calls: IncomingSipCall[] = [];
    holdInvite = (call) => {
      calls.push(call);
      return Promise.resolve({ status: 486, reason: 'Busy Here' });
    };
    const invite = `INVITE sip:meet.alice**1234@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKvmr;rport\r\nFrom: "Room 1" <sip:room@x>;tag=9\r\nTo: <sip:meet.alice@127.0.0.1>\r\nCall-ID: vmr-1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n`;
    const sock = createSocket('udp4');
    const answers: string[] = [];
    sock.on('message', (m) => answers.push(m.toString()));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    sock.send(invite, port, '127.0.0.1');
    await expect.poll(() => answers.find((a) => a.startsWith('SIP/2.0 486')), { timeout: 3000 }).toBeDefined();
    sock.close();
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ alias: 'meet.alice', pin: '1234', service: { id: 7 } });
    expect(answers[0]).toMatch(/^SIP\/2\.0 100 Trying/);
    // Our Via stamp: the answer reaches the source port (rport) and says where it came from.
    expect(answers.at(-1)).toMatch(/Via: SIP\/2\.0\/UDP 127\.0\.0\.1:9;branch=z9hG4bKvmr;rport=\d+;received=127\.0\.0\.1/);
    expect(answers.at(-1)).toMatch(/To: <sip:meet\.alice@127\.0\.0\.1>;tag=[0-9a-f]+/);
  });

  it('retransmits a non-2xx INVITE answer over UDP until the ACK (timer G)', async () => {
    const sock = createSocket('udp4');
    const answers: string[] = [];
    sock.on('message', (m) => answers.push(m.toString()));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    sock.send(
      `INVITE sip:nobody@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKg;rport\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:nobody@127.0.0.1>\r\nCall-ID: g-1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n`,
      port,
      '127.0.0.1',
    );
    await new Promise((r) => setTimeout(r, 1700)); // 0, T1, 3·T1: three 404s
    sock.close();
    expect(answers.filter((a) => a.startsWith('SIP/2.0 404')).length).toBeGreaterThanOrEqual(3);
  });

  it('answers a flood of INVITEs past the transaction limit with 503 and Retry-After, holding no state for them', async () => {
    await server.stop();
    server = new SipServer({ host: '127.0.0.1', port: 0, directory: { lookup: () => undefined }, log: pino({ level: 'silent' }), maxInviteTransactions: 2 });
    port = await server.start();
    const invite = (n: number) =>
      `INVITE sip:x${n}@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKf${n};rport\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:x@127.0.0.1>\r\nCall-ID: f-${n}\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n`;
    const finals: string[] = [];
    const sock = createSocket('udp4');
    sock.on('message', (m) => {
      const line = m.toString().split('\r\n')[0] ?? '';
      if (!line.includes(' 100 ')) finals.push(`${line}|${/Call-ID: (\S+)/.exec(m.toString())?.[1]}|${/Retry-After: (\d+)/.exec(m.toString())?.[1] ?? ''}`);
    });
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    for (let n = 0; n < 3; n++) sock.send(invite(n), port, '127.0.0.1');
    await expect.poll(() => finals.some((f) => f.startsWith('SIP/2.0 503 Service Unavailable|f-2|10')), { timeout: 2000 }).toBe(true);
    expect(finals.some((f) => f.startsWith('SIP/2.0 404') && f.includes('|f-0|'))).toBe(true);
    sock.close();
  });

  it('answers CANCEL before the answer with 200 and the INVITE with 487', async () => {
    holdInvite = () => new Promise((r) => setTimeout(() => r({ status: 480, reason: 'Temporarily Unavailable' }), 3000));
    expect(await sipp('cancel.xml', port, 'meet.alice', 'u1')).toBe(0);
    expect(await sipp('cancel.xml', port, 'meet.alice', 't1')).toBe(0);
  });

  it('answers each malformed request of the sipp set with 400 over UDP and TCP, and a bad Content-Length over UDP', async () => {
    expect(await sipp('malformed-set.xml', port, 'meet.alice', 'u1')).toBe(0);
    expect(await sipp('malformed-set.xml', port, 'meet.alice', 't1')).toBe(0);
    expect(await sipp('malformed-length.xml', port, 'meet.alice', 'u1')).toBe(0);
  });

  it('answers a request larger than the limit with 413 over TCP and closes the connection', async () => {
    const body = 'a'.repeat(MAX_MESSAGE_BYTES);
    const head = `INVITE sip:meet.alice@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKbig\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:meet.alice@127.0.0.1>\r\nCall-ID: big\r\nCSeq: 1 INVITE\r\nContent-Length: ${body.length}\r\n\r\n`;
    const result = await new Promise<{ answer: string; closed: boolean }>((resolve) => {
      let answer = '';
      const s = connect(port, '127.0.0.1', () => s.write(head + body));
      s.on('data', (d: Buffer) => (answer += d.toString()));
      s.on('error', () => undefined);
      s.on('close', () => resolve({ answer, closed: true }));
      setTimeout(() => resolve({ answer, closed: false }), 5000);
    });
    expect(result.answer).toMatch(/^SIP\/2\.0 413 Request Entity Too Large/);
    expect(result.closed).toBe(true);
    expect(await udpExchange(port, options('after-big'))).toMatch(/^SIP\/2\.0 200 OK/);
  });

  it('keeps serving after random corruptions of valid requests over UDP and TCP (fuzz)', async () => {
    const seeds = [
      options('fuzz'),
      `INVITE sip:meet.alice**1234@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKfz;rport\r\nFrom: "F" <sip:f@x>;tag=9\r\nTo: <sip:meet.alice@127.0.0.1>\r\nCall-ID: fz\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\nContent-Length: 12\r\n\r\nv=0\r\nm=audio`,
      `REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKrg\r\nFrom: <sip:r@x>;tag=2\r\nTo: <sip:r@x>\r\nCall-ID: rg\r\nCSeq: 1 REGISTER\r\nContact: <sip:r@127.0.0.1:9>\r\nExpires: 60\r\nContent-Length: 0\r\n\r\n`,
    ].map((s) => Buffer.from(s));
    // A corruption: bytes overwritten, cut short or repeated at random places.
    const corrupted = fc
      .tuple(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.option(fc.nat()),
        fc.option(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 200 }))),
      )
      .map(([seed, flips, cut, repeat]) => {
        let buf = Buffer.from(seed);
        for (const [at, byte] of flips) buf[at % buf.length] = byte;
        if (cut !== null) buf = buf.subarray(0, cut % buf.length);
        if (repeat !== null) {
          const at = repeat[0] % Math.max(1, buf.length);
          buf = Buffer.concat([buf.subarray(0, at), Buffer.alloc(repeat[1] * 10, buf.subarray(at, at + 10)), buf.subarray(at)]);
        }
        return buf;
      });
    const samples = fc.sample(corrupted, { numRuns: 300, seed: 13 });
    const udp = createSocket('udp4');
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
    const tcp = connect(port, '127.0.0.1');
    tcp.on('error', () => undefined);
    tcp.on('data', () => undefined);
    for (const s of samples) {
      udp.send(s, port, '127.0.0.1');
      if (!tcp.destroyed) tcp.write(s);
      await new Promise((r) => setImmediate(r));
    }
    udp.close();
    tcp.destroy();
    expect(await udpExchange(port, options('after-fuzz'), 3000)).toMatch(/^SIP\/2\.0 200 OK/);
    expect(await sipp('options.xml', port, 'x', 't1')).toBe(0);
  });

  it('answers a malformed request with 400 and keeps serving (sipp, then raw garbage over UDP and TCP)', async () => {
    expect(await sipp('malformed.xml', port, 'meet.alice', 'u1')).toBe(0);
    expect(await sipp('malformed.xml', port, 'meet.alice', 't1')).toBe(0);
    // No Call-ID: answered 400 (Via readable).
    expect(
      await udpExchange(
        port,
        'OPTIONS sip:x@y SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKm\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:x@y>\r\nCall-ID: m\r\nCSeq: x OPTIONS\r\n\r\n',
      ),
    ).toMatch(/^SIP\/2\.0 400 /);
    // Garbage, a bad request line and an oversize datagram: nothing to answer to, dropped.
    expect(await udpExchange(port, Buffer.from([0, 1, 2, 255, 13, 10, 13, 10]), 300)).toBeUndefined();
    expect(await udpExchange(port, 'HELLO\r\n\r\n', 300)).toBeUndefined();
    expect(await udpExchange(port, Buffer.alloc(60_000, 65), 300)).toBeUndefined();
    // TCP without Content-Length cannot be framed: the connection is closed.
    const closed = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => s.write('OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n'));
      s.on('data', () => undefined);
      s.on('close', () => resolve(true));
      setTimeout(() => resolve(false), 3000);
    });
    expect(closed).toBe(true);
    expect(await udpExchange(port, options('alive'))).toMatch(/^SIP\/2\.0 200 OK/);
  });
});
