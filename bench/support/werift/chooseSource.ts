import type { MediaKind, MediaMode, MediaParticipantState } from '../../../node-agent/media/MediaTypes.js';

/** A participant publishing one kind of media, as the forwarding policy sees it. */
export interface SourceCandidate {
  participantId: string;
  /** When its media of this kind first arrived; earlier wins ties of preference. */
  publishedAt: number;
}

export interface RouteQuery {
  mode: MediaMode;
  viewer: string;
  kind: MediaKind;
  /** Everyone currently publishing `kind`, the viewer included. */
  publishers: Iterable<SourceCandidate>;
  stateOf(participantId: string): MediaParticipantState;
}

/**
 * Whose `kind` media a viewer receives (single-stream forwarding), per service type:
 * - conference (VMR): the earliest other publisher;
 * - lecture (Virtual Auditorium): a Guest gets the earliest Host publisher and falls back to any
 *   other publisher only while no Host sends that kind (guide §20.4/§21.6); a Host gets the
 *   earliest other publisher;
 * - test_call: the viewer's own media (the caller delays it, guide §15);
 * - reception (Virtual Reception): nothing.
 * A held participant neither receives anything nor is a source for anyone.
 * Returns the source's participant id, or undefined when the viewer receives nothing.
 */
export function chooseSource(q: RouteQuery): string | undefined {
  const viewerState = q.stateOf(q.viewer);
  if (viewerState.held || q.mode === 'reception') return undefined;
  const live = [...q.publishers].filter((p) => !q.stateOf(p.participantId).held);
  if (q.mode === 'test_call') return live.find((p) => p.participantId === q.viewer)?.participantId;
  const others = live.filter((p) => p.participantId !== q.viewer);
  const earliest = (list: SourceCandidate[]): string | undefined =>
    list.reduce<SourceCandidate | undefined>((best, p) => (!best || p.publishedAt < best.publishedAt ? p : best), undefined)?.participantId;
  if (q.mode === 'lecture' && viewerState.role === 'guest') {
    const hosts = others.filter((p) => q.stateOf(p.participantId).role === 'host');
    return earliest(hosts.length > 0 ? hosts : others);
  }
  return earliest(others);
}
