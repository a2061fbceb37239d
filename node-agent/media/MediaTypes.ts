/**
 * The media-engine interface the conference logic depends on. werift implements it today; a native
 * SFU can replace it later without touching conference or client API code.
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

export interface CallLegStats {
  packetsIn: Record<MediaKind, number>;
  packetsOut: Record<MediaKind, number>;
}

export interface CallLegEvents {
  /** ICE/DTLS reached connected. */
  connected: [];
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
  close(reason?: string): void;
  on<E extends keyof CallLegEvents>(event: E, listener: (...args: CallLegEvents[E]) => void): this;
}

/** The media of one conference instance: every leg in it hears and sees the others. */
export interface ConferenceMedia {
  createLeg(participantId: string): CallLeg;
  /** Role and hold state; may be called before or after the leg exists, and again on change. */
  setParticipant(participantId: string, state: MediaParticipantState): void;
  removeParticipant(participantId: string): void;
  close(): void;
}
