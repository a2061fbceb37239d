import { EventEmitter } from 'node:events';
import { randomInt, randomUUID } from 'node:crypto';
import type { types } from 'mediasoup';
import type { Logger } from 'pino';
import { MediaRequestError, type CallLeg, type CallLegEvents, type CallLegStats, type MeasuredStream } from '../media/MediaTypes.js';
import { measureStreams } from '../media/mediasoup/rtpStats.js';
import { carrierMimeType, TelephoneEventTap } from './dtmf/TelephoneEventTap.js';
import type { DtmfDigit } from './dtmf/telephoneEvent.js';
import { PromptPlayer } from './ivr/PromptPlayer.js';
import type { PromptName } from './ivr/prompts.js';
import type { MediasoupConferenceMedia } from '../media/mediasoup/MediasoupConferenceMedia.js';
import type { Feed } from '../media/mediasoup/DirectMedia.js';
import { buildOutgoingOffer } from './dialout/outgoingOffer.js';
import { SsrcLatch } from './SsrcLatch.js';
import {
  buildSipAnswer,
  parseSipOffer,
  SipSdpError,
  type MediaEncryption,
  type SipAnswerMedia,
  type SipMediaKind,
  type SipMediaOffer,
  type SrtpSuite,
} from './SipSdp.js';

interface Line {
  router: types.Router;
  transport: types.PlainTransport;
  producer?: types.Producer;
  consumer?: types.Consumer;
  feed?: Feed;
  payloadType: number;
  ssrc?: number;
  /** The peer's SDES key the transport was connected with (SRTP m-lines). */
  peerKey?: string;
  /** A peer without a=ssrc: the relay that learns its SSRC, and the offer to produce it with. */
  latch?: { relay: SsrcLatch; offer: SipMediaOffer };
  /** The producer's RFC 4733 digits (audio with telephone-event). */
  dtmf?: TelephoneEventTap;
}

/** Local RTP (and RTCP, without rtcp-mux) ports per m-line: where the phone sends. */
/** A leg's media ports per m-line; `relayed`: they are an SsrcLatch relay's (a phone without a=ssrc). */
export type SipLinePorts = Partial<Record<SipMediaKind, { rtp: number; rtcp?: number; relayed?: boolean }>>;

/** The keys the phone pressed (RFC 4733 or SIP INFO), in order. */
export interface SipKeypadEvents {
  dtmf: [digit: DtmfDigit];
}

/** What a SIP call does with its media: here (SipCallLeg) or on another node (RemoteSipCallLeg). */
export interface SipMediaLeg extends CallLeg {
  readonly id: string;
  readonly keypad: EventEmitter<SipKeypadEvents>;
  negotiate(offerSdp: string): Promise<string>;
  offer(): Promise<string>;
  answered(answerSdp: string): Promise<void>;
  reoffer(): string;
  keyed(digit: DtmfDigit): void;
  play(pcm: Int16Array): Promise<void>;
  heard(ms: number): Promise<void>;
  localPorts(): SipLinePorts;
  /** Media on another node: the prompt is played there, by name. */
  remotePrompt?(name: PromptName): Promise<void>;
  close(reason?: string): void;
}

/**
 * The media of one SIP call: per m-line a mediasoup plain transport (comedia: the peer's first
 * packets fix where we send, symmetric RTP), the peer's stream produced into the conference, and
 * the single-stream feeds (mixed audio without itself, voice-switched video) consumed back to it.
 * A consumer sends its router's payload type: where the peer's differs, the m-line gets a side
 * router whose codec has the peer's number (the conference's streams are piped there).
 */
export class SipCallLeg extends EventEmitter<CallLegEvents> implements SipMediaLeg {
  readonly id = randomUUID();
  /** The phone's key presses (a separate emitter: the leg's own events are the WebRTC legs' ones). */
  readonly keypad = new EventEmitter<SipKeypadEvents>();
  private readonly lines = new Map<SipMediaKind, Line>();
  private readonly sessionId = String(randomInt(1, 2 ** 47));
  /** What we last sent: our offer or answer (a re-INVITE without an offer gets it again). */
  private lastLocal: string | undefined;
  private version = 1;
  private fed = false;
  private closed = false;
  /** Voice prompts (PIN entry, Virtual Reception), on the audio feed. */
  private prompts: PromptPlayer | null = null;
  /** Prompts playing (or replaced and not yet resolved). */
  private prompting = 0;

