import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { MANAGEMENT_SOURCE, SupportLog } from './SupportLog.js';

const q = (o: object = {}) => ({ offset: 0, limit: 500, ...o });

describe('SupportLog', () => {
  it("keeps the management node's pino lines with secrets redacted, and filters by level (lowest shown), source, search and time", () => {
    const support = new SupportLog({ capacity: 100 });
    const log = pino({ level: 'debug', name: 'management' }, support.destination).child({ part: 'nodes' });
    log.debug('debug line');
    log.info({ node: 'n1', pin: '24681357', password: 'hunter2-secret' }, 'conferencing node connected');
    log.warn('a warning');
    log.error('an error');
    support.acceptNode('n1', [{ time: Date.now(), level: 30, module: 'node.conference', text: 'Message="conference instance started"' }], 0);

    const all = support.list(q()).items;
    expect(all.map((r) => [r.source, r.level])).toEqual([
      ['n1', 'info'],
      [MANAGEMENT_SOURCE, 'error'],
      [MANAGEMENT_SOURCE, 'warning'],
      [MANAGEMENT_SOURCE, 'info'],
      [MANAGEMENT_SOURCE, 'debug'],
    ]);
    const connected = all.find((r) => r.message.includes('connected'))!;
    expect(connected.module).toBe('management.nodes');
    expect(connected.message).toBe('Message="conferencing node connected" node="n1" pin="[redacted]" password="[redacted]"');
    expect(JSON.stringify(all)).not.toContain('24681357');
    expect(JSON.stringify(all)).not.toContain('hunter2');

    expect(support.list(q({ level: 'warning' })).items.map((r) => r.level)).toEqual(['error', 'warning']);
    expect(support.list(q({ level: 'info' })).total).toBe(4);
    expect(support.list(q({ source: 'n1' })).items.map((r) => r.module)).toEqual(['node.conference']);
    expect(support.list(q({ search: 'INSTANCE' })).total).toBe(1);
    expect(support.list(q({ to: '2000-01-01T00:00:00Z' })).total).toBe(0);
    expect(support.sources()).toEqual([MANAGEMENT_SOURCE, 'n1']);
  });

  it('is bounded: the oldest lines go; a node over its rate is cut, and what was dropped is noted', () => {
    let now = 1_000_000;
    const support = new SupportLog({ capacity: 6, perNodePerSecond: 3, now: () => now });
    const line = (i: number) => ({ time: now, level: 30, module: 'node.x', text: `Message="line ${i}"` });
    support.acceptNode('n1', [0, 1, 2, 3, 4].map(line), 7);
    // 3 taken in this second, plus the note of the 7 the node dropped.
    expect(support.list(q()).items.map((r) => r.message)).toEqual([
      'Message="line 2"',
      'Message="line 1"',
      'Message="line 0"',
      'Message="7 support log lines were dropped on the node before they could be sent"',
    ]);
    now += 1_000;
    support.acceptNode('n1', [5, 6, 7, 8, 9, 10, 11].map(line), 0);
    const items = support.list(q()).items;
    // 3 lines and the note of the 2 dropped in the earlier second; 8 lines in all, 6 kept.
    expect(items).toHaveLength(6);
    expect(items[3]!).toMatchObject({ level: 'warning', message: 'Message="2 support log lines from this node were dropped (more than 3 a second)"' });
    expect(items.map((r) => r.message)).not.toContain('Message="line 8"');
    expect(items.map((r) => r.message).slice(0, 3)).toEqual(['Message="line 7"', 'Message="line 6"', 'Message="line 5"']);
    // The ring: the two oldest (the first note and line 0) are gone.
    expect(items.at(-1)!.message).toBe('Message="line 1"');
  });

  it('keeps at most maxChars characters: long lines push the oldest out before the line count is reached', () => {
    const support = new SupportLog({ capacity: 100, maxChars: 1_000 });
    const line = (i: number) => ({ time: i, level: 30, module: 'node.x', text: `Message="${String(i).padStart(294, '.')}"` });
    support.acceptNode('n1', [1, 2, 3, 4, 5].map(line), 0);
    // Each line is 300 + 6 characters: three fit in 1,000.
    expect(support.list(q()).items.map((r) => r.time)).toEqual([5, 4, 3]);
  });
});
