import { z } from 'zod';

/**
 * What a conferencing node measures and reports to the management server (issue 12): its load and
 * capacity, each participant's media streams and call quality, and the record of a participant
 * that left (what a CDR needs). Units follow the guide and Pexip's status/history APIs: bitrates
 * in kbps, jitter and round-trip time in ms, packet loss in percent.
 */

/**
 * Pexip's call quality values (status/history `call_quality`). `0_unknown`: the call is shorter
 * than one 20-second window (guide: "Unknown for all calls of less than 20 seconds").
 */
export const CALL_QUALITIES = ['0_unknown', '1_good', '2_ok', '3_bad', '4_terrible'] as const;
export const callQualitySchema = z.enum(CALL_QUALITIES);
export type CallQuality = z.infer<typeof callQualitySchema>;

/** One 20-second window of a participant's call (the guide's quality graph plots these). */
export const qualityWindowSchema = z.object({
  /** When the window ended (ISO). */
  end: z.string(),
  quality: callQualitySchema,
  /** Packets lost in the window over packets expected, in percent, all streams both ways. */
  packetLoss: z.number().min(0),
  /** The worst jitter seen in the window, ms. */
  jitter: z.number().min(0),
});
export type QualityWindow = z.infer<typeof qualityWindowSchema>;

/**
 * One direction of one media stream as the node measured it. Fields the node does not know are
 * omitted (a receive-only stream has no codec of its own; the node sees no frames of a stream it
 * only forwards unless the sender reports them).
 */
export const streamDirectionSchema = z.object({
  codec: z.string().optional(),
  /** "1280x720". */
  resolution: z.string().optional(),
  fps: z.number().min(0).optional(),
  /** kbps over the last measurement. */
  bitrate: z.number().min(0),
  /** Packets received (rx) or sent (tx) since the stream started. */
  packets: z.number().int().min(0),
  /** Packets lost since the stream started (rx: what we did not receive; tx: what the receiver reported lost). */
  packetsLost: z.number().int().min(0),
  /** Percent of packets lost since the stream started. */
  packetLoss: z.number().min(0),
  /** Percent of packets lost over the last measurement. */
  windowedPacketLoss: z.number().min(0),
  /** Interarrival jitter, ms (rx: ours; tx: the receiver's report). */
  jitter: z.number().min(0).optional(),
  /** Round-trip time from RTCP, ms. */
  rtt: z.number().min(0).optional(),
});
export type StreamDirection = z.infer<typeof streamDirectionSchema>;

export const mediaStreamSchema = z.object({
  /** Stable while the stream lives (a producer's or consumer's id, or the call leg's id and kind). */
  id: z.string(),
  type: z.enum(['audio', 'video', 'presentation']),
  startTime: z.string(),
  /** Set when the stream has ended (in participant end records). */
  endTime: z.string().optional(),
  /** From the participant to the node; absent when the participant does not send this stream. */
  rx: streamDirectionSchema.optional(),
  /** From the node to the participant; absent when the node sends none. */
  tx: streamDirectionSchema.optional(),
});
export type MediaStream = z.infer<typeof mediaStreamSchema>;

/** One participant's media at one moment. */
export const participantMediaSchema = z.object({
  conferenceId: z.string(),
  participantId: z.string(),
  /** Current quality: the most frequent of the 3 most recent 20-s windows (guide). */
  callQuality: callQualitySchema,
  streams: z.array(mediaStreamSchema),
  /** The most recent completed windows, oldest first (at most the last 5 minutes), for the graph. */
  qualityWindows: z.array(qualityWindowSchema).default([]),
  /** Sum of the streams' bitrates, kbps. */
  rxBandwidth: z.number().min(0).default(0),
  txBandwidth: z.number().min(0).default(0),
});
export type ParticipantMedia = z.infer<typeof participantMediaSchema>;

/**
 * Capacity in the guide's units (digest 1 §7.3): relative to one HD (720p) call, Full HD = 2,
 * SD = 0.5, audio-only = 1/12. `maxMediaTokens` counts HD calls × 12 so audio stays an integer.
 */
export const nodeCapacitySchema = z.object({
  maxFullHdCalls: z.number().int().min(0),
  maxHdCalls: z.number().int().min(0),
  maxSdCalls: z.number().int().min(0),
  maxAudioCalls: z.number().int().min(0),
  maxMediaTokens: z.number().int().min(0),
});
export type NodeCapacity = z.infer<typeof nodeCapacitySchema>;

