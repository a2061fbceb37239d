import type { types } from 'mediasoup';
import type { MeasuredDirection, MeasuredStream, MediaSourceKind } from '../MediaTypes.js';

/**
 * Per-stream figures from mediasoup's getStats(): a producer's `inbound-rtp` entries (one per
 * simulcast layer) are what the node receives, with loss from sequence gaps, jitter and RTT from
 * the sender's reports; a consumer's `outbound-rtp` entry is what it sends, with loss and RTT
 * from the receiver's RTCP reports. Closed or failing objects measure as nothing, never throw.
 */

type RtpStat = Partial<types.RtpStreamRecvStats> & { type: string };

export function streamType(source: MediaSourceKind): MeasuredStream['type'] {
  return source === 'mic' ? 'audio' : source === 'camera' ? 'video' : 'presentation';
}

/** "audio/opus" → "opus", "video/VP8" → "VP8" (Pexip's codec names). */
export function codecName(mimeType: string | undefined): string | undefined {
  return mimeType?.split('/')[1];
}

async function statsOf(x: types.Producer | types.Consumer, type: string): Promise<RtpStat[]> {
  if (x.closed) return [];
  const all = (await x.getStats().catch(() => [])) as RtpStat[];
  return all.filter((s) => s.type === type);
}

function combine(entries: { stats: RtpStat[]; clockRate: number; mimeType?: string }[]): MeasuredDirection | undefined {
  const all = entries.flatMap((e) => e.stats.map((s) => ({ s, clockRate: e.clockRate })));
  if (all.length === 0) return undefined;
  let jitterMs: number | undefined;
  let rttMs: number | undefined;
  for (const { s, clockRate } of all) {
    // mediasoup keeps jitter in RTP timestamp units.
    if (s.jitter !== undefined && clockRate > 0) jitterMs = Math.max(jitterMs ?? 0, (s.jitter / clockRate) * 1000);
    if (s.roundTripTime !== undefined && s.roundTripTime > 0) rttMs = Math.max(rttMs ?? 0, s.roundTripTime);
  }
  const sum = (f: (s: RtpStat) => number | undefined) => all.reduce((n, { s }) => n + Math.max(0, f(s) ?? 0), 0);
  const codec = codecName(all[0]!.s.mimeType ?? entries.find((e) => e.mimeType)?.mimeType);
  return {
    ...(codec ? { codec } : {}),
    bitrate: sum((s) => s.bitrate),
    packets: sum((s) => s.packetCount),
    packetsLost: sum((s) => wholeCyclesRemoved(s.packetsLost, s.packetCount)),
    ...(jitterMs !== undefined ? { jitterMs: Math.round(jitterMs * 10) / 10 } : {}),
    ...(rttMs !== undefined ? { rttMs: Math.round(rttMs * 10) / 10 } : {}),
  };
}

/** What the node receives from a producer (all its layers). */
export async function measureProducer(p: types.Producer | undefined): Promise<MeasuredDirection | undefined> {
  if (!p) return undefined;
  const codec = p.rtpParameters.codecs[0];
  return combine([{ stats: await statsOf(p, 'inbound-rtp'), clockRate: codec?.clockRate ?? 90_000, mimeType: codec?.mimeType }]);
}

/** Per consumer, when first measured: its source's losses and the losses its receiver had reported. */
const baselines = new WeakMap<types.Consumer, { upstream: number; reported: number }>();
/** Per consumer: its figures when last measured, and when (a participant's consumers are measured a few at a time). */
const lastMeasured = new WeakMap<types.Consumer, { at: number; stats: RtpStat[] }>();

/**
 * Consumers measured afresh per call, least recently measured first. Each getStats is a request
 * to the media worker (≈ 0.2 ms of this thread's CPU measured here): in a meeting of 50, a
 * participant has about 100 consumers, so measuring all every 5 s for everyone would cost a
 * fifth of a core. The others count with their last figures.
 */
export const CONSUMERS_MEASURED_PER_CALL = 4;