  constructor(
    readonly participantId: string,
    private readonly media: MediasoupConferenceMedia,
    private readonly log: Logger,
    /** The service's media encryption setting (global setting applied). */
    private readonly encryption: MediaEncryption = 'besteffort',
    /**
     * Listen on these ports (a call moved from PIN entry or a Virtual Reception into a conference:
     * the phone keeps sending where our first answer said, and comedia latches again).
     */
    private readonly ports: SipLinePorts = {},
  ) {
    super();
    // The same address and port range as the conference's WebRTC transports.
    const li = media.transportOptions().listenInfos?.[0];
    this.listen = {
      ip: li?.ip ?? '127.0.0.1',
      ...(li?.announcedAddress ? { announcedAddress: li.announcedAddress } : {}),
      portRange: [li?.portRange?.min ?? 0, li?.portRange?.max ?? 0],
    };
  }

  private readonly listen: { ip: string; announcedAddress?: string; portRange: [number, number] };

  /** A call we place: its media ports were in our offer, so no relay can be put in front of them (see latchedSsrc). */
  private placed = false;

  /** Transports made for our own offer (a call we place), taken by `answered`. */
  private readonly offered = new Map<SipMediaKind, { router: types.Router; transport: types.PlainTransport; srtp: boolean; relay: SsrcLatch }>();

  /**
   * Our offer for a call we place (dial-out, gateway): audio Opus, G.722, PCMU, PCMA and telephone-event
   * on a plain transport. SRTP per the media encryption: Required offers RTP/SAVP, Best effort
   * RTP/AVP with a=crypto (a plain answer gets a plain transport on the same port), No encryption plain RTP.
   */
  async offer(): Promise<string> {
    if (this.closed) throw new MediaRequestError('Call closed');
    const router = await this.media.routerFor(this.participantId);
    const srtp = this.encryption !== 'off';
    const transport = await this.plainTransport(router, srtp);
    // The answer may have no a=ssrc (most desk phones): our offer gives a relay's port, which learns the
    // SSRC from the first packet whatever the answer says (SsrcLatch; the peer's address comes with the answer).
    let relay: SsrcLatch;
    try {
      relay = await SsrcLatch.open(transport, this.listen.ip, { address: '0.0.0.0', rtpPort: 9 }, this.log);
    } catch (err) {
      transport.close();
      throw err;
    }
    if (this.closed) {
      relay.close();
      transport.close();
      throw new MediaRequestError('Call closed');
    }
    this.offered.set('audio', { router, transport, srtp, relay });
    this.placed = true;
    const codecs = ['audio/opus', 'audio/G722', 'audio/PCMU', 'audio/PCMA'].flatMap(
      (mime) => router.rtpCapabilities.codecs?.filter((c) => c.mimeType === mime) ?? [],
    );
    return (this.lastLocal = buildOutgoingOffer({
      address: this.listen.announcedAddress ?? transport.tuple.localAddress,
      sessionId: this.sessionId,
      version: this.version++,
      port: relay.rtpPort,
      codecs: codecs.map((c) => ({
        payloadType: c.preferredPayloadType!,
        name: c.mimeType.split('/')[1]!,
        clockRate: c.clockRate,
        ...(c.channels ? { channels: c.channels } : {}),
      })),
      ...(srtp && transport.srtpParameters
        ? {
            srtp: {
              suite: transport.srtpParameters.cryptoSuite as SrtpSuite,
              keyBase64: transport.srtpParameters.keyBase64,
              required: this.encryption === 'on',
            },
          }
        : {}),
    }));
  }

