import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { Logger } from 'pino';
import { z } from 'zod';
import {
  MediaRequestError,
  type ConsumerInfo,
  type ConsumerPreferences,
  type MediaJson,
  type MediaKind,
  type MeasuredStream,
  type MediaSourceKind,
  type MultiStreamSession,
  type MultiStreamSessionEvents,
  type TransportInfo,
} from '../MediaTypes.js';
import { parseDtlsParameters, parseRtpParameters } from './mediasoupParameters.js';
import { measureStreams, streamType } from './rtpStats.js';

/** What a session needs from its conference. */
export interface SessionHost {
  /** The router this participant's transports go on (the conference may span several). */
  routerFor(participantId: string): Promise<types.Router>;
  /** Makes a producer of the conference consumable on `router` (piped from its own router if need be). */
  bring(producer: types.Producer, router: types.Router): Promise<void>;
  transportOptions(): types.WebRtcTransportOptions;
  /** A producer of this session was created, paused, resumed or closed: re-plan who receives what. */
  producerAdded(session: MediasoupSession, producer: types.Producer, source: MediaSourceKind): void;
  producerRemoved(session: MediasoupSession, producer: types.Producer): void;
  /** Everyone's consumers of a producer (to ask for a keyframe when it resumes). */
  consumersOf(producer: types.Producer): types.Consumer[];
  /** The recv side is ready (join done): plan what it receives. */
  sessionReady(session: MediasoupSession): void;
  sessionClosed(session: MediasoupSession): void;
}

/** Producer appData: whose stream and what it is. */
export type ProducerTag = {
  participantId: string;
  source: MediaSourceKind;
};

/** Incoming bitrate cap per client (all its streams); Chrome's simulcast top layer fits under it. */
const MAX_INCOMING_BITRATE = 2_500_000;

/**
 * One multi-stream client (mediasoup-client in our meeting client): a send and a receive
 * WebRTC transport, the client's producers and the consumers the conference gives it.
 * Consumers start paused; the client resumes each once it has created it (mediasoup's rule, so
 * no packet is lost before the client can play it), and resuming asks the sender for a keyframe.
 */
export class MediasoupSession extends EventEmitter<MultiStreamSessionEvents> implements MultiStreamSession {
  private send: types.WebRtcTransport | null = null;
  private recv: types.WebRtcTransport | null = null;
  private rtpCapabilities: types.RtpCapabilities | null = null;
  private router: types.Router | null = null;
  readonly producers = new Map<string, { producer: types.Producer; source: MediaSourceKind }>();
  /** consumerId → consumer; and which producer each consumes. */
  private readonly consumers = new Map<string, types.Consumer<ProducerTag>>();
  private readonly byProducer = new Map<string, string>();
  /** Producers whose consumer is being created (consume is async; plans may overlap). */
  private readonly pending = new Set<string>();
  private isClosed = false;

  constructor(
    readonly participantId: string,
    private readonly host: SessionHost,
    private readonly log: Logger,
  ) {
    super();
  }

