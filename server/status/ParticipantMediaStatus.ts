import type { ParticipantMedia, QualityWindow } from '../../shared/node-protocol/mediaStatus.js';
import type { ParticipantMediaSample } from '../../shared/status/liveView.js';

/** The call's quality windows kept per participant for the live view: its last hour of 20-s windows (the node's end record keeps the whole call for history). */
const MAX_WINDOWS = 180;
/** Bandwidth and loss readings kept per participant: about 5 minutes at one report every 2 s. */
const MAX_SAMPLES = 150;

export interface ParticipantMediaEntry {
  nodeId: number;
  media: ParticipantMedia;
  /** When the node measured it (ISO). */
  at: string;
  windows: QualityWindow[];
  samples: ParticipantMediaSample[];
}

/**
 * Every live participant's latest media statistics and call quality, with a short history for the
 * console's graphs. Bounded: a participant's entry goes when they leave, when their node's report
 * no longer lists them, or when the node is gone; each history is capped.
 */
export class ParticipantMediaStatus {
  private readonly byParticipant = new Map<string, ParticipantMediaEntry>();
  private readonly byNode = new Map<number, Set<string>>();

  /** A node's `media_statistics`: every participant it hosts, so whoever it no longer lists is gone. */
  report(nodeId: number, at: string, participants: ParticipantMedia[]): void {
    const before = this.byNode.get(nodeId) ?? new Set<string>();
    const now = new Set<string>();
    for (const media of participants) {
      now.add(media.participantId);
      const entry = this.byParticipant.get(media.participantId) ?? { nodeId, media, at, windows: [], samples: [] };
      entry.nodeId = nodeId;
      entry.media = media;
      entry.at = at;
      const lastEnd = entry.windows.at(-1)?.end ?? '';
      for (const w of media.qualityWindows) if (w.end > lastEnd) entry.windows.push(w);
      if (entry.windows.length > MAX_WINDOWS) entry.windows.splice(0, entry.windows.length - MAX_WINDOWS);
      entry.samples.push({ at, rxBandwidth: media.rxBandwidth, txBandwidth: media.txBandwidth, packetLoss: worstLoss(media) });
      if (entry.samples.length > MAX_SAMPLES) entry.samples.splice(0, entry.samples.length - MAX_SAMPLES);
      this.byParticipant.set(media.participantId, entry);
    }
    for (const id of before) if (!now.has(id)) this.byParticipant.delete(id);
    this.byNode.set(nodeId, now);
  }

  get(participantId: string): ParticipantMediaEntry | undefined {
    return this.byParticipant.get(participantId);
  }

  entries(): IterableIterator<ParticipantMediaEntry> {
    return this.byParticipant.values();
  }

  get size(): number {
    return this.byParticipant.size;
  }

  dropParticipant(participantId: string): void {
    const entry = this.byParticipant.get(participantId);
    if (!entry) return;
    this.byParticipant.delete(participantId);
    this.byNode.get(entry.nodeId)?.delete(participantId);
  }

  dropConference(nodeId: number, conferenceId: string): void {
    for (const id of this.byNode.get(nodeId) ?? []) {
      if (this.byParticipant.get(id)?.media.conferenceId === conferenceId) this.dropParticipant(id);
    }
  }

  /** Keeps only the given participants of a node (after its resync). */
  keepOnly(nodeId: number, participantIds: ReadonlySet<string>): void {
    for (const id of this.byNode.get(nodeId) ?? []) if (!participantIds.has(id)) this.dropParticipant(id);
  }

  dropNode(nodeId: number): void {
    for (const id of this.byNode.get(nodeId) ?? []) this.byParticipant.delete(id);
    this.byNode.delete(nodeId);
  }
}

/** The worst windowed packet loss over a participant's received and sent streams, percent. */
export function worstLoss(media: ParticipantMedia): number {
  let worst = 0;
  for (const s of media.streams) worst = Math.max(worst, s.rx?.windowedPacketLoss ?? 0, s.tx?.windowedPacketLoss ?? 0);
  return worst;
}
