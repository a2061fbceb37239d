import { describe, expect, it } from 'vitest';
import { chooseSource, type SourceCandidate } from './ForwardingPolicy.js';
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