  /** The peer's answer to `offer()`: its address, codec and key; media flows both ways. Throws SipSdpError when unusable. */
  async answered(answerSdp: string): Promise<void> {
    const answer = parseSipOffer(answerSdp, this.encryption);
    for (const m of [answer.audio, answer.video]) {
      const pre = m && this.offered.get(m.kind);
      if (!m || !pre) continue;
      this.offered.delete(m.kind);
      let transport = pre.transport;
      if (pre.srtp && !m.crypto) {
        // Best effort answered with plain RTP: the same port again, without SRTP.
        const port = transport.tuple.localPort;
        transport.close();
        transport = await this.plainTransport(pre.router, false, port);
        pre.relay.setTransport(transport);
      }
      // comedia as for incoming calls: we send where the phone's RTP comes from (the SDP's address
      // may be one it does not send from, or behind a NAT); SRTP needs the phone's key now.
      if (m.crypto) await transport.connect({ srtpParameters: { cryptoSuite: m.crypto.suite, keyBase64: m.crypto.keyBase64 } });
      const line: Line = { router: pre.router, transport, payloadType: m.codec.payloadType, ...(m.crypto ? { peerKey: m.crypto.keyBase64 } : {}) };
      this.lines.set(m.kind, line);
      this.latch(line, pre.relay, m);
      pre.relay.setPeer({ address: m.address, rtpPort: m.port });
    }
    // Producing and consuming are what an answered offer does: the answer's media read as the peer's offer.
    await this.negotiate(answerSdp);
  }

  private async plainTransport(router: types.Router, srtp: boolean, port?: number): Promise<types.PlainTransport> {
    const [min, max] = this.listen.portRange;
    const transport = await router.createPlainTransport({
      listenInfo: {
        protocol: 'udp',
        ip: this.listen.ip,
        ...(this.listen.announcedAddress ? { announcedAddress: this.listen.announcedAddress } : {}),
        ...(port ? { port } : min > 0 ? { portRange: { min, max } } : {}),
      },
      rtcpMux: true,
      comedia: true,
      ...(srtp ? { enableSrtp: true, srtpCryptoSuite: 'AES_CM_128_HMAC_SHA1_80' as const } : {}),
      appData: { participantId: this.participantId, sip: true },
    });
    if (this.closed) {
      transport.close();
      throw new MediaRequestError('Call closed');
    }
    return transport;
  }

  /** Answers an offer (the INVITE's or a re-INVITE's). Throws SipSdpError for 488. */
  async negotiate(offerSdp: string): Promise<string> {
    if (this.closed) throw new MediaRequestError('Call closed');
    const offer = parseSipOffer(offerSdp, this.encryption);
    const answer: { audio?: SipAnswerMedia; video?: SipAnswerMedia } = {};
    for (const m of [offer.audio, offer.video]) {
      if (!m) continue;
      const line = await this.line(m);
      if (!line) continue;
      const peerSends = m.direction === 'sendrecv' || m.direction === 'sendonly';
      const peerReceives = m.direction === 'sendrecv' || m.direction === 'recvonly';
      await this.produce(m, line, peerSends);
      // Where the media sends nothing (PIN entry, Virtual Reception) the audio feed still carries the prompts.
      if (peerReceives && (this.media.sendsMedia || m.kind === 'audio')) await this.consume(m, line);
      if (line.consumer) {
        if (peerReceives && line.consumer.paused) await line.consumer.resume();
        if (!peerReceives && !line.consumer.paused) await line.consumer.pause(); // hold
      }
      const t = line.transport.tuple;
      answer[m.kind] = {
        address: this.listen.announcedAddress ?? t.localAddress,
        port: line.latch?.relay.rtpPort ?? t.localPort,
        // Media that sends nothing yet (PIN entry, Virtual Reception) still answers sendrecv: the call may move into a conference.
        send: (!!line.consumer || !this.media.sendsMedia) && peerReceives,
        ...(line.transport.rtcpTuple ? { rtcpPort: line.latch?.relay.rtcpPort ?? line.transport.rtcpTuple.localPort } : {}),
        ...(m.crypto && line.transport.srtpParameters
          ? { srtp: { suite: line.transport.srtpParameters.cryptoSuite as SrtpSuite, keyBase64: line.transport.srtpParameters.keyBase64 } }
          : {}),
      };
    }
    if (!answer.audio && !answer.video) throw new SipSdpError('No usable media');
    if (!this.fed) {
      this.fed = true;
      this.media.hub.addLeg({
        participantId: this.participantId,
        audio: this.lines.get('audio')?.feed ?? null,
        video: this.lines.get('video')?.feed ?? null,
        onlyItsCodec: true,
      });
      for (const ms of [0, 500, 1500, 3000]) setTimeout(() => !this.closed && this.media.hub.keyframeWanted(this.participantId), ms).unref();
    }
    return (this.lastLocal = buildSipAnswer(offer, {
      address: this.listen.announcedAddress ?? this.listen.ip,
      sessionId: this.sessionId,
      version: this.version++,
      ...answer,
    }));
  }

