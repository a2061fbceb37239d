import { EventEmitter } from 'node:events';
import { and, eq, isNull, sql } from 'drizzle-orm';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { Database } from '../../db/client.js';
import { alarm } from '../../db/schema.js';
import { systemClock, type Clock } from '../../shared/time/Clock.js';
import { ALARM_CATALOGUE, type AlarmKey } from './alarmCatalogue.js';

export type AlarmRow = typeof alarm.$inferSelect;

/** What identifies one alarm instance: the kind, what it is about, and the node it concerns. */
export interface AlarmIdentity {
  alarm: AlarmKey;
  /** What the alarm is about (the guide's `Instance`), e.g. `Source=…, Destination=…` or a certificate's subject. */
  instance?: string;
  /** The node it concerns; empty for the management node. */
  node?: string;
}

export interface AlarmRaise extends AlarmIdentity {
  details?: string;
}

export interface AlarmManagerEvents {
  raised: [AlarmRow];
  lowered: [AlarmRow];
  /** Anything raised, lowered or acknowledged (the console's badge listens). */
  changed: [];
}

/** Python logging's `2017-03-09 07:04:08,455`, as the guide's `Time=` shows it. */
const logTime = (d: Date) =>
  d
    .toISOString()
    .replace('T', ' ')
    .replace(/\.(\d{3})Z$/, ',$1');

/**
 * Raises and lowers the platform's alarms (guide: Status > Alarms). An alarm is one row, active
 * while `time_lowered` is null and kept as its history once lowered. Raising an alarm that is
 * already active for the same identity makes no second alarm (only its details follow); every raise and lower is logged as the
 * guide's `administrator.alarm` "Alarm raised" / "Alarm lowered" line. Changes run one after
 * another, so two raises racing never make two rows.
 */
export class AlarmManager extends EventEmitter<AlarmManagerEvents> {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly log: Logger;
  /** The same lines for the syslog servers, as the guide names their module (`administrator.alarm`). */
  private readonly syslog: Logger | null;

  constructor(
    private readonly db: Database,
    log: Logger,
    private readonly clock: Clock = systemClock,
    /** Where the management node's syslog lines go (see AlarmSyslog); none = the log only. */
    syslog?: DestinationStream,
  ) {
    super();
    this.log = log.child({ module: 'administrator.alarm' });
    this.syslog = syslog ? pino({ level: 'info', base: { name: 'administrator' } }, syslog).child({ part: 'alarm' }) : null;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => {});
    return run;
  }

  private matching(id: AlarmIdentity) {
    return and(
      eq(alarm.identifier, ALARM_CATALOGUE[id.alarm].identifier),
      eq(alarm.instance, id.instance ?? ''),
      eq(alarm.node, id.node ?? ''),
      isNull(alarm.timeLowered),
    );
  }

  /** Raises the alarm unless it is already active; resolves to its row either way. */
  raise(a: AlarmRaise): Promise<AlarmRow> {
    return this.serial(async () => {
      const kind = ALARM_CATALOGUE[a.alarm];
      // Management servers sharing one Postgres may raise the same alarm at once: one at a time per identity, so one row.
      const outcome = await this.db.transaction(async (tx) => {
        await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${`alarm|${kind.identifier}|${a.node ?? ''}|${a.instance ?? ''}`}))`);
        const [active] = await tx.select().from(alarm).where(this.matching(a)).limit(1);
        if (active) {
          // Still the same alarm; what it says may have moved on ("expires on" → "expired on").
          if (a.details === undefined || a.details === active.details) return { row: active, change: 'none' as const };
          const [updated] = await tx.update(alarm).set({ details: a.details }).where(eq(alarm.id, active.id)).returning();
          return { row: updated ?? active, change: 'details' as const };
        }
        const [row] = await tx
          .insert(alarm)
          .values({
            name: kind.name,
            identifier: kind.identifier,
            level: kind.level,
            details: a.details ?? '',
            instance: a.instance ?? '',
            node: a.node ?? '',
            timeRaised: new Date(this.clock.now()),
          })
          .returning();
        return { row: row!, change: 'raised' as const };
      });
      const { row } = outcome;
      if (outcome.change === 'details') this.emit('changed');
      if (outcome.change !== 'raised') return row;
      const fields = { Node: row.node, Alarm: a.alarm, Time: logTime(row.timeRaised), Instance: row.instance, Detail: row.details };
      this.log.warn(fields, 'Alarm raised');
      this.syslog?.warn(fields, 'Alarm raised');
      this.emit('raised', row);
      this.emit('changed');
      return row;
    });
  }

  /** Lowers the alarm if it is active; resolves to the lowered row, or null when none was. */
  lower(a: AlarmIdentity): Promise<AlarmRow | null> {
    return this.serial(async () => {
      const [row] = await this.db
        .update(alarm)
        .set({ timeLowered: new Date(this.clock.now()) })
        .where(this.matching(a))
        .returning();
      if (!row) return null;
      const fields = { Node: row.node, Alarm: a.alarm, Time: logTime(row.timeLowered!), Instance: row.instance };
      this.log.info(fields, 'Alarm lowered');
      this.syslog?.info(fields, 'Alarm lowered');
      this.emit('lowered', row);
      this.emit('changed');
      return row;
    });
  }

  /**
   * Makes the active alarms of one kind exactly `wanted`: raises those missing, lowers the others
   * (a periodic check's whole answer, e.g. every certificate that expires within 30 days).
   */
  async reconcile(key: AlarmKey, wanted: AlarmRaise[], scope?: { node: string }): Promise<void> {
    const active = await this.active(key);
    const id = (x: { instance?: string; node?: string }) => `${x.node ?? ''}\u0000${x.instance ?? ''}`;
    const want = new Set(wanted.map(id));
    for (const w of wanted) await this.raise({ ...w, alarm: key });
    for (const row of active) {
      if (scope && row.node !== scope.node) continue;
      if (!want.has(id(row))) await this.lower({ alarm: key, instance: row.instance, node: row.node });
    }
  }

  /** Active alarms, newest first; of one kind when given. */
  async active(key?: AlarmKey): Promise<AlarmRow[]> {
    const rows = await this.db
      .select()
      .from(alarm)
      .where(key ? and(isNull(alarm.timeLowered), eq(alarm.identifier, ALARM_CATALOGUE[key].identifier)) : isNull(alarm.timeLowered));
    return rows.sort((a, b) => b.timeRaised.getTime() - a.timeRaised.getTime() || b.id - a.id);
  }

  /** Marks an alarm acknowledged (the console's Alarms page); false when there is no such alarm. */
  acknowledge(id: number): Promise<boolean> {
    return this.serial(async () => {
      const [row] = await this.db.update(alarm).set({ acknowledged: true }).where(eq(alarm.id, id)).returning({ id: alarm.id });
      if (row) this.emit('changed');
      return Boolean(row);
    });
  }

  /** Waits for changes already asked for (tests, shutdown). */
  async settled(): Promise<void> {
    await this.chain;
  }
}