  get ready(): boolean {
    return this.recv !== null && this.rtpCapabilities !== null && !this.isClosed;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  async join(rtpCapabilities: MediaJson): Promise<{ send: TransportInfo; recv: TransportInfo }> {
    if (this.send || this.recv) throw new MediaRequestError('Media session already joined');
    const router = await this.host.routerFor(this.participantId);
    // mediasoup-client's capabilities; what the router cannot send to them is simply not consumed.
    const caps = rtpCapabilities as types.RtpCapabilities;
    if (!Array.isArray(caps.codecs)) throw new MediaRequestError('rtp_capabilities has no codecs');
    const options = this.host.transportOptions();
    const send = await router.createWebRtcTransport({ ...options, appData: { participantId: this.participantId, direction: 'send' } });
    const recv = await router.createWebRtcTransport({ ...options, appData: { participantId: this.participantId, direction: 'recv' } });
    if (this.isClosed) {
      send.close();
      recv.close();
      throw new MediaRequestError('Media session closed');
    }
    await send.setMaxIncomingBitrate(MAX_INCOMING_BITRATE).catch(() => undefined);
    for (const t of [send, recv]) {
      t.on('dtlsstatechange', (state) => {
        if (state === 'failed' || state === 'closed') this.log.info({ participant: this.participantId, transport: t.id, state }, 'media transport DTLS ended');
      });
    }
    this.router = router;
    this.send = send;
    this.recv = recv;
    this.rtpCapabilities = caps;
    this.host.sessionReady(this);
    return { send: info(send), recv: info(recv) };
  }

  async connectTransport(transportId: string, dtlsParameters: MediaJson): Promise<void> {
    const t = this.transport(transportId);
    const parsed = parseDtlsParameters(dtlsParameters);
    if (!parsed.success) throw new MediaRequestError(`Transport could not connect: ${z.prettifyError(parsed.error)}`);
    try {
      await t.connect({ dtlsParameters: parsed.data });
    } catch (err) {
      throw new MediaRequestError(`Transport could not connect: ${(err as Error).message}`);
    }
  }

  async produce(transportId: string, opts: { kind: MediaKind; rtpParameters: MediaJson; source: MediaSourceKind; paused?: boolean }): Promise<string> {
    const t = this.transport(transportId);
    if (t !== this.send) throw new MediaRequestError('Produce on the send transport');
    if ((opts.source === 'mic') !== (opts.kind === 'audio')) throw new MediaRequestError(`A ${opts.source} stream cannot be ${opts.kind}`);
    // One producer per source: a new camera replaces the old one (device switch).
    const rtpParameters = parseRtpParameters(opts.rtpParameters);
    if (!rtpParameters.success) throw new MediaRequestError(`Stream refused: ${z.prettifyError(rtpParameters.error)}`);
    for (const [id, p] of this.producers) if (p.source === opts.source) this.closeProducer(id);
    let producer: types.Producer;
    try {
      producer = await t.produce({
        kind: opts.kind,
        rtpParameters: rtpParameters.data,
        paused: opts.paused ?? false,
        appData: { participantId: this.participantId, source: opts.source } satisfies ProducerTag,
      });
    } catch (err) {
      throw new MediaRequestError(`Stream refused: ${(err as Error).message}`);
    }
    if (this.isClosed) {
      producer.close();
      throw new MediaRequestError('Media session closed');
    }
    this.producers.set(producer.id, { producer, source: opts.source });
    producer.on('transportclose', () => this.forgetProducer(producer));
    this.host.producerAdded(this, producer, opts.source);
    return producer.id;
  }

  async restartIce(transportId: string): Promise<MediaJson> {
    return await this.transport(transportId).restartIce();
  }

  async pauseProducer(producerId: string): Promise<void> {
    await this.ownProducer(producerId).pause();
  }

  async resumeProducer(producerId: string): Promise<void> {
    const p = this.ownProducer(producerId);
    await p.resume();
    // Video back on: whoever receives it needs a keyframe now.
    if (p.kind === 'video') for (const c of this.host.consumersOf(p)) void c.requestKeyFrame().catch(() => undefined);
  }

  closeProducer(producerId: string): void {
    const entry = this.producers.get(producerId);
    if (!entry) throw new MediaRequestError('Producer not found');
    entry.producer.close();
    this.forgetProducer(entry.producer);
  }

  /** The node closes a producer on its own (presentation floor taken by someone else). */
  revokeProducers(source: MediaSourceKind): void {
    for (const [id, p] of [...this.producers]) {
      if (p.source !== source) continue;
      p.producer.close();
      this.forgetProducer(p.producer);
      this.emit('producerClosed', id);
    }
  }

  async resumeConsumer(consumerId: string): Promise<void> {
    const c = this.consumer(consumerId);
    await c.resume();
    if (c.kind === 'video') await c.requestKeyFrame().catch(() => undefined);
  }

  async setConsumerPreferences(consumerId: string, prefs: ConsumerPreferences): Promise<void> {
    const c = this.consumer(consumerId);
    if (prefs.paused === true) await c.pause();
    if (prefs.spatialLayer !== undefined && c.type === 'simulcast') {
      await c.setPreferredLayers({ spatialLayer: prefs.spatialLayer, temporalLayer: prefs.temporalLayer });
    }
    if (prefs.priority !== undefined) await c.setPriority(prefs.priority);
    if (prefs.paused === false) {
      await c.resume();
      if (c.kind === 'video') await c.requestKeyFrame().catch(() => undefined);
    }
  }

  producerSources(): MediaSourceKind[] {
    return [...this.producers.values()].map((p) => p.source);
  }

  /** Whether this session currently receives the producer. */
  receives(producerId: string): boolean {
    return this.byProducer.has(producerId) || this.pending.has(producerId);
  }

  consumerFor(producerId: string): types.Consumer | undefined {
    const id = this.byProducer.get(producerId);
    return id === undefined ? undefined : this.consumers.get(id);
  }

  replayConsumers(): void {
    for (const c of this.consumers.values()) this.emit('consumerAdded', consumerInfo(c));
  }

  /** Starts receiving a producer (the conference decided it may). */
  async addConsumer(producer: types.Producer, tag: ProducerTag): Promise<void> {
    if (!this.ready || this.receives(producer.id) || producer.closed) return;
    const router = this.router!;
    // Marked at once: plans overlap while the stream is piped here.
    this.pending.add(producer.id);
    let consumer: types.Consumer<ProducerTag>;
    try {
      await this.host.bring(producer, router);
      if (!router.canConsume({ producerId: producer.id, rtpCapabilities: this.rtpCapabilities! })) {
        this.log.debug({ participant: this.participantId, producer: producer.id }, 'client cannot receive this codec');
        return;
      }
      consumer = await this.recv!.consume<ProducerTag>({
        producerId: producer.id,
        rtpCapabilities: this.rtpCapabilities!,
        paused: true,
        // Start with the largest layer; the client asks for smaller ones for small tiles.
        preferredLayers: { spatialLayer: 2 },
        appData: { ...tag },
      });
    } catch (err) {
      this.log.debug({ err, participant: this.participantId }, 'could not create consumer');
      return;
    } finally {
      this.pending.delete(producer.id);
    }
    if (this.isClosed || producer.closed) {
      consumer.close();
      return;
    }
    this.consumers.set(consumer.id, consumer);
    this.byProducer.set(producer.id, consumer.id);
    const drop = () => {
      if (!this.consumers.delete(consumer.id)) return;
      this.byProducer.delete(producer.id);
      this.emit('consumerRemoved', consumer.id);
    };
    consumer.on('producerclose', drop);
    consumer.on('transportclose', drop);
    consumer.on('producerpause', () => this.emit('consumerPaused', consumer.id));
    consumer.on('producerresume', () => this.emit('consumerResumed', consumer.id));
    this.emit('consumerAdded', consumerInfo(consumer));
  }

  /** Stops receiving a producer (roles or hold changed). */
  removeConsumer(producerId: string): void {
    const id = this.byProducer.get(producerId);
    if (id === undefined) return;
    const c = this.consumers.get(id);
    this.consumers.delete(id);
    this.byProducer.delete(producerId);
    c?.close();
    this.emit('consumerRemoved', id);
  }

  /** Producers this session receives. */
  receivedProducers(): string[] {
    return [...this.byProducer.keys()];
  }

  mediaStreams(): Promise<MeasuredStream[]> {
    return measureStreams(
      this.participantId,
      [...this.producers.values()].map((p) => ({ producer: p.producer, type: streamType(p.source) })),
      [...this.consumers.values()].map((c) => ({ consumer: c, type: streamType(c.appData.source), forwarded: true })),
    );
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const { producer } of [...this.producers.values()]) {
      producer.close();
      this.forgetProducer(producer);
    }
    this.send?.close();
    this.recv?.close();
    this.consumers.clear();
    this.byProducer.clear();
    this.host.sessionClosed(this);
    this.emit('closed');
  }

