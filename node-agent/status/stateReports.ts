import type { Conference } from '../conference/Conference.js';
import type { NodeToServer } from '../../shared/node-protocol/messages.js';

/**
 * Tells the management server when a participant's or the conference's state changes (muted,
 * presenting, on hold, locked, Guests muted), so status/v1 and the console show it without waiting
 * for the next resync.
 */
export function reportStateChanges(conf: Conference, node: string, send: (msg: NodeToServer) => void): void {
  const participant = (id: string) => conf.participants.find((p) => p.id === id);
  const update = (id: string) => {
    const p = participant(id);
    if (p) send({ type: 'participant_updated', conferenceId: conf.id, participant: p.toLive(node, conf.presenter?.id === id) });
  };
  conf.on('participantUpdated', (p) => update(p.id));
  // The floor moves: the previous presenter and the new one both change.
  let presenter: string | null = null;
  conf.on('presentation', (p) => {
    const previous = presenter;
    presenter = p?.id ?? null;
    if (previous && previous !== presenter) update(previous);
    if (presenter) update(presenter);
  });
  conf.on('hostedMediaChanged', () => send({ type: 'conference_media_hosted', conferenceId: conf.id, participantIds: conf.hostedMedia }));
  let last = { isLocked: conf.locked, guestsMuted: conf.guestsMuted };
  conf.on('statusChanged', () => {
    const now = { isLocked: conf.locked, guestsMuted: conf.guestsMuted };
    if (now.isLocked === last.isLocked && now.guestsMuted === last.guestsMuted) return;
    last = now;
    send({ type: 'conference_updated', conferenceId: conf.id, ...now });
  });
}
