import type { MediaKind, MediaMode, MediaParticipantState } from './MediaTypes.js';

/** Participants without a setParticipant call are Hosts, not held. */
export const DEFAULT_PARTICIPANT_STATE: Readonly<MediaParticipantState> = Object.freeze({ role: 'host', held: false });

export interface StreamQuery {
  mode: MediaMode;
  viewer: string;
  /** Whose stream it is. */
  sender: string;
  kind: MediaKind;
  /** A presentation (screen share) rather than a person's camera or microphone. */
  presentation: boolean;
  /** Some Host (not held) is sending camera video now. */
  hostSendsVideo: boolean;
  stateOf(participantId: string): MediaParticipantState;
}

/**
 * Whether a multi-stream viewer receives one of another participant's streams, per service type:
 * - conference (VMR): everyone receives everyone else;
 * - lecture (Virtual Auditorium, guide §21.6): Guests hear everyone, see the presentation and
 *   Hosts' cameras only, except while no Host sends video (all Hosts audio-only, or all gone):
 *   then they see Guests too. Hosts receive everyone;
 * - test_call: only the caller's own media, delayed by the loopback (not a direct stream);
 * - reception (Virtual Reception): nothing.
 * A held participant neither receives nor is received; an administratively muted one is not heard,
 * a video-muted one not seen, one denied presentation receipt gets no presentation. Nobody receives their own stream here.
 */
export function mayReceive(q: StreamQuery): boolean {
  if (q.mode === 'reception' || q.mode === 'test_call' || q.viewer === q.sender) return false;
  const viewer = q.stateOf(q.viewer);
  const sender = q.stateOf(q.sender);
  if (viewer.held || sender.held) return false;
  if (q.kind === 'audio' && sender.muted) return false;
  if (q.kind === 'video' && !q.presentation && sender.videoMuted) return false;
  if (q.presentation && viewer.rxPresentationDenied) return false;
  if (q.mode === 'lecture' && viewer.role === 'guest' && q.kind === 'video' && !q.presentation) {
    return sender.role === 'host' || !q.hostSendsVideo;
  }
  return true;
}

export interface SpeakerQuery {
  mode: MediaMode;
  viewer: string;
  hostSendsVideo: boolean;
  /** Participant ids, most recent dominant speaker first. */
  speakerOrder: string[];
  /** Participants with a camera stream, in the order they started it. */
  publishers: string[];
  stateOf(participantId: string): MediaParticipantState;
}

/**
 * Whose video a single-stream viewer sees (voice switching, layout 1:0): the most recent speaker
 * it may receive, so the speaker sees the previous speaker; before anyone has spoken, the first
 * participant who started a camera; a spotlit participant before anyone. A Virtual Auditorium
 * Guest sees Hosts (mayReceive).
 */
export function chooseSpeakerSource(q: SpeakerQuery): string | undefined {
  const allowed = (pid: string) =>
    q.publishers.includes(pid) &&
    mayReceive({ mode: q.mode, viewer: q.viewer, sender: pid, kind: 'video', presentation: false, hostSendsVideo: q.hostSendsVideo, stateOf: q.stateOf });
  // Spotlit participants lead (earliest spotlight first), then the speaker order.
  const spot = (pid: string) => q.stateOf(pid).spotlight ?? 0;
  const spotlit = q.publishers.filter((pid) => spot(pid) > 0).sort((a, b) => spot(a) - spot(b));
  return spotlit.find(allowed) ?? q.speakerOrder.find(allowed) ?? q.publishers.find(allowed);
}
