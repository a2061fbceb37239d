import { callQualityColour, type CallQuality } from '../../../shared/node-protocol/mediaStatus.js';

/** Pexip's history times are naive UTC (`2024-05-01T12:34:56.123456`): shown in the browser's time zone. */
export function historyTime(t: string | null | undefined): string {
  if (!t) return '—';
  const d = new Date(/[zZ]|[+-]\d\d:\d\d$/.test(t) ? t : `${t}Z`);
  return Number.isNaN(d.getTime()) ? t : d.toLocaleString();
}

/** Seconds as the console shows durations: 1:02:03, 2:03. */
export function duration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${m}:${two(s)}`;
}

const QUALITY_LABELS: Record<CallQuality, string> = { '0_unknown': 'Unknown', '1_good': 'Good', '2_ok': 'OK', '3_bad': 'Bad', '4_terrible': 'Terrible' };

export function qualityLabel(q: string): string {
  return QUALITY_LABELS[q as CallQuality] ?? q;
}

/** The guide's colours: green for Good or OK, red for Bad or Terrible. */
export function qualityClass(q: string): string {
  return q in QUALITY_LABELS ? `quality ${callQualityColour(q as CallQuality)}` : 'quality grey';
}

/** `YYYY-MM-DD` from a date input, as the start of that day in the browser's time zone (ISO); `dayAfter` for an inclusive end. */
export function dayStart(day: string, dayAfter = false): string | undefined {
  if (!/^\d{4}-\d\d-\d\d$/.test(day)) return undefined;
  const d = new Date(`${day}T00:00:00`);
  if (dayAfter) d.setDate(d.getDate() + 1);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export const roleLabel = (r: string) => (r === 'chair' ? 'Host' : r === 'guest' ? 'Guest' : 'Unknown');
