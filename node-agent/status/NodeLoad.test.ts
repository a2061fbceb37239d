import { describe, expect, it } from 'vitest';
import type { MediaStream } from '../../shared/node-protocol/mediaStatus.js';
import { callType, capacityFor, TOKENS } from './NodeLoad.js';

const dir = (resolution?: string) => ({
  bitrate: 100,
  packets: 10,
  packetsLost: 0,
  packetLoss: 0,
  windowedPacketLoss: 0,
  ...(resolution ? { resolution } : {}),
});
const stream = (type: MediaStream['type'], rx?: string | null, tx?: string | null): MediaStream => ({
  id: type,
  type,
  startTime: 't',
  ...(rx !== null ? { rx: dir(rx) } : {}),
  ...(tx !== null ? { tx: dir(tx) } : {}),
});

describe("node load in the guide's units (digest 1 §7.3: Full HD = 2 HD, SD = ½, audio = 1/12)", () => {
  it('states capacity in Full HD, HD, SD and audio calls from one budget', () => {
    expect(capacityFor(2, 25)).toEqual({ maxFullHdCalls: 25, maxHdCalls: 50, maxSdCalls: 100, maxAudioCalls: 600, maxMediaTokens: 600 });
    expect(capacityFor(0, 25).maxHdCalls).toBe(25);
  });

  it('costs a call by what it carries', () => {
    expect(callType({ streams: [] })).toEqual({ type: null, tokens: 0 });
    expect(callType({ streams: [stream('audio')] })).toEqual({ type: 'audio', tokens: 1 });
    // Video with no resolution reported: HD, the guide's default Maximum call quality.
    expect(callType({ streams: [stream('audio'), stream('video')] })).toEqual({ type: 'hd', tokens: 12 });
    expect(callType({ streams: [stream('audio'), stream('video', '640x360', null)] })).toEqual({ type: 'sd', tokens: 6 });
    expect(callType({ streams: [stream('audio'), stream('video', '1280x720', '640x360')] })).toEqual({ type: 'hd', tokens: 12 });
    expect(callType({ streams: [stream('video', '1920x1080')] })).toEqual({ type: 'fullHd', tokens: 24 });
  });

  it('adds the WebRTC presentation costs: ½ HD to send one, 1 HD to receive one', () => {
    expect(callType({ streams: [stream('video'), stream('presentation', undefined, null)] }).tokens).toBe(TOKENS.hd + 6);
    expect(callType({ streams: [stream('video'), stream('presentation', null, undefined)] }).tokens).toBe(TOKENS.hd + 12);
  });
});
