import { EventEmitter } from 'node:events';
import { randomInt, randomUUID } from 'node:crypto';
import type { types } from 'mediasoup';
import type { Logger } from 'pino';
import {
  MediaRequestError,
  type CallLeg,
  type CallLegEvents,
  type CallLegStats,
  type MeasuredStream,
  type CameraCodec,
  type MediaKind,
  type MediaSourceKind,
  type StreamMeasure,
} from '../MediaTypes.js';
import { buildAnswer, type AnswerMediaOptions } from '../sdp/SdpAnswer.js';
import { negotiateOffer, parseOffer, SdpError, type NegotiatedOffer } from '../sdp/SdpOffer.js';
import type { DirectMedia, Feed } from './DirectMedia.js';
import type { SingleStreamHub } from './SingleStreamHub.js';
import { measureStreams } from './rtpStats.js';

/** What a leg needs from its conference. */
export interface LegHost {
  /** The router this participant's transport goes on (the conference may span several). */
  routerFor(participantId: string): Promise<types.Router>;
  /** Makes a producer of the conference (a feed, a presentation) consumable on `router`. */
  bring(producer: types.Producer, router: types.Router): Promise<void>;
  readonly direct: DirectMedia;
  readonly hub: SingleStreamHub;
  /** Whether this service type sends anything to callers (a Virtual Reception does not). */
  readonly sendsMedia: boolean;
  transportOptions(): types.WebRtcTransportOptions;
  registerProducer(participantId: string, producer: types.Producer, source: MediaSourceKind): void;
  /** The presentation (someone else's screen stream) this participant may receive now, if any. */
  presentationFor(participantId: string): types.Producer | undefined;
  /** The conference's camera codec now (a leg's video is answered in it where offered). */
  videoCodec(): CameraCodec;
}

/** After the leg connects, whoever it watches is asked for keyframes at these delays (a PLI sent
 * before DTLS is up, or answered before the sender runs, is lost). */
const KEYFRAME_RETRIES_MS = [0, 400, 1_200, 3_000];
const STATS_INTERVAL_MS = 2_000;

/** How long a client has to answer our offer of the conference's video codec, and how often it is offered. */
const VIDEO_OFFER_TIMEOUT_MS = 20_000;
/** After a client ignored the offer (busy with its own renegotiation, e.g. an ICE restart): offered again this much later. */
const VIDEO_REOFFER_AFTER_MS = 2_000;
const VIDEO_OFFER_ATTEMPTS = 3;

/**
 * One single-stream call (Pexip: a "call"): the client's SDP offer with one audio and one video
 * m-line, translated for mediasoup (sdp/SdpOffer.ts → producers; sdp/SdpAnswer.ts ← consumers).
 * The leg receives two feeds the node writes: the mix of the others' audio and the voice-switched
 * video (SingleStreamHub). Renegotiation (`update`) answers again over the same transport.
 */
export class MediasoupCallLeg extends EventEmitter<CallLegEvents> implements CallLeg {
  readonly id = randomUUID();
  private transport: types.WebRtcTransport | null = null;
  private readonly producers = new Map<MediaKind | 'screen', types.Producer>();
  private readonly feeds = new Map<MediaKind, Feed>();
  /** mid → our consumer of the feed sent on that m-line. */
  private readonly consumers = new Map<string, types.Consumer>();
  /** mids of the presentation m-line (its consumer is a presentation stream, not main video). */
  private readonly presentationMids = new Set<string>();
  private counts: CallLegStats = { packetsIn: { audio: 0, video: 0 }, packetsOut: { audio: 0, video: 0 } };
  private statsTimer: NodeJS.Timeout | undefined;
  private fed = false;
  private readonly sessionId = String(randomInt(1, 2 ** 47));
  private sessionVersion = 1;
  private remoteUfrag: string | undefined;
  private localIce: types.IceParameters | undefined;
  private isClosed = false;
  private connected = false;
  /** The video codec chosen at the first answer, kept for the call (its feed is in it) unless the node re-offers another. */
  private videoMime: string | undefined;
  /** The client's last offer and what our answer to it said per m-line (a re-offer repeats them). */
  private lastOffer: string | undefined;
  private lastMedia: Record<string, AnswerMediaOptions> = {};
  /** Our offer of another video codec, waiting for the client's answer. */
  private pendingVideo: {
    mid: string;
    mime: string;
    feed: Feed;
    consumer: types.Consumer;
    producerRtpParameters: types.RtpParameters | undefined;
    payloadType: number;
    /** Drops the offer when no answer comes (a client busy restarting ICE may never answer it). */
    expiry: NodeJS.Timeout;
  } | null = null;
  /** Offers of the conference's codec made so far without an answer that took it. */
  private videoOffers = 0;

