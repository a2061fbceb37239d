import { describe, expect, it } from 'vitest';
import { endedTitle, friendlyReason, hasDetail } from './reasons.js';

describe('friendlyReason', () => {
  it("says in plain words what the guide's reason strings mean", () => {
    expect(friendlyReason('Disconnected by another participant')).toBe('A Host removed you from the meeting.');
    expect(friendlyReason('Conference terminated by another participant')).toBe('A Host ended the meeting for everyone.');
    expect(friendlyReason('Timeout waiting for conference host to join or permit access to locked conference')).toMatch(/no Host joined or admitted you/);
    expect(friendlyReason('Neither conference nor gateway found')).toBe('There is no meeting at that address. Check the alias.');
    expect(friendlyReason('Invalid role')).toBe('Only a Host can do that.');
    expect(friendlyReason('System in maintenance mode')).toMatch(/maintenance/);
  });
  it('keeps the PIN texts the join page already words for people', () => {
    expect(friendlyReason('Participant exceeded PIN entry retries.')).toBe('Participant exceeded PIN entry retries.');
    expect(hasDetail('Participant exceeded PIN entry retries.')).toBe(false);
  });
  it('recognises a guide string with detail after it, and shows an unknown reason as it came', () => {
    expect(friendlyReason('Invalid token: expired')).toBe('Your connection to the meeting expired. Join again.');
    expect(friendlyReason('Something new happened')).toBe('Something new happened');
    expect(hasDetail('Something new happened')).toBe(false);
    expect(hasDetail('Disconnected by another participant')).toBe(true);
    expect(friendlyReason('  ')).toBe('The call ended.');
  });
  it('titles the ended screen by what happened', () => {
    expect(endedTitle('You left the meeting')).toBe('You left the meeting');
    expect(endedTitle('Disconnected by another participant')).toBe('You were removed');
    expect(endedTitle('Test call finished')).toBe('The meeting ended for you');
  });
});
