import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../../shared/testing/until.js';
import { isKeyframe } from '../rtp/Keyframe.js';
import { rtpPayload } from '../rtp/RtpPacket.js';
import { VideoTranscoder, type TranscodableVideo } from './VideoTranscoder.js';

const log = pino({ level: 'silent' });
const ENCODE: Record<TranscodableVideo, string[]> = {
  'video/VP8': ['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-g', '30', '-payload_type', '96'],
  'video/H264': ['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline', '-g', '30', '-payload_type', '108'],
};

/** A camera made by a separate ffmpeg: a 320×240 picture in `codec` as RTP to a socket here. */
async function camera(codec: TranscodableVideo, onRtp: (rtp: Buffer) => void): Promise<{ child: ChildProcess; socket: Socket }> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  socket.on('message', (m) => {
    if (m.length >= 12 && !(m[1]! >= 200 && m[1]! <= 204)) onRtp(m);
  });
  const port = socket.address().port;
  const child = spawn(
    VideoTranscoder.ffmpeg()!,
    [
      ...['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=30', '-pix_fmt', 'yuv420p'],
      ...ENCODE[codec],
      ...['-f', 'rtp', `rtp://127.0.0.1:${port}?pkt_size=1200&rtcpport=${port}`],
    ],
    { stdio: 'ignore' },
  );
  return { child, socket };
}

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
      const cam = await camera(from, (rtp) => {
        if (isKeyframe(from, rtpPayload(rtp))) sourceKeyframes++;
        t.push(rtp);
      });
      cleanup.push(() => {
        cam.child.kill('SIGKILL');
        cam.socket.close();
      });
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
