import { describe, expect, it } from 'vitest';
import type { ParticipantMedia } from '../../shared/node-protocol/mediaStatus.js';
import { ParticipantMediaStatus } from './ParticipantMediaStatus.js';

const media = (participantId: string, at: number, loss = 0): ParticipantMedia => ({
  conferenceId: 'c1',
  participantId,
  callQuality: '1_good',
  streams: [
    {
      id: `${participantId}/audio`,
      type: 'audio',
      startTime: new Date(0).toISOString(),
      rx: { codec: 'opus', bitrate: 32, packets: 100, packetsLost: 0, packetLoss: 0, windowedPacketLoss: loss },
    },
  ],
  // The node sends its last 5 minutes of windows every time: 15 of them, the newest ending now.
  qualityWindows: Array.from({ length: 15 }, (_, i) => ({
    end: new Date(at - (14 - i) * 20_000).toISOString(),
    quality: '1_good' as const,
    packetLoss: 0,
    jitter: 1,
  })),
  rxBandwidth: 100,
  txBandwidth: 50,
});

describe('participants’ media statistics on the server', () => {
  it('keeps each window once and caps the history (1 h of windows, about 5 min of samples)', () => {
    const s = new ParticipantMediaStatus();
    const t0 = Date.UTC(2026, 0, 1);
    // Three hours of reports every 2 s.
    for (let t = t0; t < t0 + 3 * 3600_000; t += 2_000) s.report(1, new Date(t).toISOString(), [media('p1', t, t % 60_000 === 0 ? 2 : 0)]);
    const e = s.get('p1')!;
    expect(e.windows).toHaveLength(180);
    const ends = e.windows.map((w) => w.end);
    expect(new Set(ends).size).toBe(ends.length);
    expect([...ends].sort()).toEqual(ends);
    expect(e.samples).toHaveLength(150);
    expect(e.samples.some((x) => x.packetLoss === 2)).toBe(true);
  });

  it('forgets a participant the node no longer lists, who left, whose conference ended, or whose node is gone', () => {
    const s = new ParticipantMediaStatus();
    const at = new Date().toISOString();
    s.report(1, at, [media('a', Date.now()), media('b', Date.now())]);
    s.report(2, at, [media('c', Date.now())]);
    s.report(1, at, [media('a', Date.now())]);
    expect(s.get('b')).toBeUndefined();
    s.dropParticipant('a');
    expect(s.get('a')).toBeUndefined();
    s.report(1, at, [media('a', Date.now())]);
    s.dropConference(1, 'c1');
    expect(s.get('a')).toBeUndefined();
    expect(s.get('c')).toBeDefined();
    s.dropNode(2);
    expect(s.size).toBe(0);
  });
});
