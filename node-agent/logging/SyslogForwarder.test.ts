import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { generateSelfSigned } from '../../server/certificate/pem.js';
import type { SyslogServerConfig } from '../../shared/node-protocol/messages.js';
import { ManualClock } from '../../shared/time/ManualClock.js';
import { SyslogForwarder } from './SyslogForwarder.js';
import { RFC5424, streamReceiver, udpReceiver, until, type Receiver } from '../testing/syslogReceivers.js';

/** The forwarder against real UDP, TCP and TLS receivers on 127.0.0.1. */
const server = (transport: SyslogServerConfig['transport'], port: number, extra: Partial<SyslogServerConfig> = {}): SyslogServerConfig => ({
  address: '127.0.0.1',
  port,
  transport,
  supportLog: true,
  auditLog: false,
  webLog: false,
  ...extra,
});

/** Closed after each test: forwarders and receivers. */
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});
const forwarder = (opts: Partial<ConstructorParameters<typeof SyslogForwarder>[0]> = {}) => {
  const f = new SyslogForwarder({ hostname: 'node-a', procId: '77', backoffMs: { initial: 50, max: 200 }, ...opts });
  cleanup.push(() => f.close());
  // A real pino logger writing into the forwarder, as on the node.
  const log = pino({ level: 'trace', base: null }, f.destination).child({ name: 'node', node: 'node-a' });
  return { f, log };
};
const receiver = async <R extends Receiver>(r: Promise<R>): Promise<R> => {
  const got = await r;
  cleanup.push(() => got.close().catch(() => {}));
  return got;
};

describe('SyslogForwarder over UDP', () => {
  it('sends each record at info and above as one RFC 5424 datagram, facility local2, over UDP', async () => {
    const udp = await receiver(udpReceiver());
    const { f, log } = forwarder();
    f.apply([server('udp', udp.port)]);
    log.child({ part: 'conference' }).info({ conference: 'Alpha' }, 'conference instance started');
    log.debug('not forwarded');
    log.child({ part: 'client-api' }).error({ err: new Error('boom') }, 'it broke');
    await until(
      () => udp.messages.length,
      (n) => n === 2,
    );
    const [first, second] = udp.messages.map((m) => RFC5424.exec(m));
    expect(first).not.toBeNull();
    expect(first![1]).toBe('150'); // local2 (18) × 8 + info (6)
    expect(Math.abs(Date.parse(first![2]!) - Date.now())).toBeLessThan(5_000);
    expect(first![2]).toMatch(/Z$/);
    expect(first!.slice(3, 7)).toEqual(['node-a', 'openmeet-node', '77', 'conference']);
    expect(first![7]).toBe('INFO node.conference Message="conference instance started" conference="Alpha"');
    expect(second![1]).toBe(String(18 * 8 + 3)); // error
    expect(second![7]).toContain('ERROR node.client-api Message="it broke" err=');
    expect(second![7]).not.toContain('\n');
    // Logged between the two (one socket, loopback: in order), it would have arrived before the second.
    expect(udp.messages.join('')).not.toContain('not forwarded');
    expect(f.stats()).toEqual([expect.objectContaining({ key: 'udp://127.0.0.1:' + udp.port, sent: 2, dropped: 0 })]);
  });

  it('cuts long UDP messages to 2048 octets (RFC 5426)', async () => {
    const udp = await receiver(udpReceiver());
    const { f, log } = forwarder();
    f.apply([server('udp', udp.port)]);
    log.info({ blob: 'é'.repeat(5_000) }, 'long');
    await until(
      () => udp.messages.length,
      (n) => n === 1,
    );
    expect(udp.datagramSizes[0]).toBeLessThanOrEqual(2048);
    expect(udp.datagramSizes[0]).toBeGreaterThan(2000);
    expect(RFC5424.test(udp.messages[0]!)).toBe(true);
    expect(udp.messages[0]).not.toContain('\uFFFD');
  });
});

describe('SyslogForwarder over TCP and TLS', () => {
  it('sends octet-counted messages in order over TCP', async () => {
    const tcp = await receiver(streamReceiver());
    const { f, log } = forwarder();
    f.apply([server('tcp', tcp.port)]);
    for (let i = 0; i < 50; i++) log.info({ i }, `message ${i}`);
    await until(
      () => tcp.messages.length,
      (n) => n === 50,
    );
    expect(tcp.errors).toEqual([]);
    expect(tcp.messages.map((m) => /Message="message (\d+)"/.exec(m)?.[1])).toEqual(Array.from({ length: 50 }, (_, i) => String(i)));
    for (const m of tcp.messages) expect(m).toMatch(RFC5424);
    expect(tcp.connections()).toBe(1);
  });

  it('sends over TLS to a trusted server, and nothing to a server whose certificate is not trusted', async () => {
    const { certificate, privateKey } = generateSelfSigned({ commonName: 'syslog.test', subjectAltNames: ['127.0.0.1'] });
    const tlsServer = await receiver(streamReceiver({ tlsOptions: { cert: certificate, key: privateKey } }));

    const trusted = forwarder({ tlsCa: certificate });
    trusted.f.apply([server('tls', tlsServer.port)]);
    trusted.log.info('over tls');
    await until(
      () => tlsServer.messages.length,
      (n) => n === 1,
    );
    expect(tlsServer.messages[0]).toMatch(RFC5424);
    expect(tlsServer.messages[0]).toContain('Message="over tls"');

    // Refused, and refused again on each retry as its backoff (on a clock the test moves) runs out.
    const clock = new ManualClock();
    const untrusted = forwarder({ clock });
    untrusted.f.apply([server('tls', tlsServer.port)]);
    untrusted.log.info('must not arrive');
    await clock.advanceUntil(() => untrusted.f.stats()[0]!.errors >= 3, { stepMs: 50, maxMs: 5_000 });
    expect(untrusted.f.stats()[0]).toMatchObject({ connected: false, queued: 1 });
    expect(tlsServer.raw()).not.toContain('must not arrive');
  });
});

