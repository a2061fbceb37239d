import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';

/** The video codecs SIP endpoints and browsers share with the node (router codecs). */
export type TranscodableVideo = 'video/VP8' | 'video/H264';

export interface VideoStreamFormat {
  mimeType: TranscodableVideo;
  payloadType: number;
}

export interface VideoTranscoderOptions {
  from: VideoStreamFormat;
  to: VideoStreamFormat;
  /** Each RTP packet of the transcoded stream (its own SSRC and sequence; RTCP is dropped). */
  onRtp: (rtp: Buffer) => void;
  log: Logger;
  /** Seconds between keyframes of the output (the encoder cannot be asked for one). */
  keyframeIntervalS?: number;
  /** Output size: a room system's usual 360p. */
  width?: number;
  height?: number;
  bitrateKbps?: number;
}

interface TranscoderEvents {
  closed: [reason: string];
  /**
   * The decoder cannot go on without a keyframe: nothing decoded yet, or it reports a missing
   * parameter set or reference. WebRTC and SIP senders send keyframes only when asked (PLI), and
   * the first one may come before ffmpeg listens. At most once a second.
   */
  keyframeWanted: [];
}

/** ffmpeg's decoder errors that only a keyframe (with its SPS/PPS) cures. */
const NEEDS_KEYFRAME =
  /non-existing PPS|decode_slice_header error|no frame!|Missing reference|missing picture|co located POCs unavailable|Frame num gap|error while decoding/i;

const ENCODERS: Record<TranscodableVideo, string[]> = {
  // Constrained Baseline, what room systems decode; SPS/PPS repeated at each keyframe (dump_extra) so a
  // receiver joining mid-stream can start.
  'video/H264': ['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline', '-level', '3.1', '-bsf:v', 'dump_extra'],
  'video/VP8': ['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-error-resilient', '1', '-auto-alt-ref', '0', '-lag-in-frames', '0'],
};

const SDP_CODEC: Record<TranscodableVideo, string> = {
  'video/H264': 'H264/90000\r\na=fmtp:{pt} packetization-mode=1',
  'video/VP8': 'VP8/90000',
};

let ffmpegPath: string | null | undefined;

/**
 * A video stream in another codec: VP8 to H.264 for a room system that takes only H.264, H.264 to
 * VP8 for a browser's single stream. There is no VP8 or H.264 codec for Node, so each transcoder is
 * an ffmpeg process (Debian's, with libvpx and libx264): RTP in on a loopback port described by an
 * SDP, RTP out to a loopback socket here. One per camera and target codec, started when a leg of the
 * other codec is to show that camera, closed when none does.
 */
export class VideoTranscoder extends EventEmitter<TranscoderEvents> {
  private closed = false;
  private readonly input: Socket;

  private constructor(
    private readonly child: ChildProcess,
    private readonly inputPort: number,
    private readonly output: Socket,
    private readonly log: Logger,
  ) {
    super();
    this.input = createSocket('udp4');
    this.input.on('error', () => undefined);
    // ffmpeg's receiver reports come back to the sending socket: nothing to do with them.
    this.input.on('message', () => undefined);
    this.input.bind(0, '127.0.0.1');
    child.on('exit', (code, signal) => this.close(`ffmpeg exited (${code ?? signal})`));
  }

  /** The ffmpeg binary, or null when it is not installed (legs of another codec then get no video). */
  static ffmpeg(): string | null {
    if (ffmpegPath === undefined) {
      const found = spawnSync('sh', ['-c', 'command -v ffmpeg'], { encoding: 'utf8' });
      ffmpegPath = found.status === 0 ? found.stdout.trim() || null : null;
    }
    return ffmpegPath;
  }

