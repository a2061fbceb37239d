import { systemClock, type Clock } from '../../shared/time/Clock.js';

export interface LoginThrottleOptions {
  /** Failed sign-ins one account may have within `windowMs` before it is refused; default 5. */
  perAccount?: number;
  /** Failed sign-ins one client address may have within `windowMs`; default 20 (several people behind one NAT). */
  perAddress?: number;
  /** The window failures are counted over; default 15 minutes. */
  windowMs?: number;
  /** Keys remembered at most (the oldest are forgotten first); default 10,000. */
  maxKeys?: number;
  /** Where the window reads the time; default the system clock. */
  clock?: Pick<Clock, 'now'>;
}

/**
 * Sign-in throttling per account and per client address, over a sliding window of failures: once
 * the limit is reached, further attempts are refused without checking the password (50 wrong
 * passwords in 8.5 s, then the right one, once worked) until the oldest failure leaves the window.
 * A success clears the account's failures, not the address's.
 */
export class LoginThrottle {
  private readonly perAccount: number;
  private readonly perAddress: number;
  private readonly windowMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;
  /** Key → failure times, oldest first. Map order is insertion order: the first key is the stalest. */
  private readonly failures = new Map<string, number[]>();

  constructor(opts: LoginThrottleOptions = {}) {
    this.perAccount = opts.perAccount ?? 5;
    this.perAddress = opts.perAddress ?? 20;
    this.windowMs = opts.windowMs ?? 15 * 60_000;
    this.maxKeys = opts.maxKeys ?? 10_000;
    this.now = (opts.clock ?? systemClock).now;
  }

  /** Milliseconds until this attempt may be made; 0 when it may be made now. */
  retryAfterMs(username: string, address: string): number {
    return Math.max(this.wait(accountKey(username), this.perAccount), this.wait(addressKey(address), this.perAddress));
  }

  failed(username: string, address: string): void {
    this.add(accountKey(username));
    this.add(addressKey(address));
  }

  succeeded(username: string): void {
    this.failures.delete(accountKey(username));
  }

  private recent(key: string): number[] {
    const since = this.now() - this.windowMs;
    const times = (this.failures.get(key) ?? []).filter((t) => t > since);
    if (times.length) this.failures.set(key, times);
    else this.failures.delete(key);
    return times;
  }

  private wait(key: string, limit: number): number {
    const times = this.recent(key);
    if (times.length < limit) return 0;
    // Allowed again when enough of the oldest failures have left the window.
    return times[times.length - limit]! + this.windowMs - this.now();
  }

  private add(key: string): void {
    const times = this.recent(key);
    times.push(this.now());
    // Only as many as the limit needs are kept: memory per key stays bounded.
    this.failures.delete(key);
    this.failures.set(key, times.slice(-Math.max(this.perAccount, this.perAddress)));
    while (this.failures.size > this.maxKeys) this.failures.delete(this.failures.keys().next().value!);
  }
}

// Usernames are matched case-insensitively for throttling, so case variants share one count.
const accountKey = (username: string) => `u:${username.toLowerCase()}`;
const addressKey = (address: string) => `a:${address}`;
