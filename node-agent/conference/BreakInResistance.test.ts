import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import {
  BLOCK_MS,
  BlockList,
  BreakInResistance,
  DEFAULT_POLICY,
  MSG_QUARANTINED,
  MSG_QUARANTINE_REJECT,
  MSG_SERVICE_BLOCKED,
  pyAliasList,
  SlidingCounter,
  WINDOW_MS,
  type JoinAttempt,
} from './BreakInResistance.js';

/** A real pino logger whose records are kept (parsed) for the test. */
function capture() {
  const records: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line) records.push(JSON.parse(line));
      cb();
    },
  });
  return { log: pino({ level: 'info' }, stream), records };
}

function setup(policy: Partial<typeof DEFAULT_POLICY> = {}, maxEntries?: number) {
  let t = 1_000_000;
  const clock = { now: () => t, advance: (ms: number) => (t += ms) };
  const { log, records } = capture();
  const b = new BreakInResistance(log, { clock, maxEntries });
  b.configure({ ...DEFAULT_POLICY, maxPinFailuresPerWindow: 5, maxScanAttemptsPerWindow: 5, ...policy });
  const flush = () => new Promise((r) => setImmediate(r));
  return { b, clock, records, flush };
}

const vmr = { id: 7, name: "Alice's VMR" };
const attempt = (over: Partial<JoinAttempt> = {}): JoinAttempt => ({
  alias: 'alice',
  participant: 'Mallory',
  protocol: 'api',
  remoteAddress: '10.44.21.35',
  ...over,
});

describe('SlidingCounter', () => {
  it('counts only failures inside the window ending now', () => {
    const c = new SlidingCounter<string>(WINDOW_MS, 10);
    expect(c.add('a', 0, 5)).toBe(1);
    expect(c.add('a', 60_000, 5)).toBe(2);
    expect(c.add('a', WINDOW_MS - 1, 5)).toBe(3);
    // The failure at 0 is exactly WINDOW_MS old: it has left the window.
    expect(c.add('a', WINDOW_MS, 5)).toBe(3);
    expect(c.count('a', WINDOW_MS + 60_000)).toBe(2);
    expect(c.count('a', 2 * WINDOW_MS)).toBe(0);
  });

  it('keeps at most limit + 1 timestamps per key and at most maxEntries keys, pruning expired keys first', () => {
    const c = new SlidingCounter<string>(WINDOW_MS, 3);
    for (let i = 0; i < 1000; i++) expect(c.add('a', i, 5)).toBe(Math.min(i + 1, 6));
    c.add('b', 2000, 5);
    c.add('c', 2001, 5);
    c.add('d', 2002, 5); // full: the least recently failed key ('a') goes
    expect(c.size).toBe(3);
    expect(c.count('a', 2003)).toBe(0);
    expect(c.count('b', 2003)).toBe(1);
    // Much later, a new key prunes every expired one.
    c.add('e', 2002 + WINDOW_MS + 1, 5);
    expect(c.size).toBe(1);
  });
});

describe('BlockList', () => {
  it('reports the time left, forgets expired blocks and holds at most maxEntries', () => {
    const l = new BlockList<string>(2);
    l.block('x', 1000, 0);
    expect(l.remaining('x', 400)).toBe(600);
    expect(l.remaining('x', 1000)).toBe(0);
    expect(l.size).toBe(0);
    l.block('a', 5000, 0);
    l.block('b', 5001, 1);
    l.block('c', 5002, 2);
    expect(l.size).toBe(2);
    expect(l.remaining('a', 3)).toBe(0);
    expect(l.remaining('c', 3)).toBe(4999);
  });
});

