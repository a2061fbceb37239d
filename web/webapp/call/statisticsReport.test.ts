import { describe, expect, it } from 'vitest';
import { resolutionReport, type RtcStat } from './statisticsReport.js';

describe("the meeting client's resolution report", () => {
  const typeOf = (id: string) =>
    ({ cam: 'video', scr: 'presentation', 'ben-cam': 'video', 'ben-scr': 'presentation' })[id] as 'video' | 'presentation' | undefined;

  it('reports the largest simulcast layer sent, what is received, and tells camera from presentation', () => {
    const stats: RtcStat[] = [
      { id: 'ms1', type: 'media-source', kind: 'video', trackIdentifier: 'cam' },
      { id: 'ms2', type: 'media-source', kind: 'video', trackIdentifier: 'scr' },
      { type: 'outbound-rtp', kind: 'video', mediaSourceId: 'ms1', frameWidth: 320, frameHeight: 180, framesPerSecond: 30 },
      { type: 'outbound-rtp', kind: 'video', mediaSourceId: 'ms1', frameWidth: 1280, frameHeight: 720, framesPerSecond: 29 },
      { type: 'outbound-rtp', kind: 'video', mediaSourceId: 'ms2', frameWidth: 1920, frameHeight: 1080, framesPerSecond: 5 },
      { type: 'inbound-rtp', kind: 'video', trackIdentifier: 'ben-cam', frameWidth: 640, frameHeight: 360, framesPerSecond: 24 },
      { type: 'outbound-rtp', kind: 'audio', mediaSourceId: 'ms0' },
    ];
    expect(resolutionReport(stats, typeOf)).toEqual({
      video: { tx_resolution: '1280x720', tx_fps: 29, rx_resolution: '640x360', rx_fps: 24 },
      presentation: { tx_resolution: '1920x1080', tx_fps: 5 },
    });
  });

  it('reports nothing for streams with no frames yet or tracks it does not know', () => {
    const stats: RtcStat[] = [
      { id: 'ms1', type: 'media-source', kind: 'video', trackIdentifier: 'cam' },
      { type: 'outbound-rtp', kind: 'video', mediaSourceId: 'ms1' },
      { type: 'inbound-rtp', kind: 'video', trackIdentifier: 'stranger', frameWidth: 640, frameHeight: 360 },
    ];
    expect(resolutionReport(stats, typeOf)).toEqual({});
  });
});
