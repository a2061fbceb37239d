import { z } from 'zod';
import { presentationStartEvent, stageEvent } from './media.js';

/**
 * The client API v2 for meeting control (client-api-v2.md; Pexip's shapes, so `@pexip/infinity`
 * parses every answer). The node's routes and our meeting client both use these schemas.
 * Base: `/api/client/v2/conferences/{alias}/`, header `token` (or `?token=`). Every JSON answer is
 * the envelope `{status: 'success'|'failed', result}`; a refusal is 403 `{status:'success', result:<reason>}`
 * (e.g. "Invalid role" when a Guest tries a Host action, "Invalid token").
 *
 * Token:       POST request_token RequestTokenBody → RequestTokenResult · POST refresh_token → RefreshTokenResult
 *              POST release_token → true
 * Conference:  GET conference_status → ConferenceStatus · GET participants → Participant[]
 *  (Host only) POST lock | unlock | start_conference | muteguests | unmuteguests | disconnect | clearallbuzz → true
 *  (Host only) POST set_guests_can_unmute SetGuestsCanUnmuteBody → true
 *  (Host only) POST transform_layout TransformLayoutBody → true
 *              GET available_layouts → string[] · GET layout_svgs → LayoutSvgs · POST message MessageBody → true (chat to everyone)
 * Participant: …/participants/{uuid}/ + (Host for others, anyone for themselves unless noted)
 *              mute | unmute (a Guest unmutes itself only if guests_can_unmute) | client_mute | client_unmute
 *              | video_muted | video_unmuted | buzz | clearbuzz | disconnect → true
 *  (Host only) spotlighton | spotlightoff | unlock (admit from the lobby) → true
 *  (Host only) role RoleBody → true · transfer TransferBody → true (the participant gets SSE `refer`)
 *              dtmf DtmfBody → true · message MessageBody → true (direct: to that participant only)
 *              allowrxpresentation | denyrxpresentation (self, or a Host) · notify_not_afk (self) → true
 *  (Host only) overlaytext OverlayTextBody → true · pres_in_mix PresInMixBody (self) → true
 *              preferred_aspect_ratio PreferredAspectRatioBody (self) → true
 *              show_live_captions | hide_live_captions, video_mixes/…: 403 (no speech-to-text, no personal mixes)
 *  (Host only) POST dial DialBody → the new participant's uuid (a SIP call; other protocols, or no SIP: 403 "Gateway dial out failed")
 *              breakouts…, participants/breakout, leavebreakout, breakoutbuzz: 403 (request_token says breakout_rooms: false)
 *              GET avatar.jpg → image/jpeg (initials)
 * Call:        …/participants/{uuid}/calls (CallsBody → CallsResult) and …/calls/{call}/
 *              new_candidate CandidateBody → null · ack → true · update UpdateBody → SDP string
 *              · dtmf DtmfBody → true · disconnect → null
 *              · POST statistics (the client's own report) → null · GET statistics → CallStatistics (what the node measures, SDK shape)
 * Events (SSE `events?token=`): participant_sync_begin, participant_create, participant_update (Participant),
 *   participant_sync_end, participant_delete {uuid}, conference_update (ConferenceStatus), stage, layout,
 *   presentation_start / presentation_stop, message_received, refer, call_disconnected, disconnect,
 *   splash_screen, refresh_token.
 */

// ---------- envelope

export const okEnvelope = <T extends z.ZodTypeAny>(result: T) => z.object({ status: z.literal('success'), result });
/** A refusal (403) or failure: the reason string of client-api-v2 §3. */
export const refusal = z.object({ status: z.enum(['success', 'failed']), result: z.string() });
export type Refusal = z.infer<typeof refusal>;

// ---------- participant object (client-api-v2 §5.1; the SDK's validator requires every non-optional field)

const yesNo = z.enum(['YES', 'NO']);
export const participantRole = z.enum(['chair', 'guest']);
export type ParticipantRole = z.infer<typeof participantRole>;
export const serviceType = z.enum(['connecting', 'waiting_room', 'ivr', 'conference', 'lecture', 'gateway', 'test_call']);
export type ServiceType = z.infer<typeof serviceType>;