async function consumerStats(c: types.Consumer): Promise<RtpStat[]> {
  const all = c.closed ? [] : ((await c.getStats().catch(() => [])) as RtpStat[]);
  const upstream = all.filter((s) => s.type === 'inbound-rtp').reduce((n, s) => n + (wholeCyclesRemoved(s.packetsLost, s.packetCount) ?? 0), 0);
  const outbound = all.filter((s) => s.type === 'outbound-rtp');
  const reported = outbound.reduce((n, s) => n + (s.packetsLost ?? 0), 0);
  // Losses before the first measurement cannot be told apart: counted from then on. The source's
  // losses and the receiver's reports of them arrive at different times (each side's RTCP
  // interval): an estimate, which is why call quality leaves forwarded streams out (ParticipantMeter).
  if (!baselines.has(c)) baselines.set(c, { upstream, reported });
  const base = baselines.get(c)!;
  const linkLost = Math.max(0, reported - base.reported - Math.max(0, upstream - base.upstream));
  // One entry per consumer (a simulcast consumer sends one layer at a time).
  const stats = outbound.slice(0, 1).map((s) => ({ ...s, packetsLost: linkLost }));
  lastMeasured.set(c, { at: performance.now(), stats });
  return stats;
}

/**
 * What the node sends through these consumers together (a participant's receivers of one type).
 * A forwarded stream keeps its source's sequence gaps, so its receiver reports those as lost
 * too: the source's losses since the consumer's first measurement are taken off. `forwarded`:
 * the consumers carry other participants' streams (not a stream the node makes, like the mix).
 */
export async function measureConsumers(
  consumers: readonly types.Consumer[],
  forwarded: boolean,
  fresh = CONSUMERS_MEASURED_PER_CALL,
): Promise<MeasuredDirection | undefined> {
  const live = consumers.filter((c) => !c.closed && !c.paused);
  const due = new Set([...live].sort((x, y) => (lastMeasured.get(x)?.at ?? -1) - (lastMeasured.get(y)?.at ?? -1)).slice(0, fresh));
  const entries = await Promise.all(
    live.map(async (c) => {
      const codec = c.rtpParameters.codecs[0];
      const stats = due.has(c) ? await consumerStats(c) : (lastMeasured.get(c)?.stats ?? []);
      return { stats, clockRate: codec?.clockRate ?? 90_000, mimeType: codec?.mimeType };
    }),
  );
  const out = combine(entries);
  return out && forwarded ? { ...out, forwarded } : out;
}

/** Streams by type from producers (what the participant sends) and consumers (what it receives). */
export async function measureStreams(
  participantId: string,
  producers: readonly { producer: types.Producer; type: MeasuredStream['type'] }[],
  consumers: readonly { consumer: types.Consumer; type: MeasuredStream['type']; forwarded: boolean }[],
): Promise<MeasuredStream[]> {
  const out: MeasuredStream[] = [];
  for (const type of ['audio', 'video', 'presentation'] as const) {
    const mine = producers.filter((p) => p.type === type && !p.producer.closed);
    // One producer per type per participant; if a replaced one lingers, the newest counts.
    const rx = await measureProducer(mine[mine.length - 1]?.producer);
    const receivers = consumers.filter((c) => c.type === type);
    const tx = await measureConsumers(
      receivers.map((c) => c.consumer),
      receivers.some((c) => c.forwarded),
    );
    if (!rx && !tx) continue;
    out.push({ id: `${participantId}/${type}`, type, ...(rx ? { rx } : {}), ...(tx ? { tx } : {}) });
  }
  return out;
}

/**
 * mediasoup's receive-side packetsLost (expected − received, expected counting 64K sequence
 * cycles) was seen here a whole cycle (65,536) too high from the first measurement, with no loss
 * at all (werift senders starting at sequence 0). More lost than received by whole cycles, with
 * fewer than a cycle received, is that: the cycles are taken off.
 */
export function wholeCyclesRemoved(lost: number | undefined, received: number | undefined): number | undefined {
  if (lost === undefined || received === undefined || lost < 65_536 || received >= 65_536) return lost;
  return lost % 65_536;
}
