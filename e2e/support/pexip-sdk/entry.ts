/**
 * Browser-side driver around the official Pexip web SDK (`@pexip/infinity`), bundled by
 * bundle.ts into the test page (page.ts). It joins a conference on our node exactly as Pexip's
 * own web app does (createInfinityClient + its signals, a local MediaStream from getUserMedia),
 * and exposes on `window.pexip` what a test needs to look at: the SDK's state and signals, the
 * remote stream it hands out, and probes of that stream (decoded frames, centre colour, tones).
 *
 * Runs in the page, not in Node: nothing here may import Node modules.
 */
import { ClientCallType, createCallSignals, createInfinityClient, createInfinityClientSignals, setLogger, type InfinityClient } from '@pexip/infinity';
import type { PexipDriver, PexipEvent, PexipJoinOptions, PexipState, RemoteMediaProbe } from './types.js';

declare global {
  interface Window {
    pexip?: PexipDriver;
  }
}

const MAX_EVENTS = 500;
const events: PexipEvent[] = [];
const t0 = performance.now();

/** A short, JSON-safe rendering of a signal's payload for the event log. */
function summarise(v: unknown): unknown {
  if (v === undefined || v === null) return v ?? null;
  if (typeof v !== 'object') return v;
  if (v instanceof Error || v instanceof DOMException) return { error: v.name, message: v.message };
  if (v instanceof MediaStream) return { stream: v.id, tracks: v.getTracks().map((t) => `${t.kind}:${t.readyState}`) };
  try {
    const s = JSON.stringify(v, (_k, x: unknown) =>
      typeof x === 'string' && x.length > 300
        ? `${x.slice(0, 300)}…`
        : x instanceof Error || x instanceof DOMException
          ? { error: x.name, message: x.message }
          : x,
    );
    return s && s.length > 2_000 ? `${s.slice(0, 2_000)}…` : JSON.parse(s ?? 'null');
  } catch {
    return Object.prototype.toString.call(v);
  }
}

/** Never throws: it runs inside the SDK's logger and signal handlers. */
function record(name: string, detail?: unknown): void {
  let d: unknown;
  try {
    d = summarise(detail);
  } catch {
    d = '(unprintable)';
  }
  events.push({ t: Math.round(performance.now() - t0), name, detail: d });
  if (events.length > MAX_EVENTS) events.splice(0, events.length - MAX_EVENTS);
}

// The SDK's own log: info and above go to the event log, warnings and errors also to the console.
const log =
  (level: string) =>
  (meta: unknown, message?: string): void => {
    if (level === 'debug' || level === 'trace') return;
    record(`log:${level}`, { message, meta: summarise(meta) });
    if (level !== 'info') console.warn(`[pexip-sdk ${level}] ${message ?? ''}`, meta);
  };
setLogger({
  trace: log('trace'),
  debug: log('debug'),
  info: log('info'),
  warn: log('warn'),
  error: log('error'),
  fatal: log('fatal'),
  silent: () => undefined,
  addRedactPattern: () => undefined,
  redact: (text: string) => text,
});

// Every RTCPeerConnection the SDK makes, for getStats() (the SDK does not expose its peer).
const peers: RTCPeerConnection[] = [];
const NativePC = window.RTCPeerConnection;
class RecordingPC extends NativePC {
  constructor(config?: RTCConfiguration) {
    record('pc:create', { iceServers: config?.iceServers, bundlePolicy: config?.bundlePolicy, iceTransportPolicy: config?.iceTransportPolicy });
    super(config);
    peers.push(this);
    this.addEventListener('connectionstatechange', () => record('pc:connectionState', this.connectionState));
    this.addEventListener('iceconnectionstatechange', () => record('pc:iceConnectionState', this.iceConnectionState));
  }
}
window.RTCPeerConnection = RecordingPC;

const state: PexipState = {
  phase: 'idle',
  error: null,
  errorCode: null,
  participantUuid: null,
  serviceType: null,
  conferenceName: null,
  participants: [],
  stage: [],
  callConnected: false,
  remoteStreams: 0,
  presentationStreams: 0,
  token: null,
  tokenRefreshes: 0,
  reconnecting: false,
  iceRestarts: 0,
  conferenceStatus: null,
};

let client: InfinityClient | null = null;
let localStream: MediaStream | null = null;
let remoteStream: MediaStream | null = null;

// The remote stream is played as Pexip's app does: one <video> (muted) and one <audio>.
const video = document.createElement('video');
video.id = 'remote-video';
video.autoplay = true;
video.muted = true;
video.playsInline = true;
video.width = 320;
video.height = 180;
const audio = document.createElement('audio');
audio.id = 'remote-audio';
audio.autoplay = true;
document.addEventListener('DOMContentLoaded', () => document.body.append(video, audio));
if (document.body) document.body.append(video, audio);