export const participant = z.object({
  uuid: z.string().min(1),
  display_name: z.string(),
  overlay_text: z.string(),
  local_alias: z.string(),
  uri: z.string().optional(),
  vendor: z.string().optional(),
  call_tag: z.string().optional(),
  role: participantRole,
  /** `waiting_room`: in the lobby (waiting for a Host, or the conference is locked). */
  service_type: serviceType.optional(),
  protocol: z.enum(['api', 'webrtc', 'sip', 'rtmp', 'h323', 'mssip', '']),
  call_direction: z.enum(['in', 'out']),
  /** Administratively muted: the node leaves their audio out for everyone. */
  is_muted: yesNo,
  is_presenting: yesNo,
  is_video_call: yesNo,
  is_audio_only_call: yesNo,
  mute_supported: yesNo,
  disconnect_supported: yesNo,
  transfer_supported: yesNo,
  fecc_supported: yesNo,
  presentation_supported: yesNo.optional(),
  encryption: z.enum(['On', 'Off']),
  /** DENY: the node forwards no presentation to this participant (denyrxpresentation). */
  rx_presentation_policy: z.enum(['ALLOW', 'DENY']),
  /** Asked for the presentation in its layout mix (pres_in_mix); sent only when true, as Pexip does. */
  needs_presentation_in_mix: z.boolean().optional(),
  /** The participant muted their own microphone (client_mute). */
  is_client_muted: z.boolean().optional(),
  is_video_muted: z.boolean(),
  is_video_silent: z.boolean(),
  is_external: z.boolean(),
  is_streaming_conference: z.boolean(),
  has_media: z.boolean(),
  supports_direct_chat: z.boolean(),
  can_receive_personal_mix: z.boolean(),
  /** Hand raised at (Unix seconds), 0 = hand down. */
  buzz_time: z.number(),
  /** Spotlit at (Unix seconds), 0 = not spotlit; earlier spotlights lead the stage. */
  spotlight: z.number(),
  start_time: z.number(),
  external_node_uuid: z.string(),
  receive_from_video_mix: z.object({
    mix_name: z.string(),
    timestamp: z.number(),
    mix_config: z.object({ transform_layout: z.object({ layout: z.string().optional() }).optional() }).optional(),
  }),
});
export type Participant = z.infer<typeof participant>;

// ---------- conference status (§6 conference_status, SSE conference_update)

export const conferenceStatus = z.object({
  locked: z.boolean(),
  guests_muted: z.boolean(),
  /** A Host is in (Guests are no longer held for one). */
  started: z.boolean(),
  all_muted: z.boolean().optional(),
  guests_can_unmute: z.boolean().optional(),
  guests_can_present: z.boolean().optional(),
  presentation_allowed: z.boolean().optional(),
  direct_media: z.boolean().optional(),
  live_captions_available: z.boolean().optional(),
  breakout_rooms: z.boolean().optional(),
});
export type ConferenceStatus = z.infer<typeof conferenceStatus>;

// ---------- controls without a body

/** Conference control without a body: POST …/conferences/{alias}/<action> (client-api-v2 §6). */
export const CONFERENCE_ACTIONS = ['lock', 'unlock', 'start_conference', 'muteguests', 'unmuteguests', 'disconnect', 'clearallbuzz'] as const;
export type ConferenceAction = (typeof CONFERENCE_ACTIONS)[number];
/** Participant control without a body: POST …/participants/{uuid}/<action> (client-api-v2 §7). */
export const PARTICIPANT_ACTIONS = [
  'mute',
  'unmute',
  'client_mute',
  'client_unmute',
  'video_muted',
  'video_unmuted',
  'spotlighton',
  'spotlightoff',
  'buzz',
  'clearbuzz',
  'unlock',
  'disconnect',
  // The node stops / starts forwarding the presentation to this participant (rx_presentation_policy).
  'allowrxpresentation',
  'denyrxpresentation',
  // Presence keep-alive: the participant is at their device.
  'notify_not_afk',
] as const;
export type ParticipantAction = (typeof PARTICIPANT_ACTIONS)[number];

// ---------- request bodies

