import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { Logger } from 'pino';
import { DEFAULT_PARTICIPANT_STATE, mayReceive } from '../ForwardingPolicy.js';
import {
  MediaRequestError,
  type CallLeg,
  type CameraCodec,
  type ConferenceMedia,
  type ConferenceMediaEvents,
  type MediaEngineOptions,
  type MediaJson,
  type MediaMode,
  type MediaParticipantState,
  type MediaSourceKind,
  type MultiStreamSession,
  type StagePosition,
} from '../MediaTypes.js';
import type { MediasoupEngine } from './MediasoupEngine.js';
import { MediasoupSession, type ProducerTag, type SessionHost } from './MediasoupSession.js';
import { ActiveSpeakerDetector } from '../ActiveSpeakerDetector.js';
import { DelayedLoopback } from '../DelayedLoopback.js';
import { DirectMedia, isLiveVideo, type Feed } from './DirectMedia.js';
import { MediasoupCallLeg, type LegHost } from './MediasoupCallLeg.js';
import { SingleStreamHub } from './SingleStreamHub.js';
import { ConferenceRouters } from './ConferenceRouters.js';

/** Test Call Service loopback delay (theme `test_call_service_media_delay`, 2 s). */
export const DEFAULT_LOOPBACK_DELAY_MS = 2_000;
/** Audio level (dBov) above which a participant counts as speaking. */
const SPEAKING_THRESHOLD_DB = -55;
/** Audio levels are read, and the speaker re-evaluated, this often. */
const SPEAKER_INTERVAL_MS = 200;

interface ProducerEntry {
  producer: types.Producer;
  tag: ProducerTag;
  /** The participant's own media delayed (Test Call Service): only they receive it. */
  loopback?: boolean;
  /** A participant's stream from another node, over a backplane: never piped on to a further node. */
  remote?: boolean;
}

/** A participant's own stream on this node (what a backplane pipes to other nodes). */
export interface LocalStream {
  producer: types.Producer;
  participantId: string;
  source: MediaSourceKind;
}

/**
 * One conference instance's media on mediasoup: a router on one of the node's workers (more
 * routers on other workers, piped together, once it outgrows one: ConferenceRouters), the
 * participants' producers, and who receives what, recomputed on every change (join, leave,
 * publish, role, hold) from ForwardingPolicy, never per packet. Active speakers come from
 * the audio-level observer through ActiveSpeakerDetector (hysteresis).
 */
export class MediasoupConferenceMedia extends EventEmitter<ConferenceMediaEvents> implements ConferenceMedia, SessionHost, LegHost {
  readonly routers: ConferenceRouters;
  private readonly mode: MediaMode;
  private readonly sessions = new Map<string, MediasoupSession>();
  private readonly producers = new Map<string, ProducerEntry>();
  private readonly states = new Map<string, MediaParticipantState>();
  /** Participant ids, most recent dominant speaker first. */
  private speakerOrder: string[] = [];
  private speaking = new Set<string>();
  private audioLevels: types.AudioLevelObserver | null = null;
  private readonly detector = new ActiveSpeakerDetector({ intervalMs: SPEAKER_INTERVAL_MS });
  private speakerTimer: NodeJS.Timeout | undefined;
  private lastStage = '';
  private lastHostSendsVideo = false;
  readonly direct: DirectMedia;
  readonly hub: SingleStreamHub;
  private readonly legs = new Map<string, MediasoupCallLeg>();
  private readonly loopbackDelayMs: number;
  /** Told when this node's own streams change (backplanes). */
  private readonly localStreamListeners = new Set<() => void>();
  private isClosed = false;