// The presentation (slides) stream, when the SDK receives one.
const slides = document.createElement('video');
slides.id = 'presentation-video';
slides.autoplay = true;
slides.muted = true;
slides.playsInline = true;
slides.width = 320;
slides.height = 180;
document.addEventListener('DOMContentLoaded', () => document.body.append(slides));
if (document.body) document.body.append(slides);
let presentationStream: MediaStream | null = null;
let screenStream: MediaStream | null = null;

let framesPresented = 0;
const countFrames = (): void => {
  video.requestVideoFrameCallback(() => {
    framesPresented++;
    countFrames();
  });
};
countFrames();

function setRemote(stream: MediaStream): void {
  remoteStream = stream;
  state.remoteStreams++;
  video.srcObject = stream;
  audio.srcObject = new MediaStream(stream.getAudioTracks());
  void video.play().catch(() => undefined);
  void audio.play().catch(() => undefined);
}

async function join(opts: PexipJoinOptions): Promise<void> {
  if (client) throw new Error('already joined');
  state.phase = 'joining';
  const signals = createInfinityClientSignals([], { batchScheduleTimeoutMS: 0, batchBufferSize: 50 });
  const callSignals = createCallSignals([]);

  signals.onConnected.add(() => {
    record('onConnected');
    if (state.phase === 'joining') state.phase = 'connected';
  });
  signals.onAuthenticatedWithConference.add((e) => {
    state.token = e.token;
    record('onAuthenticatedWithConference', { conferenceAlias: e.conferenceAlias, conferenceName: e.conferenceName });
  });
  signals.onTokenRefreshed.add((e) => {
    state.token = e.token;
    state.tokenRefreshes++;
    record('onTokenRefreshed');
  });
  signals.onConferenceStatus.add((e) => {
    state.conferenceStatus = e.status.rawData;
  });
  signals.onServiceType.add((t) => {
    state.serviceType = t ?? null;
    record('onServiceType', t);
  });
  signals.onPinRequired.add((e) => {
    record('onPinRequired', e);
    state.phase = 'pin_required';
  });
  signals.onError.add(({ error, errorCode }) => {
    record('onError', { error, errorCode });
    state.phase = 'error';
    state.error = String(error);
    state.errorCode = String(errorCode);
  });
  signals.onDisconnected.add(({ error, errorCode }) => {
    record('onDisconnected', { error, errorCode });
    state.phase = 'disconnected';
    state.error ??= String(error);
    state.errorCode ??= String(errorCode);
  });
  signals.onFailedRequest.add((name) => record('onFailedRequest', name));
  signals.onMe.add(({ participant }) => {
    state.participantUuid = participant.uuid;
    record('onMe', { uuid: participant.uuid, displayName: participant.displayName, role: participant.role, serviceType: participant.serviceType });
  });
  type SdkParticipant = Parameters<Parameters<typeof signals.onParticipants.add>[0]>[0]['participants'][number];
  const entryOf = (p: SdkParticipant) => ({
    uuid: p.uuid,
    displayName: p.displayName ?? '',
    isMuted: p.isMuted,
    isCameraMuted: p.isCameraMuted,
    hasMedia: p.hasMedia,
    raw: p.rawData,
  });
  // The list follows the SDK's joined / updated / left signals between syncs (they come batched).
  const upsert = (p: SdkParticipant) => {
    state.participants = [...state.participants.filter((x) => x.uuid !== p.uuid), entryOf(p)];
  };
  const batch = <T>(e: T | T[]): T[] => (Array.isArray(e) ? e : [e]);
  signals.onParticipantJoined.add((e) => batch(e).forEach((x) => upsert(x.participant)));
  signals.onParticipantUpdated.add((e) => batch(e).forEach((x) => upsert(x.participant)));
  signals.onParticipantLeft.add((e) => batch(e).forEach((x) => (state.participants = state.participants.filter((p) => p.uuid !== x.participant.uuid))));
  signals.onParticipants.add(({ participants }) => {
    state.participants = participants.map(entryOf);
    record(
      'onParticipants',
      state.participants.map((p) => p.displayName),
    );
  });
  // Batched signals: one array of events per batch.
  signals.onParticipantJoined.add((batch) =>
    record(
      'onParticipantJoined',
      batch.map((e) => e.participant.displayName),
    ),
  );
  signals.onParticipantLeft.add((batch) =>
    record(
      'onParticipantLeft',
      batch.map((e) => e.participant.displayName),
    ),
  );
  signals.onStage.add((stage) => {
    state.stage = stage.map((s) => ({ userId: s.userId, stageIndex: s.stageIndex, vad: s.vad }));
    record('onStage', state.stage);
  });
  signals.onConferenceStatus.add((e) => record('onConferenceStatus', e.status.rawData));
  signals.onLayoutUpdate.add((e) => record('onLayoutUpdate', e));
  signals.onAnswer.add((a) => record('onAnswer', { call_uuid: a.call_uuid, sdpLines: a.sdp?.split('\r\n').length, turn: a.turn }));
  signals.onCallConnected.add(() => record('signals.onCallConnected'));
  signals.onCallDisconnected.add((e) => record('onCallDisconnected', e));
  signals.onMessage.add((m) => record('onMessage', { from: m.displayName, message: m.message }));
  signals.onTransfer.add((t) => record('onTransfer', { alias: t.alias, token: t.token, target: t.target }));

  callSignals.onCallConnected.add(() => {
    record('onCallConnected');
    state.callConnected = true;
    state.phase = 'call_connected';
  });
  callSignals.onRemoteStream.add((stream) => {
    record('onRemoteStream', stream);
    setRemote(stream);
  });
  callSignals.onRemotePresentationStream.add((stream) => {
    record('onRemotePresentationStream', stream);
    presentationStream = stream;
    state.presentationStreams++;
    slides.srcObject = stream;
    void slides.play().catch(() => undefined);
  });
  signals.onPresentationAnswer.add((a) => record('onPresentationAnswer', { callUuid: a.callUuid, present: a.present }));
  // The SDK restarts ICE when its inbound video packet count stops advancing between two stats reports.
  callSignals.onReconnecting.add(() => {
    state.reconnecting = true;
    state.iceRestarts++;
    record('onReconnecting');
  });
  callSignals.onReconnected.add(() => {
    state.reconnecting = false;
    record('onReconnected');
  });

  localStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 360 } });
  client = createInfinityClient(signals, callSignals);
  const nodeUrl = new URL(opts.nodeUrl ?? window.location.origin);
  const res = await client.call({
    conferenceAlias: opts.alias,
    displayName: opts.displayName,
    bandwidth: opts.bandwidth ?? 1024,
    mediaStream: localStream,
    callType: opts.callType === 'audio' ? ClientCallType.Audio : ClientCallType.AudioVideoPresentation,
    host: nodeUrl.origin,
    node: nodeUrl.host,
    ...(opts.pin !== undefined ? { pin: opts.pin } : {}),
  });
  record('call:result', { status: res?.status, result: res?.data && 'result' in res.data ? summarise(res.data.result) : undefined });
  state.conferenceName = client.conferenceName ?? null;
}

