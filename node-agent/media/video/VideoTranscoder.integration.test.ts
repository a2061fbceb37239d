import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../../shared/testing/until.js';
import { isKeyframe } from '../rtp/Keyframe.js';
import { rtpPayload } from '../rtp/RtpPacket.js';
import { ffmpegCamera } from '../../testing/ffmpegCamera.js';
import { VideoTranscoder } from './VideoTranscoder.js';

const log = pino({ level: 'silent' });
describe('VideoTranscoder (a real ffmpeg between RTP streams)', () => {
  const cleanup: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanup.splice(0)) c();
  });

  it.each([
    ['video/VP8', 'video/H264', 96, 108],
    ['video/H264', 'video/VP8', 108, 96],
  ] as const)(
    'turns a %s camera into %s RTP with keyframes, on its own payload type',
    async (from, to, fromPt, toPt) => {
      const out: Buffer[] = [];
      const t = await VideoTranscoder.start({
        from: { mimeType: from, payloadType: fromPt },
        to: { mimeType: to, payloadType: toPt },
        onRtp: (r) => out.push(r),
        log,
        keyframeIntervalS: 1,
      });
      cleanup.push(() => t.close());
      let sourceKeyframes = 0;
      const cam = await ffmpegCamera(from, { picture: 'testsrc=size=320x240', gop: 30 }, (rtp) => {
        if (isKeyframe(from, rtpPayload(rtp))) sourceKeyframes++;
        t.push(rtp);
      });
      cleanup.push(() => cam.close());
      // Two keyframes at least (the interval is 1 s): the stream goes on, it is not one picture.
      await until(
        () => out.filter((r) => isKeyframe(to, rtpPayload(r))).length,
        (n) => n >= 2,
        20_000,
        100,
      );
      expect(sourceKeyframes).toBeGreaterThan(0);
      expect(new Set(out.map((r) => r[1]! & 0x7f))).toEqual(new Set([toPt]));
      expect(t.running).toBe(true);
    },
    30_000,
  );

  it('reports its end when ffmpeg goes away, and push afterwards does nothing', async () => {
    const t = await VideoTranscoder.start({
      from: { mimeType: 'video/VP8', payloadType: 96 },
      to: { mimeType: 'video/H264', payloadType: 108 },
      onRtp: () => undefined,
      log,
    });
    const reason = new Promise<string>((resolve) => t.once('closed', resolve));
    t.close();
    expect(await reason).toBe('closed');
    expect(t.running).toBe(false);
    t.push(Buffer.alloc(20));
  });
});
