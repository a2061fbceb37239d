import type { Participant as ClientParticipant } from '../../shared/client-api/conference.js';
import type { Role } from '../../shared/conference/pinCheck.js';
import type { LiveParticipant } from '../../shared/node-protocol/messages.js';
import { participantObject } from '../client-api/participantObject.js';

/**
 * A caller waiting at a room's PIN entry screen (a SIP call that gave no PIN): not a participant
 * yet, but listed in the conference's roster (guide §20.6: "shown with role Unknown"), where a Host
 * can let it in with Make Host / Make Guest, or disconnect it.
 */
export interface PinCaller {
  /** The id it keeps as a participant when it is let in. */
  id: string;
  serviceId: number;
  displayName: string;
  alias: string;
  remoteAddress: string;
  remoteAlias: string;
  protocol: 'sip';
  /** Its call offered video. */
  video: boolean;
  since: Date;
  /** Lets it in with that role, without a PIN. */
  admit(role: Role): void;
  hangUp(reason: string): void;
}

/**
 * The client API's participant object for a caller at PIN entry: `service_type` `ivr` (the PIN
 * screen, client-api-v2 §3) and role `guest` (the SDK accepts only `chair` and `guest`).
 */
export function pinCallerClientObject(c: PinCaller): ClientParticipant {
  return participantObject({
    uuid: c.id,
    display_name: c.displayName,
    local_alias: c.alias,
    call_tag: '',
    role: 'guest',
    service_type: 'ivr',
    protocol: c.protocol,
    call_direction: 'in',
    is_muted: 'NO',
    is_presenting: 'NO',
    is_video_call: c.video ? 'YES' : 'NO',
    is_audio_only_call: c.video ? 'NO' : 'YES',
    mute_supported: 'NO',
    transfer_supported: 'NO',
    encryption: 'Off',
    rx_presentation_policy: 'ALLOW',
    is_client_muted: false,
    is_video_muted: false,
    has_media: false,
    supports_direct_chat: false,
    buzz_time: 0,
    spotlight: 0,
    since: c.since,
  });
}

/** Live status of a caller at PIN entry: role Unknown (guide §14.3), signalled and its media here. */
export function pinCallerLive(c: PinCaller, node: string): LiveParticipant {
  return {
    id: c.id,
    displayName: c.displayName,
    role: 'unknown',
    alias: c.alias,
    protocol: c.protocol,
    connectTime: c.since.toISOString(),
    node,
    remoteAddress: c.remoteAddress,
    ...(c.remoteAlias ? { remoteAlias: c.remoteAlias } : {}),
    isMuted: false,
    isClientMuted: false,
    isPresenting: false,
    isOnHold: false,
    isSpotlighted: false,
    callDirection: 'in',
  };
}