/** Shares the screen (getDisplayMedia) as the SDK's presentation: take_floor, then the slides m-line goes sendonly. */
async function present(): Promise<void> {
  if (!client) throw new Error('not joined');
  screenStream = await navigator.mediaDevices.getDisplayMedia({ video: true });
  client.present(screenStream);
  record('present');
}

async function stopPresenting(): Promise<void> {
  if (!client) return;
  client.stopPresenting();
  screenStream?.getTracks().forEach((t) => t.stop());
  screenStream = null;
  record('stopPresenting');
}

async function leave(): Promise<void> {
  if (!client) return;
  await client.disconnect({ reason: 'User initiated disconnect' });
  record('left');
  state.phase = 'left';
  client = null;
  localStream?.getTracks().forEach((t) => t.stop());
}

/** Sums of the inbound RTP stats over every peer connection the SDK made. */
async function inbound(): Promise<RemoteMediaProbe['inbound']> {
  const out = { videoFramesDecoded: 0, videoPacketsReceived: 0, audioPacketsReceived: 0, audioEnergy: 0, videoWidth: 0, videoHeight: 0 };
  for (const pc of peers) {
    if (pc.connectionState === 'closed') continue;
    (await pc.getStats()).forEach((r: Record<string, unknown>) => {
      if (r.type !== 'inbound-rtp') return;
      if (r.kind === 'video') {
        out.videoFramesDecoded += Number(r.framesDecoded ?? 0);
        out.videoPacketsReceived += Number(r.packetsReceived ?? 0);
        out.videoWidth = Math.max(out.videoWidth, Number(r.frameWidth ?? 0));
        out.videoHeight = Math.max(out.videoHeight, Number(r.frameHeight ?? 0));
      }
      if (r.kind === 'audio') {
        out.audioPacketsReceived += Number(r.packetsReceived ?? 0);
        out.audioEnergy += Number(r.totalAudioEnergy ?? 0);
      }
    });
  }
  return out;
}

/** The decoded picture's centre pixel, or null before the first frame. */
function centreColour(v: HTMLVideoElement = video): [number, number, number] | null {
  if (v.videoWidth === 0 || v.videoHeight === 0 || v.readyState < 2) return null;
  const c = document.createElement('canvas');
  c.width = v.videoWidth;
  c.height = v.videoHeight;
  const g = c.getContext('2d', { willReadFrequently: true })!;
  g.drawImage(v, 0, 0);
  const d = g.getImageData(Math.floor(c.width / 2), Math.floor(c.height / 2), 1, 1).data;
  return [d[0]!, d[1]!, d[2]!];
}

