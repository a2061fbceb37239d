/**
 * The benchmark's publisher page (bundled with esbuild, runs in Chromium): one camera, 640x360
 * (a canvas with moving shapes and a noisy patch, or Chromium's fake device, whose picture is so
 * simple that it sends only ~40 video packets/s), and the fake microphone, sent either with a plain RTCPeerConnection to a werift
 * leg (SDP offer → answer, bridged by the benchmark) or with mediasoup-client to a mediasoup send
 * transport (signalling through `window.benchSignal`, which the benchmark exposes). The same
 * tracks feed both, one engine at a time.
 */
import { Device, type types } from 'mediasoup-client';

export interface OutboundSample {
  /** performance.now() of the sample. */
  at: number;
  audio: { packets: number; bytes: number };
  video: { packets: number; bytes: number; frames: number; width: number; height: number; fps: number; limitedBy: string };
}

export interface VideoSource {
  source: 'canvas' | 'fake';
  width: number;
  height: number;
  frameRate: number;
  /** Encoder cap, bits/s (the same for both engines). */
  maxBitrate: number;
}

export interface BenchPage {
  openMedia(video: VideoSource): Promise<void>;
  weriftOffer(): Promise<string>;
  weriftAnswer(sdp: string): Promise<void>;
  mediasoupStart(): Promise<void>;
  stop(): Promise<void>;
  outbound(): Promise<OutboundSample>;
}

declare global {
  interface Window {
    bench: BenchPage;
    benchSignal(method: string, params?: unknown): Promise<unknown>;
  }
}

let stream: MediaStream | undefined;
let videoSource: VideoSource | undefined;
let pc: RTCPeerConnection | undefined;
let sendTransport: types.Transport | undefined;

const tracks = () => {
  if (!stream) throw new Error('openMedia first');
  return { audio: stream.getAudioTracks()[0]!, video: stream.getVideoTracks()[0]! };
};

function until(what: string, ok: () => boolean, timeoutMs = 15_000): Promise<void> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (ok()) return resolve();
      if (performance.now() - start > timeoutMs) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

async function outboundOf(report: RTCStatsReport): Promise<OutboundSample> {
  const sample: OutboundSample = {
    at: performance.now(),
    audio: { packets: 0, bytes: 0 },
    video: { packets: 0, bytes: 0, frames: 0, width: 0, height: 0, fps: 0, limitedBy: '' },
  };
  report.forEach((r: Record<string, unknown>) => {
    if (r.type !== 'outbound-rtp') return;
    const kind = r.kind === 'audio' ? sample.audio : sample.video;
    kind.packets += Number(r.packetsSent ?? 0);
    kind.bytes += Number(r.bytesSent ?? 0);
    if (r.kind === 'video') {
      sample.video.frames += Number(r.framesEncoded ?? 0);
      sample.video.width = Number(r.frameWidth ?? 0);
      sample.video.height = Number(r.frameHeight ?? 0);
      sample.video.fps = Number(r.framesPerSecond ?? 0);
      sample.video.limitedBy = String(r.qualityLimitationReason ?? '');
    }
  });
  return sample;
}

/** A camera-like picture: a slowly changing background, a moving disc, a frame counter and a
 * noisy patch that moves (the detail a real camera has), redrawn `frameRate` times a second. */
function canvasTrack(v: VideoSource): MediaStreamTrack {
  const canvas = document.createElement('canvas');
  canvas.width = v.width;
  canvas.height = v.height;
  const ctx = canvas.getContext('2d')!;
  const nw = Math.round(v.width / 4);
  const nh = Math.round(v.height / 4);
  const noise = Array.from({ length: 16 }, () => {
    const img = ctx.createImageData(nw, nh);
    for (let i = 0; i < img.data.length; i += 4) {
      const g = 128 + (Math.random() - 0.5) * 48;
      img.data[i] = g;
      img.data[i + 1] = g;
      img.data[i + 2] = g;
      img.data[i + 3] = 255;
    }
    return img;
  });
  let n = 0;
  setInterval(() => {
    n++;
    ctx.fillStyle = `hsl(${(n / 3) % 360} 45% 40%)`;
    ctx.fillRect(0, 0, v.width, v.height);
    ctx.fillStyle = '#f3d34a';
    ctx.beginPath();
    ctx.arc(v.width / 2 + Math.cos(n / 20) * v.width * 0.3, v.height / 2 + Math.sin(n / 15) * v.height * 0.3, v.height / 6, 0, 2 * Math.PI);
    ctx.fill();
    ctx.putImageData(noise[n % noise.length]!, (n * 3) % (v.width - nw), Math.round(v.height / 2 - nh / 2));
    ctx.fillStyle = '#fff';
    ctx.font = '32px monospace';
    ctx.fillText(String(n), 16, 40);
  }, 1000 / v.frameRate);
  return canvas.captureStream(v.frameRate).getVideoTracks()[0]!;
}

window.bench = {
  async openMedia(video) {
    videoSource = video;
    const mic = await navigator.mediaDevices.getUserMedia({
      audio: true,
      video: video.source === 'fake' ? { width: { exact: video.width }, height: { exact: video.height }, frameRate: video.frameRate } : false,
    });
    stream = video.source === 'fake' ? mic : new MediaStream([...mic.getAudioTracks(), canvasTrack(video)]);
  },

  async weriftOffer() {
    const { audio, video } = tracks();
    pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', iceServers: [] });
    pc.addTransceiver(audio, { direction: 'sendrecv', streams: [stream!] });
    pc.addTransceiver(video, { direction: 'sendrecv', streams: [stream!], sendEncodings: [{ maxBitrate: videoSource!.maxBitrate }] });
    await pc.setLocalDescription(await pc.createOffer());
    const p = pc;
    await until('ICE gathering', () => p.iceGatheringState === 'complete', 5_000).catch(() => undefined);
    return p.localDescription!.sdp;
  },

  async weriftAnswer(sdp) {
    const p = pc!;
    await p.setRemoteDescription({ type: 'answer', sdp });
    await until('werift connection', () => p.connectionState === 'connected');
  },

  async mediasoupStart() {
    const { audio, video } = tracks();
    const device = await Device.factory();
    await device.load({ routerRtpCapabilities: (await window.benchSignal('routerCapabilities')) as types.RtpCapabilities });
    const t = device.createSendTransport((await window.benchSignal('createPublisherTransport')) as types.TransportOptions);
    t.on('connect', ({ dtlsParameters }, ok, fail) => {
      window.benchSignal('connectPublisher', { dtlsParameters }).then(() => ok(), fail);
    });
    t.on('produce', ({ kind, rtpParameters }, ok, fail) => {
      window.benchSignal('produce', { kind, rtpParameters }).then((id) => ok({ id: id as string }), fail);
    });
    sendTransport = t;
    await t.produce({ track: audio });
    await t.produce({ track: video, encodings: [{ maxBitrate: videoSource!.maxBitrate }] });
    await until('mediasoup connection', () => t.connectionState === 'connected');
  },

  async stop() {
    pc?.close();
    pc = undefined;
    sendTransport?.close();
    sendTransport = undefined;
  },

  async outbound() {
    if (pc) return outboundOf(await pc.getStats());
    if (sendTransport) return outboundOf(await sendTransport.getStats());
    throw new Error('not sending');
  },
};