  constructor(
    private readonly engine: MediasoupEngine,
    private readonly opts: MediaEngineOptions,
    private readonly log: Logger,
  ) {
    super();
    this.mode = opts.mode ?? 'conference';
    this.loopbackDelayMs = opts.loopbackDelayMs ?? DEFAULT_LOOPBACK_DELAY_MS;
    this.routers = new ConferenceRouters(engine, log);
    // Callers that never touch media must not see an unhandled rejection.
    this.routers.home
      .then((router) => (this.isClosed ? undefined : this.observe(router)))
      .catch((err) => this.log.error({ err }, 'conference media could not start'));
    this.direct = new DirectMedia(this.routers.home, log, (producer, router) => this.routers.bring(producer, router));
    this.hub = new SingleStreamHub(
      this.direct,
      {
        mode: this.mode,
        loopbackDelayMs: this.loopbackDelayMs,
        stateOf: (pid) => this.stateOf(pid),
        speakerOrder: () => this.speakerOrder,
        hostSendsVideo: () => this.hostSendsVideo(),
        cameraCodecChanged: (codec) => {
          this.emit('videoCodec', codec);
          // Calls answered in the other codec are offered this one (SSE update_sdp), where their offer had it.
          for (const leg of this.legs.values()) void leg.offerVideoCodec(codec);
        },
      },
      log,
    );
  }

  // --- ConferenceMedia

  get sendsMedia(): boolean {
    return this.mode !== 'reception';
  }

  createLeg(participantId: string): CallLeg {
    if (this.isClosed) throw new MediaRequestError('Conference ended');
    // A new call from the same participant (e.g. reconnect) replaces the old leg.
    const old = this.legs.get(participantId);
    this.legs.delete(participantId);
    old?.close('Replaced by a new call');
    const leg = new MediasoupCallLeg(participantId, this, this.log);
    this.legs.set(participantId, leg);
    leg.on('closed', () => {
      if (this.legs.get(participantId) === leg) this.legs.delete(participantId);
      this.publishStage();
    });
    return leg;
  }

  openSession(participantId: string): MultiStreamSession {
    if (this.isClosed) throw new MediaRequestError('Conference ended');
    this.sessions.get(participantId)?.close();
    const session = new MediasoupSession(participantId, this, this.log);
    this.sessions.set(participantId, session);
    return session;
  }

  session(participantId: string): MultiStreamSession | undefined {
    return this.sessions.get(participantId);
  }

  async capabilities(): Promise<MediaJson> {
    // Every router has the same codecs: the home router's capabilities hold for all.
    return (await this.routers.home).rtpCapabilities;
  }

  videoCodec(): CameraCodec {
    return this.hub.cameraCodec;
  }

  videoTranscodes(): { from: string; to: string }[] {
    return this.hub.transcodeList;
  }

  setParticipant(participantId: string, state: MediaParticipantState): void {
    if (this.isClosed) return;
    this.states.set(participantId, { ...state });
    // Muted, video-muted or held: what a backplane pipes of them changes too.
    this.localStreamsChanged();
    // A single-stream call's presentation is its own m-line: paused rather than renegotiated.
    this.legs.get(participantId)?.setPresentationReceipt(!state.rxPresentationDenied);
    this.plan();
    this.hub.update();
    this.publishStage();
  }

  stopPresentation(participantId: string): void {
    this.sessions.get(participantId)?.revokeProducers('screen');
    for (const e of [...this.producers.values()]) if (e.tag.participantId === participantId && e.tag.source === 'screen') e.producer.close();
  }

  stage(): StagePosition[] {
    const present = new Set<string>();
    for (const e of this.producers.values()) if (!this.stateOf(e.tag.participantId).held) present.add(e.tag.participantId);
    for (const [pid, s] of this.sessions) if (!s.closed && !this.stateOf(pid).held) present.add(pid);
    for (const pid of this.legs.keys()) if (!this.stateOf(pid).held) present.add(pid);
    const order = [...this.speakerOrder.filter((p) => present.has(p)), ...[...present].filter((p) => !this.speakerOrder.includes(p))];
    return order.map((participantId) => ({ participantId, speaking: this.speaking.has(participantId) }));
  }

