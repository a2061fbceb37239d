import { describe, expect, it } from 'vitest';
import type { TimeSeriesPoint } from '../../../shared/status/liveView.js';
import { addSample } from './timeSeries.js';

const point = (t: number, participants: number, packetLoss: number, load = 0): TimeSeriesPoint => ({
  t,
  conferences: participants > 0 ? 1 : 0,
  participants,
  packetLoss,
  locations: { London: { conferences: participants > 0 ? 1 : 0, participants, mediaLoad: load, packetLoss } },
  nodes: { node1: load },
});

describe('addSample', () => {
  it('appends each 2-s sample over an hour and drops points older than the hour', () => {
    const old = point(0, 1, 0);
    const recent = point(3_600_000, 1, 0);
    const out = addSample([old, recent], point(3_602_000, 2, 0), 'hour', new Map());
    expect(out.map((p) => [p.t, p.participants])).toEqual([
      [3_600_000, 1],
      [3_602_000, 2],
    ]);
  });

  it("over a day joins a sample to its minute's point: peak counts and loads, mean packet loss", () => {
    const counts = new Map<number, number>();
    let points = addSample([], point(60_000, 2, 1, 30), 'day', counts);
    points = addSample(points, point(62_000, 1, 3, 50), 'day', counts);
    expect(points).toHaveLength(1);
    expect(points[0]).toMatchObject({ t: 60_000, participants: 2, conferences: 1, packetLoss: 2, nodes: { node1: 50 } });
    expect(points[0]?.locations.London).toEqual({ conferences: 1, participants: 2, mediaLoad: 50, packetLoss: 2 });
    points = addSample(points, point(120_000, 0, 0), 'day', counts);
    expect(points.map((p) => [p.t, p.participants])).toEqual([
      [60_000, 2],
      [120_000, 0],
    ]);
  });

  it('ignores a sample older than the latest point', () => {
    const points = [point(300_000, 1, 0)];
    expect(addSample(points, point(2_000, 5, 0), 'week', new Map())).toBe(points);
  });
});
