import type { ClientParticipant } from '../client/ClientApi.js';

/**
 * The participant list as the event stream builds it (client-api-v2.md §5): a sync rebuilds it
 * without notices; afterwards joins, leaves, raised hands, lobby arrivals and what happens to
 * this participant become notices (the toasts).
 */
export interface RosterState {
  participants: ReadonlyMap<string, ClientParticipant>;
  /** Between participant_sync_begin and participant_sync_end: no notices. */
  syncing: boolean;
}

export type RosterEvent =
  | { type: 'sync_begin' }
  | { type: 'sync_end' }
  | { type: 'create'; participant: ClientParticipant }
  | { type: 'update'; participant: ClientParticipant }
  | { type: 'delete'; uuid: string };

export type NoticeKind = 'joined' | 'left' | 'hand' | 'lobby' | 'muted_by_host' | 'unmuted_by_host' | 'role' | 'spotlight';

export interface Notice {
  kind: NoticeKind;
  text: string;
  uuid: string;
}

export const EMPTY_ROSTER: RosterState = { participants: new Map(), syncing: false };

/** What the list shows of a participant: Pexip's YES/NO strings, timestamps and service type as flags. */
export interface ParticipantFlags {
  host: boolean;
  /** Muted by a Host (the node drops their audio). */
  muted: boolean;
  /** Muted their own microphone. */
  clientMuted: boolean;
  videoMuted: boolean;
  presenting: boolean;
  handRaised: boolean;
  spotlight: boolean;
  inLobby: boolean;
  /** A caller waiting at the PIN entry screen (a phone that dialled without the PIN): role Unknown until a Host lets it in. */
  atPin: boolean;
  /** A Host stopped the presentation being sent to them (rx_presentation_policy DENY). */
  presentationDenied: boolean;
}

const yes = (v: unknown) => v === true || v === 'YES';

export function flagsOf(p: ClientParticipant): ParticipantFlags {
  return {
    host: p.role === 'chair',
    muted: yes(p.is_muted),
    clientMuted: yes(p.is_client_muted),
    videoMuted: yes(p.is_video_muted),
    presenting: yes(p.is_presenting),
    handRaised: typeof p.buzz_time === 'number' && p.buzz_time > 0,
    spotlight: typeof p.spotlight === 'number' && p.spotlight > 0,
    inLobby: p.service_type === 'waiting_room',
    atPin: p.service_type === 'ivr',
    presentationDenied: p.rx_presentation_policy === 'DENY',
  };
}

export function applyRosterEvent(state: RosterState, ev: RosterEvent, selfUuid: string): { state: RosterState; notices: Notice[] } {
  const notices: Notice[] = [];
  const next = new Map(state.participants);
  const quiet = state.syncing;
  switch (ev.type) {
    case 'sync_begin':
      return { state: { participants: new Map(), syncing: true }, notices };
    case 'sync_end':
      return { state: { participants: state.participants, syncing: false }, notices };
    case 'create': {
      const p = ev.participant;
      const known = next.has(p.uuid);
      next.set(p.uuid, p);
      if (!quiet && !known && p.uuid !== selfUuid) {
        if (flagsOf(p).inLobby) notices.push({ kind: 'lobby', uuid: p.uuid, text: `${nameOf(p)} is waiting in the lobby` });
        else if (flagsOf(p).atPin) notices.push({ kind: 'lobby', uuid: p.uuid, text: `${nameOf(p)} is at the PIN entry screen` });
        else notices.push({ kind: 'joined', uuid: p.uuid, text: `${nameOf(p)} joined` });
      }
      break;
    }
    case 'update': {
      const p = ev.participant;
      const before = next.get(p.uuid);
      next.set(p.uuid, p);
      if (!quiet && before) notices.push(...changes(before, p, selfUuid));
      break;
    }
    case 'delete': {
      const before = next.get(ev.uuid);
      next.delete(ev.uuid);
      if (!quiet && before && ev.uuid !== selfUuid) notices.push({ kind: 'left', uuid: ev.uuid, text: `${nameOf(before)} left` });
      break;
    }
  }
  return { state: { participants: next, syncing: state.syncing }, notices };
}

function nameOf(p: ClientParticipant): string {
  return p.display_name || 'Someone';
}

function changes(before: ClientParticipant, after: ClientParticipant, selfUuid: string): Notice[] {
  const a = flagsOf(before);
  const b = flagsOf(after);
  const self = after.uuid === selfUuid;
  const out: Notice[] = [];
  const add = (kind: NoticeKind, text: string) => out.push({ kind, uuid: after.uuid, text });
  if (!a.handRaised && b.handRaised && !self) add('hand', `${nameOf(after)} raised their hand`);
  if (!a.inLobby && b.inLobby && !self) add('lobby', `${nameOf(after)} is waiting in the lobby`);
  if (a.inLobby && !b.inLobby && !self) add('joined', `${nameOf(after)} joined`);
  if (self && !a.muted && b.muted) add('muted_by_host', 'A Host muted your microphone');
  if (self && a.muted && !b.muted) add('unmuted_by_host', 'A Host unmuted your microphone');
  if (self && a.host !== b.host) add('role', b.host ? 'You are now a Host' : 'You are now a Guest');
  if (self && !a.spotlight && b.spotlight) add('spotlight', 'You are in the spotlight');
  return out;
}

/** The list in the order it is shown: the lobby first (a Host acts on it), then hands up (earliest first), Hosts, then by name. */
export function sortedParticipants(participants: Iterable<ClientParticipant>): ClientParticipant[] {
  return [...participants].sort((x, y) => {
    const fx = flagsOf(x);
    const fy = flagsOf(y);
    if (fx.inLobby !== fy.inLobby) return fx.inLobby ? -1 : 1;
    if (fx.handRaised !== fy.handRaised) return fx.handRaised ? -1 : 1;
    if (fx.handRaised && fy.handRaised) return (x.buzz_time ?? 0) - (y.buzz_time ?? 0);
    if (fx.host !== fy.host) return fx.host ? -1 : 1;
    return nameOf(x).localeCompare(nameOf(y));
  });
}