  constructor(
    readonly participantId: string,
    private readonly host: LegHost,
    private readonly log: Logger,
  ) {
    super();
  }

  async negotiate(offerSdp: string): Promise<string> {
    if (this.isClosed) throw new MediaRequestError('Call closed');
    const router = await this.host.routerFor(this.participantId);
    let neg: NegotiatedOffer;
    try {
      // The conference's camera codec (VP8, or H.264 while a room system takes only that) where the
      // offer has it: cameras in it are forwarded to this leg, not transcoded. Kept for the call.
      const video = this.videoMime ?? this.host.videoCodec();
      neg = negotiateOffer(parseOffer(offerSdp), router.rtpCapabilities, { codecPreference: { video: [video, 'video/VP8'] }, acceptPresentation: true });
    } catch (err) {
      if (err instanceof SdpError) throw new MediaRequestError(err.message);
      throw err;
    }
    const transport = await this.transportFor(router, neg);
    // An ICE restart (new remote credentials in an update) gets new local credentials too (RFC 8445 §9).
    const remoteUfrag = neg.offer.iceParameters.usernameFragment;
    let iceParameters = this.localIce ?? transport.iceParameters;
    if (this.remoteUfrag !== undefined && remoteUfrag !== this.remoteUfrag) iceParameters = await transport.restartIce();
    this.remoteUfrag = remoteUfrag;
    this.localIce = iceParameters;
    const media: Record<string, AnswerMediaOptions> = {};
    for (const m of neg.media) {
      if (m.accepted && m.role === 'presentation' && m.kind === 'video' && m.mid !== undefined) {
        media[m.mid] = await this.presentation(
          router,
          transport,
          m.mid,
          m.remoteSends ? m.producerRtpParameters : undefined,
          m.remoteReceives ? m.rtpCapabilities : undefined,
        );
        continue;
      }
      if (!m.accepted || m.role !== 'main' || !m.kind || m.mid === undefined) continue;
      const kind = m.kind;
      if (kind === 'video' && m.routerCodec && !m.parked) this.videoMime ??= m.routerCodec.mimeType;
      if (m.remoteSends && m.producerRtpParameters) await this.produce(transport, m.producerRtpParameters, kind);
      // A consumer sends the router's payload types: only where they are the offer's (the router
      // uses Chrome's numbers, see routerCodecs.ts) can the answer describe what we send.
      const consumer =
        m.remoteReceives && this.host.sendsMedia && m.payloadTypeMatchesRouter
          ? await this.consume(router, transport, m.rtpCapabilities, kind, m.mid)
          : undefined;
      if (m.remoteReceives && this.host.sendsMedia && !consumer)
        this.log.info({ participant: this.participantId, kind, mid: m.mid }, 'single-stream leg: nothing we can send on this m-line');
      media[m.mid] = { recv: m.remoteSends, send: consumer?.rtpParameters };
    }
    if (!this.fed) {
      this.fed = true;
      this.host.hub.addLeg({ participantId: this.participantId, audio: this.feeds.get('audio') ?? null, video: this.feeds.get('video') ?? null });
    }
    this.lastOffer = offerSdp;
    this.lastMedia = media;
    return buildAnswer(neg, {
      iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
      media,
      sessionId: this.sessionId,
      sessionVersion: this.sessionVersion++,
    });
  }

