/** The `window.pexip` driver of the Pexip SDK test page (entry.ts), as tests see it. */

export interface PexipJoinOptions {
  /** The node's origin; defaults to the page's own origin. */
  nodeUrl?: string;
  alias: string;
  displayName: string;
  pin?: string;
  /** `audio`: audio only; otherwise audio + video + (inactive) presentation, as Pexip's web app. */
  callType?: 'video' | 'audio';
  /** kbps; default 1024. */
  bandwidth?: number;
}

export type PexipPhase = 'idle' | 'joining' | 'connected' | 'call_connected' | 'pin_required' | 'error' | 'disconnected' | 'left';

export interface PexipState {
  /** connected: events stream open (after request_token); call_connected: the RTCPeerConnection is connected. */
  phase: PexipPhase;
  error: string | null;
  errorCode: string | null;
  participantUuid: string | null;
  serviceType: string | null;
  conferenceName: string | null;
  /** The SDK's participant list; `raw` is the participant object as the node sent it (SSE participant_create/update). */
  participants: { uuid: string; displayName: string; isMuted: boolean; isCameraMuted: boolean; hasMedia: boolean; raw: unknown }[];
  stage: { userId: string; stageIndex: number; vad: number }[];
  callConnected: boolean;
  /** How many times the SDK handed out a remote stream (onRemoteStream). */
  remoteStreams: number;
  /** How many times the SDK handed out a presentation stream (onRemotePresentationStream). */
  presentationStreams: number;
  /** The current token (request_token, then each refresh_token). */
  token: string | null;
  tokenRefreshes: number;
  /**
   * ICE restarts the SDK made (onReconnecting): it makes one whenever its inbound video packet
   * count does not advance between two stats reports, i.e. when the node's video pauses.
   */
  iceRestarts: number;
  reconnecting: boolean;
  /** The last conference_update as the node sent it. */
  conferenceStatus: unknown;
}

/** One SDK signal (or a log line at warn and above, or a peer-connection state change), ms since page load. */
export interface PexipEvent {
  t: number;
  name: string;
  detail?: unknown;
}

export interface RemoteMediaProbe {
  inbound: {
    videoFramesDecoded: number;
    videoPacketsReceived: number;
    audioPacketsReceived: number;
    /** RTCInboundRtpStreamStats.totalAudioEnergy, summed. */
    audioEnergy: number;
    videoWidth: number;
    videoHeight: number;
  };
  /** Frames the remote <video> presented (requestVideoFrameCallback). */
  framesPresented: number;
  /** Centre pixel of the remote video as decoded, null before a frame. */
  centre: [number, number, number] | null;
  /** Centre pixel of the received presentation as decoded, null when none. */
  presentationCentre: [number, number, number] | null;
  /** Frequency (Hz) → peak level (dB) in the remote audio. */
  tones: Record<number, number>;
  remoteTracks: { kind: string; readyState: string; muted: boolean }[];
}

export interface PexipDriver {
  join(opts: PexipJoinOptions): Promise<void>;
  leave(): Promise<void>;
  /** Shares the (fake) screen as the SDK's presentation; stopPresenting() ends it. */
  present(): Promise<void>;
  stopPresenting(): Promise<void>;
  probe(freqs?: number[]): Promise<RemoteMediaProbe>;
  /** Compacted getStats(): inbound-rtp, outbound-rtp, codecs and the nominated candidate pair. */
  rtpStats(): Promise<Record<string, unknown>[]>;
  /** Calls one of the SDK's InfinityClient controls (lock, mute, spotlight, setRole, kick, transfer…) with its parameters. */
  control(name: string, params: Record<string, unknown>): Promise<{ status: number | null; error: string | null; value?: unknown }>;
  /** Restarts ICE on the SDK's peer connection, as the SDK itself does when its video stalls (it renegotiates with `update`). */
  restartIce(): void;
  /** Current local and remote SDP of every peer connection the SDK made. */
  sdp(): { local: string | null; remote: string | null }[];
  readonly state: PexipState;
  readonly events: PexipEvent[];
  readonly remoteStream: MediaStream | null;
  readonly localStream: MediaStream | null;
  /** The SDK's InfinityClient (for ad-hoc calls from page.evaluate). */
  readonly client: unknown;
  readonly peers: RTCPeerConnection[];
}
