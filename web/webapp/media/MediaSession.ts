import { Device, type types as ms } from 'mediasoup-client';
import { z } from 'zod';
import {
  consumerAddedEvent,
  consumerIdEvent,
  joinResult,
  mediaCapabilities,
  mediaSource,
  presentationStartEvent,
  produceResult,
  producerIdEvent,
  stageEvent,
  videoCodecEvent,
  type ConsumerAddedEvent,
  type JoinBody,
  type MediaSource,
  type PreferencesBody,
  type ProduceBody,
  type StageEntry,
  type TransportInfo,
  type VideoCodec,
} from '../../../shared/client-api/media.js';
import { cameraEncodings, SCREEN_ENCODINGS } from './encodings.js';
import { dtlsParameters, iceCandidate, iceParameters, rtpCapabilities, rtpParameters } from './mediasoupClientParameters.js';
import { updateRecency } from './layout.js';
import { Emitter, type LocalMediaState, type MediaSessionEvents, type PresentationState, type RemoteTrack, type VideoWant } from './types.js';

/**
 * Requests under `…/participants/{p}/` with the participant's token (ClientApi), e.g. `media/join`,
 * `take_floor`. A failed request rejects with an Error carrying the HTTP `status`.
 */
export interface MediaApi {
  get(path: string): Promise<unknown>;
  post(path: string, body?: unknown): Promise<unknown>;
}

/** The answer of `restart_ice`. */
const restartIceResult = z.object({ ice_parameters: iceParameters });

/** Server-side preferences as last sent for one consumer. */
type Sent = Pick<PreferencesBody, 'paused' | 'spatial_layer' | 'temporal_layer' | 'priority'>;

interface ConsumerRecord {
  consumer: ms.Consumer;
  info: ConsumerAddedEvent;
  producerPaused: boolean;
  /** `…/consumers/{id}/resume` done (consumers start paused at the node). */
  resumed: boolean;
  sent: Sent;
  /** Preference requests for this consumer, one at a time, in order. */
  chain: Promise<unknown>;
  closed: boolean;
}

type ConsumerEvent =
  | { type: 'added'; data: ConsumerAddedEvent }
  | { type: 'removed' | 'paused' | 'resumed'; consumerId: string }
  | { type: 'producer_closed'; producerId: string };

/** How long ICE may stay `failed` through restarts before the call gives up. */
const MAX_ICE_RESTARTS = 2;

const isStatus = (err: unknown, status: number) => typeof err === 'object' && err !== null && (err as { status?: unknown }).status === status;

/**
 * The meeting client's multi-stream media with mediasoup-client (wire contract:
 * shared/client-api/media.ts): one send transport with a producer per local source (microphone,
 * camera with simulcast, screen) and one receive transport with a consumer per stream the node
 * pushes (SSE `media_consumer_added`). Every incoming event is validated; invalid ones are ignored.
 */
export class MediaSession extends Emitter<MediaSessionEvents> {
  private device: Device | null = null;
  private send: ms.Transport | null = null;
  private recv: ms.Transport | null = null;
  private mic: ms.Producer | null = null;
  private camera: ms.Producer | null = null;
  private screen: ms.Producer | null = null;
  private readonly consumers = new Map<string, ConsumerRecord>();
  /** Consumer events that came before the receive transport existed, replayed in order once it does. */
  private pending: ConsumerEvent[] | null = [];
  /** Consumer events are handled one at a time, in arrival order. */
  private consumerChain: Promise<unknown> = Promise.resolve();
  /** Consumers the node removed while their creation was still under way. */
  private readonly removedEarly = new Set<string>();
  private plan: ReadonlyMap<string, VideoWant> | null = null;
  private stageNow: StageEntry[] = [];
  private recentNow: string[] = [];
  private presentationNow: PresentationState = { active: false };
  private preparing: Promise<void> | null = null;
  /** The conference's camera codec (GET media, then `media_video_codec`). */
  private videoCodec: VideoCodec = 'video/VP8';
  /** Camera re-sends in a new codec, one at a time. */
  private recoding: Promise<void> = Promise.resolve();
  private closed = false;
  private failedOnce = false;

