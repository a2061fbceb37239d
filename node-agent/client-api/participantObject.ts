import type { Participant as ClientParticipant } from '../../shared/client-api/conference.js';

/** What differs between the roster's entries: a participant here, one on another node, a caller at PIN entry. */
export type ParticipantObjectFields = Pick<
  ClientParticipant,
  | 'uuid'
  | 'display_name'
  | 'local_alias'
  | 'call_tag'
  | 'role'
  | 'service_type'
  | 'protocol'
  | 'call_direction'
  | 'is_muted'
  | 'is_presenting'
  | 'is_video_call'
  | 'mute_supported'
  | 'transfer_supported'
  | 'encryption'
  | 'rx_presentation_policy'
  | 'is_client_muted'
  | 'is_video_muted'
  | 'has_media'
  | 'supports_direct_chat'
  | 'buzz_time'
  | 'spotlight'
> &
  Partial<Pick<ClientParticipant, 'overlay_text' | 'is_audio_only_call' | 'needs_presentation_in_mix'>> & {
    /** When it joined (the object's `start_time`, Unix seconds). */
    since: Date;
  };

/**
 * The client API's participant object (client-api-v2 §3), in the one shape every roster entry has:
 * the fields Pexip sends with the same value for all our participants are set here once.
 */
export function participantObject(f: ParticipantObjectFields): ClientParticipant {
  const { since, overlay_text, is_audio_only_call, needs_presentation_in_mix, ...rest } = f;
  return {
    uuid: rest.uuid,
    display_name: rest.display_name,
    overlay_text: overlay_text || rest.display_name,
    local_alias: rest.local_alias,
    uri: '',
    vendor: '',
    call_tag: rest.call_tag,
    role: rest.role,
    service_type: rest.service_type,
    protocol: rest.protocol,
    call_direction: rest.call_direction,
    is_muted: rest.is_muted,
    is_presenting: rest.is_presenting,
    is_video_call: rest.is_video_call,
    is_audio_only_call: is_audio_only_call ?? 'NO',
    mute_supported: rest.mute_supported,
    disconnect_supported: 'YES',
    transfer_supported: rest.transfer_supported,
    fecc_supported: 'NO',
    presentation_supported: 'NO',
    encryption: rest.encryption,
    rx_presentation_policy: rest.rx_presentation_policy,
    // Pexip sends it only for a participant that asked for the presentation in its mix.
    ...(needs_presentation_in_mix ? { needs_presentation_in_mix: true } : {}),
    is_client_muted: rest.is_client_muted,
    is_video_muted: rest.is_video_muted,
    is_video_silent: false,
    is_external: false,
    is_streaming_conference: false,
    has_media: rest.has_media,
    supports_direct_chat: rest.supports_direct_chat,
    can_receive_personal_mix: false,
    buzz_time: rest.buzz_time,
    spotlight: rest.spotlight,
    start_time: Math.floor(since.getTime() / 1000),
    external_node_uuid: '',
    receive_from_video_mix: { mix_name: 'main', timestamp: 0 },
  };
}
