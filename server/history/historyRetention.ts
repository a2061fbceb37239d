import { desc, inArray, lt } from 'drizzle-orm';
import { backplaneHistory, conferenceHistory, mediaStreamHistory, participantHistory } from '../../db/schema.js';
import type { Database } from '../../db/client.js';
import { chunks } from '../config/store/ResourceStore.js';
import { globalResource } from '../../shared/config/resources/platform.js';
import { getSingletonRecord } from '../config/config.service.js';
import type { Domain } from '../domain.js';
import type { Logger } from 'pino';
import { claimRun, intervalSlot } from '../platform/cluster/scheduledRuns.js';

/** Guide: Conference History lists the most recent 10,000 conferences; Participant History the calls of the 5,000 most recent. */
export const MAX_CONFERENCES = 10_000;
export const MAX_CONFERENCES_WITH_PARTICIPANTS = 5_000;

/** How often the purge runs. */
export const PURGE_INTERVAL_MS = 60 * 60_000;

export interface PurgeResult {
  conferences: number;
  participants: number;
}

/**
 * Purges the conference history as the guide's settings say: records older than "Maximum log age
 * (days)" (Global Settings `logs_max_age`; 0 = no age limit), and beyond the guide's limits of
 * 10,000 conferences and the participants of the 5,000 most recent ones. A participant's media
 * streams go with it.
 */
export async function purgeHistory(dom: Domain, now = new Date()): Promise<PurgeResult> {
  const days = (await getSingletonRecord(dom, globalResource)).logs_max_age;
  const db = dom.db;
  let conferences = 0;
  const goneParticipants: string[] = [];
  if (days > 0) {
    const cutoff = new Date(now.getTime() - days * 86_400_000);
    conferences += (await db.delete(conferenceHistory).where(lt(conferenceHistory.endTime, cutoff)).returning({ id: conferenceHistory.id })).length;
    const old = await db.delete(participantHistory).where(lt(participantHistory.endTime, cutoff)).returning({ id: participantHistory.id });
    await db.delete(backplaneHistory).where(lt(backplaneHistory.endTime, cutoff));
    goneParticipants.push(...old.map((p) => p.id));
  }
  conferences += await dropBeyond(db, MAX_CONFERENCES);
  // Participants of conferences past the 5,000 most recent (those still running are in no conference row yet).
  const beyond = db
    .select({ id: conferenceHistory.id })
    .from(conferenceHistory)
    .orderBy(desc(conferenceHistory.endTime), desc(conferenceHistory.id))
    .offset(MAX_CONFERENCES_WITH_PARTICIPANTS);
  const dropped = await db.delete(participantHistory).where(inArray(participantHistory.conferenceId, beyond)).returning({ id: participantHistory.id });
  goneParticipants.push(...dropped.map((p) => p.id));
  for (const ids of chunks(goneParticipants, 1_000)) {
    await db.delete(mediaStreamHistory).where(inArray(mediaStreamHistory.participantId, ids));
  }
  return { conferences, participants: goneParticipants.length };
}

async function dropBeyond(db: Database, keep: number): Promise<number> {
  const beyond = db
    .select({ id: conferenceHistory.id })
    .from(conferenceHistory)
    .orderBy(desc(conferenceHistory.endTime), desc(conferenceHistory.id))
    .offset(keep);
  const gone = await db.delete(conferenceHistory).where(inArray(conferenceHistory.id, beyond)).returning({ id: conferenceHistory.id });
  // A conference removed on its own takes its participants with it.
  if (gone.length > 0) {
    for (const ids of chunks(
      gone.map((c) => c.id),
      1_000,
    )) {
      const ps = await db.delete(participantHistory).where(inArray(participantHistory.conferenceId, ids)).returning({ id: participantHistory.id });
      for (const pIds of chunks(
        ps.map((p) => p.id),
        1_000,
      )) {
        await db.delete(mediaStreamHistory).where(inArray(mediaStreamHistory.participantId, pIds));
      }
    }
  }
  return gone.length;
}

/**
 * Runs the purge 5 s after the start and every `intervalMs`; returns the stopper. With several
 * management servers on one database, each interval's purge runs on one of them only (claimRun).
 */
export function schedulePurge(dom: Domain, log: Pick<Logger, 'info' | 'error'>, intervalMs = PURGE_INTERVAL_MS): () => void {
  const run = async () => {
    const slot = intervalSlot(intervalMs);
    if (!(await claimRun(dom.db, 'history_purge', slot))) return;
    const purged = await purgeHistory(dom);
    log.info({ job: 'history_purge', slot, ...purged }, 'history purge ran');
  };
  const runLogged = () => void run().catch((err: unknown) => log.error({ err }, 'the history purge failed'));
  const first = setTimeout(runLogged, Math.min(5_000, intervalMs));
  const timer = setInterval(runLogged, intervalMs);
  first.unref();
  timer.unref();
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