describe('BreakInResistance: PIN brute force', () => {
  it('blocks the service on the failure that makes the count more than the threshold, for 10 minutes', async () => {
    const { b, clock, records, flush } = setup();
    for (let i = 0; i < 5; i++) {
      expect(b.rejectBlockedService(vmr, attempt())).toBe(false);
      b.pinFailure(vmr, attempt());
      clock.advance(1000);
    }
    // Exactly the threshold: not blocked yet.
    expect(b.rejectBlockedService(vmr, attempt())).toBe(false);
    await flush();
    expect(records.filter((r) => r.msg === MSG_SERVICE_BLOCKED)).toHaveLength(0);
    b.pinFailure(vmr, attempt()); // the 6th: more than 5
    await flush();
    expect(records.at(-1)).toMatchObject({
      level: 30,
      msg: MSG_SERVICE_BLOCKED,
      ConferenceAlias: 'alice',
      Service: "Alice's VMR",
      Participant: 'Mallory',
      Protocol: 'API',
      Direction: 'in',
      'Remote-address': '10.44.21.35',
      Reason: 'Service appears to be under PIN break-in attack',
      remaining_block_duration_seconds: '600',
    });
    clock.advance(75_000);
    expect(b.rejectBlockedService(vmr, attempt({ alias: 'meet.alice', participant: 'Alice', remoteAddress: '10.0.0.9' }))).toBe(true);
    await flush();
    expect(records.at(-1)).toMatchObject({
      msg: MSG_SERVICE_BLOCKED,
      ConferenceAlias: 'meet.alice',
      Participant: 'Alice',
      'Remote-address': '10.0.0.9',
      remaining_block_duration_seconds: '525',
    });
    // Another service is not affected.
    expect(b.rejectBlockedService({ id: 8, name: 'Bob' }, attempt())).toBe(false);
    clock.advance(BLOCK_MS - 75_000 - 1);
    expect(b.rejectBlockedService(vmr, attempt())).toBe(true);
    clock.advance(1);
    expect(b.rejectBlockedService(vmr, attempt())).toBe(false);
    // The count starts again from zero after the block.
    b.pinFailure(vmr, attempt());
    expect(b.rejectBlockedService(vmr, attempt())).toBe(false);
  });

  it('slides: failures spread over more than 10 minutes never block', () => {
    const { b, clock } = setup();
    for (let i = 0; i < 50; i++) {
      b.pinFailure(vmr, attempt());
      clock.advance(WINDOW_MS / 5); // at most 5 in any 10-minute window
    }
    expect(b.serviceBlockRemaining(vmr)).toBe(0);
    // One more inside the window of the last five does.
    clock.advance(-WINDOW_MS / 5 + 1);
    b.pinFailure(vmr, attempt());
    expect(b.serviceBlockRemaining(vmr)).toBe(BLOCK_MS);
  });

  it('does nothing while switched off, and switching off lifts an existing block at once', () => {
    const { b } = setup({ pinBruteForceResistance: false });
    for (let i = 0; i < 10; i++) b.pinFailure(vmr, attempt());
    expect(b.rejectBlockedService(vmr, attempt())).toBe(false);
    b.configure({ ...b.current, pinBruteForceResistance: true });
    for (let i = 0; i < 6; i++) b.pinFailure(vmr, attempt());
    expect(b.rejectBlockedService(vmr, attempt())).toBe(true);
    b.configure({ ...b.current, pinBruteForceResistance: false });
    expect(b.rejectBlockedService(vmr, attempt())).toBe(false);
    // On again: the old block is gone, not resumed.
    b.configure({ ...b.current, pinBruteForceResistance: true });
    expect(b.rejectBlockedService(vmr, attempt())).toBe(false);
    expect(b.stats()).toMatchObject({ pinCounters: 0, blockedServices: 0 });
  });

  it('follows a changed threshold', () => {
    const { b } = setup();
    b.configure({ ...b.current, maxPinFailuresPerWindow: 20 });
    for (let i = 0; i < 20; i++) b.pinFailure(vmr, attempt());
    expect(b.serviceBlockRemaining(vmr)).toBe(0);
    b.pinFailure(vmr, attempt());
    expect(b.serviceBlockRemaining(vmr)).toBe(BLOCK_MS);
  });
});