  /**
   * The conference's camera codec changed to one this call's offer had but its answer did not use
   * (a room system that takes only H.264 came after the call was answered in VP8): the node offers
   * the call again with that codec alone on its video m-line (SSE `update_sdp`), with a new feed in
   * it, so that pictures go both ways without a transcoder. Nothing changes until the client's
   * answer (`answered`); a client that ignores the offer keeps its codec.
   */
  async offerVideoCodec(mime: string): Promise<void> {
    if (this.isClosed || !this.lastOffer || !this.transport || !this.localIce || this.pendingVideo) return;
    if (this.videoMime?.toLowerCase() === mime.toLowerCase()) return;
    const router = await this.host.routerFor(this.participantId);
    let neg: NegotiatedOffer;
    try {
      neg = negotiateOffer(parseOffer(this.lastOffer), router.rtpCapabilities, { codecPreference: { video: [mime] }, acceptPresentation: true });
    } catch {
      return;
    }
    const m = neg.media.find((x) => x.accepted && !x.parked && x.role === 'main' && x.kind === 'video' && x.mid !== undefined);
    // The call's offer must have the codec, with the router's payload type (what a consumer sends).
    if (!m || m.mid === undefined || !m.codec || m.routerCodec?.mimeType.toLowerCase() !== mime.toLowerCase() || !m.payloadTypeMatchesRouter) return;
    const like = feedParameters(router, 'video', mime);
    if (!like || !m.remoteReceives || this.isClosed) return;
    const feed = await this.host.direct.feed('video', like, randomInt(1, 0xffff_fff0), { participantId: this.participantId, feed: true }, () =>
      this.host.hub.keyframeWanted(this.participantId),
    );
    try {
      await this.host.bring(feed.producer, router);
      if (!router.canConsume({ producerId: feed.producer.id, rtpCapabilities: m.rtpCapabilities })) throw new Error('cannot consume');
      const consumer = await this.transport.consume({ producerId: feed.producer.id, rtpCapabilities: m.rtpCapabilities, mid: m.mid, enableRtx: false });
      if (this.isClosed) throw new Error('closed');
      const expiry = setTimeout(() => this.offerUnanswered(mime), VIDEO_OFFER_TIMEOUT_MS);
      expiry.unref();
      this.pendingVideo = {
        mid: m.mid,
        mime,
        feed,
        consumer,
        producerRtpParameters: m.remoteSends ? m.producerRtpParameters : undefined,
        payloadType: m.codec.payloadType,
        expiry,
      };
      this.videoOffers++;
      const sdp = buildAnswer(neg, {
        iceParameters: this.localIce,
        iceCandidates: this.transport.iceCandidates,
        dtlsParameters: this.transport.dtlsParameters,
        media: { ...this.lastMedia, [m.mid]: { recv: m.remoteSends, send: consumer.rtpParameters } },
        sessionId: this.sessionId,
        sessionVersion: this.sessionVersion++,
      }).replace(/^a=setup:\w+/gm, 'a=setup:actpass');
      this.log.info({ participant: this.participantId, codec: mime }, 'single-stream call offered the conference camera codec');
      this.emit('offer', sdp);
    } catch (err) {
      this.log.debug({ err, participant: this.participantId }, 'video codec offer not made');
      this.pendingVideo = null;
      feed.close();
    }
  }

  /**
   * No answer to our offer: it is dropped, and made again (at most VIDEO_OFFER_ATTEMPTS times) while
   * the conference's codec is still that one — under load a client may be renegotiating meanwhile.
   */
  private offerUnanswered(mime: string): void {
    const p = this.pendingVideo;
    if (!p || p.mime !== mime) return;
    this.pendingVideo = null;
    p.consumer.close();
    p.feed.close();
    if (this.isClosed || this.videoOffers >= VIDEO_OFFER_ATTEMPTS || this.host.videoCodec().toLowerCase() !== mime.toLowerCase()) return;
    this.log.info({ participant: this.participantId, codec: mime }, 'single-stream call did not answer the codec offer: offered again');
    void this.offerVideoCodec(mime);
  }

