/**
 * What a transcoded stream costs (issue 13's H.264 room systems): CPU of the node's ffmpeg
 * transcoder (VideoTranscoder) per stream, VP8 camera to H.264 and H.264 to VP8, at 640×360 out.
 * Each "camera" is a separate ffmpeg sending 30 fps RTP at the size given (default 1280×720, a
 * browser's top simulcast layer); the transcoders' CPU is read from /proc over the window. Prints JSON.
 *
 *   npx tsx bench/video-transcode-cpu.ts [seconds=10] [streams=1,2] [size=1280x720]
 */
import pino from 'pino';
import { isKeyframe } from '../node-agent/media/rtp/Keyframe.js';
import { rtpPayload } from '../node-agent/media/rtp/RtpPacket.js';
import { VideoTranscoder, type TranscodableVideo } from '../node-agent/media/video/VideoTranscoder.js';
import { CAMERA_PT, ffmpegCamera } from '../node-agent/testing/ffmpegCamera.js';
import { cpuSeconds } from './support/procStats.js';

const SECONDS = Number(process.argv[2] ?? 10);
const COUNTS = (process.argv[3] ?? '1,2').split(',').map(Number);
const SIZE = process.argv[4] ?? '1280x720';
const log = pino({ level: 'warn' });
async function run(from: TranscodableVideo, to: TranscodableVideo, streams: number) {
  const out = { packets: 0, bytes: 0, keyframes: 0 };
  const transcoders: VideoTranscoder[] = [];
  const cameras: { close(): void }[] = [];
  for (let i = 0; i < streams; i++) {
    const t = await VideoTranscoder.start({
      from: { mimeType: from, payloadType: CAMERA_PT[from] },
      to: { mimeType: to, payloadType: CAMERA_PT[to] },
      log,
      onRtp: (rtp) => {
        out.packets++;
        out.bytes += rtp.length;
        if (isKeyframe(to, rtpPayload(rtp))) out.keyframes++;
      },
    });
    transcoders.push(t);
    cameras.push(await ffmpegCamera(from, { picture: `testsrc2=size=${SIZE}`, gop: 60, kbps: 1_200 }, (rtp) => t.push(rtp)));
  }
  // Let every transcoder reach its first keyframe before measuring.
  await new Promise((r) => setTimeout(r, 3_000));
  const pids = transcoders.map((t) => t.pid!);
  const before = pids.map(cpuSeconds);
  const start = { ...out };
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1_000));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = pids.map((pid, i) => cpuSeconds(pid) - before[i]!);
  for (const t of transcoders) t.close();
  for (const c of cameras) c.close();
  const total = cpu.reduce((a, b) => a + b, 0);
  return {
    from,
    to,
    streams,
    seconds: Math.round(seconds * 10) / 10,
    transcoderCpuPercentOfACore: { total: Math.round((total / seconds) * 1000) / 10, perStream: Math.round((total / seconds / streams) * 1000) / 10 },
    output: {
      kbpsPerStream: Math.round(((out.bytes - start.bytes) * 8) / seconds / 1000 / streams),
      packetsPerSecondPerStream: Math.round((out.packets - start.packets) / seconds / streams),
      keyframes: out.keyframes - start.keyframes,
    },
  };
}

if (!VideoTranscoder.ffmpeg()) throw new Error('ffmpeg is not installed (apt-get install ffmpeg)');
const results = [];
for (const n of COUNTS) {
  results.push(await run('video/VP8', 'video/H264', n));
  results.push(await run('video/H264', 'video/VP8', n));
}
console.log(JSON.stringify({ bench: 'video-transcode-cpu', cameraSize: SIZE, outputSize: '640x360', results }, null, 1));
