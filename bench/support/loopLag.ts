import { monitorEventLoopDelay } from 'node:perf_hooks';

const RESOLUTION_MS = 10;

/**
 * Event-loop lag of this process over a window: the histogram's samples are the time between
 * ticks of a RESOLUTION_MS timer, so the lag is a sample minus RESOLUTION_MS.
 */
export class LoopLag {
  private readonly h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });

  constructor() {
    this.h.enable();
  }

  reset(): void {
    this.h.reset();
  }

  read(): { p50Ms: number; p95Ms: number; p99Ms: number; maxMs: number } {
    const ms = (ns: number) => Math.round(Math.max(0, ns / 1e6 - RESOLUTION_MS) * 100) / 100;
    return { p50Ms: ms(this.h.percentile(50)), p95Ms: ms(this.h.percentile(95)), p99Ms: ms(this.h.percentile(99)), maxMs: ms(this.h.max) };
  }
}
