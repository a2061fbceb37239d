import { describe, expect, it } from 'vitest';
import type { TimeSeriesPoint } from '../../shared/status/liveView.js';
import { TIERS, TimeSeries } from './TimeSeries.js';

const point = (t: number, participants: number, packetLoss = 0, nodeLoad = 0): TimeSeriesPoint => ({
  t,
  conferences: Math.ceil(participants / 5),
  participants,
  packetLoss,
  locations: { London: { conferences: Math.ceil(participants / 5), participants, mediaLoad: nodeLoad, packetLoss } },
  nodes: { 'node-1': nodeLoad },
});

describe('the live graphs’ time series', () => {
  it('keeps 2-s points for an hour, and builds 1-min and 5-min points from them: peaks for counts and load, the mean for loss', () => {
    const s = new TimeSeries();
    const t0 = Date.UTC(2026, 0, 1, 12, 0, 0);
    // One minute of 2-s samples: participants climb to 30 then fall; one spike of loss.
    for (let i = 0; i < 30; i++) s.add(point(t0 + i * 2_000, i === 10 ? 30 : 10, i === 5 ? 6 : 0, i === 10 ? 80 : 20));
    s.add(point(t0 + 60_000, 12));
    const hour = s.range('hour', t0 + 60_000);
    expect(hour).toHaveLength(31);
    const [minute, building] = s.range('day', t0 + 60_000);
    expect(minute).toMatchObject({ t: t0, participants: 30, conferences: 6, packetLoss: 6 / 30, nodes: { 'node-1': 80 } });
    expect(minute!.locations.London).toEqual({ conferences: 6, participants: 30, mediaLoad: 80, packetLoss: 6 / 30 });
    // The next minute is being built from its first sample.
    expect(building).toMatchObject({ t: t0 + 60_000, participants: 12 });
    // The 5-min point covering both minutes so far.
    expect(s.range('week', t0 + 60_000)).toEqual([expect.objectContaining({ t: t0, participants: 30 })]);
  });

  it('stays bounded however long it runs: 7 days of 2-s samples hold about 5,256 points (plus an eighth awaiting removal)', () => {
    const s = new TimeSeries();
    const t0 = Date.UTC(2026, 0, 1);
    const week = 7 * 24 * 3600 * 1000;
    const step = 2_000;
    for (let t = t0; t < t0 + week + 3600_000; t += step) s.add(point(t, 1));
    const max = Object.values(TIERS).reduce((n, t) => n + t.keep + Math.ceil(t.keep / 8) + 1, 0);
    expect(s.size).toBeLessThanOrEqual(max);
    const now = t0 + week + 3600_000;
    const weekPoints = s.range('week', now);
    // The 7-day range reaches back 7 days (to within one 5-min point).
    expect(now - weekPoints[0]!.t).toBeGreaterThanOrEqual(week - 300_000);
    expect(now - weekPoints[0]!.t).toBeLessThanOrEqual(week + 300_000);
    expect(s.range('hour', now)).toHaveLength(TIERS.hour.keep);
    expect(s.range('day', now).length).toBeLessThanOrEqual(TIERS.day.keep + 1);
  }, 60_000);

  it('holds one 2-s point per slot: a sample taken on a change between ticks replaces its slot’s point with the latest figures', () => {
    const s = new TimeSeries();
    const t0 = Date.UTC(2026, 0, 1, 12, 0, 0);
    s.add(point(t0, 0));
    s.add(point(t0 + 600, 2));
    s.add(point(t0 + 1_400, 3));
    s.add(point(t0 + 2_000, 3));
    expect(s.range('hour', t0 + 2_000).map((p) => [p.t, p.participants])).toEqual([
      [t0 + 1_400, 3],
      [t0 + 2_000, 3],
    ]);
    expect(s.latest).toMatchObject({ t: t0 + 2_000, participants: 3 });
    // The minute still holds the peak of every sample.
    expect(s.range('day', t0 + 2_000)).toEqual([expect.objectContaining({ t: t0, participants: 3 })]);
  });
});
