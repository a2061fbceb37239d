import { and, asc, eq, gt, lt, ne, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import { backplaneHistory, conferenceHistory, mediaStreamHistory, participantHistory } from '../../db/schema.js';
import type { Database } from '../../db/client.js';
import { toPexipMediaStream } from '../../shared/node-protocol/mediaStatus.js';
import type { ConferenceRecord, LiveParticipant, NodeToServer } from '../../shared/node-protocol/messages.js';
import type { LiveStatus } from '../status/LiveStatus.js';
import type { BrokeredBackplane } from '../platform/BackplaneBroker.js';
import { encryptionOf } from '../status/statusObjects.js';

/** The node a message came from, as the registry authenticated it. */
export interface ReportingNode {
  id: number;
  name: string;
  location: string;
}

type ParticipantLeft = Extract<NodeToServer, { type: 'participant_left' }>;
type ConferenceEnded = Extract<NodeToServer, { type: 'conference_ended' }>;

const seconds = (from: string, to: string) => Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000));

type Tx = Parameters<Parameters<Database['transaction']>[0]>[0];

/** One history writer at a time per conference name, across management servers on one Postgres (the merge below reads then writes). */
const lockName = (tx: Tx, name: string) => tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${`history|${name}`}))`);

/**
 * The history row a node's conference instance belongs to. A conference spanning nodes has an
 * instance on each, and Pexip keeps one record for it: an instance whose own row is not written
 * joins the row of the same name whose span overlaps its own (an instance on another node that
 * ended first). Two meetings of one VMR one after the other do not overlap and stay apart.
 */
async function conferenceRowFor(tx: Tx, instanceId: string, name: string, from: Date, to: Date): Promise<string> {
  const own = await tx.select({ id: conferenceHistory.id }).from(conferenceHistory).where(eq(conferenceHistory.id, instanceId));
  if (own.length > 0) return instanceId;
  const [other] = await tx
    .select({ id: conferenceHistory.id })
    .from(conferenceHistory)
    .where(
      and(eq(conferenceHistory.name, name), ne(conferenceHistory.id, instanceId), lt(conferenceHistory.startTime, to), gt(conferenceHistory.endTime, from)),
    )
    .orderBy(asc(conferenceHistory.startTime))
    .limit(1);
  return other?.id ?? instanceId;
}

/**
 * Writes the conference history (CDRs) from what nodes report: a participant's row with its media
 * streams when it leaves, the conference's row when it ends. A node resends records it could not
 * deliver, so every write is keyed by the node's id for the participant or conference instance and
 * a record seen twice is written once. Writes run one after another, so a conference's participant
 * count and its late participants never race. A conference on several nodes is one record: start
 * the earliest, end the latest, and the participants of every node under it.
 */
export class HistoryRecorder {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Database,
    private readonly live: LiveStatus,
    private readonly log: Logger,
  ) {}

  /** Takes a node's message (before live status forgets what it names); only ends are kept. */
  accept(node: ReportingNode, msg: NodeToServer): void {
    if (msg.type === 'participant_left') {
      // Older nodes do not send who it was: what live status still knows stands in.
      const known = msg.participant ? null : this.liveParticipant(msg.conferenceId, msg.participantId);
      const conference = msg.conference ?? this.liveConference(msg.conferenceId);
      const participant = msg.participant ?? known;
      if (!participant || !conference) {
        this.log.warn({ node: node.name, participant: msg.participantId }, 'participant record without its participant or conference: not kept');
        return;
      }
      this.enqueue(() => this.writeParticipant(node, msg, participant, conference));
    } else if (msg.type === 'conference_ended') {
      const conference = msg.conference ?? this.liveConference(msg.conferenceId);
      if (!conference) {
        this.log.warn({ node: node.name, conference: msg.conferenceId }, 'conference end without its conference: not kept');
        return;
      }
      this.enqueue(() => this.writeConference(node, msg, conference));
    }
  }

  /**
   * A backplane this server brokered has closed: one row per link (a→b, b→a), as status/v1 listed
   * them. Written once: only the brokering server of a cluster records it.
   */
  backplaneClosed(bp: BrokeredBackplane, endTime = new Date()): void {
    const start = new Date(bp.startTime);
    const duration = Math.max(0, Math.round((endTime.getTime() - start.getTime()) / 1000));
    const rows = (
      [
        [bp.a, bp.b, bp.linkIds[0]],
        [bp.b, bp.a, bp.linkIds[1]],
      ] as const
    ).map(([from, to, id]) => ({
      id,
      backplaneId: bp.id,
      conference: bp.conference,
      mediaNode: from.name,
      remoteMediaNode: to.name,
      remoteConferenceName: bp.conference,
      systemLocation: from.location,
      type: bp.type,
      startTime: start,
      endTime,
      duration,
    }));
    this.enqueue(async () => {
      await this.db.insert(backplaneHistory).values(rows).onConflictDoNothing();
    });
  }

  /** Resolves when every record taken so far is written (tests, shutdown). */
  settled(): Promise<void> {
    return this.chain;
  }

  private enqueue(write: () => Promise<void>): void {
    this.chain = this.chain.then(write).catch((err: unknown) => this.log.error({ err }, 'a history record could not be written'));
  }

  private liveConference(id: string): ConferenceRecord | null {
    const c = this.live.conferences().find((x) => x.id === id);
    return c ? { name: c.name, serviceType: c.serviceType, tag: '', startTime: c.startTime } : null;
  }

  private liveParticipant(conferenceId: string, participantId: string): LiveParticipant | null {
    const c = this.live.conferences().find((x) => x.id === conferenceId);
    return c?.participants.find((p) => p.id === participantId) ?? null;
  }

  private async writeParticipant(node: ReportingNode, msg: ParticipantLeft, p: LiveParticipant, conference: ConferenceRecord): Promise<void> {
    const record = msg.record;
    const endTime = record?.endTime ?? new Date().toISOString();
    const streams = record?.mediaStreams ?? [];
    await this.db.transaction(async (tx) => {
      await lockName(tx, conference.name);
      // Under its conference's record: its own instance's, or one from another node already ended.
      const conferenceId = await conferenceRowFor(tx, msg.conferenceId, conference.name, new Date(conference.startTime), new Date(endTime));
      const inserted = await tx
        .insert(participantHistory)
        .values({
          id: msg.participantId,
          conferenceId,
          conferenceName: conference.name,
          displayName: p.displayName,
          localAlias: p.alias,
          remoteAddress: p.remoteAddress,
          remoteAlias: (p.remoteAlias ?? '').slice(0, 250),
          role: p.role,
          serviceType: conference.serviceType,
          protocol: p.protocol,
          callDirection: p.callDirection ?? 'in',
          callQuality: record?.callQuality ?? '0_unknown',
          startTime: new Date(p.connectTime),
          endTime: new Date(endTime),
          duration: seconds(p.connectTime, endTime),
          disconnectReason: (record?.disconnectReason ?? '').slice(0, 250),
          mediaNode: p.mediaNode ?? node.name,
          signallingNode: node.name,
          systemLocation: node.location,
          details: {
            service_tag: conference.tag,
            call_tag: msg.callTag ?? '',
            ...(encryptionOf(p) ? { encryption: encryptionOf(p) } : {}),
            has_media: streams.length > 0,
            rx_bandwidth: Math.round(record?.rxBandwidth ?? 0),
            tx_bandwidth: Math.round(record?.txBandwidth ?? 0),
            bandwidth: Math.round((record?.rxBandwidth ?? 0) + (record?.txBandwidth ?? 0)),
            historic_call_quality: (record?.qualityWindows ?? []).map((w) => ({ end: w.end, quality: w.quality, packet_loss: w.packetLoss, jitter: w.jitter })),
          },
        })
        .onConflictDoNothing({ target: participantHistory.id })
        .returning({ id: participantHistory.id });
      // Seen before (a resend after the node's reconnection): already written with its streams.
      if (inserted.length === 0) return;
      if (streams.length > 0) {
        await tx.insert(mediaStreamHistory).values(
          streams.map((s) => {
            const { id: _id, type: _type, node: _node, start_time: _start, end_time: _end, ...figures } = toPexipMediaStream(s, node.name);
            return {
              participantId: msg.participantId,
              streamId: s.id.slice(0, 64),
              streamType: s.type,
              node: node.name,
              startTime: new Date(s.startTime),
              endTime: new Date(s.endTime ?? endTime),
              figures,
            };
          }),
        );
      }
      // Its conference already ended (the participant's record came late): it counts one more call.
      await tx
        .update(conferenceHistory)
        .set({ participantCount: sql`${conferenceHistory.participantCount} + 1` })
        .where(eq(conferenceHistory.id, conferenceId));
    });
  }

  private async writeConference(node: ReportingNode, msg: ConferenceEnded, conference: ConferenceRecord): Promise<void> {
    const endTime = msg.endTime ?? new Date().toISOString();
    await this.db.transaction(async (tx) => {
      await lockName(tx, conference.name);
      const target = await conferenceRowFor(tx, msg.conferenceId, conference.name, new Date(conference.startTime), new Date(endTime));
      // Participant count: every call to it (guide: a reconnection counts twice), as written so far.
      const [count] = await tx
        .select({ n: sql<number>`count(*)::int` })
        .from(participantHistory)
        .where(eq(participantHistory.conferenceId, msg.conferenceId));
      if (target !== msg.conferenceId) {
        // The same conference on another node, already recorded: this instance widens it and adds its participants.
        await tx.update(participantHistory).set({ conferenceId: target }).where(eq(participantHistory.conferenceId, msg.conferenceId));
        const start = sql`least(${conferenceHistory.startTime}, ${new Date(conference.startTime).toISOString()}::timestamptz)`;
        const end = sql`greatest(${conferenceHistory.endTime}, ${new Date(endTime).toISOString()}::timestamptz)`;
        await tx
          .update(conferenceHistory)
          .set({
            startTime: start,
            endTime: end,
            duration: sql`greatest(0, round(extract(epoch from (${end} - ${start}))))::int`,
            participantCount: sql`${conferenceHistory.participantCount} + ${count?.n ?? 0}`,
          })
          .where(eq(conferenceHistory.id, target));
        return;
      }
      await tx
        .insert(conferenceHistory)
        .values({
          id: msg.conferenceId,
          name: conference.name,
          serviceType: conference.serviceType,
          tag: conference.tag,
          startTime: new Date(conference.startTime),
          endTime: new Date(endTime),
          duration: seconds(conference.startTime, endTime),
          participantCount: count?.n ?? 0,
          node: node.name,
        })
        .onConflictDoNothing({ target: conferenceHistory.id });
    });
  }
}
