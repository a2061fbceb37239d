import type { DestinationStream } from 'pino';
import { parsePinoLine } from '../../node-agent/logging/rfc5424.js';
import { SUPPORT_LOG_BATCH, type SupportLogEntry } from '../../shared/node-protocol/messages.js';
import { SUPPORT_LOG_LEVELS, supportLogTime, type SupportLogLevel, type SupportLogQuery, type SupportLogRow } from '../../shared/admin/supportLog.schema.js';

/** The source of the management node's own lines. */
export const MANAGEMENT_SOURCE = 'Management Node';

export interface SupportLogOptions {
  /** Lines kept; default 50,000. */
  capacity?: number;
  /** Message characters kept (about 2 bytes each in memory); default 8 M, i.e. ~16 MB. */
  maxChars?: number;
  /** Lines taken per node per second; more are dropped (and counted). Default twice a node's batch. */
  perNodePerSecond?: number;
  now?: () => number;
}

/**
 * The support log (guide: Status > Support log): the management node's own lines and every
 * conferencing node's, newest kept.
 *
 * Kept in memory, in a ring of `capacity` lines and `maxChars` characters, rather than in a table: a busy platform logs many
 * lines a second, and writing each to the database would cost more than the calls it describes; the
 * support log is for looking at what just happened, and what must outlive a restart goes to the
 * remote syslog servers (System > Syslog servers), as the guide recommends for long-term keeping.
 */
export class SupportLog {
  private readonly ring: (SupportLogRow | undefined)[];
  /** Where the next line goes, and the oldest line kept. */
  private next = 0;
  private oldest = 0;
  private count = 0;
  /** Characters of the messages kept: long lines use the budget up before the line count does. */
  private chars = 0;
  private seq = 0;
  /** Per node: the start of the current second and the lines taken in it (a node that floods is cut). */
  private readonly rate = new Map<string, { second: number; taken: number; dropped: number }>();

  readonly capacity: number;
  private readonly maxChars: number;
  private readonly perNodePerSecond: number;
  private readonly now: () => number;

  constructor(opts: SupportLogOptions = {}) {
    this.capacity = opts.capacity ?? 50_000;
    this.maxChars = opts.maxChars ?? 8_000_000;
    this.perNodePerSecond = opts.perNodePerSecond ?? SUPPORT_LOG_BATCH.maxEntries * 2;
    this.now = opts.now ?? Date.now;
    this.ring = new Array<SupportLogRow | undefined>(this.capacity);
  }

  /** Where the management node's logger writes (pino JSON lines; secrets redacted as for syslog). */
  readonly destination: DestinationStream = {
    write: (line: string) => {
      const parsed = parsePinoLine(line, 'management');
      if (!parsed) return;
      const at = parsed.text.indexOf('Message=');
      this.add(MANAGEMENT_SOURCE, { time: parsed.time, level: parsed.level, module: parsed.module, text: at >= 0 ? parsed.text.slice(at) : parsed.text });
    },
  };

  /** A batch of a conferencing node's lines (already checked against the node protocol). */
  acceptNode(node: string, entries: readonly SupportLogEntry[], dropped: number): void {
    const second = Math.floor(this.now() / 1000);
    let r = this.rate.get(node);
    if (!r || r.second !== second) {
      if (r && r.dropped > 0) this.note(node, `${r.dropped} support log lines from this node were dropped (more than ${this.perNodePerSecond} a second)`);
      r = { second, taken: 0, dropped: 0 };
      this.rate.set(node, r);
    }
    if (dropped > 0) this.note(node, `${dropped} support log lines were dropped on the node before they could be sent`);
    for (const e of entries) {
      if (r.taken >= this.perNodePerSecond) {
        r.dropped++;
        continue;
      }
      r.taken++;
      this.add(node, e);
    }
  }

  private note(source: string, message: string): void {
    this.add(source, { time: this.now(), level: 40, module: 'management.support-log', text: `Message="${message}"` });
  }

  private add(source: string, e: SupportLogEntry): void {
    const row = { seq: ++this.seq, time: e.time, level: levelOf(e.level), source, module: e.module, message: e.text };
    const size = row.message.length + row.module.length;
    while (this.count > 0 && (this.count === this.capacity || this.chars + size > this.maxChars)) {
      const gone = this.ring[this.oldest]!;
      this.chars -= gone.message.length + gone.module.length;
      this.ring[this.oldest] = undefined;
      this.oldest = (this.oldest + 1) % this.capacity;
      this.count--;
    }
    this.ring[this.next] = row;
    this.next = (this.next + 1) % this.capacity;
    this.count++;
    this.chars += size;
  }

  /** The sources that have lines, the management node first. */
  sources(): string[] {
    const names = new Set<string>();
    for (const row of this.ring) if (row && row.source !== MANAGEMENT_SOURCE) names.add(row.source);
    return [MANAGEMENT_SOURCE, ...[...names].sort()];
  }

  /** Every line kept from `source` between `from` and `to` (ms, inclusive), oldest first: for the diagnostic snapshot. */
  window(source: string, from: number, to: number): SupportLogRow[] {
    const rows: SupportLogRow[] = [];
    for (let i = this.count; i >= 1; i--) {
      const row = this.ring[(this.next - i + this.capacity) % this.capacity];
      if (row && row.source === source && row.time >= from && row.time <= to) rows.push(row);
    }
    return rows;
  }

  /** Newest first; `level` is the lowest level shown. */
  list(q: SupportLogQuery): { items: SupportLogRow[]; total: number } {
    const min = SUPPORT_LOG_LEVELS.indexOf(q.level ?? 'debug');
    const search = q.search?.trim().toLowerCase() ?? '';
    const from = q.from ? Date.parse(q.from) : -Infinity;
    const to = q.to ? Date.parse(q.to) : Infinity;
    const matches: SupportLogRow[] = [];
    for (let i = 1; i <= this.count; i++) {
      const row = this.ring[(this.next - i + this.capacity) % this.capacity];
      if (!row) break;
      if (SUPPORT_LOG_LEVELS.indexOf(row.level) < min) continue;
      if (q.source && row.source !== q.source) continue;
      if (row.time < from || row.time > to) continue;
      if (search && !`${row.module} ${row.message}`.toLowerCase().includes(search)) continue;
      matches.push(row);
    }
    return { items: matches.slice(q.offset, q.offset + q.limit), total: matches.length };
  }
}

/**
 * A row as the guide prints support log lines (`2015-06-05T11:15:00.550+00:00 mgmt 2015-06-05 11:15:00,550 Level="INFO" Name="support.ldap" Message="…"`).
 * Host names with spaces ("Management Node") keep them out of the host field.
 */
export function supportLogLine(row: SupportLogRow): string {
  const iso = supportLogTime(row.time);
  const local = `${iso.slice(0, 10)} ${iso.slice(11, 19)},${iso.slice(20, 23)}`;
  return `${iso} ${row.source.replace(/\s+/g, '-')} ${local} Level="${row.level.toUpperCase()}" Name="${row.module}" ${row.message}`;
}

/** pino's level → the guide's levels (its CRITICAL counts as an error here). */
function levelOf(level: number): SupportLogLevel {
  if (level >= 50) return 'error';
  if (level >= 40) return 'warning';
  if (level >= 30) return 'info';
  return 'debug';
}