  /** The client's answer to our offer of another video codec (null: ignored): the call's video moves to it. */
  async answered(answerSdp: string | null): Promise<void> {
    const p = this.pendingVideo;
    if (!p) return;
    this.pendingVideo = null;
    clearTimeout(p.expiry);
    const takes = answerSdp !== null && new RegExp(`^a=rtpmap:${p.payloadType} ${p.mime.split('/')[1]}/`, 'im').test(answerSdp);
    if (!takes || this.isClosed || !this.transport) {
      p.consumer.close();
      p.feed.close();
      // Ignored: the client may have been renegotiating; the offer is made again shortly (a few times at most).
      if (answerSdp === null && !this.isClosed && this.videoOffers < VIDEO_OFFER_ATTEMPTS)
        setTimeout(() => {
          if (!this.isClosed && this.host.videoCodec().toLowerCase() === p.mime.toLowerCase()) void this.offerVideoCodec(p.mime);
        }, VIDEO_REOFFER_AFTER_MS).unref();
      return;
    }
    // What the client sends: its camera in the new codec, on the same SSRC.
    if (p.producerRtpParameters) {
      this.producers.get('video')?.close();
      const producer = await this.transport.produce({
        kind: 'video',
        rtpParameters: p.producerRtpParameters,
        appData: { participantId: this.participantId, source: 'camera' },
      });
      this.producers.set('video', producer);
      this.host.registerProducer(this.participantId, producer, 'camera');
    }
    // What it receives: the new feed, which the hub writes in that codec.
    const oldConsumer = this.consumers.get(p.mid);
    const oldFeed = this.feeds.get('video');
    this.consumers.set(p.mid, p.consumer);
    this.feeds.set('video', p.feed);
    this.videoMime = p.mime;
    this.videoOffers = 0;
    this.lastMedia = { ...this.lastMedia, [p.mid]: { ...this.lastMedia[p.mid], send: p.consumer.rtpParameters } };
    this.host.hub.addLeg({ participantId: this.participantId, audio: this.feeds.get('audio') ?? null, video: p.feed });
    oldConsumer?.close();
    oldFeed?.close();
    for (const ms of KEYFRAME_RETRIES_MS) setTimeout(() => !this.isClosed && this.host.hub.keyframeWanted(this.participantId), ms).unref();
  }

  /**
   * Pexip's presentation m-line (a=content:slides): sendonly while this client presents (after
   * take_floor), recvonly while someone else does (the client sets it on presentation_start and
   * sends an update). The presenter's screen stream is consumed directly, no feed in between.
   */
  private async presentation(
    router: types.Router,
    transport: types.WebRtcTransport,
    mid: string,
    sendParameters: types.RtpParameters | undefined,
    receiveCapabilities: types.RtpCapabilities | undefined,
  ): Promise<AnswerMediaOptions> {
    const own = this.producers.get('screen');
    if (sendParameters) {
      const ssrc = sendParameters.encodings?.[0]?.ssrc;
      if (!own || own.closed || own.rtpParameters.encodings?.[0]?.ssrc !== ssrc) {
        own?.close();
        const producer = await transport.produce({
          kind: 'video',
          rtpParameters: sendParameters,
          appData: { participantId: this.participantId, source: 'screen' },
        });
        this.producers.set('screen', producer);
        this.host.registerProducer(this.participantId, producer, 'screen');
      }
    } else if (own) {
      own.close();
      this.producers.delete('screen');
    }
    const current = this.consumers.get(mid);
    const source = receiveCapabilities ? this.host.presentationFor(this.participantId) : undefined;
    if (current && (!source || current.producerId !== source.id || current.closed)) {
      current.close();
      this.consumers.delete(mid);
    }
    let consumer = this.consumers.get(mid);
    if (!consumer && source) await this.host.bring(source, router).catch((err) => this.log.warn({ err }, 'presentation could not be piped to this call'));
    if (!consumer && source && receiveCapabilities && router.canConsume({ producerId: source.id, rtpCapabilities: receiveCapabilities })) {
      consumer = await transport.consume({ producerId: source.id, rtpCapabilities: receiveCapabilities, mid, enableRtx: false });
      this.consumers.set(mid, consumer);
      this.presentationMids.add(mid);
    }
    return { recv: !!sendParameters, send: consumer?.rtpParameters };
  }

