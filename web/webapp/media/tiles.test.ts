import { describe, expect, it } from 'vitest';
import { initials, mediaByParticipant, tileParticipants, type RosterEntry } from './tiles.js';
import type { RemoteTrack } from './types.js';

const person = (uuid: string, role: 'chair' | 'guest' = 'chair', service_type = 'conference'): RosterEntry => ({
  uuid,
  display_name: uuid.toUpperCase(),
  role,
  service_type,
});
const track = (participant_uuid: string, source: RemoteTrack['source'], kind: RemoteTrack['kind'] = source === 'mic' ? 'audio' : 'video'): RemoteTrack => ({
  consumerId: `${participant_uuid}-${source}`,
  participant_uuid,
  source,
  kind,
  track: {} as MediaStreamTrack,
  producerPaused: false,
});

describe('tileParticipants', () => {
  it('gives everyone else a tile, in roster order, not those held in the waiting room or at the PIN entry screen', () => {
    expect(tileParticipants([person('me'), person('a'), person('w', 'guest', 'waiting_room'), person('b'), person('p', 'guest', 'ivr')], [], 'me')).toEqual([
      'a',
      'b',
    ]);
  });
  it('an Auditorium Guest sees Hosts, and Guests only when their media comes', () => {
    const roster = [person('me', 'guest'), person('h'), person('g', 'guest'), person('g2', 'guest')];
    expect(tileParticipants(roster, [track('g2', 'camera')], 'me', { hostsOnly: true })).toEqual(['h', 'g2']);
  });
  it('own media looped back (Test Call) and media of someone not yet in the roster get tiles; a screen does not', () => {
    expect(tileParticipants([person('me')], [track('me', 'camera'), track('me', 'mic'), track('x', 'camera'), track('p', 'screen')], 'me')).toEqual([
      'me',
      'x',
    ]);
  });
});

describe('initials and mediaByParticipant', () => {
  it('takes the first and last words', () => {
    expect(initials('ann lee')).toBe('AL');
    expect(initials('  Ben  ')).toBe('B');
    expect(initials('Anna Maria de Silva')).toBe('AS');
    expect(initials('')).toBe('?');
    expect(initials('émile zola')).toBe('ÉZ');
  });
  it('groups tracks per participant by source', () => {
    const m = mediaByParticipant([track('a', 'mic'), track('a', 'camera'), track('b', 'screen')]);
    expect(Object.keys(m.get('a')!).sort()).toEqual(['camera', 'mic']);
    expect(m.get('b')?.screen?.source).toBe('screen');
  });
});
