import { describe, expect, it } from 'vitest';
import type { ClientParticipant } from '../client/ClientApi.js';
import { applyRosterEvent, EMPTY_ROSTER, flagsOf, sortedParticipants, type RosterEvent, type RosterState } from './roster.js';

const person = (uuid: string, extra: Partial<ClientParticipant> = {}): ClientParticipant => ({
  uuid,
  display_name: uuid.toUpperCase(),
  role: 'guest',
  has_media: true,
  service_type: 'conference',
  is_muted: 'NO',
  buzz_time: 0,
  spotlight: 0,
  ...extra,
});

function run(events: RosterEvent[], self = 'me', start: RosterState = EMPTY_ROSTER) {
  let state = start;
  const notices: string[] = [];
  for (const ev of events) {
    const r = applyRosterEvent(state, ev, self);
    state = r.state;
    notices.push(...r.notices.map((n) => `${n.kind}:${n.text}`));
  }
  return { state, notices };
}

describe('the roster from the event stream', () => {
  it('a sync rebuilds the list without notices; joins and leaves afterwards are announced', () => {
    const { state, notices } = run([
      { type: 'sync_begin' },
      { type: 'create', participant: person('me') },
      { type: 'create', participant: person('ann') },
      { type: 'sync_end' },
      { type: 'create', participant: person('ben') },
      { type: 'delete', uuid: 'ann' },
      { type: 'delete', uuid: 'nobody' },
    ]);
    expect([...state.participants.keys()]).toEqual(['me', 'ben']);
    expect(notices).toEqual(['joined:BEN joined', 'left:ANN left']);
  });

  it('a resync forgets who left meanwhile', () => {
    const first = run([{ type: 'sync_begin' }, { type: 'create', participant: person('ann') }, { type: 'sync_end' }]).state;
    const { state, notices } = run([{ type: 'sync_begin' }, { type: 'create', participant: person('ben') }, { type: 'sync_end' }], 'me', first);
    expect([...state.participants.keys()]).toEqual(['ben']);
    expect(notices).toEqual([]);
  });

  it('announces a caller at the PIN entry screen, and the participant it becomes when let in', () => {
    const { notices } = run([
      { type: 'create', participant: person('me') },
      { type: 'create', participant: person('desk', { service_type: 'ivr' }) },
      { type: 'delete', uuid: 'desk' },
      { type: 'create', participant: person('desk', { role: 'chair' }) },
    ]);
    expect(notices).toEqual(['lobby:DESK is at the PIN entry screen', 'left:DESK left', 'joined:DESK joined']);
  });

  it('announces raised hands, lobby arrivals and what a Host did to this participant', () => {
    const { notices } = run([
      { type: 'create', participant: person('me') },
      { type: 'create', participant: person('ann') },
      { type: 'create', participant: person('cy', { service_type: 'waiting_room' }) },
      { type: 'update', participant: person('ann', { buzz_time: 1700000000 }) },
      { type: 'update', participant: person('ann', { buzz_time: 1700000000 }) },
      { type: 'update', participant: person('me', { is_muted: 'YES' }) },
      { type: 'update', participant: person('me', { is_muted: 'YES', role: 'chair' }) },
      { type: 'update', participant: person('cy') },
    ]);
    expect(notices).toEqual([
      'joined:ANN joined',
      'lobby:CY is waiting in the lobby',
      'hand:ANN raised their hand',
      'muted_by_host:A Host muted your microphone',
      'role:You are now a Host',
      'joined:CY joined',
    ]);
  });

  it("reads Pexip's flags: YES/NO strings, timestamps, the waiting room", () => {
    expect(flagsOf(person('a', { is_muted: 'YES', is_presenting: 'YES', buzz_time: 5, spotlight: 9, role: 'chair', is_video_muted: true }))).toEqual({
      host: true,
      muted: true,
      clientMuted: false,
      videoMuted: true,
      presenting: true,
      handRaised: true,
      spotlight: true,
      inLobby: false,
      atPin: false,
      presentationDenied: false,
    });
    expect(flagsOf(person('b', { service_type: 'waiting_room' })).inLobby).toBe(true);
    expect(flagsOf(person('p', { service_type: 'ivr' }))).toMatchObject({ atPin: true, inLobby: false });
    expect(flagsOf(person('d', { rx_presentation_policy: 'DENY' })).presentationDenied).toBe(true);
    expect(flagsOf(person('c')).muted).toBe(false);
  });

  it('lists the lobby first, then hands up in the order raised, then Hosts, then by name', () => {
    const list = sortedParticipants([
      person('zed'),
      person('amy'),
      person('hal', { role: 'chair' }),
      person('late', { buzz_time: 20 }),
      person('early', { buzz_time: 10 }),
      person('lob', { service_type: 'waiting_room' }),
    ]);
    expect(list.map((p) => p.uuid)).toEqual(['lob', 'early', 'late', 'hal', 'amy', 'zed']);
  });
});
