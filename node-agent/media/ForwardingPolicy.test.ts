import { describe, expect, it } from 'vitest';
import { chooseSpeakerSource, mayReceive } from './ForwardingPolicy.js';
import type { MediaKind, MediaMode, MediaParticipantState } from './MediaTypes.js';

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
  const stateOf = (pid: string): MediaParticipantState => ({ role: pid.startsWith('g') ? 'guest' : 'host', held: pid === 'x' });
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

describe('meeting control in the forwarding policy', () => {
  const states: Record<string, Partial<MediaParticipantState>> = {
    muted: { muted: true },
    blind: { videoMuted: true },
    s1: { spotlight: 200 },
    s2: { spotlight: 100 },
  };
  const stateOf = (pid: string): MediaParticipantState => ({ role: 'host', held: false, ...states[pid] });
  const may = (sender: string, kind: MediaKind, presentation = false) =>
    mayReceive({ mode: 'conference', viewer: 'v', sender, kind, presentation, hostSendsVideo: true, stateOf });

  it('an administratively muted participant is heard by nobody but still seen; a video-muted one is heard, not seen, their presentation still shown', () => {
    expect(may('muted', 'audio')).toBe(false);
    expect(may('muted', 'video')).toBe(true);
    expect(may('blind', 'video')).toBe(false);
    expect(may('blind', 'audio')).toBe(true);
    expect(may('blind', 'video', true)).toBe(true);
  });
  it('a viewer denied presentation receipt (denyrxpresentation) gets no presentation, still cameras and sound; others still get it', () => {
    const deniedState = (pid: string): MediaParticipantState =>
      pid === 'denied' ? { role: 'guest', held: false, rxPresentationDenied: true } : { role: 'host', held: false };
    const see = (viewer: string, kind: MediaKind, presentation: boolean) =>
      mayReceive({ mode: 'conference', viewer, sender: 'p', kind, presentation, hostSendsVideo: true, stateOf: deniedState });
    expect(see('denied', 'video', true)).toBe(false);
    expect(see('denied', 'video', false)).toBe(true);
    expect(see('denied', 'audio', false)).toBe(true);
    expect(see('other', 'video', true)).toBe(true);
  });
  it('single-stream: the earliest spotlit publisher is shown before any speaker', () => {
    const pick = (speakerOrder: string[], publishers: string[]) =>
      chooseSpeakerSource({ mode: 'conference', viewer: 'v', speakerOrder, publishers, hostSendsVideo: true, stateOf });
    expect(pick(['a'], ['a', 's1', 's2'])).toBe('s2');
    expect(pick(['a'], ['a', 's1'])).toBe('s1');
    expect(pick(['a'], ['a', 'b'])).toBe('a');
  });
});