export const requestTokenBody = z.object({
  display_name: z.string().trim().min(1, 'display_name is required').max(250),
  call_tag: z.string().max(250).optional(),
  conference_extension: z.string().max(250).optional(),
  /** One-time transfer token from an SSE `refer` (Virtual Reception, participant transfer). */
  token: z.string().max(512).optional(),
});
export type RequestTokenBody = z.infer<typeof requestTokenBody>;

export const callsBody = z.object({
  call_type: z.enum(['WEBRTC', 'RTMP']),
  sdp: z.string().min(1).max(200_000),
  present: z.enum(['send', 'receive']).optional(),
  media_type: z.enum(['video', 'video-only', 'audio']).optional(),
  fecc_supported: z.boolean().optional(),
});
export type CallsBody = z.infer<typeof callsBody>;

export const candidateBody = z.object({ candidate: z.string().max(2_000), mid: z.string().max(64).optional(), ufrag: z.string().optional() });
export type CandidateBody = z.infer<typeof candidateBody>;

export const updateBody = z.object({ sdp: z.string().min(1).max(200_000).optional() });
/** `ack`: `{}`, or the client's answer to an offer of the node's (`update_sdp`), or `offer_ignored`. */
export const ackBody = z.object({ sdp: z.string().min(1).max(200_000).optional(), offer_ignored: z.boolean().optional() });
export type UpdateBody = z.infer<typeof updateBody>;

/** Chat or application message (§6 / §7 `message`); anything after `;` in the type is ignored. */
export const CHAT_PAYLOAD_MAX = 10_000;
export const messageBody = z.object({
  type: z.string().refine((t) => ['text/plain', 'application/json'].includes(t.split(';')[0]!.trim()), 'type must be text/plain or application/json'),
  payload: z.string().max(CHAT_PAYLOAD_MAX, `payload is longer than ${CHAT_PAYLOAD_MAX} characters`),
});
export type MessageBody = z.infer<typeof messageBody>;

export const setGuestsCanUnmuteBody = z.object({ setting: z.boolean() });
export type SetGuestsCanUnmuteBody = z.infer<typeof setGuestsCanUnmuteBody>;

/** Layout names the node knows, in Pexip's short form (see LAYOUT_SHORT in media.ts). */
const LAYOUTS = ['1:0', '4:0', '1:7', '1:21', '2:21'] as const;
export const layoutShort = z.enum(LAYOUTS, { error: (iss) => `Unknown layout ${JSON.stringify(iss.input)}: this node offers ${LAYOUTS.join(', ')}` });
export type LayoutShortName = z.infer<typeof layoutShort>;

export const transformLayoutBody = z.object({
  transforms: z.object({
    /** Everyone's layout. */
    layout: layoutShort.optional(),
    host_layout: layoutShort.optional(),
    guest_layout: layoutShort.optional(),
    enable_overlay_text: z.boolean().optional(),
    enable_active_speaker_indication: z.boolean().optional(),
  }),
});
export type TransformLayoutBody = z.infer<typeof transformLayoutBody>;

/** Participant `overlaytext`: the name shown on their tile (a Host sets it; empty = their display name). */
export const OVERLAY_TEXT_MAX = 100;
export const overlayTextBody = z.object({ text: z.string().max(OVERLAY_TEXT_MAX, `text is longer than ${OVERLAY_TEXT_MAX} characters`) });
export type OverlayTextBody = z.infer<typeof overlayTextBody>;

/** Participant `pres_in_mix`: show the presentation inside this participant's layout. */
export const presInMixBody = z.object({ state: z.boolean() });
export type PresInMixBody = z.infer<typeof presInMixBody>;

/** Participant `preferred_aspect_ratio` (e.g. 16/9); absent = no preference. */
export const preferredAspectRatioBody = z.object({ aspect_ratio: z.number().finite().min(0.25).max(4).optional() });
export type PreferredAspectRatioBody = z.infer<typeof preferredAspectRatioBody>;

/** `role`: lower-case chair/guest, as in the participant object. */
export const roleBody = z.object({ role: participantRole });
export type RoleBody = z.infer<typeof roleBody>;

