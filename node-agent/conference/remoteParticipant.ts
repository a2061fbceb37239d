import type { Participant as ClientParticipant, ServiceType } from '../../shared/client-api/conference.js';
import type { BackplaneParticipant } from '../../shared/node-protocol/messages.js';
import { participantObject } from '../client-api/participantObject.js';

/** A participant of this conference served by another node, known here through a backplane. */
export interface RemoteParticipant extends BackplaneParticipant {
  /** The backplane it came over. */
  backplaneId: string;
  /** When this node learnt of it. */
  since: Date;
}

/**
 * The client API's participant object for someone on another node: listed like a local
 * participant (Pexip lists a distributed conference's participants on every node). A Host's mute,
 * disconnect, spotlight, admit and role change reach it through its own node (the backplane);
 * transfer, keys and presentation only its node can act on.
 */
export function remoteClientObject(p: RemoteParticipant, serviceType: ServiceType): ClientParticipant {
  return participantObject({
    uuid: p.id,
    display_name: p.displayName,
    local_alias: '',
    call_tag: '',
    role: p.role,
    service_type: p.held ? 'waiting_room' : serviceType,
    protocol: p.protocol === 'webrtc' ? 'api' : p.protocol,
    call_direction: 'in',
    is_muted: p.isMuted ? 'YES' : 'NO',
    is_presenting: 'NO',
    is_video_call: 'YES',
    // A Host's mute, disconnect, spotlight and role change go to its node over the backplane.
    mute_supported: 'YES',
    transfer_supported: 'NO',
    encryption: 'On',
    rx_presentation_policy: 'ALLOW',
    is_client_muted: p.isClientMuted ?? false,
    is_video_muted: p.isVideoMuted ?? false,
    has_media: true,
    supports_direct_chat: false,
    buzz_time: 0,
    spotlight: p.spotlight ?? 0,
    since: p.since,
  });
}
