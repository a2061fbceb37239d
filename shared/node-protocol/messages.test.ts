import { describe, expect, it } from 'vitest';
import { liveConferenceSchema, nodeToServerSchema } from './messages.js';

const conference = {
  id: 'c1',
  name: 'Room',
  serviceType: 'conference',
  startTime: '2024-01-01T00:00:00.000Z',
  participants: [],
};

describe('node protocol: the current speaker', () => {
  it("defaults a live conference's activeSpeaker to null, so older nodes' status still parses", () => {
    expect(liveConferenceSchema.parse(conference).activeSpeaker).toBeNull();
    expect(liveConferenceSchema.parse({ ...conference, activeSpeaker: 'p1' }).activeSpeaker).toBe('p1');
    const status = nodeToServerSchema.parse({ type: 'status', conferences: [conference] });
    expect(status).toEqual({ type: 'status', conferences: [{ ...conference, activeSpeaker: null }] });
    const started = nodeToServerSchema.parse({ type: 'conference_started', conference });
    expect(started.type === 'conference_started' && started.conference.activeSpeaker).toBeNull();
  });

  it('accepts active_speaker with a participant id or null, and nothing else', () => {
    expect(nodeToServerSchema.parse({ type: 'active_speaker', conferenceId: 'c1', participantId: 'p1' })).toEqual({ type: 'active_speaker', conferenceId: 'c1', participantId: 'p1' });
    expect(nodeToServerSchema.parse({ type: 'active_speaker', conferenceId: 'c1', participantId: null })).toEqual({ type: 'active_speaker', conferenceId: 'c1', participantId: null });
    expect(nodeToServerSchema.safeParse({ type: 'active_speaker', conferenceId: 'c1' }).success).toBe(false);
    expect(nodeToServerSchema.safeParse({ type: 'active_speaker', participantId: 'p1' }).success).toBe(false);
    expect(nodeToServerSchema.safeParse({ type: 'status', conferences: [{ ...conference, activeSpeaker: 7 }] }).success).toBe(false);
  });
});
