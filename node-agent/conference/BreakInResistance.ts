import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { BreakInBlock, ServiceConfig } from '../../shared/node-protocol/messages.js';
import { systemClock, type Clock } from '../../shared/time/Clock.js';
import type { ParticipantInit } from './Participant.js';

/**
 * Break-in resistance on the conferencing node (guide-digest-2 §5; the guide's log formats in §5.3
 * and guide-digest-4 §32.3 `administrator.conference`).
 *
 * - **PIN brute force resistance**: incorrect PINs are counted per service in a sliding 10-minute
 *   window. When the count goes above the threshold (`maxPinFailuresPerWindow`, guide: 20), every
 *   new access attempt to that service — with any PIN, even the correct one — is refused for 10
 *   minutes as if the service did not exist. Participants already in it are not affected.
 * - **VOIP scanner resistance**: attempts to join aliases that match nothing are counted per source
 *   address in a sliding 10-minute window. Above the threshold (`maxScanAttemptsPerWindow`, guide:
 *   20) that address is quarantined: every new join attempt from it, to any alias, is refused as if
 *   the alias did not exist. The guide only says "temporarily" (its examples show remaining
 *   durations under 600 s): the quarantine lasts 10 minutes, like the PIN block.
 *
 * A block is not extended by attempts made while it is in force. When it ends the count starts
 * from zero. An administrator can see the blocks in force (`blocks()`, reported to the management
 * server) and lift one (`lift()`): the service or address is let in at once and counts afresh. Turning a protection off (globally or in the node's location) stops it at once and
 * forgets its counters and blocks; turning it on again starts afresh.
 *
 * Memory is bounded whatever a scanner does: each counter keeps at most threshold + 1 timestamps,
 * and each table (counters and blocks, per service and per address) holds at most `maxEntries`
 * keys. Counters are kept in least-recently-failed order and blocks in expiry order, so expired
 * entries are pruned from the front as new ones arrive, and when a table is full its oldest entry
 * is dropped.
 */

export const WINDOW_MS = 10 * 60_000;
export const BLOCK_MS = 10 * 60_000;
export const DEFAULT_MAX_ENTRIES = 4096;

export const MSG_SERVICE_BLOCKED = 'Break-in prevention policy blocking all attempts to join this service.';
export const MSG_QUARANTINED = 'Participant has been quarantined by Break-in prevention policy due to excessive failed join attempts.';
export const MSG_QUARANTINE_REJECT = 'Break-in prevention policy rejecting call attempt from quarantined caller.';
export const REASON_PIN_ATTACK = 'Service appears to be under PIN break-in attack';
export const REASON_SCANNER = 'Too many attempts to join non-existent aliases';
export const REASON_QUARANTINE_REJECT = 'Suspicious join attempt rejected';

export interface BreakInPolicy {
  pinBruteForceResistance: boolean;
  voipScannerResistance: boolean;
  maxPinFailuresPerWindow: number;
  maxScanAttemptsPerWindow: number;
}

export const DEFAULT_POLICY: BreakInPolicy = {
  pinBruteForceResistance: true,
  voipScannerResistance: true,
  maxPinFailuresPerWindow: 20,
  maxScanAttemptsPerWindow: 20,
};

export interface BreakInOptions {
  /** Where the windows and blocks read the time; default the system clock. */
  clock?: Pick<Clock, 'now'>;
  windowMs?: number;
  blockMs?: number;
  /** Keys per table (counters and blocks, per service and per address). */
  maxEntries?: number;
}

/** The join attempt as the logs describe it. */
export interface JoinAttempt {
  alias: string;
  /** The caller's display name (the guide's `Participant`). */
  participant: string;
  protocol: ParticipantInit['protocol'];
  remoteAddress: string;
}

const PROTOCOL_NAME: Record<ParticipantInit['protocol'], string> = { api: 'API', webrtc: 'WebRTC', sip: 'SIP' };

