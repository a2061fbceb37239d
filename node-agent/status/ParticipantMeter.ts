import type { MeasuredDirection, MeasuredStream } from '../media/MediaTypes.js';
import type { CallQuality, MediaStream, ParticipantRecord, QualityWindow, StreamDirection } from '../../shared/node-protocol/mediaStatus.js';
import { QualityWindows } from './CallQuality.js';

/** What a participant's own client reported for one stream type (client API `statistics`), merged where the node cannot measure. */
export interface ClientReported {
  /** What the client sends (its tx_): resolution and frame rate of the stream the node receives. */
  sent?: { resolution?: string; fps?: number };
  /** What the client receives (its rx_). */
  received?: { resolution?: string; fps?: number };
}

/** Windows shown in the live graph: the last 5 minutes. */
export const LIVE_WINDOWS = 15;

const round1 = (n: number) => Math.round(n * 10) / 10;
const round2 = (n: number) => Math.round(n * 100) / 100;

interface Counters {
  packets: number;
  lost: number;
}

/**
 * One participant's media over its call: each measurement of its streams becomes per-stream loss
 * (since the start, and since the previous measurement), monotonic totals for the guide's
 * 20-second quality windows, and at the end the record a CDR keeps.
 */
export class ParticipantMeter {
  private readonly quality = new QualityWindows();
  /** Per stream and direction: the counters last seen, and losses accumulated while the stream lived. */
  private readonly previous = new Map<string, Counters>();
  /** Every stream seen, with its last figures (ended ones keep theirs). */
  private readonly streams = new Map<string, MediaStream>();
  /** Per stream and direction, this measurement's cumulative counters (for the quality windows). */
  private counters: Record<string, Counters> = {};
  private bandwidth = { rx: 0, tx: 0, samples: 0 };
  private latest = { rx: 0, tx: 0 };
  private readonly reported = new Map<MediaStream['type'], ClientReported>();

  /** When the previous successful measurement was taken. */
  private measuredAt: number | undefined;

  /** `joinedAt` (ms): streams seen at the first measurement started after it, not at that measurement. */
  constructor(
    readonly conferenceId: string,
    readonly participantId: string,
    private readonly joinedAt?: number,
  ) {}

  /** The client's own report (client API `statistics`): kept for the figures only it knows. */
  clientReport(type: MediaStream['type'], report: ClientReported): void {
    this.reported.set(type, report);
  }

  /** Packets delivered and lost since the meter started, by direction (the node's /metrics counters). */
  readonly totals = { rx: { packets: 0, lost: 0 }, tx: { packets: 0, lost: 0 } };

  /** Takes one measurement of the participant's streams at `at` (ms). */
  update(at: number, measured: readonly MeasuredStream[]): void {
    const iso = new Date(at).toISOString();
    let worstJitter = 0;
    const live = new Set<string>();
    let rxKbps = 0;
    let txKbps = 0;
    this.counters = {};
    // A stream first seen now started after the previous measurement (before the first, after the join):
    // dated from then, at most one interval early, rather than up to one interval late.
    const since = this.measuredAt ?? this.joinedAt;
    const firstSeen = since !== undefined ? new Date(since).toISOString() : iso;
    this.measuredAt = at;
    for (const m of measured) {
      live.add(m.id);
      // A stream back after a gap (a replaced producer or consumer: ICE restart, renegotiation) is
      // the same stream of the call: it keeps its first start, and is open again.
      const startTime = this.streams.get(m.id)?.startTime ?? firstSeen;
      const reported = this.reported.get(m.type);
      const rx = m.rx ? this.direction(`${m.id}/rx`, m.rx, 'rx', reported?.sent) : undefined;
      const tx = m.tx ? this.direction(`${m.id}/tx`, m.tx, 'tx', reported?.received) : undefined;
      worstJitter = Math.max(worstJitter, rx?.jitter ?? 0, tx?.jitter ?? 0);
      rxKbps += rx?.bitrate ?? 0;
      txKbps += tx?.bitrate ?? 0;
      this.streams.set(m.id, { id: m.id, type: m.type, startTime, ...(rx ? { rx } : {}), ...(tx ? { tx } : {}) });
    }
    // Streams no longer measured have ended.
    for (const [id, s] of this.streams) if (!live.has(id) && !s.endTime) this.streams.set(id, { ...s, endTime: iso });
    this.latest = { rx: round1(rxKbps), tx: round1(txKbps) };
    this.bandwidth = { rx: this.bandwidth.rx + rxKbps, tx: this.bandwidth.tx + txKbps, samples: this.bandwidth.samples + 1 };
    this.quality.add({ at, streams: this.counters, jitterMs: worstJitter });
  }

