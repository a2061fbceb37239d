import { randomBytes, randomUUID } from 'node:crypto';
import type { Role } from '../../shared/conference/pinCheck.js';
import type { LiveParticipant } from '../../shared/node-protocol/messages.js';
import type { CallLeg } from '../media/MediaTypes.js';
import type { Participant as ClientParticipant, ServiceType } from '../../shared/client-api/conference.js';
import type { RemoteSession } from '../media/remote/RemoteSession.js';
import { participantObject } from '../client-api/participantObject.js';

/** How long a client API token lives; the client refreshes every third of it (client-api-v2 §2.2). */
export const TOKEN_LIFETIME_S = 120;

/** SSE `splash_screen` payload: a theme screen key (guide-digest-3 §1.7) and seconds to show it (0 = until replaced). */
export interface SplashScreen {
  screen_key: string;
  display_duration: number;
}

export interface ParticipantInit {
  displayName: string;
  role: Role;
  /** The alias as dialled. */
  alias: string;
  remoteAddress: string;
  /** The caller's own alias (a SIP call's From URI); none for WebRTC and the API. */
  remoteAlias?: string;
  protocol: LiveParticipant['protocol'];
  callTag?: string;
  /** Set when the node chose the id before the participant joins (a dial-out answers with it at once). */
  id?: string;
  /** A call the node placed (dial-out, ADP) is `out`. */
  callDirection?: 'in' | 'out';
}

/** Someone in a conference instance. Plain state: conference rules live in Conference. */
export class Participant {
  readonly id: string;
  readonly callDirection: 'in' | 'out';
  readonly connectTime = new Date();
  readonly displayName: string;
  /** Changed by a Host (`role`). */
  role: Role;
  readonly alias: string;
  readonly remoteAddress: string;
  readonly remoteAlias: string;
  readonly protocol: LiveParticipant['protocol'];
  readonly callTag: string;
  /** The current token and the one before it (a request may race a refresh). */
  tokens: string[] = [];
  tokenExpiresAt = 0;
  private current: CallLeg | null = null;
  /** Whether its call's media was encrypted, kept after the call ends (its history record says so). */
  private encrypted: boolean | undefined;
  get leg(): CallLeg | null {
    return this.current;
  }
  set leg(leg: CallLeg | null) {
    this.current = leg;
    if (leg?.encrypted !== undefined) this.encrypted = leg.encrypted;
  }
  /** The id of the participant's latest call, kept after it ends (a late hang-up is not an error). */
  lastCallId: string | null = null;
  /** Sends keys to its endpoint (a SIP call: SIP INFO); null where there is none to send to (WebRTC, the API). */
  sendDtmf: ((digits: string) => void) | null = null;
  /** Whether its call can move to another conference (an SRTP SIP call cannot: `transfer_supported` NO). */
  transferSupported = true;
  /** Has a multi-stream media session (our meeting client) instead of a single-stream leg. */
  multiStream = false;
  /** The multi-stream session when another node handles its media (media allocation); else it is the conference media's. */
  remoteSession: RemoteSession | null = null;
  /** Administratively muted: the node leaves their audio out of everything it sends (guide §29.2). */
  isMuted = false;
  /** The participant muted their own microphone (`client_mute`): shown, no effect on media. */
  isClientMuted = false;
  /** Video muted (`video_muted`): the node stops forwarding their camera. */
  isVideoMuted = false;
  /** Spotlit at (Unix seconds), 0 = not: spotlit participants lead the stage, earliest first. */
  spotlight = 0;
  /** Hand raised at (Unix seconds), 0 = down. */
  buzzTime = 0;
  /** In the lobby: a Guest waiting for a Host (guide §20.4) or a newcomer to a locked conference (§29.1). */
  held = false;
  /** Held because the conference is locked: only an admit, unlock or start lets them in (a Host arriving does not). */
  lockedOut = false;
  /** Presentation receipt denied (`denyrxpresentation`): the node forwards no presentation to them. */
  rxPresentationDenied = false;
  /** The name on their tile, set by a Host (`overlaytext`); empty = the display name. */
  overlayText = '';
  /** Asked for the presentation in their layout mix (`pres_in_mix`). */
  presentationInMix = false;
  /** Preferred aspect ratio of their video (`preferred_aspect_ratio`), if they gave one. */
  preferredAspectRatio: number | undefined;
  /** Last sign the participant is at their device (`notify_not_afk`, Unix ms), 0 = none yet. */
  notAfkAt = 0;
  /** The splash screen currently shown, replayed when the event stream (re)opens. */
  splash: SplashScreen | null = null;