  removeParticipant(participantId: string): void {
    this.legs.get(participantId)?.close('Participant left');
    this.legs.delete(participantId);
    this.sessions.get(participantId)?.close();
    this.sessions.delete(participantId);
    this.states.delete(participantId);
    this.routers.release(participantId);
    this.speakerOrder = this.speakerOrder.filter((p) => p !== participantId);
    this.detector.forget(participantId);
    this.speaking.delete(participantId);
    this.publishStage();
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.localStreamListeners.clear();
    clearInterval(this.speakerTimer);
    for (const s of [...this.sessions.values()]) s.close();
    this.sessions.clear();
    for (const l of [...this.legs.values()]) l.close('Conference ended');
    this.legs.clear();
    this.hub.close();
    this.producers.clear();
    this.direct.close();
    this.routers.close();
  }

  /** Sessions and what they receive, for status and tests: participant → senders it receives. */
  async receiving(): Promise<Map<string, { participantId: string; source: MediaSourceKind }[]>> {
    const out = new Map<string, { participantId: string; source: MediaSourceKind }[]>();
    for (const [pid, s] of this.sessions) {
      out.set(
        pid,
        s.receivedProducers().flatMap((id) => {
          const e = this.producers.get(id);
          return e ? [{ participantId: e.tag.participantId, source: e.tag.source }] : [];
        }),
      );
    }
    return out;
  }

  // --- SessionHost

  /**
   * A router of one SIP call's m-line whose codec has the peer's payload type: consumers send the
   * router's numbers and a plain-RTP peer expects its offer's. Producers made on it are adopted
   * (piped to the conference on demand); it closes with the conference.
   */
  async sideRouter(codec: types.RouterRtpCodecCapability, ...more: types.RouterRtpCodecCapability[]): Promise<types.Router> {
    // Not on the home router's worker: a stream piped between two routers of one worker would clash with itself (the pipe keeps its id).
    const router = await this.engine.createRouter([await this.routers.home], [codec, ...more]);
    if (this.isClosed) router.close();
    else void this.routers.home.then((home) => home.observer.once('close', () => router.close())).catch(() => router.close());
    return router;
  }

  adopt(producer: types.Producer, router: types.Router): void {
    this.routers.adopt(producer, router);
  }

  routerFor(participantId: string): Promise<types.Router> {
    return this.routers.routerFor(participantId);
  }

  bring(producer: types.Producer, router: types.Router): Promise<void> {
    return this.routers.bring(producer, router);
  }

  transportOptions(): types.WebRtcTransportOptions {
    const [min, max] = this.opts.portRange;
    const ip = this.opts.announcedAddress;
    return {
      listenInfos: [
        { protocol: 'udp', ip, portRange: { min, max } },
        { protocol: 'tcp', ip, portRange: { min, max } },
      ],
      preferUdp: true,
      initialAvailableOutgoingBitrate: 1_000_000,
    };
  }

  producerAdded(session: MediasoupSession, producer: types.Producer, source: MediaSourceKind): void {
    this.registerProducer(session.participantId, producer, source);
  }

  /** `remote`: a stream of another node's participant, made on the home router by a backplane. */
  registerProducer(participantId: string, producer: types.Producer, source: MediaSourceKind, remote = false): void {
    const tag: ProducerTag = { participantId, source };
    const origin = remote ? undefined : this.routers.placedRouter(participantId);
    if (origin) this.routers.adopt(producer, origin);
    this.producers.set(producer.id, { producer, tag, ...(remote ? { remote } : {}) });
    if (source === 'screen') this.emit('presentationStream', participantId, true);
    if (!remote) this.localStreamsChanged();
    producer.observer.once('close', () => {
      if (source === 'screen') this.emit('presentationStream', participantId, false);
      if (!remote) this.localStreamsChanged();
      if (!this.producers.delete(producer.id)) return;
      this.plan();
      this.hub.update();
      this.publishStage();
    });
    // A Host's camera going off or on changes what Virtual Auditorium Guests see.
    if (source === 'camera' && this.mode === 'lecture') {
      const recheck = () => {
        const now = this.hostSendsVideo();
        if (now === this.lastHostSendsVideo) return;
        this.lastHostSendsVideo = now;
        this.plan();
        this.hub.update();
      };
      producer.observer.on('pause', recheck);
      producer.observer.on('resume', recheck);
      producer.on('score', recheck);
    }
    this.hub.producerAdded(producer, tag);
    if (this.mode === 'test_call' && source !== 'screen') void this.loopBack(producer, tag);
    if (source === 'mic') {
      // The level observer is on the home router: a stream from another router is piped there.
      void this.routers.home
        .then((home) => this.routers.bring(producer, home))
        .then(() => this.audioLevels?.addProducer({ producerId: producer.id }))
        .catch(() => undefined);
    }
    this.plan();
    this.publishStage();
  }