describe('SyslogForwarder while a TCP server is down', () => {
  it('queues (bounded, counting drops) while a TCP server is down and reconnects with backoff', async () => {
    const probe = await streamReceiver();
    const port = probe.port;
    await probe.close();
    const warnings: string[] = [];
    // Real sockets; the backoff between attempts runs on a clock the test moves.
    const clock = new ManualClock();
    const { f, log } = forwarder({
      maxQueue: 5,
      backoffMs: { initial: 500, max: 2_000 },
      clock,
      log: pino({ level: 'info' }, { write: (l: string) => void warnings.push(l) }),
    });
    f.apply([server('tcp', port)]);
    for (let i = 0; i < 20; i++) log.info(`queued ${i}`);
    // Writing while the server is down returns at once: nothing waits on the network.
    const t0 = performance.now();
    for (let i = 20; i < 1_000; i++) log.info(`queued ${i}`);
    expect(performance.now() - t0).toBeLessThan(1_000);
    const errors = () => f.stats()[0]!.errors;
    await until(errors, (e) => e === 1);
    // It keeps trying, each wait twice the one before (500, 1000, 2000 ms), up to the cap.
    for (const wait of [500, 1_000, 2_000, 2_000]) {
      const before = errors();
      await clock.run(wait - 50, { stepMs: wait - 50, ioMs: 30 });
      expect(errors()).toBe(before);
      await clock.advance(50);
      await until(errors, (e) => e === before + 1);
    }
    expect(f.stats()[0]).toMatchObject({ connected: false, queued: 5, dropped: 995 });
    // One warning for the outage, not one per attempt.
    expect(warnings.filter((w) => w.includes('syslog server inaccessible'))).toHaveLength(1);

    const tcp = await receiver(streamReceiver({ port }));
    await clock.advanceUntil(() => tcp.messages.length === 5, { stepMs: 500, maxMs: 2_000 });
    expect(tcp.messages.map((m) => /Message="queued (\d+)"/.exec(m)?.[1])).toEqual(['995', '996', '997', '998', '999']);
    await until(
      () => warnings.some((w) => w.includes('syslog server reachable again')),
      (ok) => ok,
    );

    // Dropped connection: reconnects (the backoff starts again from its first step) and carries on.
    await tcp.close();
    await until(
      () => f.stats()[0]!.connected,
      (c) => !c,
    );
    log.info('after the drop');
    const back = await receiver(streamReceiver({ port }));
    await clock.run(450, { stepMs: 450, ioMs: 30 });
    expect(back.connections()).toBe(0);
    await clock.advance(50);
    await until(
      () => back.messages.some((m) => m.includes('after the drop')),
      (ok) => ok,
    );
  });
});

describe('SyslogForwarder following its configuration', () => {
  it('follows configuration changes: added, removed, log selection changed; audit-only servers get nothing', async () => {
    const a = await receiver(udpReceiver());
    const b = await receiver(streamReceiver());
    const auditOnly = await receiver(streamReceiver());
    const { f, log } = forwarder();
    f.apply([server('udp', a.port), server('tcp', auditOnly.port, { supportLog: false, auditLog: true, webLog: true })]);
    log.info('one');
    await until(
      () => a.messages.length,
      (n) => n === 1,
    );

    f.apply([server('udp', a.port), server('tcp', b.port)]);
    log.info('two');
    await until(
      () => b.messages.length,
      (n) => n === 1,
    );
    await until(
      () => a.messages.length,
      (n) => n === 2,
    );

    f.apply([server('udp', a.port, { supportLog: false }), server('tcp', b.port)]);
    log.info('three');
    await until(
      () => b.messages.length,
      (n) => n === 2,
    );
    f.apply([]);
    log.info('four');
    await new Promise((r) => setTimeout(r, 150));
    expect(a.messages.map((m) => /Message="(\w+)"/.exec(m)?.[1])).toEqual(['one', 'two']);
    expect(b.messages.map((m) => /Message="(\w+)"/.exec(m)?.[1])).toEqual(['two', 'three']);
    expect(auditOnly.connections()).toBe(0);
    expect(f.stats()).toEqual([]);
  });

  it('never throws from write, whatever it is given', () => {
    const { f } = forwarder();
    f.apply([server('udp', 9), server('tcp', 9)]);
    expect(() => f.write('not json')).not.toThrow();
    expect(() => f.write('{"level":30,"msg":{"toString":1}}')).not.toThrow();
    expect(() => f.write('')).not.toThrow();
  });
});
