import type { CallQuality, QualityWindow } from '../../shared/node-protocol/mediaStatus.js';

/**
 * The guide's perceived call quality (admin guide "Reporting of media statistics and perceived
 * call quality"; digest 4 §18), as plain functions: a 20-second window is Good below 1 % packet
 * loss, OK below 3 %, Bad below 10 %, else Terrible, one level worse when jitter passes 40 ms.
 * An ongoing call shows the most frequent quality of its 3 most recent windows; a completed call
 * the average of all its windows; any call shorter than one window is Unknown.
 */

export const QUALITY_WINDOW_MS = 20_000;
/** Windows considered for an ongoing call's current quality. */
export const CURRENT_WINDOWS = 3;
export const JITTER_DOWNGRADE_MS = 40;

const LEVELS: readonly CallQuality[] = ['1_good', '2_ok', '3_bad', '4_terrible'];

/** One window's quality from its packet loss (percent) and jitter (ms). */
export function windowQuality(packetLossPercent: number, jitterMs: number): CallQuality {
  const level = packetLossPercent < 1 ? 0 : packetLossPercent < 3 ? 1 : packetLossPercent < 10 ? 2 : 3;
  return LEVELS[Math.min(3, level + (jitterMs > JITTER_DOWNGRADE_MS ? 1 : 0))]!;
}

/**
 * The current quality of an ongoing call: the most frequent of the last 3 windows. When all
 * three differ the guide allows any of them; we show the most recent.
 */
export function currentQuality(windows: readonly Pick<QualityWindow, 'quality'>[]): CallQuality {
  const recent = windows
    .slice(-CURRENT_WINDOWS)
    .map((w) => w.quality)
    .filter((q) => q !== '0_unknown');
  if (recent.length === 0) return '0_unknown';
  const counts = new Map<CallQuality, number>();
  for (const q of recent) counts.set(q, (counts.get(q) ?? 0) + 1);
  let best: CallQuality = recent[recent.length - 1]!;
  for (const [q, n] of counts) if (n > counts.get(best)!) best = q;
  return best;
}

/** A completed call's overall quality: the average of its windows' levels, rounded to the nearest level. */
export function overallQuality(windows: readonly Pick<QualityWindow, 'quality'>[]): CallQuality {
  const levels = windows.map((w) => LEVELS.indexOf(w.quality)).filter((i) => i >= 0);
  if (levels.length === 0) return '0_unknown';
  const mean = levels.reduce((a, b) => a + b, 0) / levels.length;
  return LEVELS[Math.round(mean)]!;
}

/** The share of the call perceived Good or OK, in percent (the figure beside the guide's graph). */
export function goodOrOkPercent(windows: readonly Pick<QualityWindow, 'quality'>[]): number | null {
  const known = windows.filter((w) => w.quality !== '0_unknown');
  if (known.length === 0) return null;
  return Math.round((known.filter((w) => w.quality === '1_good' || w.quality === '2_ok').length / known.length) * 100);
}

/** Cumulative packet counters of a participant's streams (by stream and direction) at one moment. */
export interface PacketSample {
  at: number;
  /** Per stream and direction: packets that arrived (or were acknowledged as sent) and packets lost, since it started. */
  streams: Record<string, { packets: number; lost: number }>;
  /** The worst jitter of the participant's streams at that moment, ms. */
  jitterMs: number;
}

/** Fewer packets than this in a window say nothing about a stream's loss (a paused or starting stream). */
export const MIN_WINDOW_PACKETS = 20;

/**
 * Turns a participant's cumulative counters, sampled every few seconds, into 20-second windows.
 * A window closes at the first sample 20 s or more after it opened. Its loss is that of the
 * participant's worst stream direction in it (lost over expected): a lossy uplink is a bad call
 * however clean the downlink. Keeps at most `maxWindows` (the history graph's range).
 */
export class QualityWindows {
  private start: PacketSample | null = null;
  private worstJitter = 0;
  private readonly closed: QualityWindow[] = [];

  constructor(private readonly maxWindows = 360) {}

  add(sample: PacketSample): void {
    if (!this.start) {
      this.start = sample;
      this.worstJitter = sample.jitterMs;
      return;
    }
    this.worstJitter = Math.max(this.worstJitter, sample.jitterMs);
    if (sample.at - this.start.at < QUALITY_WINDOW_MS) return;
    let packetLoss = 0;
    let judged = 0;
    for (const [key, now] of Object.entries(sample.streams)) {
      const then = this.start.streams[key];
      // A stream that started in the window, or whose counters went back (replaced), counts from zero.
      const fresh = !then || now.packets < then.packets || now.lost < then.lost;
      const packets = fresh ? now.packets : now.packets - then.packets;
      const lost = fresh ? now.lost : now.lost - then.lost;
      if (packets + lost < MIN_WINDOW_PACKETS) continue;
      judged++;
      packetLoss = Math.max(packetLoss, (lost / (packets + lost)) * 100);
    }
    const jitter = Math.round(this.worstJitter * 10) / 10;
    // No media in the window (a control-only participant, media not started): nothing to judge.
    const quality = judged > 0 ? windowQuality(packetLoss, jitter) : '0_unknown';
    this.closed.push({ end: new Date(sample.at).toISOString(), quality, packetLoss: Math.round(packetLoss * 100) / 100, jitter });
    if (this.closed.length > this.maxWindows) this.closed.shift();
    this.start = sample;
    this.worstJitter = sample.jitterMs;
  }

  /** Completed windows, oldest first. */
  windows(): QualityWindow[] {
    return [...this.closed];
  }

  current(): CallQuality {
    return currentQuality(this.closed);
  }

  overall(): CallQuality {
    return overallQuality(this.closed);
  }
}