  constructor(
    private readonly api: MediaApi,
    private readonly rtc: RTCConfiguration,
    private readonly local: MediaStream,
  ) {
    super();
  }

  // --- lifecycle

  /** `GET …/media` and the device's load: may run while the event stream opens. */
  prepare(): Promise<void> {
    return (this.preparing ??= (async () => {
      const caps = mediaCapabilities.parse(await this.api.get('media'));
      if (caps.video_codec) this.videoCodec = caps.video_codec;
      const device = await Device.factory();
      await device.load({ routerRtpCapabilities: rtpCapabilities.parse(caps.router_rtp_capabilities) });
      this.device = device;
    })());
  }

  /**
   * Joins: the node's transports, then the local microphone and camera produced. The event
   * stream must be open (consumers come over it). Rejects when the transports cannot be set up;
   * a source that cannot be produced is left out.
   */
  async start(): Promise<void> {
    await this.prepare();
    const device = this.device!;
    if (this.closed) return;
    const body: JoinBody = { rtp_capabilities: { ...device.recvRtpCapabilities } };
    const joined = joinResult.parse(await this.api.post('media/join', body));
    if (this.closed) return;
    const options = (t: TransportInfo): ms.TransportOptions => ({
      id: t.id,
      iceParameters: iceParameters.parse(t.ice_parameters),
      iceCandidates: z.array(iceCandidate).parse(t.ice_candidates),
      dtlsParameters: dtlsParameters.parse(t.dtls_parameters),
      iceServers: this.rtc.iceServers ?? [],
      iceTransportPolicy: this.rtc.iceTransportPolicy ?? 'all',
    });
    this.recv = device.createRecvTransport(options(joined.recv_transport));
    this.send = device.createSendTransport(options(joined.send_transport));
    for (const t of [this.recv, this.send]) this.wire(t);
    this.send.on('produce', ({ kind, rtpParameters, appData }, ok, fail) => {
      const source = mediaSource.safeParse(appData.source);
      if (!source.success) return fail(new Error('producer without a source'));
      const produce: ProduceBody = { kind, rtp_parameters: { ...rtpParameters }, source: source.data };
      this.api.post(`media/transports/${encodeURIComponent(this.send!.id)}/produce`, produce).then(
        (r) => ok({ id: produceResult.parse(r).id }),
        (err: unknown) => fail(err instanceof Error ? err : new Error(String(err))),
      );
    });

    // Consumers the node announced meanwhile.
    const queued = this.pending ?? [];
    this.pending = null;
    for (const ev of queued) this.enqueue(ev);

    await Promise.all([this.produceLocal('mic'), this.produceLocal('camera')]);
  }

