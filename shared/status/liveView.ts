import { z } from 'zod';
import type { CallQuality, MediaStream, NodeCapacity, QualityWindow } from '../node-protocol/mediaStatus.js';
import type { LiveParticipant } from '../node-protocol/messages.js';

/**
 * What the console's live view reads over tRPC (server/trpc/routers/status.router.ts): counters,
 * node and location load, a participant's media, and the time series behind the graphs.
 */

/** A node's load as the live view shows it; load fields are null until the node has reported. */
export interface NodeLoadView {
  id: number;
  name: string;
  location: string;
  /** Connected to the management server now. */
  up: boolean;
  maintenanceMode: boolean;
  /** Percent of capacity in use (0–100), null when never reported. */
  mediaLoad: number | null;
  mediaTokensUsed: number | null;
  maxMediaTokens: number | null;
  capacity: NodeCapacity | null;
  cpuPercent: number | null;
  cpuCount: number | null;
  memoryUsedBytes: number | null;
  memoryTotalBytes: number | null;
  mediaPortsInUse: number | null;
  mediaPortsTotal: number | null;
  /** Participants by call type (the guide's capacity units). */
  calls: { fullHd: number; hd: number; sd: number; audio: number } | null;
  signalingCount: number | null;
  /** When the node measured its last report (ISO), null when none. */
  lastUpdated: string | null;
}

/** A system location's load: the sum over its nodes that are up. */
export interface LocationLoadView {
  name: string;
  nodesUp: number;
  nodesDown: number;
  /** Tokens used over tokens available, percent; 0 with no capacity. */
  mediaLoad: number;
  mediaTokensUsed: number;
  maxMediaTokens: number;
  maxFullHdCalls: number;
  maxHdCalls: number;
  maxSdCalls: number;
  maxAudioCalls: number;
  conferences: number;
  participants: number;
}

export interface LiveCounters {
  /** When counted (ISO). */
  at: string;
  conferences: number;
  participants: number;
  byProtocol: Record<string, number>;
  /** `unknown`: callers at a PIN entry screen. */
  byRole: { chair: number; guest: number; unknown: number };
  nodes: { up: number; down: number };
  nodeLoads: NodeLoadView[];
  locations: LocationLoadView[];
}

/** One reading of a participant's bandwidth and loss (kept for the last minutes, for a small graph). */
export interface ParticipantMediaSample {
  at: string;
  rxBandwidth: number;
  txBandwidth: number;
  /** Worst windowed packet loss over the participant's streams, percent. */
  packetLoss: number;
}

export interface ParticipantMediaView {
  participantId: string;
  conferenceId: string;
  node: string;
  callQuality: CallQuality;
  rxBandwidth: number;
  txBandwidth: number;
  streams: MediaStream[];
  /** The call's 20-second quality windows, oldest first (the last hour at most). */
  qualityWindows: QualityWindow[];
  samples: ParticipantMediaSample[];
  /** When the node measured these figures (ISO). */
  at: string;
}

/** The live view's graph ranges: an hour (2-s points), a day (1-min points), the guide's 7 days of rewind (5-min points). */
export const TIME_SERIES_RANGES = ['hour', 'day', 'week'] as const;
export const timeSeriesRangeSchema = z.enum(TIME_SERIES_RANGES);
export type TimeSeriesRange = z.infer<typeof timeSeriesRangeSchema>;

/**
 * One point of the live graphs. Over a 1-min or 5-min point: counts and loads are the peak, packet
 * loss the mean of the 2-s samples it covers.
 */
export interface TimeSeriesPoint {
  /** Unix ms at the start of the point's interval. */
  t: number;
  conferences: number;
  participants: number;
  /** Mean over participants of their worst stream's windowed packet loss (either way), percent. */
  packetLoss: number;
  /** Per system location with a node up; `packetLoss` as above over the participants on its nodes. */
  locations: Record<string, { conferences: number; participants: number; mediaLoad: number; packetLoss: number }>;
  /** Media load per node name, percent. */
  nodes: Record<string, number>;
}

export const timeSeriesInput = z.object({ range: timeSeriesRangeSchema });
export const conferenceParticipantsInput = z.object({ conference: z.string().min(1).max(250) });
export const participantMediaInput = z.object({ participantId: z.string().min(1).max(64) });

/** A participant in the live view's conference list: who, where, and how their call goes. */
export interface ParticipantRowView extends LiveParticipant {
  conference: string;
  /** Null until the node has measured their media. */
  callQuality: CallQuality | null;
  rxBandwidth: number | null;
  txBandwidth: number | null;
  systemLocation: string | null;
  /** The participant's node has gone silent. */
  stale?: true;
}
