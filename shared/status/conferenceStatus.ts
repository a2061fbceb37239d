import type { LiveParticipant } from '../node-protocol/messages.js';

/** A live conference as the console shows it: one per service, merged across the nodes it spans. */
export interface ConferenceStatus {
  id: string;
  name: string;
  serviceType: string;
  startTime: string;
  nodes: string[];
  participants: LiveParticipant[];
  /**
   * The participant id of the current (most recent dominant) speaker, null before anyone has been
   * heard. Across nodes: the speaker most recently reported by any of them.
   */
  activeSpeaker: string | null;
}