let analyser: { ctx: AudioContext; node: AnalyserNode; trackId: string } | null = null;
/** Peak level (dB, AnalyserNode scale: about -100 for silence) near each frequency in the remote audio. */
async function toneLevels(freqs: number[]): Promise<Record<number, number>> {
  const track = remoteStream?.getAudioTracks()[0];
  const out: Record<number, number> = {};
  if (!track || track.readyState !== 'live') return out;
  if (!analyser || analyser.trackId !== track.id) {
    const ctx = analyser?.ctx ?? new AudioContext();
    const node = ctx.createAnalyser();
    node.fftSize = 8192;
    node.smoothingTimeConstant = 0.3;
    ctx.createMediaStreamSource(new MediaStream([track])).connect(node);
    analyser = { ctx, node, trackId: track.id };
  }
  await analyser.ctx.resume().catch(() => undefined);
  const bins = new Float32Array(analyser.node.frequencyBinCount);
  analyser.node.getFloatFrequencyData(bins);
  const binHz = analyser.ctx.sampleRate / analyser.node.fftSize;
  for (const f of freqs) {
    const centre = Math.round(f / binHz);
    let peak = -200;
    for (let i = centre - 3; i <= centre + 3; i++) if (Number.isFinite(bins[i]!)) peak = Math.max(peak, bins[i]!);
    out[f] = peak;
  }
  return out;
}

/** The RTP stats of every peer connection the SDK made (inbound, outbound, candidate pair), compacted. */
async function rtpStats(): Promise<Record<string, unknown>[]> {
  const keep = [
    'type',
    'kind',
    'mid',
    'ssrc',
    'codecId',
    'packetsReceived',
    'packetsLost',
    'bytesReceived',
    'framesDecoded',
    'framesReceived',
    'keyFramesDecoded',
    'frameWidth',
    'frameHeight',
    'pliCount',
    'firCount',
    'nackCount',
    'totalAudioEnergy',
    'audioLevel',
    'packetsSent',
    'bytesSent',
    'framesEncoded',
    'qualityLimitationReason',
    'state',
    'currentRoundTripTime',
    'mimeType',
    'payloadType',
    'decoderImplementation',
  ];
  const out: Record<string, unknown>[] = [];
  for (const pc of peers) {
    (await pc.getStats()).forEach((r: Record<string, unknown>) => {
      if (!['inbound-rtp', 'outbound-rtp', 'codec'].includes(String(r.type)) && !(r.type === 'candidate-pair' && r.nominated)) return;
      out.push(Object.fromEntries(keep.filter((k) => r[k] !== undefined).map((k) => [k, r[k]])));
    });
  }
  return out;
}

async function probe(freqs: number[] = []): Promise<RemoteMediaProbe> {
  return {
    inbound: await inbound(),
    framesPresented,
    centre: centreColour(),
    presentationCentre: presentationStream ? centreColour(slides) : null,
    tones: await toneLevels(freqs),
    remoteTracks: remoteStream?.getTracks().map((t) => ({ kind: t.kind, readyState: t.readyState, muted: t.muted })) ?? [],
  };
}

window.pexip = {
  join,
  leave,
  present,
  stopPresenting,
  probe,
  rtpStats,
  control: async (name, params) => {
    if (!client) throw new Error('not joined');
    const fn: unknown = Reflect.get(client, name);
    if (typeof fn !== 'function') throw new Error(`the SDK has no ${name}`);
    try {
      const res = (await fn.call(client, params)) as { status?: number } | undefined;
      record(`control:${name}`, { status: res?.status });
      // Queries (availableLayouts, layoutSvgs) give the result itself rather than a response.
      const isResponse = res === undefined || (typeof res === 'object' && res !== null && typeof res.status === 'number');
      return { status: res?.status ?? null, error: null, ...(isResponse ? {} : { value: JSON.parse(JSON.stringify(res)) as unknown }) };
    } catch (err) {
      record(`control:${name}:error`, err);
      return { status: null, error: err instanceof Error ? err.message : String(err) };
    }
  },
  restartIce: () => peers.filter((pc) => pc.connectionState !== 'closed').forEach((pc) => pc.restartIce()),
  sdp: () => peers.map((pc) => ({ local: pc.localDescription?.sdp ?? null, remote: pc.remoteDescription?.sdp ?? null })),
  get state() {
    return state;
  },
  get events() {
    return events;
  },
  get remoteStream() {
    return remoteStream;
  },
  get localStream() {
    return localStream;
  },
  get client() {
    return client;
  },
  peers,
};
record('driver:ready');
