import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { MeasuredStream } from '../media/MediaTypes.js';
import { participantMediaSchema, type ParticipantMedia, type ParticipantRecord } from '../../shared/node-protocol/mediaStatus.js';
import { MEDIA_STATISTICS_INTERVAL_MS } from '../../shared/node-protocol/messages.js';
import { ParticipantMeter, type ClientReported } from './ParticipantMeter.js';

export interface MediaStatisticsOptions {
  /** How often every participant's streams are measured and reported; default 5 s (node protocol). */
  intervalMs?: number;
  log?: Logger;
  now?: () => number;
}

/**
 * The node's media statistics: every few seconds, each participant's streams are measured
 * (multi-stream sessions and single-stream calls alike) into a ParticipantMeter, whose figures
 * feed the management server, the client API's `statistics` and the participant's end record.
 * Quality windows follow the `now` clock of the measurements (20 s of it per window).
 */
/** A participant whose streams can be measured now. */
export interface MeasurableParticipant {
  conferenceId: string;
  participantId: string;
  /** Its streams (single-stream call or multi-stream session); none when it has no media. */
  measure(): Promise<MeasuredStream[]>;
}

export interface MediaStatisticsEvents {
  /** Every measurement of all participants (the management link sends it on). */
  report: [at: string, participants: ParticipantMedia[]];
}

export class MediaStatistics extends EventEmitter<MediaStatisticsEvents> {
  private readonly meters = new Map<string, ParticipantMeter>();
  private timer: NodeJS.Timeout | undefined;
  private sampling: Promise<void> | null = null;
  private readonly now: () => number;

  /**
   * `participants` lists who is on the node now; a participant is measured once `track`ed (on
   * join) and until `finish`ed (on leave, which takes its record).
   */
  constructor(
    private readonly participants: () => MeasurableParticipant[],
    private readonly opts: MediaStatisticsOptions = {},
  ) {
    super();
    this.now = opts.now ?? Date.now;
  }

  track(conferenceId: string, participantId: string): void {
    if (!this.meters.has(participantId)) this.meters.set(participantId, new ParticipantMeter(conferenceId, participantId, this.now()));
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.sample(), this.opts.intervalMs ?? MEDIA_STATISTICS_INTERVAL_MS).unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Measures every participant now (one measurement at a time) and reports them. */
  sample(): Promise<void> {
    this.sampling ??= this.measureAll().finally(() => (this.sampling = null));
    return this.sampling;
  }

  private async measureAll(): Promise<void> {
    const at = this.now();
    const out: ParticipantMedia[] = [];
    for (const p of this.participants()) {
      const meter = this.meters.get(p.participantId);
      if (!meter) continue;
      let streams: MeasuredStream[] | undefined;
      try {
        streams = await p.measure();
      } catch (err) {
        this.opts.log?.warn({ err, participant: p.participantId }, 'media statistics: a participant could not be measured');
      }
      // The participant may have left while we measured: its record is already taken.
      if (this.meters.get(p.participantId) !== meter) continue;
      // A failed measurement says nothing of the streams: they are not ended by it.
      if (streams) meter.update(at, streams);
      out.push(participantMediaSchema.parse(meter.snapshot()));
    }
    this.emit('report', new Date(at).toISOString(), out);
  }

  /** The participant's live figures, if it is on this node. */
  participant(participantId: string): ParticipantMedia | undefined {
    const m = this.meters.get(participantId);
    return m ? participantMediaSchema.parse(m.snapshot()) : undefined;
  }

  /** The participant's own report of a stream type (client API `statistics`). */
  clientReport(participantId: string, type: 'audio' | 'video' | 'presentation', report: ClientReported): void {
    this.meters.get(participantId)?.clientReport(type, report);
  }

  /** Packets the node received and sent for its participants, and those lost, since it started. */
  totals(): { rx: { packets: number; lost: number }; tx: { packets: number; lost: number } } {
    const t = structuredClone(this.finished);
    for (const m of this.meters.values()) {
      for (const d of ['rx', 'tx'] as const) {
        t[d].packets += m.totals[d].packets;
        t[d].lost += m.totals[d].lost;
      }
    }
    return t;
  }

  private readonly finished = { rx: { packets: 0, lost: 0 }, tx: { packets: 0, lost: 0 } };

  /** The participant left: its end record (what the CDR keeps); the meter is dropped. */
  finish(participantId: string, reason: string): ParticipantRecord | undefined {
    const m = this.meters.get(participantId);
    if (!m) return undefined;
    this.meters.delete(participantId);
    for (const d of ['rx', 'tx'] as const) {
      this.finished[d].packets += m.totals[d].packets;
      this.finished[d].lost += m.totals[d].lost;
    }
    return m.record(this.now(), reason);
  }

  /** Every participant's current figures (for node load: what each call costs). */
  all(): ParticipantMedia[] {
    return [...this.meters.values()].map((m) => participantMediaSchema.parse(m.snapshot()));
  }
}
