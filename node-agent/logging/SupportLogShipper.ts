import type { DestinationStream } from 'pino';
import { SUPPORT_LOG_BATCH, type NodeToServer, type SupportLogEntry } from '../../shared/node-protocol/messages.js';
import { systemClock, type Clock, type ClockTimer } from '../../shared/time/Clock.js';
import { parsePinoLine } from './rfc5424.js';

/**
 * Sends the node's support log to the management server, which keeps it for the console (guide: the
 * Management Node collects the support log of every Conferencing Node).
 *
 * `write` only parses (with the secrets redacted, as for syslog) and queues; a timer sends what is
 * queued at most once every `SUPPORT_LOG_BATCH.intervalMs`, at most `maxEntries` a batch, so a node
 * logging in a loop cannot flood the link. While the server is unreachable the queue keeps the
 * newest `maxQueue` lines; older ones are dropped and their number is reported with the next batch.
 */
export class SupportLogShipper {
  private queue: SupportLogEntry[] = [];
  private dropped = 0;
  private timer: ClockTimer | null = null;
  private readonly clock: Clock;

  constructor(
    /** Sends a message if the link is up; false when it is not (the lines stay queued). */
    private readonly send: (msg: NodeToServer) => boolean,
    opts: { clock?: Clock } = {},
  ) {
    this.clock = opts.clock ?? systemClock;
  }

  readonly destination: DestinationStream = {
    write: (line: string) => {
      const parsed = parsePinoLine(line);
      if (!parsed) return;
      // The level and module are their own fields here; the text keeps the details after them.
      const at = parsed.text.indexOf('Message=');
      const text = (at >= 0 ? parsed.text.slice(at) : parsed.text).slice(0, SUPPORT_LOG_BATCH.maxTextLength);
      this.queue.push({ time: Math.max(0, Math.trunc(parsed.time)), level: parsed.level, module: parsed.module.slice(0, 100), text });
      if (this.queue.length > SUPPORT_LOG_BATCH.maxQueue) {
        const over = this.queue.length - SUPPORT_LOG_BATCH.maxQueue;
        this.queue.splice(0, over);
        this.dropped += over;
      }
    },
  };

  start(): void {
    if (this.timer) return;
    this.timer = this.clock.setInterval(() => this.flush(), SUPPORT_LOG_BATCH.intervalMs);
    this.timer.unref();
  }

  /** Sends one batch of what is queued, if the link is up. */
  flush(): void {
    if (this.queue.length === 0 && this.dropped === 0) return;
    const entries = this.queue.slice(0, SUPPORT_LOG_BATCH.maxEntries);
    if (!this.send({ type: 'support_log', entries, dropped: this.dropped })) return;
    this.queue.splice(0, entries.length);
    this.dropped = 0;
  }

  stop(): void {
    if (this.timer) this.clock.clearInterval(this.timer);
    this.timer = null;
  }
}