  /** This node's participants' own streams (not loopbacks, not other nodes'), for backplanes. */
  localStreams(): LocalStream[] {
    return [...this.producers.values()]
      .filter((e) => !e.loopback && !e.remote && !e.producer.closed)
      .map((e) => ({ producer: e.producer, participantId: e.tag.participantId, source: e.tag.source }));
  }

  /** A participant's forwarding state (role, hold, mutes) as last set. */
  participantState(participantId: string): MediaParticipantState {
    return this.stateOf(participantId);
  }

  /** Calls `listener` whenever `localStreams()` or a participant's state may have changed; returns the way to stop. */
  onLocalStreams(listener: () => void): () => void {
    this.localStreamListeners.add(listener);
    return () => this.localStreamListeners.delete(listener);
  }

  /** Where a backplane's pipe transport listens: the node's address, in the conference's media port range. */
  get listenAddress(): { ip: string; portRange: [number, number] } {
    return { ip: this.opts.announcedAddress, portRange: this.opts.portRange };
  }

  private localStreamsChanged(): void {
    for (const l of this.localStreamListeners) l();
  }

  producerRemoved(_session: MediasoupSession, producer: types.Producer): void {
    // Consumers close themselves on 'producerclose'; the mediasoup observers forget it too.
    if (this.producers.delete(producer.id)) {
      this.plan();
      this.hub.update();
      this.localStreamsChanged();
    }
    this.publishStage();
  }

  consumersOf(producer: types.Producer): types.Consumer[] {
    return [...this.sessions.values()].flatMap((s) => s.consumerFor(producer.id) ?? []);
  }

  sessionReady(): void {
    this.plan();
    this.publishStage();
  }

  sessionClosed(session: MediasoupSession): void {
    if (this.sessions.get(session.participantId) === session) this.sessions.delete(session.participantId);
    this.publishStage();
  }

  // --- internals

  private stateOf(participantId: string): MediaParticipantState {
    return this.states.get(participantId) ?? DEFAULT_PARTICIPANT_STATE;
  }

  /** Brings every session's consumers in line with the forwarding policy. */
  private plan(): void {
    if (this.isClosed) return;
    const hostSendsVideo = this.hostSendsVideo();
    for (const viewer of this.sessions.values()) {
      if (!viewer.ready) continue;
      for (const [producerId, e] of this.producers) {
        const want = e.loopback
          ? e.tag.participantId === viewer.participantId && !this.stateOf(viewer.participantId).held
          : mayReceive({
              mode: this.mode,
              viewer: viewer.participantId,
              sender: e.tag.participantId,
              kind: e.producer.kind,
              presentation: e.tag.source === 'screen',
              hostSendsVideo,
              stateOf: (pid) => this.stateOf(pid),
            });
        if (want && !viewer.receives(producerId)) void viewer.addConsumer(e.producer, e.tag);
        else if (!want && viewer.receives(producerId)) viewer.removeConsumer(producerId);
      }
    }
  }

  /**
   * Test Call Service: the caller's own stream comes back through a delay line (guide §15:
   * `test_call_service_media_delay`, 2 s) as a producer only they receive.
   */
  private async loopBack(producer: types.Producer, tag: ProducerTag): Promise<void> {
    let feed: Feed | undefined;
    const line = new DelayedLoopback<Buffer>(this.loopbackDelayMs, (rtp) => feed?.send(rtp));
    try {
      const tap = await this.direct.tap(producer, (rtp) => line.push(rtp));
      const ssrc = tap.consumer.rtpParameters.encodings![0]!.ssrc!;
      feed = await this.direct.feed(producer.kind, tap.consumer.rtpParameters, ssrc, { ...tag, loopback: true }, () => tap.requestKeyFrame());
      const entry: ProducerEntry = { producer: feed.producer, tag, loopback: true };
      this.producers.set(feed.producer.id, entry);
      const stop = () => {
        line.close();
        feed?.close();
        this.producers.delete(entry.producer.id);
      };
      tap.consumer.on('producerclose', stop);
      tap.consumer.on('transportclose', stop);
      if (producer.kind === 'video') for (const ms of [0, 500, 1_500]) setTimeout(() => tap.requestKeyFrame(), ms).unref();
      this.plan();
    } catch (err) {
      line.close();
      feed?.close();
      this.log.warn({ err }, 'test call loopback could not start');
    }
  }

