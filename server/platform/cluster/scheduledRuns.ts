import { sql } from 'drizzle-orm';
import type { Database } from '../../../db/client.js';
import { platformSetting } from '../../../db/schema.js';

/** Jobs that run once per slot across all management servers on one database. */
export type ScheduledJob = 'history_purge' | 'automatic_backup' | 'certificate_check';

/** A slot as a sortable string (text comparison in SQL must order slots as numbers do). */
const slotValue = (slot: number) => String(Math.max(0, Math.floor(slot))).padStart(16, '0');

/**
 * Claims one run of a scheduled job: true for exactly one caller per job and slot (e.g. the hour
 * of an hourly job), whichever management server asks first; false for the others and for an older
 * slot. One conditional upsert, so two servers asking at the same instant cannot both win; the
 * embedded database answers the same way for its one server.
 */
export async function claimRun(db: Database, job: ScheduledJob, slot: number): Promise<boolean> {
  const value = slotValue(slot);
  const won = await db
    .insert(platformSetting)
    .values({ key: `scheduled:${job}`, value })
    .onConflictDoUpdate({ target: platformSetting.key, set: { value }, setWhere: sql`${platformSetting.value} < ${value}` })
    .returning({ key: platformSetting.key });
  return won.length > 0;
}

/** The slot of an interval job at `now`: each interval-long window is one slot. */
export const intervalSlot = (intervalMs: number, now = Date.now()): number => Math.floor(now / intervalMs);