  /**
   * Presentation receipt allowed or denied (`denyrxpresentation`): the presentation this call
   * receives is paused at the node and resumed (with a key frame) when allowed again.
   */
  setPresentationReceipt(allowed: boolean): void {
    for (const mid of this.presentationMids) {
      const consumer = this.consumers.get(mid);
      if (!consumer || consumer.closed) continue;
      if (allowed && consumer.paused)
        void consumer
          .resume()
          .then(() => consumer.requestKeyFrame())
          .catch(() => undefined);
      else if (!allowed && !consumer.paused) void consumer.pause().catch(() => undefined);
    }
  }

  /** mediasoup is ICE-lite: it learns the client's address from its connectivity checks. */
  async addRemoteCandidate(): Promise<void> {}

  stats(): CallLegStats {
    return this.counts;
  }

  mediaStreams(): Promise<MeasuredStream[]> {
    const producers = [...this.producers].map(([k, producer]) => ({ producer, type: k === 'screen' ? ('presentation' as const) : k }));
    // The mix is the node's own stream; the voice-switched video and a presentation carry others' packets.
    const consumers = [...this.consumers].map(([mid, consumer]) => ({
      consumer,
      type: this.presentationMids.has(mid) ? ('presentation' as const) : consumer.kind,
      forwarded: consumer.kind === 'video',
    }));
    return measureStreams(this.participantId, producers, consumers);
  }

  close(reason = 'Call disconnected'): void {
    if (this.isClosed) return;
    this.isClosed = true;
    clearInterval(this.statsTimer);
    if (this.pendingVideo) clearTimeout(this.pendingVideo.expiry);
    this.host.hub.removeLeg(this.participantId);
    for (const f of this.feeds.values()) f.close();
    this.transport?.close();
    this.emit('closed', reason);
  }

  private async transportFor(router: types.Router, neg: NegotiatedOffer): Promise<types.WebRtcTransport> {
    if (this.transport) return this.transport;
    const t = await router.createWebRtcTransport({ ...this.host.transportOptions(), appData: { participantId: this.participantId, singleStream: true } });
    if (this.isClosed) {
      t.close();
      throw new MediaRequestError('Call closed');
    }
    this.transport = t;
    t.on('dtlsstatechange', (state) => {
      if (state === 'connected' && !this.connected) {
        this.connected = true;
        this.emit('connected');
        for (const ms of KEYFRAME_RETRIES_MS) setTimeout(() => !this.isClosed && this.host.hub.keyframeWanted(this.participantId), ms).unref();
      }
      if (state === 'failed' || state === 'closed') this.close(state === 'failed' ? 'Call failed' : 'Call disconnected');
    });
    t.on('icestatechange', (state) => {
      if (state === 'closed') this.close('Call disconnected');
    });
    try {
      await t.connect({ dtlsParameters: neg.dtlsParameters });
    } catch (err) {
      throw new MediaRequestError(`DTLS parameters refused: ${(err as Error).message}`);
    }
    this.statsTimer = setInterval(() => void this.refreshStats(), STATS_INTERVAL_MS).unref();
    return t;
  }

  private async produce(transport: types.WebRtcTransport, rtpParameters: types.RtpParameters, kind: MediaKind): Promise<void> {
    const existing = this.producers.get(kind);
    const ssrc = rtpParameters.encodings?.[0]?.ssrc;
    if (existing && !existing.closed && existing.rtpParameters.encodings?.[0]?.ssrc === ssrc) return;
    existing?.close();
    const source = kind === 'audio' ? 'mic' : 'camera';
    const producer = await transport.produce({ kind, rtpParameters, appData: { participantId: this.participantId, source } });
    this.producers.set(kind, producer);
    this.host.registerProducer(this.participantId, producer, source);
  }