/** `transfer`: note host/guest here (client-api-v2 §7). */
export const transferBody = z.object({
  conference_alias: z.string().trim().min(1).max(250),
  role: z.enum(['host', 'guest']),
  pin: z.string().max(64).optional(),
});
export type TransferBody = z.infer<typeof transferBody>;

/** Conference `dial` (§6): a Host calls someone out over SIP (node-agent/sip/dialout); `auto` follows the outgoing Call Routing Rules. */
export const dialBody = z.object({
  role: z.enum(['HOST', 'GUEST']),
  destination: z.string().trim().min(1).max(250),
  protocol: z.enum(['sip', 'h323', 'rtmp', 'mssip', 'auto']),
  source_display_name: z.string().max(250).optional(),
  source: z.string().max(250).optional(),
  call_type: z.enum(['video', 'video-only', 'audio']).optional(),
  dtmf_sequence: z.string().max(64).optional(),
  keep_conference_alive: z.enum(['keep_conference_alive', 'keep_conference_alive_if_multiple', 'keep_conference_alive_never']).optional(),
  remote_display_name: z.string().max(250).optional(),
  text: z.string().max(250).optional(),
  presentation_url: z.string().max(2_000).optional(),
  streaming: z.enum(['yes', 'no']).optional(),
});
export type DialBody = z.infer<typeof dialBody>;