  /** Leaves: tells the node (unless it already knows), closes everything; local tracks stay. */
  async close(tellNode = true): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const screenTrack = this.screen?.track;
    if (tellNode && this.send) await this.api.post('media/leave').catch(() => null);
    for (const p of [this.mic, this.camera, this.screen]) p?.close();
    screenTrack?.stop();
    this.mic = this.camera = this.screen = null;
    this.send?.close();
    this.recv?.close();
    for (const rec of this.consumers.values()) rec.closed = true;
    this.consumers.clear();
  }

  // --- what the UI reads

  remoteTracks(): RemoteTrack[] {
    return [...this.consumers.values()].map((r) => this.remote(r));
  }

  get stage(): StageEntry[] {
    return this.stageNow;
  }

  /** Speakers seen speaking (stage entries with vad > 0), most recent first. */
  get recentSpeakers(): string[] {
    return this.recentNow;
  }

  get presentation(): PresentationState {
    return this.presentationNow;
  }

  /** The camera and microphone this session sends (owned by the call: they outlive a transfer). */
  get localStream(): MediaStream {
    return this.local;
  }

  localState(): LocalMediaState {
    const live = (t: MediaStreamTrack | undefined) => Boolean(t && t.readyState === 'live' && t.enabled);
    return {
      micMuted: this.mic ? this.mic.paused : !live(this.local.getAudioTracks()[0]),
      cameraOff: this.camera ? this.camera.paused : !live(this.local.getVideoTracks()[0]),
      screen: this.screen?.track ?? null,
      hasMic: this.mic !== null,
      hasCamera: this.camera !== null,
    };
  }

  /** Both transports' RTCPeerConnection stats in one report (keys prefixed `send:` / `recv:`). */
  async getStats(): Promise<RTCStatsReport> {
    const merged = new Map<string, unknown>();
    for (const [tag, t] of [
      ['send', this.send],
      ['recv', this.recv],
    ] as const) {
      if (!t || t.closed) continue;
      try {
        (await t.getStats()).forEach((v: unknown, k: string) => merged.set(`${tag}:${k}`, v));
      } catch {
        /* closing */
      }
    }
    return merged;
  }

  // --- the node's events

  /** Listens to the conference's event stream for media, stage and presentation events. */
  attach(es: EventSource): void {
    const on = (name: string, fn: (data: unknown) => void) =>
      es.addEventListener(name, (ev) => {
        if (this.closed) return;
        let data: unknown;
        try {
          const text = (ev as MessageEvent<string>).data;
          data = text ? JSON.parse(text) : null;
        } catch {
          data = undefined;
        }
        fn(data);
      });
    on('media_consumer_added', (d) => {
      const r = consumerAddedEvent.safeParse(d);
      if (r.success) this.consumerEvent({ type: 'added', data: r.data });
    });
    for (const type of ['removed', 'paused', 'resumed'] as const) {
      on(`media_consumer_${type}`, (d) => {
        const r = consumerIdEvent.safeParse(d);
        if (r.success) this.consumerEvent({ type, consumerId: r.data.consumer_id });
      });
    }
    on('media_video_codec', (d) => {
      const r = videoCodecEvent.safeParse(d);
      if (r.success) this.setVideoCodec(r.data.mime_type);
    });
    on('media_producer_closed', (d) => {
      const r = producerIdEvent.safeParse(d);
      if (r.success) this.consumerEvent({ type: 'producer_closed', producerId: r.data.producer_id });
    });
    on('stage', (d) => {
      const r = stageEvent.safeParse(d);
      if (!r.success) return;
      this.stageNow = [...r.data].sort((a, b) => a.stage_index - b.stage_index);
      this.recentNow = updateRecency(this.recentNow, this.stageNow);
      this.emit('stage', this.stageNow);
    });
    on('presentation_start', (d) => {
      const r = presentationStartEvent.safeParse(d ?? {});
      if (!r.success || r.data.status === 'stop') return;
      this.presentationNow = { active: true, presenterUuid: r.data.presenter_uuid, presenterName: r.data.presenter_name };
      this.emit('presentation', this.presentationNow);
    });
    on('presentation_stop', () => {
      this.presentationNow = { active: false };
      this.emit('presentation', this.presentationNow);
    });
  }

  private consumerEvent(ev: ConsumerEvent): void {
    if (this.pending) this.pending.push(ev);
    else this.enqueue(ev);
  }

  private enqueue(ev: ConsumerEvent): void {
    // Removal must not wait behind a slow creation: remembered at once, applied when it ends.
    if (ev.type === 'removed') this.removedEarly.add(ev.consumerId);
    this.consumerChain = this.consumerChain.then(() => this.handle(ev)).catch((err: unknown) => console.warn('media event', err));
  }

  private async handle(ev: ConsumerEvent): Promise<void> {
    if (this.closed) return;
    switch (ev.type) {
      case 'added':
        return this.addConsumer(ev.data);
      case 'removed': {
        this.removedEarly.delete(ev.consumerId);
        const rec = this.consumers.get(ev.consumerId);
        if (!rec) return;
        this.consumers.delete(ev.consumerId);
        rec.closed = true;
        rec.consumer.close();
        this.emit('trackremoved', this.remote(rec));
        return;
      }
      case 'paused':
      case 'resumed': {
        const rec = this.consumers.get(ev.consumerId);
        if (!rec) return;
        rec.producerPaused = ev.type === 'paused';
        this.emit('trackupdated', this.remote(rec));
        return;
      }
      case 'producer_closed':
        return this.producerClosedByNode(ev.producerId);
    }
  }

  private async addConsumer(info: ConsumerAddedEvent): Promise<void> {
    if (!this.recv || this.consumers.has(info.consumer_id)) return;
    if (this.removedEarly.has(info.consumer_id)) return;
    const consumer = await this.recv.consume({
      id: info.consumer_id,
      producerId: info.producer_id,
      kind: info.kind,
      rtpParameters: rtpParameters.parse(info.rtp_parameters),
      // A participant's microphone and camera share a stream (lip sync); a screen has its own.
      streamId: info.source === 'screen' ? `${info.participant_uuid}-screen` : info.participant_uuid,
      appData: { participant_uuid: info.participant_uuid, source: info.source },
    });
    if (this.closed || this.removedEarly.has(info.consumer_id)) {
      this.removedEarly.delete(info.consumer_id);
      consumer.close();
      return;
    }
    const rec: ConsumerRecord = {
      consumer,
      info,
      producerPaused: info.producer_paused,
      resumed: false,
      sent: { paused: true },
      chain: Promise.resolve(),
      closed: false,
    };
    this.consumers.set(info.consumer_id, rec);
    this.emit('trackadded', this.remote(rec));
    void this.applyWant(rec);
  }

  private producerClosedByNode(producerId: string): void {
    if (this.screen?.id === producerId) {
      // Someone else took the presentation floor.
      this.screen.close();
      this.screen = null;
    } else if (this.mic?.id === producerId) {
      this.mic.close();
      this.mic = null;
    } else if (this.camera?.id === producerId) {
      this.camera.close();
      this.camera = null;
    } else return;
    this.emitLocal();
  }

  private remote(rec: ConsumerRecord): RemoteTrack {
    return {
      consumerId: rec.info.consumer_id,
      participant_uuid: rec.info.participant_uuid,
      source: rec.info.source,
      kind: rec.info.kind,
      track: rec.consumer.track,
      producerPaused: rec.producerPaused,
    };
  }

  // --- receiving: last-N, layers, priorities

  /**
   * What this client wants of each participant's camera (by participant uuid): shown tiles with
   * their layer and priority, hidden ones paused. Participants not in the plan get their video
   * until the next plan. Only changes reach the node.
   */
  setVideoPlan(plan: ReadonlyMap<string, VideoWant>): void {
    this.plan = plan;
    for (const rec of this.consumers.values()) if (rec.info.kind === 'video' && rec.info.source === 'camera') void this.applyWant(rec);
  }

  private applyWant(rec: ConsumerRecord): Promise<void> {
    if (rec.info.kind === 'audio') return this.setPreferences(rec.info.consumer_id, { paused: false });
    if (rec.info.source === 'screen') return this.setPreferences(rec.info.consumer_id, { paused: false, priority: 255 });
    const want = this.plan?.get(rec.info.participant_uuid) ?? { paused: false };
    const prefs: PreferencesBody = { paused: want.paused };
    if (!want.paused) {
      if (want.spatialLayer !== undefined) prefs.spatial_layer = want.spatialLayer;
      if (want.priority !== undefined) prefs.priority = Math.max(1, Math.min(255, Math.round(want.priority)));
    }
    return this.setPreferences(rec.info.consumer_id, prefs);
  }

  /**
   * One consumer's preferences (`…/consumers/{id}/preferences`); the first unpause is the
   * consumer's `resume`. Requests for a consumer go one at a time; unchanged values are not sent.
   */
  setPreferences(consumerId: string, prefs: PreferencesBody): Promise<void> {
    const rec = this.consumers.get(consumerId);
    if (!rec) return Promise.resolve();
    const id = encodeURIComponent(consumerId);
    const run = async () => {
      if (rec.closed || this.closed) return;
      if (prefs.paused === false && !rec.resumed) {
        await this.api.post(`media/consumers/${id}/resume`);
        rec.resumed = true;
        rec.sent.paused = false;
      }
      const body: PreferencesBody = {};
      for (const key of ['paused', 'spatial_layer', 'temporal_layer', 'priority'] as const) {
        const v = prefs[key];
        if (v !== undefined && v !== rec.sent[key]) (body as Record<string, unknown>)[key] = v;
      }
      // Still paused since creation: nothing to tell the node yet (layers follow the unpause).
      if (!rec.resumed && prefs.paused !== false) return;
      if (Object.keys(body).length === 0) return;
      await this.api.post(`media/consumers/${id}/preferences`, body);
      Object.assign(rec.sent, body);
    };
    const next = rec.chain.then(run).catch((err: unknown) => console.warn('consumer preferences', err));
    rec.chain = next;
    return next;
  }

  // --- sending

  private async produceLocal(source: 'mic' | 'camera'): Promise<void> {
    const kind = source === 'mic' ? 'audio' : 'video';
    const track = kind === 'audio' ? this.local.getAudioTracks()[0] : this.local.getVideoTracks()[0];
    if (!track || track.readyState === 'ended' || !this.send || !this.device?.canProduce(kind)) return;
    try {
      const options: ms.ProducerOptions = { track, stopTracks: false, appData: { source } };
      if (kind === 'audio') {
        options.codecOptions = { opusStereo: false, opusFec: true, opusDtx: true };
      } else {
        options.encodings = cameraEncodings(track.getSettings());
        options.codecOptions = { videoGoogleStartBitrate: 1000 };
        // The conference's codec where this browser can send it (a room system's H.264 is then forwarded), else VP8.
        const codec = this.codec(this.videoCodec.toLowerCase()) ?? this.codec('video/vp8');
        if (codec) options.codec = codec;
      }
      const producer = await this.send.produce(options);
      if (this.closed) return producer.close();
      if (source === 'mic') this.mic = producer;
      else this.camera = producer;
      // The conference's codec changed while this camera was being set up.
      if (source === 'camera' && producer.rtpParameters.codecs[0]?.mimeType.toLowerCase() !== this.videoCodec.toLowerCase()) this.resendCamera();
      producer.on('trackended', () => this.emitLocal());
      // A track already switched off (muted before a transfer) starts paused.
      if (!track.enabled) await this.pauseProducer(producer, true);
      this.emitLocal();
    } catch (err) {
      console.warn(`could not send ${source}`, err);
    }
  }

  /**
   * The conference wants cameras in another codec: the camera is sent again in it (a new producer,
   * the old one closed), kept off if it was off.
   */
  private setVideoCodec(codec: VideoCodec): void {
    if (codec === this.videoCodec) return;
    this.videoCodec = codec;
    this.resendCamera();
  }

  /** Sends the camera again when it goes in another codec than the conference's (and this browser can send that). */
  private resendCamera(): void {
    this.recoding = this.recoding.then(async () => {
      const old = this.camera;
      const want = this.videoCodec.toLowerCase();
      if (this.closed || !old || old.rtpParameters.codecs[0]?.mimeType.toLowerCase() === want || !this.codec(want)) return;
      const off = old.paused;
      this.camera = null;
      old.close();
      await this.api.post(`media/producers/${encodeURIComponent(old.id)}/close`).catch(() => null);
      await this.produceLocal('camera');
      if (off && this.camera) await this.pauseProducer(this.camera, true);
      this.emitLocal();
    });
  }

  private codec(mimeType: string): ms.RtpCodecCapability | undefined {
    return this.device?.sendRtpCapabilities.codecs?.find((c) => c.mimeType.toLowerCase() === mimeType);
  }

  private async pauseProducer(p: ms.Producer, pause: boolean): Promise<void> {
    if (pause) p.pause();
    else p.resume();
    await this.api.post(`media/producers/${encodeURIComponent(p.id)}/${pause ? 'pause' : 'resume'}`).catch((err: unknown) => console.warn('producer', err));
  }

  async setMicMuted(muted: boolean): Promise<void> {
    if (!this.mic || this.mic.paused === muted) return;
    const p = this.pauseProducer(this.mic, muted);
    this.emitLocal();
    await p;
  }

  async setCameraOff(off: boolean): Promise<void> {
    if (!this.camera || this.camera.paused === off) return;
    const p = this.pauseProducer(this.camera, off);
    this.emitLocal();
    await p;
  }

  /**
   * Presents a screen: the browser's picker, the presentation floor (`take_floor`; 403 rejects
   * with "Presentation rejected"), then a producer with source `screen`.
   */
  async startScreenShare(): Promise<void> {
    if (this.screen) return;
    if (!this.send || this.closed) throw new Error('Media is not connected');
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: 15 }, audio: false });
    const track = stream.getVideoTracks()[0];
    stream.getAudioTracks().forEach((t) => t.stop());
    if (!track) throw new Error('No screen was chosen');
    try {
      await this.api.post('take_floor');
    } catch (err) {
      track.stop();
      throw isStatus(err, 403) ? new Error('Presentation rejected') : err;
    }
    try {
      if ('contentHint' in track) track.contentHint = 'detail';
      const options: ms.ProducerOptions = {
        track,
        stopTracks: true,
        encodings: SCREEN_ENCODINGS.map((e) => ({ ...e })),
        appData: { source: 'screen' satisfies MediaSource },
      };
      const vp8 = this.codec('video/vp8');
      if (vp8) options.codec = vp8;
      const producer = await this.send.produce(options);
      if (this.closed) {
        producer.close();
        return;
      }
      this.screen = producer;
      // The browser's own "Stop sharing" ends the track.
      producer.on('trackended', () => void this.stopScreenShare());
      this.emitLocal();
    } catch (err) {
      track.stop();
      await this.api.post('release_floor').catch(() => null);
      throw err;
    }
  }

  /** Stops presenting: the producer closed, the floor released. */
  async stopScreenShare(): Promise<void> {
    const p = this.screen;
    if (!p) return;
    this.screen = null;
    p.close();
    this.emitLocal();
    await this.api.post(`media/producers/${encodeURIComponent(p.id)}/close`).catch(() => null);
    await this.api.post('release_floor').catch(() => null);
  }

  private emitLocal(): void {
    if (!this.closed) this.emit('local', this.localState());
  }

  // --- connection

  private wire(t: ms.Transport): void {
    t.on('connect', ({ dtlsParameters }, ok, fail) => {
      this.api.post(`media/transports/${encodeURIComponent(t.id)}/connect`, { dtls_parameters: dtlsParameters }).then(
        () => ok(),
        (err: unknown) => fail(err instanceof Error ? err : new Error(String(err))),
      );
    });
    let restarts = 0;
    t.on('connectionstatechange', (state) => {
      if (this.closed || state !== 'failed') return;
      if (restarts++ >= MAX_ICE_RESTARTS) return this.fail('WebRTC connection failed');
      this.api
        .post(`media/transports/${encodeURIComponent(t.id)}/restart_ice`)
        .then((r) => t.restartIce({ iceParameters: restartIceResult.parse(r).ice_parameters }))
        .catch(() => this.fail('WebRTC connection failed'));
    });
  }

  private fail(reason: string): void {
    if (this.closed || this.failedOnce) return;
    this.failedOnce = true;
    this.emit('failed', reason);
  }
}
