/** A timer a Clock hands out; Node's own Timeout is one. */
export interface ClockTimer {
  /** Does not keep the process alive on its own. */
  unref(): ClockTimer;
}

/**
 * Time as the code that acts on it sees it. Production code takes one (default `systemClock`), so a
 * test can drive timeouts by hand (`ManualClock`) instead of sleeping through them.
 */
export interface Clock {
  /** Milliseconds since the epoch, as Date.now(). */
  now(): number;
  setTimeout(fn: () => void, ms: number): ClockTimer;
  clearTimeout(timer: ClockTimer | null | undefined): void;
  setInterval(fn: () => void, ms: number): ClockTimer;
  clearInterval(timer: ClockTimer | null | undefined): void;
}

/** The real clock: Date.now and the runtime's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout | undefined),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (timer) => clearInterval(timer as NodeJS.Timeout | undefined),
};
