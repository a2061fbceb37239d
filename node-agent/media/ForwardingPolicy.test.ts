import { describe, expect, it } from 'vitest';
import { chooseSource, chooseSpeakerSource, mayReceive, type SourceCandidate } from './ForwardingPolicy.js';
import type { MediaKind, MediaMode, MediaParticipantState } from './MediaTypes.js';

// Publishers in publish order: g1 first, then h1, g2, h2.
const ALL: SourceCandidate[] = [
  { participantId: 'g1', publishedAt: 1 },
  { participantId: 'h1', publishedAt: 2 },
  { participantId: 'g2', publishedAt: 3 },
  { participantId: 'h2', publishedAt: 4 },
];

function source(mode: MediaMode, viewer: string, states: Record<string, Partial<MediaParticipantState>>, publishers = ALL, kind: MediaKind = 'video') {
  return chooseSource({
    mode,
    viewer,
    kind,
    publishers,
    // Unknown participants are Hosts, not held (no setParticipant call).
    stateOf: (pid) => ({ role: 'host', held: false, ...states[pid] }),
  });
}
const guests = { g1: { role: 'guest' as const }, g2: { role: 'guest' as const } };

describe('conference (Virtual Meeting Room)', () => {
  it('a viewer receives the earliest other publisher, whatever the roles', () => {
    expect(source('conference', 'h1', guests)).toBe('g1');
    expect(source('conference', 'g1', guests)).toBe('h1');
  });
  it('a held participant receives nothing and is nobody’s source', () => {
    const states = { ...guests, g1: { role: 'guest' as const, held: true } };
    expect(source('conference', 'g1', states)).toBeUndefined();
    expect(source('conference', 'h1', states)).toBe('g2');
  });
  it('nothing to receive when alone', () => {
    expect(source('conference', 'h1', {}, [{ participantId: 'h1', publishedAt: 1 }])).toBeUndefined();
  });
});

describe('lecture (Virtual Auditorium)', () => {
  it('Guests receive the earliest Host, never another Guest while a Host publishes', () => {
    expect(source('lecture', 'g2', guests)).toBe('h1');
    expect(source('lecture', 'g1', guests)).toBe('h1');
  });
  it('Hosts receive the earliest other publisher, Guests included', () => {
    expect(source('lecture', 'h1', guests)).toBe('g1');
    expect(source('lecture', 'h2', guests)).toBe('g1');
  });
  it('Guests fall back to other Guests when no Host publishes that kind', () => {
    const noHostVideo = ALL.filter((p) => !p.participantId.startsWith('h'));
    expect(source('lecture', 'g2', guests, noHostVideo)).toBe('g1');
    expect(source('lecture', 'g1', guests, noHostVideo)).toBe('g2');
  });
  it('a held Host does not count as a publishing Host', () => {
    const states = { ...guests, h1: { held: true }, h2: { held: true } };
    expect(source('lecture', 'g2', states)).toBe('g1');
  });
  it('a role change switches the Guest to the new Host', () => {
    expect(source('lecture', 'g2', { g2: { role: 'guest' } })).toBe('g1'); // g1 is a Host now
  });
});

describe('test_call and reception', () => {
  it('test_call: each leg receives its own media, nobody else’s', () => {
    expect(source('test_call', 'g2', {})).toBe('g2');
    expect(source('test_call', 'x', {})).toBeUndefined();
    expect(source('test_call', 'g2', { g2: { held: true } })).toBeUndefined();
  });
  it('reception: nothing is forwarded', () => {
    for (const viewer of ['g1', 'h1']) expect(source('reception', viewer, guests, ALL, 'audio')).toBeUndefined();
  });
});

describe('mayReceive (multi-stream: one stream per participant)', () => {
  const states: Record<string, Partial<MediaParticipantState>> = { g1: { role: 'guest' }, g2: { role: 'guest' }, held: { role: 'guest', held: true } };
  const stateOf = (pid: string): MediaParticipantState => ({ role: 'host', held: false, ...states[pid] });
  const may = (mode: MediaMode, viewer: string, sender: string, kind: MediaKind = 'video', extra: { presentation?: boolean; hostSendsVideo?: boolean } = {}) =>
    mayReceive({ mode, viewer, sender, kind, presentation: extra.presentation ?? false, hostSendsVideo: extra.hostSendsVideo ?? true, stateOf });

  it('VMR: everyone receives everyone else, never themselves; held participants neither way', () => {
    expect(may('conference', 'g1', 'g2')).toBe(true);
    expect(may('conference', 'g1', 'h1', 'audio')).toBe(true);
    expect(may('conference', 'h1', 'h1')).toBe(false);
    expect(may('conference', 'held', 'h1')).toBe(false);
    expect(may('conference', 'h1', 'held', 'audio')).toBe(false);
  });
  it('Virtual Auditorium (guide §21.6): Guests hear everyone, see Hosts and the presentation only', () => {
    expect(may('lecture', 'g1', 'g2', 'audio')).toBe(true);
    expect(may('lecture', 'g1', 'g2', 'video')).toBe(false);
    expect(may('lecture', 'g1', 'h1', 'video')).toBe(true);
    expect(may('lecture', 'g1', 'g2', 'video', { presentation: true })).toBe(true);
    expect(may('lecture', 'h1', 'g1', 'video')).toBe(true);
  });
  it('Virtual Auditorium: while no Host sends video, Guests see Guests', () => {
    expect(may('lecture', 'g1', 'g2', 'video', { hostSendsVideo: false })).toBe(true);
  });
  it('Test Call and Virtual Reception: no direct streams', () => {
    expect(may('test_call', 'h1', 'h2')).toBe(false);
    expect(may('reception', 'h1', 'h2', 'audio')).toBe(false);
  });
});

describe('chooseSpeakerSource (single-stream voice switching)', () => {
  const stateOf = (pid: string): MediaParticipantState => ({ role: pid.startsWith('g') ? 'guest' : 'host', held: pid === 'x', });
  const pick = (viewer: string, speakerOrder: string[], publishers: string[], mode: MediaMode = 'conference', hostSendsVideo = true) =>
    chooseSpeakerSource({ mode, viewer, speakerOrder, publishers, hostSendsVideo, stateOf });

  it('the current speaker; the speaker sees the previous speaker', () => {
    expect(pick('h1', ['g1', 'h2'], ['h1', 'h2', 'g1'])).toBe('g1');
    expect(pick('g1', ['g1', 'h2'], ['h1', 'h2', 'g1'])).toBe('h2');
  });
  it('before anyone spoke, the first camera; speakers without a camera are skipped', () => {
    expect(pick('h1', [], ['h2', 'g1'])).toBe('h2');
    expect(pick('h1', ['g2', 'g1'], ['h2', 'g1'])).toBe('g1');
  });
  it('held participants are never shown; a Virtual Auditorium Guest sees the latest Host speaker', () => {
    expect(pick('h1', ['x', 'g1'], ['x', 'g1'])).toBe('g1');
    expect(pick('g1', ['g2', 'h2', 'h1'], ['g2', 'h1', 'h2'], 'lecture')).toBe('h2');
    expect(pick('g1', ['g2'], ['g2'], 'lecture', false)).toBe('g2');
  });
});
