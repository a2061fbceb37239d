/**
 * The media-engine interface the conference logic depends on (mediasoup implements it in
 * ./mediasoup/); conference and client API code never see the engine itself.
 */
export type MediaKind = 'audio' | 'video';

/**
 * How a conference's media flows, from its service type: `conference` (VMR: everyone sees the
 * others), `lecture` (Virtual Auditorium: Guests receive Hosts only), `test_call` (each leg gets
 * its own media back after `loopbackDelayMs`), `reception` (Virtual Reception: nothing forwarded).
 */
export type MediaMode = 'conference' | 'lecture' | 'test_call' | 'reception';

/** What the media plane needs to know about a participant; Hosts by default, not held. */
export interface MediaParticipantState {
  role: 'host' | 'guest';
  /** Held (a Guest waiting for a Host): neither sent nor received. */
  held: boolean;
  /** Administratively muted: their audio is forwarded to nobody and left out of every mix. */
  muted?: boolean;
  /** Video muted: their camera is forwarded to nobody. */
  videoMuted?: boolean;
  /** Presentation receipt denied (`denyrxpresentation`): no presentation is forwarded to them. */
  rxPresentationDenied?: boolean;
  /** Spotlit at (Unix seconds; 0/unset = not): spotlit participants are shown first, earliest first. */
  spotlight?: number;
}

export interface MediaEngineOptions {
  /** Address put in ICE host candidates; default 127.0.0.1. */
  announcedAddress: string;
  /** UDP ports for media; default [40000, 49999] as in the guide. */
  portRange: [number, number];
  /** Default `conference`. */
  mode?: MediaMode;
  /** Test Call Service loopback delay; default 2000 ms (theme `test_call_service_media_delay`). */
  loopbackDelayMs?: number;
}

/** One direction of one kind of media, as the node measured it last. */
export interface StreamMeasure {
  packets: number;
  bytes: number;
  /** bit/s */
  bitrate: number;
  packetsLost?: number;
  /** 0–1 */
  fractionLost?: number;
  /** ms */
  jitterMs?: number;
}

export interface CallLegStats {
  packetsIn: Record<MediaKind, number>;
  packetsOut: Record<MediaKind, number>;
  /** Fuller figures per kind (client API call `statistics`), where the engine measures them. */
  rx?: Record<MediaKind, StreamMeasure>;
  tx?: Record<MediaKind, StreamMeasure>;
}

/**
 * One direction of one of a participant's streams, as the engine measured it: cumulative counters
 * and the latest rates (the status layer derives loss percentages and windows from successive ones).
 */
export interface MeasuredDirection {
  /** "opus", "VP8"… */
  codec?: string;
  /** bit/s */
  bitrate: number;
  /** Received (rx) or sent (tx) since the stream started. */
  packets: number;
  /** rx: not received; tx: reported lost by the receiver (RTCP). */
  packetsLost: number;
  /** ms; rx only (mediasoup keeps no receiver-reported jitter for what it sends). */
  jitterMs?: number;
  /** Round-trip time from RTCP, ms. */
  rttMs?: number;
  /** tx only: other participants' streams forwarded (their own gaps blur the receiver's loss reports), not a stream the node makes. */
  forwarded?: boolean;
}

/** A participant's stream of one type: what they send (rx) and what the node sends them (tx, all their receivers of that type together). */
export interface MeasuredStream {
  /** Stable for the stream's life: "<participant>/<type>". */
  id: string;
  type: 'audio' | 'video' | 'presentation';
  rx?: MeasuredDirection;
  tx?: MeasuredDirection;
}

export interface CallLegEvents {
  /** ICE/DTLS reached connected. */
  connected: [];
  /** The node offers the client a new session (Pexip SSE `update_sdp`); the answer comes back in the call's `ack`. */
  offer: [sdp: string];
  /** The leg failed or closed; `reason` is a client API reason string. */
  closed: [reason: string];
}

/** One participant's WebRTC media leg (Pexip: a "call"). */
export interface CallLeg {
  readonly id: string;
  /** Applies a new offer from the client and returns the answer (initial call and `update`). */
  negotiate(offerSdp: string): Promise<string>;
  addRemoteCandidate(candidate: string, mid: string | undefined): Promise<void>;
  stats(): CallLegStats;
  /** Per-stream figures from the engine's RTCP-derived stats (status, call quality), where it measures them. */
  mediaStreams?(): Promise<MeasuredStream[]>;
  /** False when the leg's media is not encrypted (a SIP call on plain RTP); WebRTC is always DTLS-SRTP. */
  readonly encrypted?: boolean;
  /** Set when another node handles the leg's media (media allocation; media/remote/RemoteCallLeg.ts). */
  readonly mediaNode?: { id: number; name: string };
  /** Set when a proxying edge node forwards the leg's lineside media. */
  readonly proxyNode?: { id: number; name: string };
  /** The client's answer to the node's offer (`offer` event), or null when it ignored it. */
  answered?(answerSdp: string | null): Promise<void>;
  close(reason?: string): void;
  on<E extends keyof CallLegEvents>(event: E, listener: (...args: CallLegEvents[E]) => void): this;
}

/** A mediasoup JSON object passed through to multi-stream clients unchanged (capabilities, ICE, DTLS, RTP parameters). */
export type MediaJson = Record<string, unknown>;

/** What a participant's media stream is: microphone, camera or presentation (screen share). */
export type MediaSourceKind = 'mic' | 'camera' | 'screen';