/** Python's repr of a one-alias list, as the guide's `Local-alias="[u'alice']"` shows it. */
export function pyAliasList(alias: string): string {
  const quote = alias.includes("'") && !alias.includes('"') ? '"' : "'";
  const body = alias.replace(/\\/g, '\\\\').replace(quote === "'" ? /'/g : /"/g, `\\${quote}`);
  return `[u${quote}${body}${quote}]`;
}

/** Failure timestamps per key in a sliding window, bounded in keys and in timestamps per key. */
export class SlidingCounter<K> {
  /** Least recently failed first (a key is re-inserted on each failure). */
  private readonly entries = new Map<K, number[]>();

  constructor(
    private readonly windowMs: number,
    private readonly maxEntries: number,
  ) {}

  /** Records a failure at `now`; returns the failures of `key` in the window ending at `now`, this one included. */
  add(key: K, now: number, limit: number): number {
    this.prune(now);
    const since = now - this.windowMs;
    const times = (this.entries.get(key) ?? []).filter((t) => t > since);
    times.push(now);
    // Only "more than limit" matters: limit + 1 timestamps are enough.
    if (times.length > limit + 1) times.splice(0, times.length - (limit + 1));
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.dropOldest();
    this.entries.set(key, times);
    return times.length;
  }

  count(key: K, now: number): number {
    const since = now - this.windowMs;
    return (this.entries.get(key) ?? []).filter((t) => t > since).length;
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  /** Drops keys whose latest failure has left the window (they are at the front). */
  private prune(now: number): void {
    const since = now - this.windowMs;
    for (const [key, times] of this.entries) {
      if ((times[times.length - 1] ?? 0) > since) break;
      this.entries.delete(key);
    }
  }

  private dropOldest(): void {
    const first = this.entries.keys().next();
    if (!first.done) this.entries.delete(first.value);
  }
}

/** Blocks with an end time; all last equally long, so insertion order is expiry order. */
export class BlockList<K> {
  private readonly until = new Map<K, { until: number; label: string }>();

  constructor(private readonly maxEntries: number) {}

  block(key: K, until: number, now: number, label = String(key)): void {
    this.prune(now);
    this.until.delete(key);
    if (this.until.size >= this.maxEntries) {
      const first = this.until.keys().next();
      if (!first.done) this.until.delete(first.value);
    }
    this.until.set(key, { until, label });
  }

  /** Milliseconds the block of `key` still lasts; 0 when it is not blocked. */
  remaining(key: K, now: number): number {
    const entry = this.until.get(key);
    if (entry === undefined) return 0;
    if (entry.until <= now) {
      this.until.delete(key);
      return 0;
    }
    return entry.until - now;
  }

  /** The blocks still in force at `now`, soonest to end first. */
  entries(now: number): { key: K; until: number; label: string }[] {
    this.prune(now);
    return [...this.until].map(([key, e]) => ({ key, ...e }));
  }

  /** Ends the block of `key`; true when there was one. */
  delete(key: K): boolean {
    return this.until.delete(key);
  }

  clear(): void {
    this.until.clear();
  }

  get size(): number {
    return this.until.size;
  }

  private prune(now: number): void {
    for (const [key, { until }] of this.until) {
      if (until > now) break;
      this.until.delete(key);
    }
  }
}

export interface BreakInEvents {
  /** A block started, was lifted, or a protection was turned off (not when one simply runs out). */
  blocks: [];
}

export class BreakInResistance extends EventEmitter<BreakInEvents> {
  private policy: BreakInPolicy = { ...DEFAULT_POLICY };
  private readonly now: () => number;
  private readonly blockMs: number;
  private readonly pinFailures: SlidingCounter<number>;
  private readonly blockedServices: BlockList<number>;
  private readonly scanAttempts: SlidingCounter<string>;
  private readonly quarantined: BlockList<string>;

  constructor(
    private readonly log: Logger,
    options: BreakInOptions = {},
  ) {
    super();
    this.now = (options.clock ?? systemClock).now;
    const windowMs = options.windowMs ?? WINDOW_MS;
    const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.blockMs = options.blockMs ?? BLOCK_MS;
    this.pinFailures = new SlidingCounter(windowMs, maxEntries);
    this.blockedServices = new BlockList(maxEntries);
    this.scanAttempts = new SlidingCounter(windowMs, maxEntries);
    this.quarantined = new BlockList(maxEntries);
  }

  /** The policy in force (location switches, global thresholds). A protection turned off forgets its state. */
  configure(policy: BreakInPolicy): void {
    this.policy = { ...policy };
    const hadBlocks = this.blockedServices.size + this.quarantined.size > 0;
    if (!policy.pinBruteForceResistance) {
      this.pinFailures.clear();
      this.blockedServices.clear();
    }
    if (!policy.voipScannerResistance) {
      this.scanAttempts.clear();
      this.quarantined.clear();
    }
    if (hadBlocks && this.blockedServices.size + this.quarantined.size === 0) this.emit('blocks');
  }

  /** Every block in force: blocked services (by service id) and quarantined addresses. */
  blocks(): BreakInBlock[] {
    const now = this.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    return [
      ...this.blockedServices
        .entries(now)
        .map((b) => ({ kind: 'service' as const, key: String(b.key), label: b.label, since: iso(b.until - this.blockMs), until: iso(b.until) })),
      ...this.quarantined
        .entries(now)
        .map((b) => ({ kind: 'address' as const, key: b.key, label: b.label, since: iso(b.until - this.blockMs), until: iso(b.until) })),
    ];
  }

  /** An administrator lifts a block: the service or address is let in at once, its count starting afresh. */
  lift(kind: BreakInBlock['kind'], key: string): boolean {
    let lifted: boolean;
    if (kind === 'service') {
      const id = Number(key);
      lifted = Number.isInteger(id) && this.blockedServices.delete(id);
      if (lifted) this.pinFailures.delete(id);
    } else {
      lifted = this.quarantined.delete(key);
      if (lifted) this.scanAttempts.delete(key);
    }
    if (lifted) {
      this.log.info({ Type: kind, Key: key }, 'Break-in prevention block lifted by an administrator.');
      this.emit('blocks');
    }
    return lifted;
  }

  get current(): Readonly<BreakInPolicy> {
    return this.policy;
  }

  /** Seconds left of a block, as the guide logs them. */
  private static seconds(ms: number): string {
    return String(Math.ceil(ms / 1000));
  }

  /**
   * A join attempt from a quarantined address: logs the rejection and returns true (the caller is
   * to be answered as for a non-existent alias).
   */
  rejectQuarantined(a: JoinAttempt): boolean {
    if (!this.policy.voipScannerResistance) return false;
    const left = this.quarantined.remaining(a.remoteAddress, this.now());
    if (left <= 0) return false;
    this.log.info(
      {
        Protocol: PROTOCOL_NAME[a.protocol],
        Direction: 'in',
        'Local-alias': pyAliasList(a.alias),
        'Remote-address': a.remoteAddress,
        Reason: REASON_QUARANTINE_REJECT,
        remaining_block_duration_seconds: BreakInResistance.seconds(left),
      },
      MSG_QUARANTINE_REJECT,
    );
    return true;
  }

  /** A join attempt to an alias that matched nothing: counts it against the address, quarantining it above the threshold. */
  unknownAlias(a: JoinAttempt): void {
    if (!this.policy.voipScannerResistance) return;
    const now = this.now();
    const n = this.scanAttempts.add(a.remoteAddress, now, this.policy.maxScanAttemptsPerWindow);
    if (n <= this.policy.maxScanAttemptsPerWindow) return;
    this.scanAttempts.delete(a.remoteAddress);
    this.quarantined.block(a.remoteAddress, now + this.blockMs, now);
    this.emit('blocks');
    this.log.info(
      {
        Participant: a.participant,
        Protocol: PROTOCOL_NAME[a.protocol],
        Direction: 'in',
        'Remote-address': a.remoteAddress,
        Reason: REASON_SCANNER,
        remaining_block_duration_seconds: BreakInResistance.seconds(this.blockMs),
      },
      MSG_QUARANTINED,
    );
  }

  /** Milliseconds the service's block still lasts (0: not blocked, or PIN brute force resistance is off). */
  serviceBlockRemaining(service: Pick<ServiceConfig, 'id'>): number {
    if (!this.policy.pinBruteForceResistance) return 0;
    return this.blockedServices.remaining(service.id, this.now());
  }

  /**
   * A join attempt to a blocked service: logs it and returns true (the caller is to be answered as
   * for a non-existent alias).
   */
  rejectBlockedService(service: Pick<ServiceConfig, 'id' | 'name'>, a: JoinAttempt): boolean {
    const left = this.serviceBlockRemaining(service);
    if (left <= 0) return false;
    this.logServiceBlocked(service, a, left);
    return true;
  }

  /** An incorrect PIN for the service: counts it, blocking the service above the threshold. */
  pinFailure(service: Pick<ServiceConfig, 'id' | 'name'>, a: JoinAttempt): void {
    if (!this.policy.pinBruteForceResistance) return;
    const now = this.now();
    const n = this.pinFailures.add(service.id, now, this.policy.maxPinFailuresPerWindow);
    if (n <= this.policy.maxPinFailuresPerWindow) return;
    this.pinFailures.delete(service.id);
    this.blockedServices.block(service.id, now + this.blockMs, now, service.name);
    this.logServiceBlocked(service, a, this.blockMs);
    this.emit('blocks');
  }

  private logServiceBlocked(service: Pick<ServiceConfig, 'name'>, a: JoinAttempt, leftMs: number): void {
    this.log.info(
      {
        ConferenceAlias: a.alias,
        Service: service.name,
        Participant: a.participant,
        Protocol: PROTOCOL_NAME[a.protocol],
        Direction: 'in',
        'Remote-address': a.remoteAddress,
        Reason: REASON_PIN_ATTACK,
        remaining_block_duration_seconds: BreakInResistance.seconds(leftMs),
      },
      MSG_SERVICE_BLOCKED,
    );
  }

  /** Sizes of the four tables (for tests and diagnostics). */
  stats(): { pinCounters: number; blockedServices: number; scanCounters: number; quarantined: number } {
    return {
      pinCounters: this.pinFailures.size,
      blockedServices: this.blockedServices.size,
      scanCounters: this.scanAttempts.size,
      quarantined: this.quarantined.size,
    };
  }
}
