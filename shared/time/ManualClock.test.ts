import { describe, expect, it } from 'vitest';
import { ManualClock } from './ManualClock.js';

describe('ManualClock', () => {
  it('fires timeouts and intervals in due order, each at its own due time, only when advanced', async () => {
    const clock = new ManualClock(1_000);
    const seen: string[] = [];
    clock.setTimeout(() => seen.push(`t300@${clock.now()}`), 300);
    const iv = clock.setInterval(() => seen.push(`i200@${clock.now()}`), 200);
    const cancelled = clock.setTimeout(() => seen.push('never'), 100);
    clock.clearTimeout(cancelled);
    expect(seen).toEqual([]);
    await clock.advance(199);
    expect(seen).toEqual([]);
    expect(clock.now()).toBe(1_199);
    await clock.advance(401);
    expect(seen).toEqual(['i200@1200', 't300@1300', 'i200@1400', 'i200@1600']);
    clock.clearInterval(iv);
    await clock.advance(1_000);
    expect(seen).toHaveLength(4);
    expect(clock.pending).toBe(0);
  });

  it('runs timers a timer sets when they fall due within the same advance', async () => {
    const clock = new ManualClock(0);
    const seen: number[] = [];
    clock.setTimeout(() => clock.setTimeout(() => seen.push(clock.now()), 50), 50);
    await clock.advance(100);
    expect(seen).toEqual([100]);
  });

  it('fires an overdue interval once, late, after a stall', async () => {
    const clock = new ManualClock(0);
    const seen: number[] = [];
    clock.setInterval(() => seen.push(clock.now()), 300);
    await clock.stall(2_500);
    expect(seen).toEqual([2_500]);
    await clock.advance(300);
    expect(seen).toEqual([2_500, 2_800]);
  });
});

describe('ManualClock.advanceUntil', () => {
  it('steps until the condition holds and tells the clock time it took', async () => {
    const clock = new ManualClock(0);
    let fired = false;
    clock.setTimeout(() => (fired = true), 1_250);
    expect(await clock.advanceUntil(() => fired, { stepMs: 500 })).toBe(1_500);
    await expect(clock.advanceUntil(() => false, { stepMs: 500, maxMs: 1_000 })).rejects.toThrow('condition not met within 1000 ms of clock time');
  });
});

describe('ManualClock.run', () => {
  it('moves time on in steps, firing what falls due', async () => {
    const clock = new ManualClock(0);
    const seen: number[] = [];
    clock.setInterval(() => seen.push(clock.now()), 300);
    await clock.run(1_000, { stepMs: 250, ioMs: 1 });
    expect(seen).toEqual([300, 600, 900]);
    expect(clock.now()).toBe(1_000);
  });
});
