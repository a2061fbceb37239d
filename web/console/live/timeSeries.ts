import type { EChartsCoreOption } from 'echarts/core';
import type { TimeSeriesPoint, TimeSeriesRange } from '../../../shared/status/liveView.js';

/** Each range's point width and span (shared/status/liveView.ts: 2-s points for an hour, 1-min for a day, 5-min for 7 days). */
export const RANGES: Record<TimeSeriesRange, { label: string; step: number; span: number }> = {
  hour: { label: '1 hour', step: 2_000, span: 3_600_000 },
  day: { label: '1 day', step: 60_000, span: 86_400_000 },
  week: { label: '7 days', step: 300_000, span: 7 * 86_400_000 },
};

/**
 * Adds a new 2-s sample to a range's points: its own point over an hour; over a day or a week it
 * joins the point of its interval as the server makes them (counts and loads the peak, packet loss
 * the mean of the samples, counted here from `n` already in the point).
 */
export function addSample(points: TimeSeriesPoint[], sample: TimeSeriesPoint, range: TimeSeriesRange, counts: Map<number, number>): TimeSeriesPoint[] {
  const { step, span } = RANGES[range];
  const t = Math.floor(sample.t / step) * step;
  const last = points.at(-1);
  const kept = points.filter((p) => p.t > sample.t - span);
  if (last && last.t > t) return points;
  if (!last || last.t < t) {
    counts.set(t, 1);
    return [...kept, { ...sample, t }];
  }
  if (range === 'hour') return [...kept.slice(0, -1), sample];
  const n = counts.get(t) ?? 1;
  counts.set(t, n + 1);
  const mean = (a: number, b: number) => (a * n + b) / (n + 1);
  const locations: TimeSeriesPoint['locations'] = { ...last.locations };
  for (const [name, l] of Object.entries(sample.locations)) {
    const o = last.locations[name];
    locations[name] = o
      ? {
          conferences: Math.max(o.conferences, l.conferences),
          participants: Math.max(o.participants, l.participants),
          mediaLoad: Math.max(o.mediaLoad, l.mediaLoad),
          packetLoss: mean(o.packetLoss, l.packetLoss),
        }
      : l;
  }
  const nodes = { ...last.nodes };
  for (const [name, load] of Object.entries(sample.nodes)) nodes[name] = Math.max(nodes[name] ?? 0, load);
  const merged: TimeSeriesPoint = {
    t,
    conferences: Math.max(last.conferences, sample.conferences),
    participants: Math.max(last.participants, sample.participants),
    packetLoss: mean(last.packetLoss, sample.packetLoss),
    locations,
    nodes,
  };
  return [...kept.slice(0, -1), merged];
}

type Series = { name: string; values: (p: TimeSeriesPoint) => number | undefined };

/** The line chart's option: one line per series over time, in the browser's time zone. */
export function lineOption(points: TimeSeriesPoint[], series: Series[], unit: string): EChartsCoreOption {
  return {
    animation: false,
    tooltip: { trigger: 'axis' },
    legend: { type: 'scroll', top: 0 },
    grid: { left: 48, right: 16, top: 32, bottom: 28 },
    xAxis: { type: 'time' },
    yAxis: { type: 'value', minInterval: unit === '' ? 1 : undefined, axisLabel: { formatter: `{value}${unit}` } },
    series: series.map((s) => ({
      name: s.name,
      type: 'line',
      showSymbol: false,
      data: points.map((p) => [p.t, s.values(p) ?? null]),
    })),
  };
}

/** Every location and node named in the points (a node or location may come and go over the range). */
export function namesIn(points: TimeSeriesPoint[], key: 'locations' | 'nodes'): string[] {
  const names = new Set<string>();
  for (const p of points) for (const name of Object.keys(p[key])) names.add(name);
  return [...names].sort();
}
