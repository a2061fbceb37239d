import { describe, expect, it } from 'vitest';
import { DelayedLoopback } from './DelayedLoopback.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('DelayedLoopback', () => {
  it('delivers every item in order, not before the delay and not much after', async () => {
    const got: { n: number; lag: number }[] = [];
    const line = new DelayedLoopback<{ n: number; at: number }>(300, ({ n, at }) => got.push({ n, lag: Date.now() - at }));
    for (let n = 0; n < 20; n++) {
      line.push({ n, at: Date.now() });
      await sleep(10);
    }
    expect(got.length).toBeLessThan(20); // the first ~300 ms of input is still queued
    await sleep(700);
    expect(got.map((g) => g.n)).toEqual([...Array(20).keys()]);
    for (const g of got) {
      expect(g.lag).toBeGreaterThanOrEqual(295); // never early beyond the 2 ms batching and ms rounding
      expect(g.lag).toBeLessThan(300 + 250); // generous for a loaded machine
    }
    line.close();
  });

  it('drops what is queued on close and accepts nothing afterwards', async () => {
    const got: number[] = [];
    const line = new DelayedLoopback<number>(50, (n) => got.push(n));
    line.push(1);
    line.close();
    line.push(2);
    await sleep(200);
    expect(got).toEqual([]);
    expect(line.size).toBe(0);
  });

  it('bounds memory: beyond maxItems the oldest are dropped', async () => {
    const got: number[] = [];
    const line = new DelayedLoopback<number>(50, (n) => got.push(n), 100);
    for (let n = 0; n < 5_000; n++) line.push(n);
    expect(line.size).toBe(100);
    expect(line.dropped).toBe(4_900);
    await sleep(200);
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => 4_900 + i));
    line.close();
  });
});
