import { describe, expect, it } from 'vitest';
import { currentQuality, goodOrOkPercent, overallQuality, QualityWindows, windowQuality } from './CallQuality.js';

const w = (...qs: string[]) => qs.map((q) => ({ quality: q as '1_good' }));

describe('call quality: one 20-second window (guide: loss < 1 % Good, < 3 % OK, < 10 % Bad, else Terrible)', () => {
  it('classifies packet loss at the thresholds', () => {
    expect(windowQuality(0, 0)).toBe('1_good');
    expect(windowQuality(0.99, 0)).toBe('1_good');
    expect(windowQuality(1, 0)).toBe('2_ok');
    expect(windowQuality(2.99, 0)).toBe('2_ok');
    expect(windowQuality(3, 0)).toBe('3_bad');
    expect(windowQuality(9.99, 0)).toBe('3_bad');
    expect(windowQuality(10, 0)).toBe('4_terrible');
    expect(windowQuality(100, 0)).toBe('4_terrible');
  });

  it('goes one level down when jitter is over 40 ms, and Terrible stays Terrible', () => {
    expect(windowQuality(0, 40)).toBe('1_good');
    expect(windowQuality(0, 40.1)).toBe('2_ok');
    expect(windowQuality(2, 41)).toBe('3_bad');
    expect(windowQuality(5, 41)).toBe('4_terrible');
    expect(windowQuality(50, 200)).toBe('4_terrible');
  });
});

describe('call quality over windows', () => {
  it('an ongoing call shows the most frequent of its 3 most recent windows', () => {
    expect(currentQuality(w('4_terrible', '1_good', '3_bad', '3_bad'))).toBe('3_bad');
    expect(currentQuality(w('1_good', '4_terrible', '1_good'))).toBe('1_good');
    // All three differ: any may be shown; we show the latest.
    expect(currentQuality(w('1_good', '2_ok', '3_bad'))).toBe('3_bad');
    expect(currentQuality([])).toBe('0_unknown');
  });

  it('a completed call shows the average of all its windows', () => {
    expect(overallQuality(w('1_good', '1_good', '1_good', '4_terrible'))).toBe('2_ok'); // mean 0.75 → OK
    expect(overallQuality(w('1_good', '1_good', '1_good', '1_good', '4_terrible'))).toBe('2_ok'); // 0.6
    expect(overallQuality(w('1_good', '1_good', '1_good', '1_good', '1_good', '1_good', '1_good', '3_bad'))).toBe('1_good'); // 0.25
    expect(overallQuality(w('3_bad', '4_terrible'))).toBe('4_terrible'); // 2.5 rounds up
    expect(overallQuality([])).toBe('0_unknown');
    expect(goodOrOkPercent(w('1_good', '2_ok', '3_bad', '4_terrible'))).toBe(50);
  });
});

describe('QualityWindows: counters sampled every 5 s into 20-second windows', () => {
  const one = (packets: number, lost: number) => ({ 'x/audio/rx': { packets, lost } });
  it('is Unknown for a call under 20 s, then classifies each window from its own loss', () => {
    const q = new QualityWindows();
    const t0 = 1_000_000;
    // 100 packets per 5 s, no loss for the first window.
    for (let s = 0; s <= 15; s += 5) q.add({ at: t0 + s * 1000, streams: one(s * 20, 0), jitterMs: 3 });
    expect(q.current()).toBe('0_unknown');
    q.add({ at: t0 + 20_000, streams: one(400, 0), jitterMs: 3 });
    expect(q.windows()).toHaveLength(1);
    expect(q.current()).toBe('1_good');
    // Second window: 340 arrive, 60 lost = 15 % → Terrible.
    q.add({ at: t0 + 40_000, streams: one(740, 60), jitterMs: 3 });
    expect(q.windows()[1]).toMatchObject({ quality: '4_terrible', packetLoss: 15 });
    // Third: 2 % loss and 45 ms jitter seen mid-window → OK downgraded to Bad.
    q.add({ at: t0 + 50_000, streams: one(936, 64), jitterMs: 45 });
    q.add({ at: t0 + 60_000, streams: one(1132, 68), jitterMs: 5 });
    expect(q.windows()[2]).toMatchObject({ quality: '3_bad', packetLoss: 2, jitter: 45 });
    expect(q.current()).toBe('3_bad'); // Good, Terrible, Bad all differ: the latest
    expect(q.overall()).toBe('3_bad'); // mean (0+3+2)/3 = 1.67
  });

  it("takes the worst stream direction's loss, not the loss of all packets together", () => {
    const q = new QualityWindows();
    q.add({ at: 0, streams: { 'v/rx': { packets: 0, lost: 0 }, 'v/tx': { packets: 0, lost: 0 } }, jitterMs: 0 });
    // Uplink loses 15 %; the downlink, three times as many packets, none.
    q.add({ at: 20_000, streams: { 'v/rx': { packets: 850, lost: 150 }, 'v/tx': { packets: 3_000, lost: 0 } }, jitterMs: 0 });
    expect(q.windows()[0]).toMatchObject({ quality: '4_terrible', packetLoss: 15 });
  });

  it('ignores a stream with too few packets in the window to judge, and counts a new stream from zero', () => {
    const q = new QualityWindows();
    q.add({ at: 0, streams: { a: { packets: 0, lost: 0 } }, jitterMs: 0 });
    q.add({ at: 20_000, streams: { a: { packets: 1_000, lost: 0 }, b: { packets: 10, lost: 5 } }, jitterMs: 0 });
    expect(q.windows()[0]).toMatchObject({ quality: '1_good', packetLoss: 0 });
    q.add({ at: 40_000, streams: { a: { packets: 2_000, lost: 0 }, c: { packets: 95, lost: 5 } }, jitterMs: 0 });
    expect(q.windows()[1]).toMatchObject({ quality: '3_bad', packetLoss: 5 });
  });

  it('is Unknown for a window without media (a control-only participant), which neither current nor overall quality counts', () => {
    const q = new QualityWindows();
    q.add({ at: 0, streams: {}, jitterMs: 0 });
    q.add({ at: 20_000, streams: {}, jitterMs: 0 });
    expect(q.windows()[0]).toMatchObject({ quality: '0_unknown' });
    expect(q.current()).toBe('0_unknown');
    q.add({ at: 40_000, streams: { a: { packets: 1_000, lost: 0 } }, jitterMs: 0 });
    expect(q.current()).toBe('1_good');
    expect(q.overall()).toBe('1_good');
  });

  it('keeps only the most recent windows it is allowed', () => {
    const q = new QualityWindows(3);
    for (let i = 0; i <= 10; i++) q.add({ at: i * 20_000, streams: one(i * 100, 0), jitterMs: 0 });
    expect(q.windows()).toHaveLength(3);
    expect(q.windows()[2]!.end).toBe(new Date(200_000).toISOString());
  });

  it('counts a counter that went backwards (a replaced stream) from zero, not as negative loss', () => {
    const q = new QualityWindows();
    q.add({ at: 0, streams: one(5_000, 50), jitterMs: 0 });
    q.add({ at: 20_000, streams: one(100, 0), jitterMs: 0 });
    expect(q.windows()[0]).toMatchObject({ quality: '1_good', packetLoss: 0 });
  });
});