  private forgetProducer(producer: types.Producer): void {
    if (!this.producers.delete(producer.id)) return;
    this.host.producerRemoved(this, producer);
  }

  private transport(id: string): types.WebRtcTransport {
    if (this.send?.id === id) return this.send;
    if (this.recv?.id === id) return this.recv;
    throw new MediaRequestError('Transport not found');
  }

  private ownProducer(id: string): types.Producer {
    const p = this.producers.get(id);
    if (!p) throw new MediaRequestError('Producer not found');
    return p.producer;
  }

  private consumer(id: string): types.Consumer {
    const c = this.consumers.get(id);
    if (!c) throw new MediaRequestError('Consumer not found');
    return c;
  }
}

function consumerInfo(c: types.Consumer<ProducerTag>): ConsumerInfo {
  const tag = c.appData;
  return {
    consumerId: c.id,
    producerId: c.producerId,
    participantId: tag.participantId,
    kind: c.kind,
    source: tag.source,
    rtpParameters: c.rtpParameters,
    producerPaused: c.producerPaused,
  };
}

function info(t: types.WebRtcTransport): TransportInfo {
  return {
    id: t.id,
    iceParameters: t.iceParameters,
    iceCandidates: t.iceCandidates,
    dtlsParameters: t.dtlsParameters,
  };
}
