import type { TimeSeriesPoint, TimeSeriesRange } from '../../shared/status/liveView.js';

interface Tier {
  stepMs: number;
  keep: number;
  points: TimeSeriesPoint[];
  /** The coarse point being built from finer samples, and how many samples it holds (for the mean loss). */
  open: { point: TimeSeriesPoint; lossSum: number; n: number; locationLoss: Record<string, { sum: number; n: number }> } | null;
}

/** 2-s points for the last hour, 1-min points for the last day, 5-min points for the guide's 7 days of rewind. */
export const TIERS: Record<TimeSeriesRange, { stepMs: number; keep: number }> = {
  hour: { stepMs: 2_000, keep: 1_800 },
  day: { stepMs: 60_000, keep: 1_440 },
  week: { stepMs: 300_000, keep: 2_016 },
};

const slot = (t: number, stepMs: number): number => Math.floor(t / stepMs);

/** Old points are dropped in batches of an eighth of a range (one splice per batch, not per sample). */
function trim(tier: Tier): void {
  if (tier.points.length >= tier.keep + Math.ceil(tier.keep / 8)) tier.points.splice(0, tier.points.length - tier.keep);
}

/**
 * The live graphs' history, in memory and bounded: each range keeps a fixed number of points
 * (5,256 in all, plus at most an eighth more awaiting removal, whatever the uptime). Coarser points are built from the 2-s samples as they come:
 * counts and loads take the peak (a spike stays visible), packet loss the mean.
 */
export class TimeSeries {
  private readonly tiers: Record<TimeSeriesRange, Tier> = {
    hour: { ...TIERS.hour, points: [], open: null },
    day: { ...TIERS.day, points: [], open: null },
    week: { ...TIERS.week, points: [], open: null },
  };

  add(sample: TimeSeriesPoint): void {
    const hour = this.tiers.hour;
    const last = hour.points.at(-1);
    // One point per 2-s slot: a sample taken on a change between ticks replaces the slot's point (the latest figures win), so an hour stays 1,800 points.
    if (last && slot(last.t, hour.stepMs) === slot(sample.t, hour.stepMs)) hour.points[hour.points.length - 1] = sample;
    else hour.points.push(sample);
    trim(hour);
    this.fold(this.tiers.day, sample);
    this.fold(this.tiers.week, sample);
  }

  private fold(tier: Tier, s: TimeSeriesPoint): void {
    const start = s.t - (s.t % tier.stepMs);
    if (tier.open && tier.open.point.t !== start) {
      this.close(tier);
    }
    if (!tier.open) {
      const locationLoss = Object.fromEntries(Object.entries(s.locations).map(([name, l]) => [name, { sum: l.packetLoss, n: 1 }]));
      tier.open = { point: { ...structuredClone(s), t: start }, lossSum: s.packetLoss, n: 1, locationLoss };
      return;
    }
    const o = tier.open;
    const p = o.point;
    p.conferences = Math.max(p.conferences, s.conferences);
    p.participants = Math.max(p.participants, s.participants);
    o.lossSum += s.packetLoss;
    o.n++;
    p.packetLoss = o.lossSum / o.n;
    for (const [name, l] of Object.entries(s.locations)) {
      const q = (p.locations[name] ??= { conferences: 0, participants: 0, mediaLoad: 0, packetLoss: 0 });
      q.conferences = Math.max(q.conferences, l.conferences);
      q.participants = Math.max(q.participants, l.participants);
      q.mediaLoad = Math.max(q.mediaLoad, l.mediaLoad);
      const loss = (o.locationLoss[name] ??= { sum: 0, n: 0 });
      loss.sum += l.packetLoss;
      loss.n++;
      q.packetLoss = loss.sum / loss.n;
    }
    for (const [name, load] of Object.entries(s.nodes)) p.nodes[name] = Math.max(p.nodes[name] ?? 0, load);
  }

  private close(tier: Tier): void {
    if (!tier.open) return;
    tier.points.push(tier.open.point);
    trim(tier);
    tier.open = null;
  }

  /** The points of a range, oldest first; the coarse ranges end with the point still being built. */
  range(range: TimeSeriesRange, now = Date.now()): TimeSeriesPoint[] {
    const tier = this.tiers[range];
    const from = now - tier.stepMs * tier.keep;
    const points = tier.points.slice(-tier.keep).filter((p) => p.t >= from);
    if (tier.open) points.push(structuredClone(tier.open.point));
    return points;
  }

  /** The newest 2-s point, if any. */
  get latest(): TimeSeriesPoint | undefined {
    return this.tiers.hour.points.at(-1);
  }

  /** Points held in all ranges (bounded by TIERS). */
  get size(): number {
    return Object.values(this.tiers).reduce((n, t) => n + t.points.length + (t.open ? 1 : 0), 0);
  }
}