  hasPresentationStream(participantId: string): boolean {
    return [...this.producers.values()].some((e) => e.tag.participantId === participantId && e.tag.source === 'screen' && !e.producer.closed);
  }

  presentationFor(participantId: string): types.Producer | undefined {
    for (const e of this.producers.values()) {
      if (e.tag.source !== 'screen' || e.producer.closed || e.tag.participantId === participantId) continue;
      const ok = mayReceive({
        mode: this.mode,
        viewer: participantId,
        sender: e.tag.participantId,
        kind: 'video',
        presentation: true,
        hostSendsVideo: true,
        stateOf: (pid) => this.stateOf(pid),
      });
      if (ok) return e.producer;
    }
    return undefined;
  }

  /**
   * A Host (not held) sends camera video (packets arrived: mediasoup keeps a scored stream): Virtual
   * Auditorium Guests then see Hosts only. An offered but silent video m-line is audio-only.
   */
  hostSendsVideo(): boolean {
    for (const e of this.producers.values()) {
      if (e.loopback || e.tag.source !== 'camera' || !isLiveVideo(e.producer)) continue;
      const st = this.stateOf(e.tag.participantId);
      if (st.role === 'host' && !st.held) return true;
    }
    return false;
  }

  /**
   * Who speaks: mediasoup's level observer gives who is above the threshold each interval; our
   * detector (ActiveSpeakerDetector.ts: hysteresis, and it switches where mediasoup's own
   * ActiveSpeakerObserver did not) turns that into the dominant speaker, ticked on our clock so
   * silence counts as time passing.
   */
  private async observe(router: types.Router): Promise<void> {
    this.audioLevels = await router.createAudioLevelObserver({ maxEntries: 32, threshold: SPEAKING_THRESHOLD_DB, interval: SPEAKER_INTERVAL_MS });
    // Microphones that started before the observer existed.
    for (const e of this.producers.values()) {
      if (e.tag.source !== 'mic' || e.loopback) continue;
      void this.routers
        .bring(e.producer, router)
        .then(() => this.audioLevels?.addProducer({ producerId: e.producer.id }))
        .catch(() => undefined);
    }
    this.audioLevels.on('volumes', (volumes) => {
      this.speaking = new Set(volumes.flatMap((v) => (v.producer.appData as Partial<ProducerTag>).participantId ?? []));
      this.publishStage();
    });
    this.audioLevels.on('silence', () => {
      this.speaking = new Set();
      this.publishStage();
    });
    this.speakerTimer = setInterval(() => this.detectSpeaker(), SPEAKER_INTERVAL_MS).unref();
  }

  private detectSpeaker(): void {
    if (this.isClosed) return;
    const talkers = new Set<string>();
    for (const e of this.producers.values())
      if (e.tag.source === 'mic' && !e.loopback && !this.stateOf(e.tag.participantId).held) talkers.add(e.tag.participantId);
    const pid = this.detector.update(this.speaking, talkers);
    if (pid === undefined || this.speakerOrder[0] === pid) return;
    this.speakerOrder = [pid, ...this.speakerOrder.filter((p) => p !== pid)];
    this.log.debug({ participant: pid }, 'dominant speaker');
    this.hub.update();
    this.publishStage();
  }

  private publishStage(): void {
    if (this.isClosed) return;
    const stage = this.stage();
    const key = JSON.stringify(stage);
    if (key === this.lastStage) return;
    this.lastStage = key;
    this.emit('stage', stage);
  }
}
