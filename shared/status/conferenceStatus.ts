import type { LiveParticipant } from '../node-protocol/messages.js';

/** A live conference as the console shows it: one per service, merged across the nodes it spans. */
export interface ConferenceStatus {
  id: string;
  name: string;
  serviceType: string;
  startTime: string;
  nodes: string[];
  /** `stale`: the participant's node has gone silent (heartbeat timeout); present only then. */
  participants: (LiveParticipant & { stale?: true })[];
  /** Present (true) only while a node hosting part of it is silent: what it shows may no longer be so. */
  stale?: true;
  /**
   * The participant id of the current (most recent dominant) speaker, null before anyone has been
   * heard. Across nodes: the speaker most recently reported by any of them.
   */
  activeSpeaker: string | null;
  /** Known only from nodes that report it (absent from older ones). */
  isLocked?: boolean;
  guestsMuted?: boolean;
  tag?: string;
}
