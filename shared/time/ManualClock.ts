import type { Clock, ClockTimer } from './Clock.js';

interface Scheduled extends ClockTimer {
  at: number;
  fn: () => void;
  /** Repeats every `every` ms (an interval); a timeout has none. */
  every?: number;
  seq: number;
}

/** Lets the event loop run once: real sockets deliver what a fired timer caused (a ping's pong). */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A clock a test moves by hand. Timers fire only when the test advances it, in the order they fall
 * due, each seeing `now()` at its own due time; real I/O keeps running in real time beside it.
 */
export class ManualClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly timers = new Set<Scheduled>();

  constructor(start = Date.now()) {
    this.current = start;
  }

  now = (): number => this.current;

  setTimeout = (fn: () => void, ms: number): ClockTimer => this.schedule(fn, ms);

  setInterval = (fn: () => void, ms: number): ClockTimer => this.schedule(fn, ms, Math.max(1, ms));

  clearTimeout = (timer: ClockTimer | null | undefined): void => {
    if (timer) this.timers.delete(timer as Scheduled);
  };

  clearInterval = (timer: ClockTimer | null | undefined): void => this.clearTimeout(timer);

  /** Timers waiting to fire. */
  get pending(): number {
    return this.timers.size;
  }

  /**
   * Moves time on by `ms`, firing every timer that falls due on the way at its due time (an interval
   * as many times as it falls due), and letting the event loop turn after each.
   */
  async advance(ms: number): Promise<void> {
    const end = this.current + ms;
    for (;;) {
      const next = this.nextDue(end);
      if (!next) break;
      this.current = Math.max(this.current, next.at);
      this.fire(next);
      await turn();
    }
    this.current = end;
    await turn();
  }

  /**
   * Time passes while this process's event loop is blocked (a long synchronous task, a paused
   * process): `now()` jumps by `ms`, then each overdue timer fires once, late, as Node fires them.
   */
  async stall(ms: number): Promise<void> {
    this.current += ms;
    const due = [...this.timers].filter((t) => t.at <= this.current).sort((a, b) => a.at - b.at || a.seq - b.seq);
    for (const t of due) {
      if (!this.timers.has(t)) continue;
      this.fire(t);
      await turn();
    }
  }

  /**
   * Moves time on in steps of `stepMs` until `done()` holds, giving real I/O up to `ioMs` of real time
   * after each step to land (a pong, a close); resolves with the clock time that took, fails past `maxMs`.
   */
  async advanceUntil(done: () => boolean, { stepMs = 100, maxMs = 60_000, ioMs = 20 } = {}): Promise<number> {
    const start = this.current;
    for (;;) {
      const ioDeadline = performance.now() + ioMs;
      do {
        if (done()) return this.current - start;
        await new Promise((resolve) => setTimeout(resolve, 1));
      } while (performance.now() < ioDeadline);
      if (this.current - start >= maxMs) throw new Error(`condition not met within ${maxMs} ms of clock time`);
      await this.advance(stepMs);
    }
  }

  /** Moves time on by `ms` in steps of `stepMs`, giving real I/O `ioMs` of real time after each step. */
  async run(ms: number, { stepMs = 100, ioMs = 10 } = {}): Promise<void> {
    for (let left = ms; left > 0; left -= stepMs) {
      await this.advance(Math.min(stepMs, left));
      await new Promise((resolve) => setTimeout(resolve, ioMs));
    }
  }

  private schedule(fn: () => void, ms: number, every?: number): ClockTimer {
    const timer: Scheduled = {
      at: this.current + Math.max(0, ms),
      fn,
      seq: this.seq++,
      ...(every !== undefined ? { every } : {}),
      unref: () => timer,
    };
    this.timers.add(timer);
    return timer;
  }

  private nextDue(end: number): Scheduled | undefined {
    let next: Scheduled | undefined;
    for (const t of this.timers) if (t.at <= end && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
    return next;
  }

  private fire(t: Scheduled): void {
    if (t.every !== undefined) {
      t.at = this.current + t.every;
      t.seq = this.seq++;
    } else this.timers.delete(t);
    t.fn();
  }
}