/** A transport a multi-stream client connects to (ICE-lite, DTLS). */
export interface TransportInfo {
  id: string;
  iceParameters: MediaJson;
  iceCandidates: MediaJson[];
  dtlsParameters: MediaJson;
}

/** A stream the node sends to a multi-stream client: another participant's mic, camera or screen. */
export interface ConsumerInfo {
  consumerId: string;
  producerId: string;
  /** Whose media it is. */
  participantId: string;
  kind: MediaKind;
  source: MediaSourceKind;
  rtpParameters: MediaJson;
  producerPaused: boolean;
}

export interface ConsumerPreferences {
  paused?: boolean;
  spatialLayer?: number;
  temporalLayer?: number;
  priority?: number;
}

export interface MultiStreamSessionEvents {
  consumerAdded: [ConsumerInfo];
  consumerRemoved: [consumerId: string];
  consumerPaused: [consumerId: string];
  consumerResumed: [consumerId: string];
  /** The node closed one of the client's own producers (e.g. someone else took the presentation floor). */
  producerClosed: [producerId: string];
  closed: [];
}

/** Thrown for a request a multi-stream session cannot carry out (unknown transport, bad parameters…). */
export class MediaRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MediaRequestError';
  }
}

/**
 * A multi-stream client's media (our meeting client, with mediasoup-client): one send and one
 * receive transport, a producer per local track and a consumer per remote stream it may receive.
 */
export interface MultiStreamSession {
  readonly participantId: string;
  /** Creates the transports for a client with these RTP capabilities; consumers follow as events. */
  join(rtpCapabilities: MediaJson): Promise<{ send: TransportInfo; recv: TransportInfo }>;
  connectTransport(transportId: string, dtlsParameters: MediaJson): Promise<void>;
  produce(transportId: string, opts: { kind: MediaKind; rtpParameters: MediaJson; source: MediaSourceKind; paused?: boolean }): Promise<string>;
  restartIce(transportId: string): Promise<MediaJson>;
  pauseProducer(producerId: string): Promise<void>;
  resumeProducer(producerId: string): Promise<void>;
  closeProducer(producerId: string): void;
  resumeConsumer(consumerId: string): Promise<void>;
  setConsumerPreferences(consumerId: string, prefs: ConsumerPreferences): Promise<void>;
  /** Announces every live consumer again (`consumerAdded`), e.g. after the event stream reconnected. */
  replayConsumers(): void;
  /** Producers of this session, by source (for status and tests). */
  producerSources(): MediaSourceKind[];
  /** Per-stream figures from mediasoup's RTCP-derived stats (status, call quality). */
  mediaStreams(): Promise<MeasuredStream[]>;
  close(): void;
  on<E extends keyof MultiStreamSessionEvents>(event: E, listener: (...args: MultiStreamSessionEvents[E]) => void): this;
  off<E extends keyof MultiStreamSessionEvents>(event: E, listener: (...args: MultiStreamSessionEvents[E]) => void): this;
}

/** One participant's place on the stage (Pexip's `stage` event): most recent speaker first. */
export interface StagePosition {
  participantId: string;
  /** Speaking now (audio level above the threshold). */
  speaking: boolean;
}

/** The codecs a camera may be sent in (the conference's choice, see ConferenceMedia.videoCodec). */
export type CameraCodec = 'video/VP8' | 'video/H264';

export interface ConferenceMediaEvents {
  /** The active-speaker order or who is speaking changed. */
  stage: [StagePosition[]];
  /** The codec cameras should be sent in changed (multi-stream clients re-send their camera). */
  videoCodec: [CameraCodec];
  /** A participant's presentation (screen) stream started or ended. */
  presentationStream: [participantId: string, live: boolean];
}

/**
 * The media of one conference instance. Single-stream legs (`createLeg`: one SDP offer with one
 * audio and one video m-line, as Pexip's clients and SIP send) get a mix of the others' audio and
 * the active speaker's video; multi-stream sessions (`openSession`) get one stream per participant.
 * Who receives whom follows the service type, roles and hold (ForwardingPolicy).
 */
export interface ConferenceMedia {
  createLeg(participantId: string): CallLeg;
  /** Opens (or replaces) the participant's multi-stream session. */
  openSession(participantId: string): MultiStreamSession;
  session(participantId: string): MultiStreamSession | undefined;
  /** The router's RTP capabilities, for a multi-stream client's device. */
  capabilities(): Promise<MediaJson>;
  /**
   * The codec multi-stream clients should send their camera in: VP8, or H.264 while a single-stream
   * leg takes only H.264, so that its video is forwarded rather than transcoded.
   */
  videoCodec(): CameraCodec;
  /** Cameras transcoded now for legs of another codec (one ffmpeg each), by codec (lower-case mime types). */
  videoTranscodes(): { from: string; to: string }[];
  /** Role and hold state; may be called before or after the leg exists, and again on change. */
  setParticipant(participantId: string, state: MediaParticipantState): void;
  /** Closes the participant's presentation (screen) producers. */
  stopPresentation(participantId: string): void;
  /** Whether the participant's presentation (screen) stream is live. */
  hasPresentationStream(participantId: string): boolean;
  /** Current stage: most recent speaker first, then everyone else with media. */
  stage(): StagePosition[];
  removeParticipant(participantId: string): void;
  close(): void;
  on<E extends keyof ConferenceMediaEvents>(event: E, listener: (...args: ConferenceMediaEvents[E]) => void): this;
}