  private direction(key: string, m: MeasuredDirection, dir: 'rx' | 'tx', reported: { resolution?: string; fps?: number } | undefined): StreamDirection {
    // rx: expected = received + lost; tx: the receiver reports lost among what we sent.
    const delivered = dir === 'rx' ? m.packets : Math.max(0, m.packets - m.packetsLost);
    const expected = delivered + m.packetsLost;
    const before = this.previous.get(key);
    // A counter that went back is a new stream (replaced producer or consumer): start over.
    const fresh = !before || delivered < before.packets || m.packetsLost < before.lost;
    const dDelivered = fresh ? delivered : delivered - before.packets;
    const dLost = fresh ? m.packetsLost : m.packetsLost - before.lost;
    this.previous.set(key, { packets: delivered, lost: m.packetsLost });
    // Call quality: what the node receives from the participant, and what it makes for them (the
    // mix). A forwarded stream's reported loss mixes its sender's gaps with this link's: left out.
    if (!(dir === 'tx' && m.forwarded)) this.counters[key] = { packets: delivered, lost: m.packetsLost };
    const windowExpected = dDelivered + dLost;
    this.totals[dir].packets += dDelivered;
    this.totals[dir].lost += dLost;
    return {
      ...(m.codec ? { codec: m.codec } : {}),
      ...(reported?.resolution ? { resolution: reported.resolution } : {}),
      ...(reported?.fps !== undefined ? { fps: reported.fps } : {}),
      bitrate: round1(m.bitrate / 1000),
      packets: m.packets,
      packetsLost: m.packetsLost,
      packetLoss: expected > 0 ? round2((m.packetsLost / expected) * 100) : 0,
      windowedPacketLoss: windowExpected > 0 ? round2((dLost / windowExpected) * 100) : 0,
      ...(m.jitterMs !== undefined ? { jitter: m.jitterMs } : {}),
      ...(m.rttMs !== undefined ? { rtt: m.rttMs } : {}),
    };
  }

  callQuality(): CallQuality {
    return this.quality.current();
  }

  windows(): QualityWindow[] {
    return this.quality.windows();
  }

  /** The live figures: streams still running, current quality, the last 5 minutes of windows. */
  snapshot() {
    return {
      conferenceId: this.conferenceId,
      participantId: this.participantId,
      callQuality: this.quality.current(),
      streams: [...this.streams.values()].filter((s) => !s.endTime),
      qualityWindows: this.quality.windows().slice(-LIVE_WINDOWS),
      rxBandwidth: this.latest.rx,
      txBandwidth: this.latest.tx,
    };
  }

  /** The record kept when the participant leaves (every stream ends now). */
  record(at: number, disconnectReason: string): ParticipantRecord {
    const iso = new Date(at).toISOString();
    const n = Math.max(1, this.bandwidth.samples);
    return {
      endTime: iso,
      disconnectReason,
      callQuality: this.quality.overall(),
      qualityWindows: this.quality.windows(),
      mediaStreams: [...this.streams.values()].map((s) => (s.endTime ? s : { ...s, endTime: iso })),
      rxBandwidth: round1(this.bandwidth.rx / n),
      txBandwidth: round1(this.bandwidth.tx / n),
    };
  }
}