  private async consume(
    router: types.Router,
    transport: types.WebRtcTransport,
    rtpCapabilities: types.RtpCapabilities,
    kind: MediaKind,
    mid: string,
  ): Promise<types.Consumer | undefined> {
    const existing = this.consumers.get(mid);
    if (existing && !existing.closed) return existing;
    let feed = this.feeds.get(kind);
    if (!feed) {
      const like = feedParameters(router, kind, this.videoMime ?? 'video/VP8');
      if (!like) return undefined;
      feed = await this.host.direct.feed(kind, like, randomInt(1, 0xffff_fff0), { participantId: this.participantId, feed: true }, () =>
        this.host.hub.keyframeWanted(this.participantId),
      );
      this.feeds.set(kind, feed);
    }
    // The feed is written on the conference's home router: piped here when this call is elsewhere.
    try {
      await this.host.bring(feed.producer, router);
    } catch (err) {
      this.log.warn({ err, participant: this.participantId, kind }, 'single-stream leg: the feed could not be piped to this call');
      return undefined;
    }
    if (!router.canConsume({ producerId: feed.producer.id, rtpCapabilities })) return undefined;
    const consumer = await transport.consume({ producerId: feed.producer.id, rtpCapabilities, mid, enableRtx: false });
    this.consumers.set(mid, consumer);
    return consumer;
  }

  private async refreshStats(): Promise<void> {
    type RtpStat = {
      type: string;
      packetCount?: number;
      byteCount?: number;
      bitrate?: number;
      packetsLost?: number;
      fractionLost?: number;
      jitter?: number;
      clockRate?: number;
    };
    const measure = async (x: types.Producer | types.Consumer | undefined, type: string): Promise<StreamMeasure> => {
      const stats = x && !x.closed ? ((await x.getStats().catch(() => [])) as RtpStat[]).filter((s) => s.type === type) : [];
      const sum = (f: (s: RtpStat) => number | undefined) => stats.reduce((n, s) => n + (f(s) ?? 0), 0);
      const first = stats[0];
      const clockRate = x?.rtpParameters.codecs[0]?.clockRate ?? 90_000;
      return {
        packets: sum((s) => s.packetCount),
        bytes: sum((s) => s.byteCount),
        bitrate: sum((s) => s.bitrate),
        ...(first ? { packetsLost: sum((s) => s.packetsLost), fractionLost: (first.fractionLost ?? 0) / 256 } : {}),
        // mediasoup gives jitter in RTP timestamp units.
        ...(first?.jitter !== undefined ? { jitterMs: Math.round((first.jitter / clockRate) * 1000 * 10) / 10 } : {}),
      };
    };
    const out = [...this.consumers.values()];
    const rx = { audio: await measure(this.producers.get('audio'), 'inbound-rtp'), video: await measure(this.producers.get('video'), 'inbound-rtp') };
    const tx = {
      audio: await measure(
        out.find((c) => c.kind === 'audio'),
        'outbound-rtp',
      ),
      video: await measure(
        out.find((c) => c.kind === 'video'),
        'outbound-rtp',
      ),
    };
    this.counts = {
      packetsIn: { audio: rx.audio.packets, video: rx.video.packets },
      packetsOut: { audio: tx.audio.packets, video: tx.video.packets },
      rx,
      tx,
    };
  }
}

/** The feed's codec: the router's Opus, or its video codec of the leg's answer. */
function feedParameters(router: types.Router, kind: MediaKind, videoMime: string): types.RtpParameters | undefined {
  const want = kind === 'audio' ? 'audio/opus' : videoMime.toLowerCase();
  const codec = router.rtpCapabilities.codecs?.find((c) => c.kind === kind && c.mimeType.toLowerCase() === want);
  if (!codec) return undefined;
  return {
    codecs: [
      {
        mimeType: codec.mimeType,
        payloadType: codec.preferredPayloadType!,
        clockRate: codec.clockRate,
        channels: codec.channels,
        parameters: codec.parameters ?? {},
        rtcpFeedback: codec.rtcpFeedback ?? [],
      },
    ],
    headerExtensions: [],
    encodings: [],
  };
}