describe('BreakInResistance: VOIP scanner', () => {
  it('quarantines an address after more than the threshold of unknown aliases, and rejects its later attempts', async () => {
    const { b, clock, records, flush } = setup();
    for (let i = 0; i < 5; i++) b.unknownAlias(attempt({ alias: `guess${i}` }));
    expect(b.rejectQuarantined(attempt())).toBe(false);
    b.unknownAlias(attempt({ alias: 'guess5' }));
    await flush();
    expect(records.at(-1)).toEqual(
      expect.objectContaining({
        level: 30,
        msg: MSG_QUARANTINED,
        Participant: 'Mallory',
        Protocol: 'API',
        Direction: 'in',
        'Remote-address': '10.44.21.35',
        Reason: 'Too many attempts to join non-existent aliases',
        remaining_block_duration_seconds: '600',
      }),
    );
    clock.advance(81_000);
    expect(b.rejectQuarantined(attempt({ alias: 'alice' }))).toBe(true);
    await flush();
    expect(records.at(-1)).toEqual(
      expect.objectContaining({
        msg: MSG_QUARANTINE_REJECT,
        Protocol: 'API',
        Direction: 'in',
        'Local-alias': "[u'alice']",
        'Remote-address': '10.44.21.35',
        Reason: 'Suspicious join attempt rejected',
        remaining_block_duration_seconds: '519',
      }),
    );
    // Other addresses are not affected; the quarantine ends after 10 minutes.
    expect(b.rejectQuarantined(attempt({ remoteAddress: '10.0.0.1' }))).toBe(false);
    clock.advance(BLOCK_MS - 81_000);
    expect(b.rejectQuarantined(attempt())).toBe(false);
  });

  it('counts per address, in a sliding window', () => {
    const { b, clock } = setup();
    for (let i = 0; i < 5; i++) b.unknownAlias(attempt({ remoteAddress: '10.0.0.1' }));
    for (let i = 0; i < 5; i++) b.unknownAlias(attempt({ remoteAddress: '10.0.0.2' }));
    expect(b.rejectQuarantined(attempt({ remoteAddress: '10.0.0.1' }))).toBe(false);
    clock.advance(WINDOW_MS);
    b.unknownAlias(attempt({ remoteAddress: '10.0.0.1' }));
    expect(b.rejectQuarantined(attempt({ remoteAddress: '10.0.0.1' }))).toBe(false);
  });

  it('stays bounded in memory under a scan from many addresses', () => {
    const { b, clock } = setup({}, 100);
    for (let i = 0; i < 20_000; i++) {
      const remoteAddress = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      for (let k = 0; k < 6; k++) b.unknownAlias(attempt({ remoteAddress }));
      b.pinFailure({ id: i, name: `s${i}` }, attempt({ remoteAddress }));
      clock.advance(1);
    }
    const s = b.stats();
    expect(s.scanCounters).toBeLessThanOrEqual(100);
    expect(s.quarantined).toBe(100);
    expect(s.pinCounters).toBeLessThanOrEqual(100);
    // The most recent quarantines are the ones kept.
    expect(b.rejectQuarantined(attempt({ remoteAddress: '10.0.78.31' }))).toBe(true); // i = 19999
  });

  it('switching off stops enforcement at once', () => {
    const { b } = setup();
    for (let i = 0; i < 6; i++) b.unknownAlias(attempt());
    expect(b.rejectQuarantined(attempt())).toBe(true);
    b.configure({ ...b.current, voipScannerResistance: false });
    expect(b.rejectQuarantined(attempt())).toBe(false);
    for (let i = 0; i < 10; i++) b.unknownAlias(attempt());
    b.configure({ ...b.current, voipScannerResistance: true });
    expect(b.rejectQuarantined(attempt())).toBe(false);
  });
});

describe('BreakInResistance: blocks an administrator sees and lifts', () => {
  it('lists blocked services and quarantined addresses with their times, and announces each change', () => {
    const { b, clock } = setup();
    let announced = 0;
    b.on('blocks', () => announced++);
    const start = clock.now();
    for (let i = 0; i < 6; i++) b.pinFailure(vmr, attempt());
    clock.advance(30_000);
    for (let i = 0; i < 6; i++) b.unknownAlias(attempt({ remoteAddress: '203.0.113.7' }));
    expect(announced).toBe(2);
    expect(b.blocks()).toEqual([
      { kind: 'service', key: '7', label: "Alice's VMR", since: new Date(start).toISOString(), until: new Date(start + BLOCK_MS).toISOString() },
      {
        kind: 'address',
        key: '203.0.113.7',
        label: '203.0.113.7',
        since: new Date(start + 30_000).toISOString(),
        until: new Date(start + 30_000 + BLOCK_MS).toISOString(),
      },
    ]);
    // One that ran out is no longer listed.
    clock.advance(BLOCK_MS - 30_000);
    expect(b.blocks().map((x) => x.kind)).toEqual(['address']);
  });

  it('lifting lets the service and the address in at once, with their counts started afresh', async () => {
    const { b, records, flush } = setup();
    for (let i = 0; i < 6; i++) b.pinFailure(vmr, attempt());
    for (let i = 0; i < 6; i++) b.unknownAlias(attempt());
    expect(b.rejectBlockedService(vmr, attempt())).toBe(true);
    expect(b.rejectQuarantined(attempt())).toBe(true);
    let announced = 0;
    b.on('blocks', () => announced++);

    expect(b.lift('service', '7')).toBe(true);
    expect(b.rejectBlockedService(vmr, attempt())).toBe(false);
    expect(b.lift('address', '10.44.21.35')).toBe(true);
    expect(b.rejectQuarantined(attempt())).toBe(false);
    expect(b.blocks()).toEqual([]);
    expect(announced).toBe(2);
    await flush();
    expect(records.at(-1)).toEqual(
      expect.objectContaining({ msg: 'Break-in prevention block lifted by an administrator.', Type: 'address', Key: '10.44.21.35' }),
    );
    // Nothing to lift: false, and no announcement.
    expect(b.lift('address', '10.44.21.35')).toBe(false);
    expect(b.lift('service', 'not-a-number')).toBe(false);
    expect(announced).toBe(2);
    // Counts start from zero: five more failures do not block again.
    for (let i = 0; i < 5; i++) b.pinFailure(vmr, attempt());
    expect(b.rejectBlockedService(vmr, attempt())).toBe(false);
  });
});

describe('pyAliasList', () => {
  it("renders the guide's Python list repr", () => {
    expect(pyAliasList('alice')).toBe("[u'alice']");
    expect(pyAliasList("o'neil")).toBe(`[u"o'neil"]`);
  });
});
