import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { VideoTranscoder, type TranscodableVideo } from '../media/video/VideoTranscoder.js';

/** The router's payload type of each codec (routerCodecs.ts): what a camera's RTP carries. */
export const CAMERA_PT: Record<TranscodableVideo, number> = { 'video/VP8': 96, 'video/H264': 108 };

const ENCODE: Record<TranscodableVideo, string[]> = {
  'video/VP8': ['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8'],
  'video/H264': ['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline'],
};

export interface FfmpegCameraOptions {
  /** ffmpeg's test picture and size (`testsrc=size=320x240`, `testsrc2=size=1280x720`), 30 fps. */
  picture: string;
  /** Frames between keyframes. */
  gop: number;
  /** Bitrate in kbit/s; unset: the encoder's default. */
  kbps?: number;
}

/**
 * A camera made by a separate ffmpeg: a moving test picture in `codec` as RTP (1,200-byte packets)
 * to a socket here, each RTP packet (RTCP dropped) given to `onRtp`. For the transcoder's test and bench.
 */
export async function ffmpegCamera(codec: TranscodableVideo, opts: FfmpegCameraOptions, onRtp: (rtp: Buffer) => void): Promise<{ close(): void }> {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  socket.on('message', (m) => {
    if (m.length >= 12 && !(m[1]! >= 200 && m[1]! <= 204)) onRtp(m);
  });
  const port = socket.address().port;
  const child = spawn(
    VideoTranscoder.ffmpeg()!,
    [
      ...['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', `${opts.picture}:rate=30`, '-pix_fmt', 'yuv420p'],
      ...ENCODE[codec],
      ...(opts.kbps ? ['-b:v', `${opts.kbps}k`] : []),
      ...['-g', String(opts.gop), '-payload_type', String(CAMERA_PT[codec])],
      ...['-f', 'rtp', `rtp://127.0.0.1:${port}?pkt_size=1200&rtcpport=${port}`],
    ],
    { stdio: 'ignore' },
  );
  return {
    close: () => {
      child.kill('SIGKILL');
      socket.close();
    },
  };
}
