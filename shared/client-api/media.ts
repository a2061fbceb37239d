import { z } from 'zod';

/**
 * Multi-stream media: our extension of the client API v2 for clients that take one stream per
 * participant (our meeting client, with mediasoup-client). Pexip's own `calls` (one SDP offer with
 * one audio and one video m-line) stays for single-stream clients; those get a mix and the active
 * speaker instead. Everything here sits under the participant, with the same `token` header:
 *
 *   GET  …/participants/{p}/media                          → MediaCapabilities
 *   POST …/participants/{p}/media/join           JoinBody  → JoinResult (send + recv transports)
 *   POST …/participants/{p}/media/transports/{t}/connect   ConnectBody → true
 *   POST …/participants/{p}/media/transports/{t}/produce   ProduceBody → ProduceResult
 *   POST …/participants/{p}/media/transports/{t}/restart_ice            → { ice_parameters }
 *   POST …/participants/{p}/media/producers/{id}/pause | resume | close  → true
 *   POST …/participants/{p}/media/consumers/{id}/resume                 → true
 *   POST …/participants/{p}/media/consumers/{id}/preferences  PreferencesBody → true
 *   POST …/participants/{p}/media/leave                                 → true
 *
 * The node pushes consumers over the conference's SSE stream, to this participant only:
 *   `media_consumer_added` ConsumerAddedEvent (the consumer starts paused: create it on the recv
 *   transport, then POST …/consumers/{id}/resume), `media_consumer_removed` { consumer_id },
 *   `media_consumer_paused` / `media_consumer_resumed` { consumer_id } (the sender paused, e.g.
 *   camera off), `media_producer_closed` { producer_id } (the node closed one of the client's own
 *   producers, e.g. another participant took the presentation floor), `media_video_codec`
 *   VideoCodecEvent (the conference's camera codec changed: send the camera in it from now on).
 * Consumer events may arrive before the join answer has been handled: queue them until the recv
 * transport exists. Pexip's own events carry the rest: `stage` (active speakers),
 * `presentation_start` / `presentation_stop`, participant events.
 *
 * mediasoup objects (RTP capabilities and parameters, ICE and DTLS parameters) are passed through
 * unchanged as JSON; the node validates them with mediasoup's own checks, the shapes here only
 * bound their size.
 */

/** A mediasoup JSON object (RtpCapabilities, RtpParameters, DtlsParameters…), at most 64 KiB. */
const mediasoupObject = z.record(z.string(), z.unknown()).refine((v) => JSON.stringify(v).length <= 65_536, 'object is too large');

export const mediaSource = z.enum(['mic', 'camera', 'screen']);
export type MediaSource = z.infer<typeof mediaSource>;

/**
 * The codec the conference wants cameras in: VP8, or H.264 while a participant takes only H.264 (a
 * room system): then browsers send H.264 and its video is forwarded, not transcoded.
 */
export const videoCodec = z.enum(['video/VP8', 'video/H264']);
export type VideoCodec = z.infer<typeof videoCodec>;

export const mediaCapabilities = z.object({
  router_rtp_capabilities: mediasoupObject,
  /** The conference's camera codec now (absent from older nodes: VP8). */
  video_codec: videoCodec.optional(),
});
export type MediaCapabilities = z.infer<typeof mediaCapabilities>;

export const joinBody = z.object({
  /** The client device's RTP capabilities (mediasoup-client `device.rtpCapabilities`). */
  rtp_capabilities: mediasoupObject,
});
export type JoinBody = z.infer<typeof joinBody>;

export const transportInfo = z.object({
  id: z.string(),
  ice_parameters: mediasoupObject,
  ice_candidates: z.array(mediasoupObject),
  dtls_parameters: mediasoupObject,
});
export type TransportInfo = z.infer<typeof transportInfo>;

export const joinResult = z.object({ send_transport: transportInfo, recv_transport: transportInfo });
export type JoinResult = z.infer<typeof joinResult>;

export const connectBody = z.object({ dtls_parameters: mediasoupObject });
export type ConnectBody = z.infer<typeof connectBody>;

export const produceBody = z.object({
  kind: z.enum(['audio', 'video']),
  rtp_parameters: mediasoupObject,
  /** `screen` needs the presentation floor (`take_floor`) first. */
  source: mediaSource,
  /** Start paused (camera or microphone off). */
  paused: z.boolean().optional(),
});
export type ProduceBody = z.infer<typeof produceBody>;

export const produceResult = z.object({ id: z.string() });
export type ProduceResult = z.infer<typeof produceResult>;

export const preferencesBody = z.object({
  /** Paused: the node sends nothing (tile off screen: last-N). */
  paused: z.boolean().optional(),
  /** Simulcast layer wanted for the tile's size: 0 smallest … 2 largest. */
  spatial_layer: z.number().int().min(0).max(2).optional(),
  temporal_layer: z.number().int().min(0).max(2).optional(),
  /** 1–255: who gets bandwidth first when the downlink is short (the speaker's tile high). */
  priority: z.number().int().min(1).max(255).optional(),
});
export type PreferencesBody = z.infer<typeof preferencesBody>;

export const consumerAddedEvent = z.object({
  consumer_id: z.string(),
  producer_id: z.string(),
  /** Whose media this is. */
  participant_uuid: z.string(),
  kind: z.enum(['audio', 'video']),
  source: mediaSource,
  rtp_parameters: mediasoupObject,
  /** The sender has it paused (camera off or muted). */
  producer_paused: z.boolean(),
});
export type ConsumerAddedEvent = z.infer<typeof consumerAddedEvent>;

export const consumerIdEvent = z.object({ consumer_id: z.string() });
export const producerIdEvent = z.object({ producer_id: z.string() });

/** `media_video_codec`: the conference's camera codec changed. */
export const videoCodecEvent = z.object({ mime_type: videoCodec });
export type VideoCodecEvent = z.infer<typeof videoCodecEvent>;

/** Pexip's `stage` event: the active-speaker order (client-api-v2 §5). */
export const stageEntry = z.object({
  participant_uuid: z.string(),
  stage_index: z.number().int(),
  /** 100 while the participant is speaking, else 0. */
  vad: z.number(),
});
export const stageEvent = z.array(stageEntry);
export type StageEntry = z.infer<typeof stageEntry>;

/** Pexip's `presentation_start` (client-api-v2 §5). */
export const presentationStartEvent = z.object({
  presenter_name: z.string().optional(),
  presenter_uri: z.string().optional(),
  presenter_uuid: z.string().optional(),
  status: z.enum(['start', 'stop', 'newframe']).optional(),
});
export type PresentationStartEvent = z.infer<typeof presentationStartEvent>;

/** The guide's layouts (digest 2): Pexip names and the client API's short forms. */
export const LAYOUT_SHORT = {
  one_main_zero_pips: '1:0',
  four_mains_zero_pips: '4:0',
  one_main_seven_pips: '1:7',
  one_main_twentyone_pips: '1:21',
  two_mains_twentyone_pips: '2:21',
} as const;
export type LayoutName = keyof typeof LAYOUT_SHORT;
export type LayoutShort = (typeof LAYOUT_SHORT)[LayoutName];
