import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { connect as connectTls } from 'node:tls';
import fc from 'fast-check';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nodeConfigSnapshotSchema } from '../../shared/node-protocol/messages.js';
import { BreakInResistance, DEFAULT_POLICY } from '../conference/BreakInResistance.js';
import { ServiceDirectory } from '../conference/ServiceDirectory.js';
import { MAX_MESSAGE_BYTES } from './SipMessage.js';
import { runSipp } from '../testing/sipp.js';
import { SipServer, type IncomingSipCall, type SipInviteAnswer } from './SipServer.js';
import { generateSelfSigned } from '../../server/certificate/pem.js';

/** Runs one sipp scenario once against the node; resolves with sipp's exit code (0: every step as scripted). */
const sipp = (scenario: string, port: number, service: string, transport: 'u1' | 't1' = 'u1'): Promise<number> =>
  runSipp(scenario, port, service, { transport, traceErrors: true });

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
  let holdInvite: ((call: IncomingSipCall) => Promise<SipInviteAnswer>) | undefined;

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

  it('answers a CRLF keep-alive ping over TCP with a CRLF pong, and ignores one over UDP', async () => {
    const pong = await new Promise<string>((resolve) => {
      let got = '';
      const s = connect(port, '127.0.0.1', () => s.write('\r\n\r\n'));
      s.on('data', (d: Buffer) => {
        got += d.toString();
        s.destroy();
        resolve(got);
      });
      setTimeout(() => (s.destroy(), resolve(got)), 2000);
    });
    expect(pong).toBe('\r\n');
    expect(await udpExchange(port, '\r\n\r\n', 300)).toBeUndefined();
    expect(await udpExchange(port, options('after-ping'))).toMatch(/^SIP\/2\.0 200 OK/);
  });

  it('closes a TCP connection that holds part of a message too long (slow sender), and a message sent in two parts within the limit is answered', async () => {
    await server.stop();
    server = new SipServer({
      host: '127.0.0.1',
      port: 0,
      directory: { lookup: () => undefined },
      log: pino({ level: 'silent' }),
      partialMessageTimeoutMs: 500,
    });
    port = await server.start();
    const slow = connect(port, '127.0.0.1', () => slow.write('OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKslow\r\n'));
    const closed = new Promise<number>((resolve) => {
      const t0 = Date.now();
      slow.on('close', () => resolve(Date.now() - t0));
      slow.on('error', () => undefined);
    });
    expect(await closed).toBeGreaterThanOrEqual(400);
    // Split in two writes within the limit: answered, and the connection stays open.
    const answer = await new Promise<string>((resolve) => {
      const msg = options('split').replace('SIP/2.0/UDP', 'SIP/2.0/TCP');
      const s = connect(port, '127.0.0.1', () => {
        s.write(msg.slice(0, 40));
        setTimeout(() => s.write(msg.slice(40)), 200);
      });
      s.on('data', (d: Buffer) => {
        resolve(d.toString());
        s.destroy();
      });
    });
    expect(answer).toMatch(/^SIP\/2\.0 200 OK/);
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

  it('keeps a call working while a flood of INVITEs from another address is refused with 503 past its per-address limit', async () => {
    await server.stop();
    const directory = new ServiceDirectory();
    directory.load(
      nodeConfigSnapshotSchema.parse({
        version: 'v2',
        generatedAt: new Date().toISOString(),
        node: { id: 1, name: 'node1', systemLocation: 'Oslo' },
        services: [
          { id: 7, name: 'Alice', serviceType: 'conference', pin: '', guestPin: '', allowGuests: false, participantLimit: null, aliases: ['meet.alice'] },
          { id: 8, name: 'Slow', serviceType: 'conference', pin: '', guestPin: '', allowGuests: false, participantLimit: null, aliases: ['slow.room'] },
        ],
      }),
    );
    const seen = answerCalls();
    const answerAlice = holdInvite!;
    // The flood's calls take 3 s to set up, so their transactions pile up.
    const slow = (call: IncomingSipCall) =>
      call.alias === 'slow.room'
        ? new Promise<SipInviteAnswer>((r) => setTimeout(() => r({ status: 480, reason: 'Temporarily Unavailable' }), 3000))
        : answerAlice(call);
    server = new SipServer({ host: '127.0.0.1', port: 0, directory, log: pino({ level: 'silent' }), onServiceInvite: slow });
    port = await server.start();
    const flood = createSocket('udp4');
    const finals = new Map<string, number>();
    flood.on('message', (m) => {
      const status = Number(/^SIP\/2\.0 (\d{3})/.exec(m.toString())?.[1]);
      if (status >= 200) finals.set(/Call-ID: (\S+)/.exec(m.toString())?.[1] ?? '', status);
    });
    // From another address than the call's (all of 127/8 is loopback): at most 100 of its INVITEs are held.
    await new Promise<void>((r) => flood.bind(0, '127.0.0.2', () => r()));
    const own = flood.address().port;
    for (let n = 0; n < 1000; n++) {
      flood.send(
        `INVITE sip:slow.room@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.2:${own};branch=z9hG4bKfl${n}\r\nFrom: <sip:f@x>;tag=${n}\r\nTo: <sip:slow.room@127.0.0.1>\r\nCall-ID: flood-${n}\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n`,
        port,
        '127.0.0.1',
      );
      if (n % 20 === 0) await new Promise((r) => setImmediate(r));
    }
    // Meanwhile a real call is set up, refreshed, sent INFO and hung up, over UDP and TCP.
    expect(await sipp('update-info.xml', port, 'meet.alice', 'u1')).toBe(0);
    expect(await sipp('update-info.xml', port, 'meet.alice', 't1')).toBe(0);
    expect(seen.ended).toHaveLength(2);
    // Datagrams of a burst may be lost on a busy machine: counted are the answers that came back.
    await expect.poll(() => [...finals.values()].filter((s) => s === 503).length, { timeout: 5000 }).toBeGreaterThan(100);
    // The ones it held (no more than 100 from that address) are answered as their calls decide.
    await expect.poll(() => [...finals.values()].filter((s) => s === 480).length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect([...finals.values()].filter((s) => s === 480).length).toBeLessThanOrEqual(100);
    expect(new Set(finals.values())).toEqual(new Set([480, 503]));
    flood.close();
  }, 30_000);

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

  /** Answers the INVITE with 200 and an SDP answer, as a VMR would; the call's INFOs and end are recorded. */
  function answerCalls(): { infos: string[]; ended: string[] } {
    const seen = { infos: [] as string[], ended: [] as string[] };
    const sdp = Buffer.from(
      'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40002 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\n',
    );
    holdInvite = () =>
      Promise.resolve({
        status: 200,
        reason: 'OK',
        body: sdp,
        dialog: {
          ended: (reason) => seen.ended.push(reason),
          reinvite: () => Promise.resolve({ status: 200, reason: 'OK', body: sdp }),
          info: (type, body) => seen.infos.push(`${type}|${body.toString()}`),
        },
      });
    return seen;
  }

  it('answers UPDATE (session refresh) and INFO in a call over UDP and TCP, and lists REGISTER, INFO and UPDATE in Allow', async () => {
    const seen = answerCalls();
    expect(await sipp('update-info.xml', port, 'meet.alice', 'u1')).toBe(0);
    expect(await sipp('update-info.xml', port, 'meet.alice', 't1')).toBe(0);
    expect(seen.infos).toEqual(
      ['application/dtmf-relay|Signal=5\nDuration=160\n', 'application/dtmf-relay|Signal=5\nDuration=160\n'].map((i) => i.replace(/\n/g, '\r\n')),
    );
    expect(seen.ended).toEqual(['Call disconnected', 'Call disconnected']);
    // Outside a call: 481.
    const update = `UPDATE sip:meet.alice@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKu1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:meet.alice@127.0.0.1>;tag=2\r\nCall-ID: none\r\nCSeq: 2 UPDATE\r\nContent-Length: 0\r\n\r\n`;
    expect(await udpExchange(port, update)).toMatch(/^SIP\/2\.0 481 /);
  });

  it("sends its BYE to the caller's Contact, not to the address the INVITE came from", async () => {
    answerCalls();
    const caller = createSocket('udp4');
    const contact = createSocket('udp4');
    const atCaller: string[] = [];
    const atContact: string[] = [];
    caller.on('message', (m) => atCaller.push(m.toString()));
    contact.on('message', (m) => {
      const text = m.toString();
      atContact.push(text);
      if (text.startsWith('BYE ')) {
        const head = text.split('\r\n\r\n')[0]!.split('\r\n');
        const copy = head.filter((l) => /^(Via|From|To|Call-ID|CSeq):/i.test(l));
        contact.send(`SIP/2.0 200 OK\r\n${copy.join('\r\n')}\r\nContent-Length: 0\r\n\r\n`, port, '127.0.0.1');
      }
    });
    await new Promise<void>((r) => caller.bind(0, '127.0.0.1', () => r()));
    await new Promise<void>((r) => contact.bind(0, '127.0.0.1', () => r()));
    const contactPort = contact.address().port;
    const callerPort = caller.address().port;
    caller.send(
      `INVITE sip:meet.alice@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${callerPort};branch=z9hG4bKct\r\nFrom: <sip:phone@127.0.0.1>;tag=c1\r\nTo: <sip:meet.alice@127.0.0.1>\r\nCall-ID: contact-1\r\nCSeq: 1 INVITE\r\nContact: <sip:phone@127.0.0.1:${contactPort}>\r\nContent-Type: application/sdp\r\nContent-Length: 0\r\n\r\n`,
      port,
      '127.0.0.1',
    );
    await expect.poll(() => atCaller.find((a) => a.startsWith('SIP/2.0 200')), { timeout: 3000 }).toBeDefined();
    const toTag = /To: .*;tag=([0-9a-f]+)/.exec(atCaller.find((a) => a.startsWith('SIP/2.0 200'))!)?.[1];
    caller.send(
      `ACK sip:phone@127.0.0.1:${contactPort} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${callerPort};branch=z9hG4bKcta\r\nFrom: <sip:phone@127.0.0.1>;tag=c1\r\nTo: <sip:meet.alice@127.0.0.1>;tag=${toTag}\r\nCall-ID: contact-1\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n`,
      port,
      '127.0.0.1',
    );
    await expect.poll(() => server.calls).toBe(1);
    server.hangUp('contact-1');
    await expect.poll(() => atContact.filter((m) => m.startsWith('BYE ')).length, { timeout: 3000 }).toBe(1);
    expect(atContact[0]).toMatch(new RegExp(`^BYE sip:phone@127\\.0\\.0\\.1:${contactPort} SIP/2\\.0`));
    expect(atContact[0]).toMatch(/From: <sip:meet\.alice@127\.0\.0\.1>;tag=/);
    // Answered: no retransmission reaches either socket (T1 = 500 ms would have sent another).
    await new Promise((r) => setTimeout(r, 1200));
    expect(atContact.filter((m) => m.startsWith('BYE '))).toHaveLength(1);
    expect(atCaller.filter((m) => m.startsWith('BYE '))).toHaveLength(0);
    caller.close();
    contact.close();
  });

  it('serves SIP over TLS with the given certificate, and switches UDP, TCP and TLS on and off', async () => {
    await server.stop();
    const cert = generateSelfSigned({ commonName: 'node1.example.com' });
    const directory = { lookup: () => undefined };
    server = new SipServer({ host: '127.0.0.1', port: 0, tlsPort: 0, directory, log: pino({ level: 'silent' }) });
    port = await server.start();
    expect(server.tlsPort).toBeUndefined(); // no certificate yet
    await server.applyTransports({ udp: true, tcp: true, tls: cert });
    const tlsPort = server.tlsPort!;
    expect(tlsPort).toBeGreaterThan(0);
    const overTls = (payload: string) =>
      new Promise<{ answer: string; certificate: string }>((resolve, reject) => {
        let answer = '';
        const s = connectTls({ host: '127.0.0.1', port: tlsPort, ca: cert.certificate, checkServerIdentity: () => undefined }, () => s.write(payload));
        s.on('data', (d: Buffer) => {
          answer += d.toString();
          if (/\r\n\r\n/.test(answer)) {
            const pem = s.getPeerX509Certificate()?.toString() ?? '';
            s.end();
            resolve({ answer, certificate: pem });
          }
        });
        s.on('error', reject);
      });
    const tlsOptions = options('tls').replace('SIP/2.0/UDP', 'SIP/2.0/TLS');
    const first = await overTls(tlsOptions);
    expect(first.answer).toMatch(/^SIP\/2\.0 200 OK/);
    expect(first.certificate.replace(/\s/g, '')).toBe(cert.certificate.replace(/\s/g, ''));
    // An INVITE over TLS to nothing: 404 over the same connection.
    const invite = `INVITE sip:nobody@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:9;branch=z9hG4bKtls\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:nobody@127.0.0.1>\r\nCall-ID: tls-1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n`;
    const answers = await new Promise<string>((resolve, reject) => {
      let text = '';
      const s = connectTls({ host: '127.0.0.1', port: tlsPort, rejectUnauthorized: false }, () => s.write(invite));
      s.on('data', (d: Buffer) => {
        text += d.toString();
        if (text.includes('SIP/2.0 404')) {
          s.end();
          resolve(text);
        }
      });
      s.on('error', reject);
    });
    expect(answers).toMatch(/^SIP\/2\.0 100 Trying/);
    // A new certificate applies to new connections, on the same port.
    const second = generateSelfSigned({ commonName: 'node1.example.org' });
    await server.applyTransports({ udp: true, tcp: true, tls: second });
    expect(server.tlsPort).toBe(tlsPort);
    expect((await overTls(tlsOptions).catch(() => ({ answer: '', certificate: '' }))).certificate).toBe(''); // not the trusted one any more
    // UDP off (the guide's default), TCP still on.
    await server.applyTransports({ udp: false, tcp: true, tls: second });
    expect(server.listening).toEqual({ udp: false, tcp: true, tls: true });
    expect(await udpExchange(port, options('udp-off'), 500)).toBeUndefined();
    expect(await sipp('options.xml', port, 'x', 't1')).toBe(0);
    // SIP off altogether; then on again on the same port.
    await server.applyTransports({ udp: false, tcp: false, tls: null });
    expect(server.listening).toEqual({ udp: false, tcp: false, tls: false });
    expect(await sipp('options.xml', port, 'x', 't1')).not.toBe(0);
    await server.applyTransports({ udp: true, tcp: true, tls: null });
    expect(await udpExchange(port, options('udp-on'))).toMatch(/^SIP\/2\.0 200 OK/);
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