  constructor(init: ParticipantInit) {
    this.id = init.id ?? randomUUID();
    this.callDirection = init.callDirection ?? 'in';
    this.displayName = init.displayName;
    this.role = init.role;
    this.alias = init.alias;
    this.remoteAddress = init.remoteAddress;
    this.remoteAlias = init.remoteAlias ?? '';
    this.protocol = init.protocol;
    this.callTag = init.callTag ?? '';
  }

  /** A new token; the participant's tokens live `TOKEN_LIFETIME_S` from `now` (the manager's clock). */
  issueToken(now = Date.now()): string {
    const token = randomBytes(32).toString('base64url');
    this.tokens = [token, ...this.tokens].slice(0, 2);
    this.tokenExpiresAt = now + TOKEN_LIFETIME_S * 1000;
    return token;
  }

  /**
   * The participant object of the client API (client-api-v2 §5.1): every required field.
   * `serviceType` is the conference's client service type; a held Guest is in the `waiting_room`.
   */
  toClientObject(serviceType: ServiceType, presenting = false): ClientParticipant {
    const yn = (b: boolean) => (b ? 'YES' : 'NO');
    const media = this.leg !== null || this.multiStream;
    return participantObject({
      uuid: this.id,
      display_name: this.displayName,
      overlay_text: this.overlayText,
      local_alias: this.alias,
      call_tag: this.callTag,
      role: this.role === 'HOST' ? 'chair' : 'guest',
      service_type: this.held ? 'waiting_room' : serviceType,
      protocol: this.protocol === 'webrtc' ? 'api' : this.protocol,
      call_direction: this.callDirection,
      is_muted: yn(this.isMuted),
      is_presenting: yn(presenting),
      is_video_call: yn(media),
      mute_supported: 'YES',
      transfer_supported: yn(this.transferSupported),
      encryption: this.leg?.encrypted === false ? 'Off' : 'On',
      rx_presentation_policy: this.rxPresentationDenied ? 'DENY' : 'ALLOW',
      needs_presentation_in_mix: this.presentationInMix,
      is_client_muted: this.isClientMuted,
      is_video_muted: this.isVideoMuted,
      has_media: media,
      supports_direct_chat: true,
      buzz_time: this.buzzTime,
      spotlight: this.spotlight,
      since: this.connectTime,
    });
  }

  /** `presenting`: holds the conference's presentation floor (the Conference knows). */
  /** The node handling its media when another than this one (media allocation). */
  private get mediaNodeElsewhere(): { name: string } | undefined {
    return this.leg?.mediaNode ?? this.remoteSession?.mediaNode;
  }

  private get proxyNodeElsewhere(): { name: string } | undefined {
    return this.leg?.proxyNode ?? this.remoteSession?.proxyNode;
  }

  toLive(node: string, presenting = false): LiveParticipant {
    return {
      id: this.id,
      displayName: this.displayName,
      role: this.role === 'HOST' ? 'chair' : 'guest',
      alias: this.alias,
      protocol: this.protocol,
      connectTime: this.connectTime.toISOString(),
      node,
      ...(this.mediaNodeElsewhere ? { mediaNode: this.mediaNodeElsewhere.name } : {}),
      ...(this.proxyNodeElsewhere ? { proxyNode: this.proxyNodeElsewhere.name } : {}),
      remoteAddress: this.remoteAddress,
      ...(this.remoteAlias ? { remoteAlias: this.remoteAlias } : {}),
      isMuted: this.isMuted,
      isClientMuted: this.isClientMuted,
      isPresenting: presenting,
      isOnHold: this.held,
      isSpotlighted: this.spotlight > 0,
      callTag: this.callTag,
      callDirection: this.callDirection,
      ...(this.encrypted !== undefined ? { encrypted: this.encrypted } : {}),
      ...(this.transferSupported ? {} : { transferSupported: false }),
    };
  }
}
