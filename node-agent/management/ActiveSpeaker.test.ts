import { describe, expect, it } from 'vitest';
import { ActiveSpeaker } from './ActiveSpeaker.js';

const stage = (...entries: string[]) => entries.map((e) => ({ participantId: e.replace('*', ''), speaking: e.endsWith('*') }));

describe('ActiveSpeaker (the live status speaker from the media stage)', () => {
  it('is nobody until the front of the stage has been heard', () => {
    const s = new ActiveSpeaker();
    expect(s.update(stage('a', 'b'))).toBe(false);
    expect(s.current).toBeNull();
    // b speaks but the dominant-speaker observer has not moved them to the front yet
    expect(s.update(stage('a', 'b*'))).toBe(false);
    expect(s.update(stage('b*', 'a'))).toBe(true);
    expect(s.current).toBe('b');
  });

  it('stays with the last dominant speaker through silence and reports changes only', () => {
    const s = new ActiveSpeaker();
    s.update(stage('a*', 'b'));
    expect(s.update(stage('a', 'b'))).toBe(false);
    expect(s.current).toBe('a');
    expect(s.update(stage('b*', 'a'))).toBe(true);
    expect(s.current).toBe('b');
    expect(s.update(stage('b', 'a'))).toBe(false);
  });

  it('falls back to the previous speaker when the current one leaves, else to nobody', () => {
    const s = new ActiveSpeaker();
    s.update(stage('a*', 'b', 'c'));
    s.update(stage('b*', 'a', 'c'));
    expect(s.update(stage('a', 'c'))).toBe(true);
    expect(s.current).toBe('a');
    expect(s.update(stage('c'))).toBe(true);
    expect(s.current).toBeNull();
    expect(s.update(stage())).toBe(false);
  });
});