export const dtmfBody = z.object({ digits: z.string().regex(/^[0-9*#A-Da-d]{1,32}$/, 'digits must be DTMF digits (0-9, *, #, A-D)') });
export type DtmfBody = z.infer<typeof dtmfBody>;

/**
 * One stream type of a call's statistics, in the @pexip/infinity SDK's shape (its `Stream`),
 * from the participant's side: rx_ what the participant receives, tx_ what it sends; kbps, ms, %.
 * The SDK posts its own figures so (POST statistics); the node answers its measurements so (GET).
 */
export const callStream = z.object({
  rx_bitrate: z.number().optional(),
  rx_codec: z.string().optional(),
  rx_fps: z.number().optional(),
  rx_historic_packet_loss: z.number().optional(),
  rx_jitter: z.number().optional(),
  rx_packets_lost: z.number().optional(),
  rx_packets_received: z.number().optional(),
  rx_resolution: z.string().optional(),
  rx_windowed_packet_loss: z.number().optional(),
  tx_bitrate: z.number().optional(),
  tx_codec: z.string().optional(),
  tx_fps: z.number().optional(),
  tx_historic_packet_loss: z.number().optional(),
  tx_packets_sent: z.number().optional(),
  tx_rb_jitter: z.number().optional(),
  tx_rb_packetslost: z.number().optional(),
  tx_resolution: z.string().optional(),
  tx_windowed_packet_loss: z.number().optional(),
});
export type CallStream = z.infer<typeof callStream>;

/** POST …/calls/{c}/statistics: the client's own report (→ null). GET: what the node measures for the call. */
export const callStatistics = z.object({ audio: callStream.optional(), video: callStream.optional(), presentation: callStream.optional() });
export type CallStatistics = z.infer<typeof callStatistics>;
/** Kept for callers of the earlier name: the client's report is the same shape. */
export const clientStatisticsBody = callStatistics;
export type ClientStatisticsBody = CallStatistics;

/** GET …/participants/{p}/statistics (our addition): the node's figures for any participant, with the guide's call quality. */
export const participantStatistics = z.object({
  /** Pexip's values: 0_unknown (under 20 s), 1_good, 2_ok, 3_bad, 4_terrible. */
  call_quality: z.enum(['0_unknown', '1_good', '2_ok', '3_bad', '4_terrible']),
  /** The last 20-s windows, oldest first (the quality graph). */
  quality_windows: z.array(
    z.object({ end: z.string(), quality: z.enum(['0_unknown', '1_good', '2_ok', '3_bad', '4_terrible']), packet_loss: z.number(), jitter: z.number() }),
  ),
  media: callStatistics,
});
export type ParticipantStatistics = z.infer<typeof participantStatistics>;

// ---------- results

export const requestTokenResult = z.object({
  token: z.string(),
  expires: z.string(),
  participant_uuid: z.string(),
  version: z.object({ version_id: z.string(), pseudo_version: z.string() }).partial(),
  role: z.enum(['HOST', 'GUEST']),
  display_name: z.string(),
  conference_name: z.string().optional(),
  service_name: z.string().optional(),
  current_service_type: serviceType,
  service_type: serviceType.optional(),
  call_type: z.string().optional(),
  chat_enabled: z.boolean().optional(),
  guests_can_present: z.boolean().optional(),
  fecc_enabled: z.boolean().optional(),
  direct_media: z.boolean().optional(),
  trickle_ice_enabled: z.boolean().optional(),
  use_relay_candidates_only: z.boolean().optional(),
  /** ms: the client posts its call statistics this often. */
  client_stats_update_interval: z.number().optional(),
  stun: z.array(z.object({ url: z.string() })).optional(),
  turn: z.array(z.object({ urls: z.union([z.string(), z.array(z.string())]), username: z.string(), credential: z.string() })).optional(),
});
export type RequestTokenResult = z.infer<typeof requestTokenResult>;

/** 403 for a PIN-protected service when no (or no valid) PIN was sent. */
export const pinRequiredResult = z.object({ pin: z.enum(['required', 'none']), guest_pin: z.enum(['required', 'none']) }).passthrough();

export const refreshTokenResult = z.object({ token: z.string(), expires: z.string(), role: z.enum(['HOST', 'GUEST']).optional() });
export type RefreshTokenResult = z.infer<typeof refreshTokenResult>;

export const callsResult = z.object({ call_uuid: z.string(), sdp: z.string() });
export type CallsResult = z.infer<typeof callsResult>;

export const availableLayouts = z.array(layoutShort);
/** GET layout_svgs: each available layout drawn as an SVG (for a layout picker). */
export const layoutSvgs = z.record(layoutShort, z.string().startsWith('<svg'));
export type LayoutSvgs = z.infer<typeof layoutSvgs>;

// ---------- events (SSE)

export const participantDeleteEvent = z.object({ uuid: z.string() });
export const messageReceivedEvent = z.object({
  type: z.string(),
  payload: z.string(),
  /** The sender. */
  uuid: z.string(),
  /** The sender's display name. */
  origin: z.string(),
  /** Sent to this participant only (participant `message`). */
  direct: z.boolean(),
});
export type MessageReceivedEvent = z.infer<typeof messageReceivedEvent>;

export const layoutEvent = z.object({
  view: layoutShort,
  participants: z.array(z.string()),
  requested_layout: z.object({ primary_screen: z.object({ chair_layout: z.string(), guest_layout: z.string() }) }).optional(),
  overlay_text_enabled: z.boolean().optional(),
});
export type LayoutEvent = z.infer<typeof layoutEvent>;

/** Transfer: re-join `alias` with the one-time `token` in the request_token body. */
export const referEvent = z.object({ alias: z.string(), token: z.string(), target: z.enum(['main', 'breakout', 'conference']).optional() });
export type ReferEvent = z.infer<typeof referEvent>;

export const callDisconnectedEvent = z.object({ call_uuid: z.string(), reason: z.string().optional() });
export const disconnectEvent = z.object({ reason: z.string() });
export type DisconnectEvent = z.infer<typeof disconnectEvent>;

export const splashScreenEvent = z.object({ screen_key: z.string(), display_duration: z.number() }).passthrough().nullable();

/** Every SSE event the node sends for meeting control, by name. */
export const conferenceEvents = {
  participant_sync_begin: z.null(),
  participant_sync_end: z.null(),
  participant_create: participant,
  participant_update: participant,
  participant_delete: participantDeleteEvent,
  conference_update: conferenceStatus,
  stage: stageEvent,
  layout: layoutEvent,
  presentation_start: presentationStartEvent,
  presentation_stop: z.null(),
  message_received: messageReceivedEvent,
  refer: referEvent,
  call_disconnected: callDisconnectedEvent,
  disconnect: disconnectEvent,
  splash_screen: splashScreenEvent,
  refresh_token: z.unknown(),
} as const;
export type ConferenceEventName = keyof typeof conferenceEvents;
export type ConferenceEvent<E extends ConferenceEventName> = z.infer<(typeof conferenceEvents)[E]>;
