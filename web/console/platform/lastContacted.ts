/** Pexip's expected replication interval: a node checks in about once a minute. */
export const REPLICATION_INTERVAL_MS = 60_000;

export type ContactColour = 'green' | 'orange' | 'red' | 'never';

/**
 * The guide's colour for "Last contacted": green = no issues; orange = no contact within the last
 * 2 expected replication intervals; red = no contact for some time (none within the last 5 minutes).
 */
export function lastContactedColour(lastContacted: string | null, now: number, intervalMs = REPLICATION_INTERVAL_MS): ContactColour {
  if (!lastContacted) return 'never';
  const silentFor = now - new Date(lastContacted).getTime();
  if (silentFor > Math.max(5 * 60_000, 2 * intervalMs)) return 'red';
  if (silentFor > 2 * intervalMs) return 'orange';
  return 'green';
}

export const contactBadgeClass: Record<ContactColour, string> = { green: 'badge ok', orange: 'badge soon', red: 'badge off', never: 'badge off' };
