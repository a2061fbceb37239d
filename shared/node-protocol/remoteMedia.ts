import { z } from 'zod';

/**
 * Media on another node than the signalling node (admin guide "Handling of media and signaling",
 * rule 7): the node that took a WebRTC call keeps its signalling (token, events, roster, control)
 * and asks the transcoding node media allocation chose to handle its media, which then talks to
 * the endpoint directly. The two nodes speak through the management server (`media_relay`), one
 * call leg at a time; the media node's conference instance joins the rest over a backplane.
 */

const legId = z.string().uuid();
const sdp = z.string().min(1).max(200_000);
const reason = z.string().max(250);

/** What the media node needs to know of the participant: what its media may do (MediaParticipantState). */
export const remoteLegParticipantSchema = z.object({
  id: z.string().min(1).max(64),
  displayName: z.string().max(250),
  role: z.enum(['host', 'guest']),
  held: z.boolean(),
  muted: z.boolean().optional(),
  videoMuted: z.boolean().optional(),
  rxPresentationDenied: z.boolean().optional(),
  spotlight: z.number().int().min(0).optional(),
});
export type RemoteLegParticipant = z.infer<typeof remoteLegParticipantSchema>;

/** A mediasoup JSON object (capabilities, ICE and DTLS parameters, RTP parameters), passed on as it is. */
const json = z.record(z.string(), z.unknown());
const transportInfo = z.object({ id: z.string().max(64), iceParameters: json, iceCandidates: z.array(json).max(16), dtlsParameters: json });

/** The session requests the signalling node passes on (MultiStreamSession's methods, and ending a presentation). */
export const SESSION_METHODS = [
  'connectTransport',
  'produce',
  'restartIce',
  'pauseProducer',
  'resumeProducer',
  'closeProducer',
  'resumeConsumer',
  'setConsumerPreferences',
  'replayConsumers',
  'mediaStreams',
  'stopPresentation',
] as const;
export type SessionMethod = (typeof SESSION_METHODS)[number];
export const SESSION_EVENTS = ['consumerAdded', 'consumerRemoved', 'consumerPaused', 'consumerResumed', 'producerClosed'] as const;

const packets = z.object({ audio: z.number().int().min(0), video: z.number().int().min(0) });

/** One message about one call leg, between the signalling node and the media node (`seq` pairs a negotiation with its answer). */
export const remoteLegMessageSchema = z.discriminatedUnion('kind', [
  /** Signalling → media: open the leg with the endpoint's offer (answered with `answer` seq 0). */
  z.object({
    kind: z.literal('open'),
    legId,
    conference: z.string().min(1).max(250),
    participant: remoteLegParticipantSchema,
    call: z.enum(['audio', 'sd', 'hd', 'fullhd']),
    /** The endpoint's offer; empty for a SIP late offer (`sip.late`). */
    sdp: z.string().max(200_000),
    /** A SIP call (plain RTP or SDES-SRTP per the service's media encryption) rather than WebRTC. */
    sip: z
      .object({
        encryption: z.enum(['besteffort', 'on', 'off']),
        /** An INVITE without SDP: the media node offers (sent back as the `answer`), the phone answers in its ACK (`answered`). */
        late: z.literal(true).optional(),
      })
      .optional(),
  }),
  /** Signalling → media: a later offer of the endpoint (call `update`). */
  z.object({ kind: z.literal('negotiate'), legId, seq: z.number().int().min(1), sdp }),
  /** Media → signalling: the answer to `open` (seq 0) or `negotiate`. */
  z.object({ kind: z.literal('answer'), legId, seq: z.number().int().min(0), sdp }),
  /** Media → signalling: the offer could not be taken (the leg closes when it was `open`). */
  z.object({ kind: z.literal('failed'), legId, seq: z.number().int().min(0), reason }),
  z.object({ kind: z.literal('candidate'), legId, candidate: z.string().max(2_000), mid: z.string().max(64).optional() }),
  /** Media → signalling: the media node offers the endpoint a new session (SSE `update_sdp`). */
  z.object({ kind: z.literal('offer'), legId, sdp }),
  /** Signalling → media: the endpoint's answer to that offer; null when it ignored it. */
  z.object({ kind: z.literal('answered'), legId, sdp: sdp.nullable() }),
  z.object({ kind: z.literal('connected'), legId }),
  /** Signalling → media: the participant's state changed (muted, held, role…). */
  z.object({ kind: z.literal('state'), legId, participant: remoteLegParticipantSchema }),
  /** Media → signalling: packet counts, every few seconds. */
  z.object({ kind: z.literal('stats'), legId, packetsIn: packets, packetsOut: packets }),
  /**
   * Signalling proxying node → the proxying node chosen for the call's lineside media (rule 8):
   * forward between the endpoint and this transport of the transcoding node (answered `relay_ready`).
   */
  z.object({
    kind: z.literal('relay_open'),
    legId,
    target: z.object({ address: z.ipv4(), port: z.number().int().min(1).max(65_535) }),
    call: z.enum(['audio', 'sd', 'hd', 'fullhd']),
    /** `first`: the endpoint is whoever sends first (SIP's symmetric RTP); else its ICE checks. */
    latch: z.enum(['ice', 'first']).optional(),
  }),
  /** Where the endpoint is to send: the proxying node's address and relay port. */
  z.object({ kind: z.literal('relay_ready'), legId, address: z.ipv4(), port: z.number().int().min(1).max(65_535) }),
  /**
   * Signalling → media: a multi-stream client's session (our meeting client) on the media node,
   * with the client's RTP capabilities; answered by `session_joined` (or `failed` seq 0).
   */
  z.object({
    kind: z.literal('session_open'),
    legId,
    conference: z.string().min(1).max(250),
    participant: remoteLegParticipantSchema,
    rtpCapabilities: json,
  }),
  /** Media → signalling: the session's two transports for the client. */
  z.object({ kind: z.literal('session_joined'), legId, send: transportInfo, recv: transportInfo }),
  /** Signalling → media: one of the client's session requests (answered `session_result` or `failed`). */
  z.object({ kind: z.literal('session_call'), legId, seq: z.number().int().min(1), method: z.enum(SESSION_METHODS), args: z.array(z.unknown()).max(4) }),
  z.object({ kind: z.literal('session_result'), legId, seq: z.number().int().min(1), result: z.unknown().optional() }),
  /** Media → signalling: what the session tells its client (a consumer added, paused…; a producer closed). */
  z.object({ kind: z.literal('session_event'), legId, event: z.enum(SESSION_EVENTS), arg: z.unknown() }),
  /** Media → signalling: a key the SIP caller pressed (RFC 4733 reaches the media node). */
  z.object({ kind: z.literal('dtmf'), legId, digit: z.enum(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'A', 'B', 'C', 'D']) }),
  /** Signalling → media: play this voice prompt of the service's theme to the SIP caller. */
  z.object({
    kind: z.literal('prompt'),
    legId,
    seq: z.number().int().min(1),
    name: z
      .string()
      .regex(/^[a-z0-9_-]+\.wav$/i)
      .max(100),
  }),
  /** Media → signalling: that prompt has been played (or could not be). */
  z.object({ kind: z.literal('prompted'), legId, seq: z.number().int().min(1) }),
  /** Either way: the leg is over (hang-up, the participant left, media failed, a node shutting down). */
  z.object({ kind: z.literal('close'), legId, reason }),
]);
export type RemoteLegMessage = z.infer<typeof remoteLegMessageSchema>;
