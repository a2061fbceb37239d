import { Counter, type Registry } from 'prom-client';
import type { types } from 'mediasoup';

/**
 * `openmeet_node_media_bytes_total{direction}`: bytes the node received from participants (rx) and
 * sent to them (tx: what it forwards and mixes), from mediasoup's transport counters. Read at each
 * scrape; a transport that closes keeps what was read at the last scrape (at most one interval lost).
 */
export function observeMediaBytes(register: Registry, transports: ReadonlySet<types.Transport>): void {
  const lastSeen = new WeakMap<types.Transport, { rx: number; tx: number }>();
  new Counter({
    name: 'openmeet_node_media_bytes_total',
    help: 'Media bytes received from participants (rx) and sent to them (tx), across their transports.',
    labelNames: ['direction'],
    registers: [register],
    async collect() {
      const add = { rx: 0, tx: 0 };
      await Promise.all(
        [...transports].map(async (t) => {
          const stats = (await t.getStats().catch(() => [])) as { bytesReceived?: number; bytesSent?: number }[];
          const now = { rx: 0, tx: 0 };
          for (const s of stats) {
            now.rx += s.bytesReceived ?? 0;
            now.tx += s.bytesSent ?? 0;
          }
          const before = lastSeen.get(t) ?? { rx: 0, tx: 0 };
          add.rx += Math.max(0, now.rx - before.rx);
          add.tx += Math.max(0, now.tx - before.tx);
          lastSeen.set(t, { rx: Math.max(now.rx, before.rx), tx: Math.max(now.tx, before.tx) });
        }),
      );
      this.inc({ direction: 'rx' }, add.rx);
      this.inc({ direction: 'tx' }, add.tx);
    },
  });
}