  static async start(opts: VideoTranscoderOptions): Promise<VideoTranscoder> {
    const ffmpeg = VideoTranscoder.ffmpeg();
    if (!ffmpeg) throw new Error('ffmpeg is not installed: video cannot be transcoded');
    const output = createSocket('udp4');
    output.on('error', () => undefined);
    await new Promise<void>((resolve) => output.bind(0, '127.0.0.1', resolve));
    const outPort = output.address().port;
    let produced = false;
    output.on('message', (rtp) => {
      // RTCP (sender reports, types 200-204) shares the port: only RTP goes on.
      if (rtp.length < 12 || (rtp[1]! >= 200 && rtp[1]! <= 204)) return;
      produced = true;
      opts.onRtp(rtp);
    });
    const inputPort = await freePortPair();
    const sdp = [
      'v=0',
      'o=- 0 0 IN IP4 127.0.0.1',
      's=openmeet-transcoder',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      `m=video ${inputPort} RTP/AVP ${opts.from.payloadType}`,
      `a=rtpmap:${opts.from.payloadType} ${SDP_CODEC[opts.from.mimeType].replace('{pt}', String(opts.from.payloadType))}`,
      '',
    ].join('\r\n');
    const w = opts.width ?? 640;
    const h = opts.height ?? 360;
    const kbps = opts.bitrateKbps ?? 800;
    const args = [
      ...['-hide_banner', '-nostats', '-loglevel', 'error'],
      ...['-protocol_whitelist', 'pipe,udp,rtp', '-fflags', 'nobuffer', '-flags', 'low_delay', '-reorder_queue_size', '0'],
      ...['-f', 'sdp', '-i', 'pipe:0', '-an'],
      ...['-vf', `scale=${w}:${h}:force_original_aspect_ratio=decrease,pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2,format=yuv420p`],
      ...ENCODERS[opts.to.mimeType],
      ...['-b:v', `${kbps}k`, '-maxrate', `${kbps}k`, '-bufsize', `${Math.round(kbps / 2)}k`],
      ...['-force_key_frames', `expr:gte(t,n_forced*${opts.keyframeIntervalS ?? 2})`],
      ...['-payload_type', String(opts.to.payloadType), '-f', 'rtp', `rtp://127.0.0.1:${outPort}?pkt_size=1200&rtcpport=${outPort}`],
    ];
    const child = spawn(ffmpeg, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    const t = new VideoTranscoder(child, inputPort, output, opts.log);
    let errors = '';
    let asked = 0;
    const askKeyframe = () => {
      if (t.closed || Date.now() - asked < 1_000) return;
      asked = Date.now();
      t.emit('keyframeWanted');
    };
    child.stderr!.on('data', (d: Buffer) => {
      // A decoder waiting for its first keyframe complains about every frame before it: not worth a log each.
      const text = String(d);
      errors = (errors + text).slice(-2_000);
      if (NEEDS_KEYFRAME.test(text)) askKeyframe();
    });
    // Until the first frame comes out, ask every second (the first keyframe may have come before ffmpeg listened).
    const untilOutput = setInterval(() => (produced || t.closed ? clearInterval(untilOutput) : askKeyframe()), 1_000);
    untilOutput.unref();
    child.stdin!.end(sdp);
    t.once('closed', (reason) => {
      if (reason !== 'closed')
        opts.log.warn({ reason, from: opts.from.mimeType, to: opts.to.mimeType, stderr: errors.slice(-500) }, 'video transcoder stopped');
      else opts.log.debug({ from: opts.from.mimeType, to: opts.to.mimeType, stderr: errors.slice(-500) }, 'video transcoder ended');
    });
    return t;
  }

  /** One RTP packet of the source stream. */
  push(rtp: Buffer): void {
    if (this.closed) return;
    this.input.send(rtp, this.inputPort, '127.0.0.1');
  }

  get running(): boolean {
    return !this.closed;
  }

  /** The ffmpeg process (its CPU is what a transcoded stream costs: bench/video-transcode-cpu.ts). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  close(reason = 'closed'): void {
    if (this.closed) return;
    this.closed = true;
    this.child.kill('SIGKILL');
    this.input.close();
    this.output.close();
    this.log.debug({ reason }, 'video transcoder closed');
    this.emit('closed', reason);
  }
}

/** An even port whose next port is free too: ffmpeg's RTP input takes both (RTP and RTCP). */
async function freePortPair(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const a = createSocket('udp4');
    const b = createSocket('udp4');
    try {
      await new Promise<void>((resolve, reject) => {
        a.once('error', reject);
        a.bind(0, '127.0.0.1', resolve);
      });
      const port = a.address().port;
      if (port % 2 !== 0 || port >= 65_535) continue;
      await new Promise<void>((resolve, reject) => {
        b.once('error', reject);
        b.bind(port + 1, '127.0.0.1', resolve);
      });
      return port;
    } catch {
      // taken: try another
    } finally {
      a.close();
      try {
        b.close();
      } catch {
        // never bound
      }
    }
  }
  throw new Error('no free UDP port pair for the transcoder');
}
