import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { SUPPORT_LOG_BATCH, nodeToServerSchema, type NodeToServer } from '../../shared/node-protocol/messages.js';
import { ManualClock } from '../../shared/time/ManualClock.js';
import { SupportLogShipper } from './SupportLogShipper.js';

describe('SupportLogShipper', () => {
  it('sends batches of at most maxEntries once a second, valid for the node protocol, with secrets redacted', async () => {
    const clock = new ManualClock();
    const sent: NodeToServer[] = [];
    const shipper = new SupportLogShipper((m) => (sent.push(m), true), { clock });
    const log = pino({ level: 'info', name: 'node' }, shipper.destination).child({ part: 'client-api' });
    shipper.start();
    log.info({ participant: 'Alice', pin: '13572468' }, 'PIN entry correct.');
    log.debug('below the level: not sent');
    expect(sent).toHaveLength(0);
    await clock.advance(SUPPORT_LOG_BATCH.intervalMs);
    expect(sent).toHaveLength(1);
    const first = nodeToServerSchema.parse(sent[0]);
    expect(first).toMatchObject({ type: 'support_log', dropped: 0 });
    if (first.type !== 'support_log') throw new Error('not a support_log message');
    expect(first.entries).toEqual([
      { time: expect.any(Number), level: 30, module: 'node.client-api', text: 'Message="PIN entry correct." participant="Alice" pin="[redacted]"' },
    ]);

    // A burst goes out in bounded batches, one a second.
    for (let i = 0; i < SUPPORT_LOG_BATCH.maxEntries + 5; i++) log.info(`line ${i}`);
    await clock.advance(SUPPORT_LOG_BATCH.intervalMs);
    await clock.advance(SUPPORT_LOG_BATCH.intervalMs);
    await clock.advance(SUPPORT_LOG_BATCH.intervalMs);
    expect(sent.slice(1).map((m) => (m.type === 'support_log' ? m.entries.length : -1))).toEqual([SUPPORT_LOG_BATCH.maxEntries, 5]);
    shipper.stop();
  });

  it('keeps the newest lines while the link is down and reports how many it dropped', async () => {
    const clock = new ManualClock();
    let up = false;
    const sent: NodeToServer[] = [];
    const shipper = new SupportLogShipper((m) => up && (sent.push(m), true), { clock });
    const log = pino({ level: 'info' }, shipper.destination);
    shipper.start();
    for (let i = 0; i < SUPPORT_LOG_BATCH.maxQueue + 3; i++) log.info(`line ${i}`);
    await clock.advance(SUPPORT_LOG_BATCH.intervalMs * 3);
    expect(sent).toHaveLength(0);
    up = true;
    await clock.advance(SUPPORT_LOG_BATCH.intervalMs);
    const m = sent[0]!;
    if (m.type !== 'support_log') throw new Error('not a support_log message');
    expect(m.dropped).toBe(3);
    expect(m.entries[0]!.text).toBe('Message="line 3"');
    await clock.advance(SUPPORT_LOG_BATCH.intervalMs);
    expect(sent[1]).toMatchObject({ dropped: 0 });
    shipper.stop();
  });
});