  /**
   * Our session as a new offer, for a re-INVITE without one (RFC 3261 §14.2, RFC 3264 §8): the media
   * as we last described it, sendrecv, the next version. The peer's answer comes to `negotiate`.
   */
  reoffer(): string {
    if (!this.lastLocal) throw new SipSdpError('No session to offer yet');
    return this.lastLocal.replace(/^(o=\S+ \S+ )\d+/m, `$1${this.version++}`).replace(/^a=(sendonly|recvonly|inactive)(\r?)$/gm, 'a=sendrecv$2');
  }

  private async line(m: SipMediaOffer): Promise<Line | undefined> {
    const have = this.lines.get(m.kind);
    if (have) {
      // A plain transport is connected once: a re-INVITE cannot switch RTP/SRTP or change the peer's key.
      if ((have.peerKey ?? null) !== (m.crypto?.keyBase64 ?? null)) throw new SipSdpError('Media encryption cannot change during the call');
      if (have.payloadType === m.codec.payloadType) return have;
      this.log.info({ participant: this.participantId, kind: m.kind }, 'SIP re-INVITE changed the payload type: m-line not renegotiated');
      return have;
    }
    const home = await this.media.routerFor(this.participantId);
    const routerCodec = home.rtpCapabilities.codecs?.find((c) => c.mimeType.toLowerCase() === m.codec.mimeType.toLowerCase());
    if (!routerCodec) return undefined;
    // The side router also carries telephone-event as its G.711 carrier (TelephoneEventTap).
    const carrier = m.kind === 'audio' ? home.rtpCapabilities.codecs?.find((c) => c.mimeType === carrierMimeType(m.codec.mimeType)) : undefined;
    const router =
      routerCodec.preferredPayloadType === m.codec.payloadType
        ? home
        : await this.media.sideRouter(
            {
              kind: m.kind,
              mimeType: routerCodec.mimeType,
              preferredPayloadType: m.codec.payloadType,
              clockRate: routerCodec.clockRate,
              ...(routerCodec.channels ? { channels: routerCodec.channels } : {}),
              parameters: routerCodec.parameters ?? {},
            },
            ...(carrier
              ? [{ kind: carrier.kind, mimeType: carrier.mimeType, preferredPayloadType: carrier.preferredPayloadType!, clockRate: carrier.clockRate }]
              : []),
          );
    const [min, max] = this.listen.portRange;
    // Kept ports that were a relay's go to the relay again (latchedSsrc), not to the transport.
    const fixed = this.ports[m.kind]?.relayed ? undefined : this.ports[m.kind];
    const listenOn = (port: number | undefined) => ({
      protocol: 'udp' as const,
      ip: this.listen.ip,
      ...(this.listen.announcedAddress ? { announcedAddress: this.listen.announcedAddress } : {}),
      ...(port ? { port } : min > 0 ? { portRange: { min, max } } : {}),
    });
    const create = () =>
      router.createPlainTransport({
        listenInfo: listenOn(fixed?.rtp),
        ...(fixed?.rtcp && !m.rtcpMux ? { rtcpListenInfo: listenOn(fixed.rtcp) } : {}),
        rtcpMux: m.rtcpMux,
        comedia: true,
        ...(m.crypto ? { enableSrtp: true, srtpCryptoSuite: m.crypto.suite } : {}),
        appData: { participantId: this.participantId, sip: true },
      });
    // A port just given up by the leg this one replaces may be closing still (another worker): try again shortly.
    let transport: types.PlainTransport | undefined;
    for (let attempt = 0; !transport; attempt++) {
      try {
        transport = await create();
      } catch (err) {
        if (!fixed || attempt >= 20) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    if (this.closed) {
      transport.close();
      throw new MediaRequestError('Call closed');
    }
    // comedia: the address comes from the peer's first packets; SRTP needs the peer's key now.
    if (m.crypto) {
      try {
        await transport.connect({ srtpParameters: { cryptoSuite: m.crypto.suite, keyBase64: m.crypto.keyBase64 } });
      } catch (err) {
        transport.close();
        throw new SipSdpError(`SRTP key refused: ${(err as Error).message}`);
      }
    }
    const line: Line = { router, transport, payloadType: m.codec.payloadType, ...(m.crypto ? { peerKey: m.crypto.keyBase64 } : {}) };
    this.lines.set(m.kind, line);
    return line;
  }

  private async produce(m: SipMediaOffer, line: Line, peerSends: boolean): Promise<void> {
    if (peerSends && m.ssrc === undefined) m = await this.latchedSsrc(m, line);
    if (!peerSends || m.ssrc === undefined) {
      if (peerSends) this.log.info({ participant: this.participantId, kind: m.kind }, 'SIP offer without a=ssrc: its stream cannot be received yet');
      line.dtmf?.close();
      delete line.dtmf;
      line.producer?.close();
      delete line.producer;
      return;
    }
    if (line.producer && !line.producer.closed && line.ssrc === m.ssrc) return;
    line.dtmf?.close();
    delete line.dtmf;
    line.producer?.close();
    const source = m.kind === 'audio' ? 'mic' : 'camera';
    // RFC 4733 packets share the audio's SSRC: declared as the carrier codec so mediasoup keeps them.
    const te = m.kind === 'audio' ? m.telephoneEvent : undefined;
    const carrier = te ? carrierMimeType(m.codec.mimeType) : undefined;
    const carries = carrier !== undefined && line.router.rtpCapabilities.codecs?.some((c) => c.mimeType === carrier);
    const producer = await line.transport.produce({
      kind: m.kind,
      rtpParameters: {
        codecs: [
          {
            mimeType: m.codec.mimeType,
            payloadType: m.codec.payloadType,
            clockRate: m.codec.clockRate,
            ...(m.codec.channels ? { channels: m.codec.channels } : {}),
            parameters: line.router.rtpCapabilities.codecs?.find((c) => c.mimeType.toLowerCase() === m.codec.mimeType.toLowerCase())?.parameters ?? {},
            rtcpFeedback: m.codec.rtcpFeedback,
          },
          ...(te && carrier && carries ? [{ mimeType: carrier, payloadType: te.payloadType, clockRate: 8_000, parameters: {}, rtcpFeedback: [] }] : []),
        ],
        encodings: [{ ssrc: m.ssrc }],
        rtcp: { cname: `sip-${m.ssrc}`, reducedSize: true },
      },
      appData: { participantId: this.participantId, source },
    });
    line.producer = producer;
    line.ssrc = m.ssrc;
    if (carrier && carries) {
      try {
        line.dtmf = await TelephoneEventTap.open(line.router, producer, carrier, (d) => this.keyed(d), this.log);
        if (this.closed) line.dtmf.close();
      } catch (err) {
        this.log.warn({ err, participant: this.participantId }, 'SIP call: RFC 4733 DTMF cannot be received');
      }
    }
    if (line.router !== (await this.media.routerFor(this.participantId))) this.media.adopt(producer, line.router);
    this.media.registerProducer(this.participantId, producer, source);
  }

  /**
   * A peer that gives no a=ssrc (most desk phones and room systems): its media comes through a
   * relay that learns the SSRC from its first packet; the stream is produced then, and again
   * whenever the SSRC changes. Returns the offer with the SSRC when it is known already.
   */
  private async latchedSsrc(m: SipMediaOffer, line: Line): Promise<SipMediaOffer> {
    if (this.placed && !line.latch) {
      // No relay in front of the transport (an offer made without one): the answer's stream is received only with its a=ssrc.
      this.log.info({ participant: this.participantId, kind: m.kind }, 'SIP answer without a=ssrc: its stream cannot be received');
      return m;
    }
    const peer = { address: m.address, rtpPort: m.port };
    if (line.latch) {
      line.latch.offer = m;
      line.latch.relay.setPeer(peer);
    } else {
      const kept = this.ports[m.kind];
      const relay = await SsrcLatch.open(line.transport, this.listen.ip, peer, this.log, kept?.relayed ? kept : {});
      if (this.closed) {
        relay.close();
        throw new MediaRequestError('Call closed');
      }
      this.latch(line, relay, m);
    }
    const ssrc = line.latch?.relay.ssrc;
    return ssrc === undefined ? m : { ...m, ssrc };
  }

  /** The line's stream comes through `relay`: produced (again) whenever the relay learns a new SSRC. */
  private latch(line: Line, relay: SsrcLatch, m: SipMediaOffer): void {
    const latch = { relay, offer: m };
    line.latch = latch;
    relay.on('ssrc', (ssrc) => {
      if (this.closed || line.latch !== latch) return;
      // An offer that declared its SSRC is produced with it; a different one (no a=ssrc, or a new stream) is learnt.
      if (latch.offer.ssrc === ssrc) return;
      this.log.info({ participant: this.participantId, kind: m.kind, ssrc }, 'SIP stream without a=ssrc: SSRC learnt from its packets');
      this.produce({ ...latch.offer, ssrc }, line, true).catch((err: unknown) =>
        this.log.warn({ err, participant: this.participantId }, 'SIP stream could not be produced'),
      );
    });
  }

  private async consume(m: SipMediaOffer, line: Line): Promise<void> {
    if (line.consumer && !line.consumer.closed) return;
    const home = await this.media.routerFor(this.participantId);
    const wanted =
      m.kind === 'video' ? m.codec.mimeType.toLowerCase() : /^audio\/(pcmu|pcma|g722)$/i.test(m.codec.mimeType) ? m.codec.mimeType.toLowerCase() : 'audio/opus';
    const codec = home.rtpCapabilities.codecs?.find((c) => c.kind === m.kind && c.mimeType.toLowerCase() === wanted);
    // The feeds are the mix (Opus, G.722 or G.711) and the speaker's video in the call's codec, VP8 or
    // H.264 (SingleStreamHub transcodes a camera of the other codec).
    if (!codec || codec.mimeType.toLowerCase() !== m.codec.mimeType.toLowerCase()) return;
    line.feed ??= await this.media.direct.feed(
      m.kind,
      {
        codecs: [
          {
            mimeType: codec.mimeType,
            payloadType: codec.preferredPayloadType!,
            clockRate: codec.clockRate,
            ...(codec.channels ? { channels: codec.channels } : {}),
            parameters: codec.parameters ?? {},
            rtcpFeedback: codec.rtcpFeedback ?? [],
          },
        ],
        headerExtensions: [],
        encodings: [],
      },
      randomInt(1, 0xffff_fff0),
      { participantId: this.participantId, feed: true },
      () => this.media.hub.keyframeWanted(this.participantId),
    );
    await this.media.bring(line.feed.producer, line.router);
    const rtpCapabilities: types.RtpCapabilities = {
      codecs: [
        {
          kind: m.kind,
          mimeType: m.codec.mimeType,
          preferredPayloadType: m.codec.payloadType,
          clockRate: m.codec.clockRate,
          ...(m.codec.channels ? { channels: m.codec.channels } : {}),
          parameters: line.router.rtpCapabilities.codecs?.find((c) => c.kind === m.kind && c.mimeType.toLowerCase() === wanted)?.parameters ?? {},
          rtcpFeedback: m.codec.rtcpFeedback,
        },
      ],
      headerExtensions: [],
    };
    if (!line.router.canConsume({ producerId: line.feed.producer.id, rtpCapabilities })) {
      this.log.info({ participant: this.participantId, kind: m.kind }, 'SIP call: the feed cannot be sent on this m-line');
      return;
    }
    // A PLI/FIR from the phone reaches the feed, which asks whoever it shows for a keyframe.
    line.consumer = await line.transport.consume({ producerId: line.feed.producer.id, rtpCapabilities });
  }

  /** A key the phone pressed (RFC 4733 on its audio, or a SIP INFO): one 'dtmf' event per key. */
  keyed(digit: DtmfDigit): void {
    if (!this.closed) this.keypad.emit('dtmf', digit);
  }

  /** Plays a prompt (48 kHz mono PCM) to the phone in its codec; resolves once sent (at once without an audio feed). */
  async play(pcm: Int16Array): Promise<void> {
    const feed = this.lines.get('audio')?.feed;
    if (this.closed || !feed) return;
    // The prompt and the mix take turns on the feed: spliced into one stream (Feed.sendFrom).
    this.prompts ??= new PromptPlayer(
      { payloadType: feed.payloadType, ssrc: feed.ssrc, mixCodec: feed.mixCodec, send: (rtp) => feed.sendFrom('prompt', rtp) },
      this.log,
    );
    // The prompt has the feed to itself while it plays (in a conference the mix goes on after it).
    this.prompting++;
    this.media.hub.pauseMix(this.participantId, true);
    try {
      await this.prompts.play(pcm);
    } finally {
      // A prompt replaced by the next one resolves first: the mix comes back after the last.
      if (--this.prompting === 0 && !this.closed) this.media.hub.pauseMix(this.participantId, false);
    }
  }

  /** Resolves when the phone's audio has arrived (comedia: only then do we know where to send), or after `ms`. */
  async heard(ms: number): Promise<void> {
    const transport = this.lines.get('audio')?.transport;
    if (!transport || transport.tuple.remoteIp) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      transport.once('tuple', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** The ports the phone sends to, for a leg that takes this call over (`ports` of the constructor). */
  localPorts(): SipLinePorts {
    const out: SipLinePorts = {};
    for (const [kind, line] of this.lines) {
      // A phone without a=ssrc sends to the relay in front of the transport: its ports are the ones to keep.
      const relay = line.latch?.relay;
      const rtcp = relay ? relay.rtcpPort : line.transport.rtcpTuple?.localPort;
      out[kind] = { rtp: relay ? relay.rtpPort : line.transport.tuple.localPort, ...(rtcp ? { rtcp } : {}), ...(relay ? { relayed: true } : {}) };
    }
    return out;
  }

  /** Every m-line taken is SRTP (SDES); false for plain RTP. */
  get encrypted(): boolean {
    return this.lines.size > 0 && [...this.lines.values()].every((l) => l.peerKey !== undefined);
  }

  async addRemoteCandidate(): Promise<void> {}

  stats(): CallLegStats {
    return { packetsIn: { audio: 0, video: 0 }, packetsOut: { audio: 0, video: 0 } };
  }

  /** Per-stream figures for status, history and call quality, as a WebRTC leg's: the phone's stream in, the mix or the forwarded video out. */
  mediaStreams(): Promise<MeasuredStream[]> {
    const lines = [...this.lines];
    const producers = lines.flatMap(([type, l]) => (l.producer ? [{ producer: l.producer, type }] : []));
    const consumers = lines.flatMap(([type, l]) => (l.consumer && !l.consumer.closed ? [{ consumer: l.consumer, type, forwarded: type === 'video' }] : []));
    return measureStreams(this.participantId, producers, consumers);
  }

  /** RTP packets received from and sent to the phone per kind, from mediasoup's transport stats. */
  async packets(): Promise<CallLegStats> {
    const out: CallLegStats = { packetsIn: { audio: 0, video: 0 }, packetsOut: { audio: 0, video: 0 } };
    for (const [kind, line] of this.lines) {
      const p = line.producer && !line.producer.closed ? ((await line.producer.getStats()) as { packetCount?: number }[]) : [];
      const c = line.consumer && !line.consumer.closed ? ((await line.consumer.getStats()) as { type: string; packetCount?: number }[]) : [];
      out.packetsIn[kind] = p.reduce((n, s) => n + (s.packetCount ?? 0), 0);
      out.packetsOut[kind] = c.filter((s) => s.type === 'outbound-rtp').reduce((n, s) => n + (s.packetCount ?? 0), 0);
    }
    return out;
  }

  close(reason = 'Call disconnected'): void {
    if (this.closed) return;
    this.closed = true;
    this.prompts?.close();
    this.media.hub.removeLeg(this.participantId);
    for (const line of this.lines.values()) {
      line.latch?.relay.close();
      line.dtmf?.close();
      line.feed?.close();
      line.transport.close();
    }
    this.lines.clear();
    for (const o of this.offered.values()) o.transport.close();
    this.offered.clear();
    this.emit('closed', reason);
  }
}
