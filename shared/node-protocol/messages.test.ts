import { describe, expect, it } from 'vitest';
import { liveConferenceSchema, nodeSettingsSchema, nodeToServerSchema, serverToNodeSchema } from './messages.js';

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
    expect(nodeToServerSchema.parse({ type: 'active_speaker', conferenceId: 'c1', participantId: 'p1' })).toEqual({
      type: 'active_speaker',
      conferenceId: 'c1',
      participantId: 'p1',
    });
    expect(nodeToServerSchema.parse({ type: 'active_speaker', conferenceId: 'c1', participantId: null })).toEqual({
      type: 'active_speaker',
      conferenceId: 'c1',
      participantId: null,
    });
    expect(nodeToServerSchema.safeParse({ type: 'active_speaker', conferenceId: 'c1' }).success).toBe(false);
    expect(nodeToServerSchema.safeParse({ type: 'active_speaker', participantId: 'p1' }).success).toBe(false);
    expect(nodeToServerSchema.safeParse({ type: 'status', conferences: [{ ...conference, activeSpeaker: 7 }] }).success).toBe(false);
  });
});

describe('node protocol: load, media statistics and participant records', () => {
  const load = {
    at: '2024-01-01T00:00:05.000Z',
    mediaLoad: 25,
    mediaTokensUsed: 36,
    capacity: { maxFullHdCalls: 6, maxHdCalls: 12, maxSdCalls: 24, maxAudioCalls: 144, maxMediaTokens: 144 },
    cpu: { percent: 12.5, count: 2, model: 'x' },
    memory: { usedBytes: 1_000, totalBytes: 8_000 },
    mediaPorts: { inUse: 3, total: 10_000 },
    signalingCount: 3,
    calls: { fullHd: 0, hd: 3, sd: 0, audio: 0 },
    maintenanceMode: false,
  };
  const stream = {
    id: 's1',
    type: 'audio',
    startTime: '2024-01-01T00:00:00.000Z',
    rx: { codec: 'opus', bitrate: 32, packets: 250, packetsLost: 0, packetLoss: 0, windowedPacketLoss: 0, jitter: 2 },
  };

  it('accepts node_load and refuses a media load above 100 %', () => {
    expect(nodeToServerSchema.parse({ type: 'node_load', load })).toEqual({ type: 'node_load', load });
    expect(nodeToServerSchema.safeParse({ type: 'node_load', load: { ...load, mediaLoad: 101 } }).success).toBe(false);
    expect(nodeToServerSchema.safeParse({ type: 'node_load', load: { ...load, capacity: undefined } }).success).toBe(false);
  });

  it('accepts media_statistics, defaulting the quality windows and bandwidths', () => {
    const msg = nodeToServerSchema.parse({
      type: 'media_statistics',
      at: load.at,
      participants: [{ conferenceId: 'c1', participantId: 'p1', callQuality: '1_good', streams: [stream] }],
    });
    expect(msg.type === 'media_statistics' && msg.participants[0]).toMatchObject({ qualityWindows: [], rxBandwidth: 0, txBandwidth: 0 });
    expect(
      nodeToServerSchema.safeParse({
        type: 'media_statistics',
        at: load.at,
        participants: [{ conferenceId: 'c1', participantId: 'p1', callQuality: 'good', streams: [] }],
      }).success,
    ).toBe(false);
  });

  it('keeps participant_left without a record (older nodes) and with one', () => {
    expect(nodeToServerSchema.parse({ type: 'participant_left', conferenceId: 'c1', participantId: 'p1' })).toEqual({
      type: 'participant_left',
      conferenceId: 'c1',
      participantId: 'p1',
    });
    const record = { endTime: load.at, disconnectReason: 'Call disconnected', callQuality: '0_unknown', mediaStreams: [{ ...stream, endTime: load.at }] };
    const left = nodeToServerSchema.parse({ type: 'participant_left', conferenceId: 'c1', participantId: 'p1', record });
    expect(left.type === 'participant_left' && left.record).toEqual({ ...record, qualityWindows: [], rxBandwidth: 0, txBandwidth: 0 });
  });
});

describe('break-in blocks on the node link', () => {
  const block = { kind: 'address', key: '203.0.113.7', label: '203.0.113.7', since: '2024-01-01T00:00:00.000Z', until: '2024-01-01T00:10:00.000Z' };
  it('carries the blocks a node reports and the lift an administrator sends', () => {
    expect(nodeToServerSchema.parse({ type: 'break_in_blocks', blocks: [block] })).toEqual({ type: 'break_in_blocks', blocks: [block] });
    expect(nodeToServerSchema.safeParse({ type: 'break_in_blocks', blocks: [{ ...block, kind: 'alias' }] }).success).toBe(false);
    expect(serverToNodeSchema.parse({ type: 'lift_break_in_block', kind: 'service', key: '12' })).toEqual({
      type: 'lift_break_in_block',
      kind: 'service',
      key: '12',
    });
    expect(serverToNodeSchema.safeParse({ type: 'lift_break_in_block', kind: 'service', key: 'x'.repeat(65) }).success).toBe(false);
  });
  it('trusts no proxy in a snapshot that predates the setting', () => {
    expect(nodeSettingsSchema.parse({}).trustedProxies).toEqual([]);
  });
});