export const nodeLoadSchema = z.object({
  /** When measured (ISO). */
  at: z.string(),
  /** Percent of capacity in use (0–100); 100 in maintenance mode (guide). */
  mediaLoad: z.number().min(0).max(100),
  /** Media tokens in use (HD call = 12, SD = 6, audio = 1, Full HD = 24). */
  mediaTokensUsed: z.number().int().min(0),
  capacity: nodeCapacitySchema,
  cpu: z.object({
    /** Percent of all cores over the last interval: Node process + media workers. */
    percent: z.number().min(0),
    count: z.number().int().min(1),
    model: z.string(),
  }),
  memory: z.object({
    /** Resident set of the node process and its media workers, bytes. */
    usedBytes: z.number().int().min(0),
    totalBytes: z.number().int().min(0),
  }),
  /** UDP media ports in use by transports, and the configured range's size. */
  mediaPorts: z.object({ inUse: z.number().int().min(0), total: z.number().int().min(0) }),
  /** Participants with signalling on this node (Pexip `signaling_count`). */
  signalingCount: z.number().int().min(0),
  /** Participants by call type, for the capacity view. */
  calls: z.object({ fullHd: z.number().int().min(0), hd: z.number().int().min(0), sd: z.number().int().min(0), audio: z.number().int().min(0) }),
  maintenanceMode: z.boolean(),
});
export type NodeLoad = z.infer<typeof nodeLoadSchema>;

/** What the management server keeps of a participant who left (history/v1 `participant`). */
export const participantRecordSchema = z.object({
  endTime: z.string(),
  /** The client API's disconnect reason wording ("Call disconnected", "Disconnected by an administrator", …). */
  disconnectReason: z.string(),
  /** Overall quality: the average of all 20-s windows (guide); `0_unknown` under 20 s. */
  callQuality: callQualitySchema,
  /** Every window of the call, oldest first (capped at the last 2 hours). */
  qualityWindows: z.array(qualityWindowSchema).default([]),
  /** Each stream's last figures with its start and end. */
  mediaStreams: z.array(mediaStreamSchema).default([]),
  /** Average bandwidth over the call, kbps. */
  rxBandwidth: z.number().min(0).default(0),
  txBandwidth: z.number().min(0).default(0),
});
export type ParticipantRecord = z.infer<typeof participantRecordSchema>;

/** Status colours of the guide (digest 4 §18), for consoles. */
export function packetLossColour(percent: number): 'green' | 'orange' | 'red' {
  return percent < 0.2 ? 'green' : percent < 2 ? 'orange' : 'red';
}
export function jitterColour(ms: number): 'green' | 'orange' | 'red' {
  return ms < 10 ? 'green' : ms < 50 ? 'orange' : 'red';
}
export function callQualityColour(q: CallQuality): 'green' | 'red' | 'grey' {
  return q === '1_good' || q === '2_ok' ? 'green' : q === '0_unknown' ? 'grey' : 'red';
}

/**
 * A stream in the shape of Pexip's status/history `media_stream` resource (flat rx_/tx_ fields;
 * fields the node did not measure are omitted, as Pexip omits them).
 */
export function toPexipMediaStream(s: MediaStream, node: string): Record<string, string | number | null> {
  const out: Record<string, string | number | null> = { id: s.id, type: s.type, node, start_time: s.startTime, end_time: s.endTime ?? null };
  for (const [prefix, d] of [
    ['rx', s.rx],
    ['tx', s.tx],
  ] as const) {
    if (!d) continue;
    out[`${prefix}_bitrate`] = Math.round(d.bitrate);
    if (d.codec !== undefined) out[`${prefix}_codec`] = d.codec;
    if (d.resolution !== undefined) out[`${prefix}_resolution`] = d.resolution;
    if (d.fps !== undefined) out[`${prefix}_fps`] = d.fps;
    if (d.jitter !== undefined) out[`${prefix}_jitter`] = d.jitter;
    out[`${prefix}_packet_loss`] = round2(d.packetLoss);
    out[`${prefix}_windowed_packet_loss`] = round2(d.windowedPacketLoss);
    out[`${prefix}_packets_lost`] = d.packetsLost;
    out[prefix === 'rx' ? 'rx_packets_received' : 'tx_packets_sent'] = d.packets;
  }
  return out;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/**
 * A node's load in the fields of Pexip's status/v1 `worker_vm` (the rest of that resource, its
 * name, location and versions, comes from the server's own records).
 */
export function toPexipWorkerVmLoad(l: NodeLoad): Record<string, string | number | boolean> {
  return {
    media_load: Math.round(l.mediaLoad),
    media_tokens_used: l.mediaTokensUsed,
    max_media_tokens: l.capacity.maxMediaTokens,
    max_full_hd_calls: l.capacity.maxFullHdCalls,
    max_hd_calls: l.capacity.maxHdCalls,
    max_sd_calls: l.capacity.maxSdCalls,
    max_audio_calls: l.capacity.maxAudioCalls,
    signaling_count: l.signalingCount,
    maintenance_mode: l.maintenanceMode,
    cpu_count: l.cpu.count,
    cpu_model: l.cpu.model,
    // Pexip reports total_ram in kB.
    total_ram: Math.round(l.memory.totalBytes / 1024),
  };
}
