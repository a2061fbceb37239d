import type { RemoteTrack } from './types.js';

/** The roster fields tiles need (a ClientParticipant). */
export interface RosterEntry {
  uuid: string;
  display_name: string;
  /** The name a Host set for the tile (Pexip's overlay_text); the display name when none. */
  overlay_text?: string;
  role: 'chair' | 'guest';
  service_type?: string;
}

/**
 * Who gets a tile, in joining order: everyone else in the conference (not those held in the
 * waiting room; an Auditorium Guest sees Hosts only), then anyone whose media arrives without a
 * roster entry yet — in a Test Call that is the caller's own media, looped back.
 */
export function tileParticipants(
  roster: readonly RosterEntry[],
  tracks: readonly RemoteTrack[],
  selfUuid: string,
  opts: { hostsOnly?: boolean } = {},
): string[] {
  const withMedia = new Set(tracks.filter((t) => t.source !== 'screen').map((t) => t.participant_uuid));
  const out: string[] = [];
  for (const p of roster) {
    // In the lobby or at the PIN entry screen: not in the meeting's media.
    if (p.uuid === selfUuid || p.service_type === 'waiting_room' || p.service_type === 'ivr') continue;
    if (opts.hostsOnly && p.role !== 'chair' && !withMedia.has(p.uuid)) continue;
    out.push(p.uuid);
  }
  for (const t of tracks) {
    if (t.source === 'screen' || out.includes(t.participant_uuid)) continue;
    if (t.participant_uuid === selfUuid || !roster.some((p) => p.uuid === t.participant_uuid)) out.push(t.participant_uuid);
  }
  return out;
}

/** Up to two initials of a display name, for a tile without video. */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? [words[0]!, words[words.length - 1]!] : words;
  const out = letters
    .map((w) => [...w][0] ?? '')
    .join('')
    .toUpperCase();
  return out || '?';
}

/** One participant's streams, from the tracks received. */
export interface ParticipantMedia {
  camera?: RemoteTrack;
  mic?: RemoteTrack;
  screen?: RemoteTrack;
}

export function mediaByParticipant(tracks: readonly RemoteTrack[]): Map<string, ParticipantMedia> {
  const out = new Map<string, ParticipantMedia>();
  for (const t of tracks) {
    const m = out.get(t.participant_uuid) ?? {};
    if (t.source === 'camera' && t.kind === 'video') m.camera = t;
    else if (t.source === 'mic' && t.kind === 'audio') m.mic = t;
    else if (t.source === 'screen' && t.kind === 'video') m.screen = t;
    out.set(t.participant_uuid, m);
  }
  return out;
}
