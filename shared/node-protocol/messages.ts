import { z } from 'zod';
import { routingRuleConfigSchema } from '../routing/callRouting.js';
import { mediaStreamSchema, nodeLoadSchema, participantMediaSchema, participantRecordSchema } from './mediaStatus.js';
import { commandMessage, commandResultMessage } from './commands.js';
import { remoteLegMessageSchema } from './remoteMedia.js';

/**
 * The typed contract between a conferencing node agent and the management server
 * (WebSocket at `/api/node/v1/ws`, JSON text frames). Both ends validate every frame.
 */

/** The guide's five layouts (digest 2 §21), by their configuration names. */
export const LAYOUT_NAMES = [
  'one_main_zero_pips',
  'four_mains_zero_pips',
  'one_main_seven_pips',
  'one_main_twentyone_pips',
  'two_mains_twentyone_pips',
] as const;
export type LayoutName = (typeof LAYOUT_NAMES)[number];

/** An Automatically Dialed Participant of a service: dialled once when its conference starts. */
export const automaticParticipantConfigSchema = z.object({
  alias: z.string(),
  /** Blank: the alias is shown. */
  displayName: z.string().default(''),
  role: z.enum(['chair', 'guest']).default('guest'),
  protocol: z.string().default('sip'),
  routing: z.enum(['manual', 'routing_rule']).default('manual'),
  dtmfSequence: z.string().default(''),
});
export type AutomaticParticipantConfig = z.infer<typeof automaticParticipantConfigSchema>;

export const serviceConfigSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  serviceType: z.enum(['conference', 'lecture', 'two_stage_dialing', 'test_call']),
  pin: z.string(),
  guestPin: z.string(),
  allowGuests: z.boolean(),
  participantLimit: z.number().int().nullable(),
  /** Normalised aliases (see shared/alias/normalise.ts). */
  aliases: z.array(z.string()),
  /** "Guests can present" (VMR, VA); No = only Hosts present. */
  guestsCanPresent: z.boolean().default(true),
  /** Per-service "Enable chat": null = use the global setting. */
  chatEnabled: z.boolean().nullable().default(null),
  /** Per-service "Media encryption" (besteffort, on = Required, off = No encryption): null = use the global setting. */
  cryptoMode: z.enum(['besteffort', 'on', 'off']).nullable().default(null),
  /** Virtual Reception: destination alias regex match (blank = any) and replace (blank = unchanged). */
  matchString: z.string().default(''),
  replaceString: z.string().default(''),
  /** "Service tag": carried in every conference and participant event of the service. */
  tag: z.string().default(''),
  /** The service's theme (`ivr_theme` id); null = the global default theme. */
  themeId: z.number().int().nullable().default(null),
  /** Layouts: "Host view" (a VMR's "View") and "Guest view" (Virtual Auditorium; else the Host view). */
  hostView: z.enum(LAYOUT_NAMES).default('one_main_seven_pips'),
  guestView: z.enum(LAYOUT_NAMES).default('one_main_seven_pips'),
  /** "Mute all Guests": Guests are muted on join (guide §10); Hosts can unmute them. */
  muteAllGuests: z.boolean().default(false),
  /** Automatically Dialed Participants (Services > Automatically Dialed Participants). */
  automaticParticipants: z.array(automaticParticipantConfigSchema).default([]),
});
export type ServiceConfig = z.infer<typeof serviceConfigSchema>;

/** A TURN server as configured (Call Control > TURN servers); the node turns it into client ICE servers. */
export const turnServerConfigSchema = z.object({
  address: z.string(),
  port: z.number().int().nullable(),
  transport: z.enum(['udp', 'tcp', 'tls']),
  /** namepsw: static username/password; coturn_shared: time-limited credentials from the shared secret. */
  serverType: z.enum(['namepsw', 'coturn_shared']),
  username: z.string().default(''),
  password: z.string().default(''),
  secretKey: z.string().default(''),
});
export type TurnServerConfig = z.infer<typeof turnServerConfigSchema>;

export const stunServerConfigSchema = z.object({ address: z.string(), port: z.number().int().nullable() });
export type StunServerConfig = z.infer<typeof stunServerConfigSchema>;

/** A remote syslog server of the node's location (System > Syslog servers). */
export const syslogServerConfigSchema = z.object({
  address: z.string(),
  port: z.number().int(),
  transport: z.enum(['udp', 'tcp', 'tls']),
  /** Which logs go there: support log (local2) and administrator log (local0), audit (local6), web server (local7). */
  supportLog: z.boolean(),
  auditLog: z.boolean(),
  webLog: z.boolean(),
});
export type SyslogServerConfig = z.infer<typeof syslogServerConfigSchema>;

/** An event sink of the node's location (System > Event sinks): the node POSTs its conference and participant events there. */
export const eventSinkConfigSchema = z.object({
  name: z.string(),
  url: z.string(),
  username: z.string().default(''),
  password: z.string().default(''),
  verifyTls: z.boolean().default(false),
  /** Events in batches (a JSON array) rather than one per request. */
  bulkSupport: z.boolean().default(false),
  version: z.number().int().default(1),
});
export type EventSinkConfig = z.infer<typeof eventSinkConfigSchema>;

/** The policy profile of the node's location (Call Control > Policy profiles), service configuration part. */
export const policyProfileConfigSchema = z.object({
  name: z.string(),
  /** External policy server base URL; '' = none. */
  url: z.string().default(''),
  username: z.string().default(''),
  password: z.string().default(''),
  /** "Enable external service configuration lookup". */
  externalServiceLookup: z.boolean().default(false),
  /** "Apply local policy" for service configuration, and its Jinja2 script. */
  localServicePolicy: z.boolean().default(false),
  localServiceScript: z.string().default(''),
});
export type PolicyProfileConfig = z.infer<typeof policyProfileConfigSchema>;

/** The node's system location, as far as the node acts on it. */
export const locationConfigSchema = z.object({
  name: z.string(),
  syslogServers: z.array(syslogServerConfigSchema).default([]),
  eventSinks: z.array(eventSinkConfigSchema).default([]),
  policyProfile: policyProfileConfigSchema.nullable().default(null),
  /** Break-in resistance as it applies in this location (global setting unless the location overrides it). */
  pinBruteForceResistance: z.boolean().default(true),
  voipScannerResistance: z.boolean().default(true),
  /** Given to WebRTC clients (request_token `stun` / `turn`). */
  clientStunServers: z.array(stunServerConfigSchema).default([]),
  clientTurnServers: z.array(turnServerConfigSchema).default([]),
  useRelayCandidatesOnly: z.boolean().default(false),
  /** The location's SIP proxy for outbound calls (`host[:port];transport=…`); null = the destination's own host. */
  sipProxy: z.string().nullable().default(null),
});
export type LocationConfig = z.infer<typeof locationConfigSchema>;

/** Global settings the node acts on (Platform > Global Settings), in seconds where timed. */
export const nodeSettingsSchema = z.object({
  guestsOnlyTimeout: z.number().int().min(0).default(60),
  /** 0 = never eject the last participant. */
  lastParticipantBackstopTimeout: z.number().int().min(0).default(0),
  waitingForHostTimeout: z.number().int().min(0).default(900),
  /** Seconds a caller may stay at PIN entry before being disconnected (guide default 120). */
  pinEntryTimeout: z.number().int().min(1).default(120),
  chatEnabled: z.boolean().default(true),
  /** Global "Media encryption" (besteffort, on = Required, off = No encryption). */
  cryptoMode: z.enum(['besteffort', 'on', 'off']).default('besteffort'),
  /** UDP media port range; used by conference instances started after the change. */
  mediaPorts: z.tuple([z.number().int(), z.number().int()]).default([40000, 49999]),
  /** Break-in resistance thresholds: failures in a 10-minute window (guide: 20). */
  maxPinFailuresPerWindow: z.number().int().min(1).default(20),
  maxScanAttemptsPerWindow: z.number().int().min(1).default(20),
  /** Global "Default theme" (`ivr_theme` id); null = the base theme that ships with the product. */
  defaultThemeId: z.number().int().nullable().default(null),
  /** Reverse proxies (address/prefix) whose `X-Forwarded-For` names the client; empty = trust none. */
  trustedProxies: z.array(z.string()).default([]),
  /** Enable SIP: off closes every SIP transport. */
  enableSip: z.boolean().default(true),
  /** Enable SIP UDP (the guide's default is off; a snapshot from before this setting keeps UDP, as those nodes had it). */
  enableSipUdp: z.boolean().default(true),
});

/** A theme the node may need, with a content hash: the node fetches its package when the hash changes. */
export const themeRefSchema = z.object({ id: z.number().int(), hash: z.string() });
export type NodeSettings = z.infer<typeof nodeSettingsSchema>;

/** The Digest realm of every node's SIP registrar (device HA1s are computed with it). */
export const SIP_REGISTRAR_REALM = 'openmeet';

/**
 * A device alias of the allow-list (Users & Devices > Device aliases) as the registrar needs it: the
 * node holds HA1 = MD5(username:realm:password) for Digest, never the password itself.
 */
export const deviceConfigSchema = z.object({
  alias: z.string(),
  enableSip: z.boolean(),
  username: z.string().optional(),
  ha1: z.string().optional(),
});
export type DeviceConfig = z.infer<typeof deviceConfigSchema>;

/** Services > Registrar; the guide's defaults. */
export const registrarConfigSchema = z.object({
  enabled: z.boolean().default(true),
  strategy: z.enum(['adaptive', 'basic']).default('adaptive'),
  adaptiveMin: z.number().int().min(1).default(60),
  adaptiveMax: z.number().int().min(1).default(3600),
  basicMin: z.number().int().min(1).default(60),
  basicMax: z.number().int().min(1).default(300),
  /** Bounds for SIP devices behind NAT, shorter to keep the pinhole open. */
  nattedMin: z.number().int().min(1).default(60),
  nattedMax: z.number().int().min(1).default(90),
});
export type RegistrarConfig = z.infer<typeof registrarConfigSchema>;

/**
 * The platform as media allocation sees it (shared/platform/mediaAllocation.ts): every system
 * location's transcoding and overflow locations and every node's location, role and capacity, so a
 * node decides where a call's media goes with the same rules as every other node.
 */
export const platformConfigSchema = z.object({
  locations: z
    .array(
      z.object({
        id: z.number().int(),
        name: z.string(),
        transcodingLocation: z.number().int().nullable(),
        primaryOverflow: z.number().int().nullable(),
        secondaryOverflow: z.number().int().nullable(),
      }),
    )
    .default([]),
  nodes: z
    .array(
      z.object({
        id: z.number().int(),
        name: z.string(),
        location: z.number().int(),
        role: z.enum(['transcoding', 'proxying']),
        maintenance: z.boolean(),
        /** Configured capacity in HD calls; null: the node estimates it from its CPU cores. */
        capacityHdCalls: z.number().int().min(0).nullable(),
      }),
    )
    .default([]),
});
export type PlatformConfig = z.infer<typeof platformConfigSchema>;

export const nodeConfigSnapshotSchema = z.object({
  /** Changes whenever anything in the snapshot changes. */
  version: z.string(),
  generatedAt: z.string(),
  node: z.object({
    id: z.number().int(),
    name: z.string(),
    systemLocation: z.string(),
    /** No new conference instances or joins while on (guide: maintenance mode). */
    maintenanceMode: z.boolean().default(false),
  }),
  location: locationConfigSchema.nullable().default(null),
  /** The node's TLS certificate (with its chain) and private key, served on the node's HTTPS port; null = none assigned. */
  tls: z.object({ certificate: z.string(), privateKey: z.string() }).nullable().default(null),
  settings: nodeSettingsSchema.prefault({}),
  services: z.array(serviceConfigSchema),
  /** Call Routing Rules for gateway calls (all of them; the node filters and orders). */
  routingRules: z.array(routingRuleConfigSchema).default([]),
  /** Every uploaded theme (id + content hash); packages are fetched from `/api/node/v1/themes/:id`. */
  themes: z.array(themeRefSchema).default([]),
  /** The device allow-list for the SIP registrar. */
  devices: z.array(deviceConfigSchema).default([]),
  registrar: registrarConfigSchema.prefault({}),
  platform: platformConfigSchema.prefault({}),
});
export type NodeConfigSnapshot = z.infer<typeof nodeConfigSnapshotSchema>;

export const liveParticipantSchema = z.object({
  id: z.string(),
  displayName: z.string(),
  /** `unknown`: a caller at the PIN entry screen (guide §14.3: role Unknown). */
  role: z.enum(['chair', 'guest', 'unknown']),
  /** The alias the participant dialled. */
  alias: z.string(),
  protocol: z.enum(['api', 'webrtc', 'sip']),
  connectTime: z.string(),
  node: z.string(),
  /** The node handling its media when another than `node` (which signals it): status `media_node`. */
  mediaNode: z.string().max(64).optional(),
  /** The proxying edge node forwarding its media, if any: status `proxy_node`. */
  proxyNode: z.string().max(64).optional(),
  remoteAddress: z.string(),
  /** The caller's own alias (a SIP call's From URI): status `source_alias`, history `remote_alias`. */
  remoteAlias: z.string().max(250).optional(),
  // The participant's state for status/v1 `participant`; absent from older nodes (then omitted there).
  /** Administratively muted (`is_muted`). */
  isMuted: z.boolean().optional(),
  /** Muted their own microphone (`is_client_muted`). */
  isClientMuted: z.boolean().optional(),
  /** Holds the presentation floor (`is_presenting`). */
  isPresenting: z.boolean().optional(),
  /** Waiting in the lobby for a Host or an admit (`is_on_hold`). */
  isOnHold: z.boolean().optional(),
  /** Spotlighted by a Host or an administrator (console only: status/v1 `participant` has no such field). */
  isSpotlighted: z.boolean().optional(),
  callTag: z.string().max(250).optional(),
  /** Dialled in or dialled out by the conference (`call_direction`); absent from older nodes (then in). */
  callDirection: z.enum(['in', 'out']).optional(),
  /** Whether its media is encrypted (`encryption`): known once a SIP call has media; WebRTC and the API are always encrypted. */
  encrypted: z.boolean().optional(),
  /** False when its call cannot be transferred (`is_transfer_supported`); absent: it can. */
  transferSupported: z.boolean().optional(),
});
export type LiveParticipant = z.infer<typeof liveParticipantSchema>;

export const liveConferenceSchema = z.object({
  id: z.string(),
  name: z.string(),
  serviceType: z.string(),
  startTime: z.string(),
  participants: z.array(liveParticipantSchema),
  /** The current dominant speaker on this node (a participant id), null before anyone has been heard. */
  activeSpeaker: z.string().nullable().default(null),
  /** Participants another node signals whose media this node handles (remoteMedia.ts): not listed here, they pair it for backplanes. */
  hostedMedia: z.array(z.string().max(64)).max(10_000).optional(),
  // Absent from older nodes (then omitted from status/v1 `conference`).
  isLocked: z.boolean().optional(),
  guestsMuted: z.boolean().optional(),
  /** The service's tag. */
  tag: z.string().max(250).optional(),
});
export type LiveConference = z.infer<typeof liveConferenceSchema>;

/**
 * The conference instance a record (participant left, conference ended) belongs to: sent with the
 * record so the server can write its history even when it restarted meanwhile and knows nothing live.
 */
export const conferenceRecordSchema = z.object({
  name: z.string().max(250),
  serviceType: z.string().max(32),
  /** The service's tag (guide: service tag). */
  tag: z.string().max(250).default(''),
  startTime: z.string(),
});
export type ConferenceRecord = z.infer<typeof conferenceRecordSchema>;

/** A break-in block in force on a node: a service refusing every join, or a quarantined caller address. */
export const breakInBlockSchema = z.object({
  kind: z.enum(['service', 'address']),
  /** The service's id (kind `service`) or the caller's address (kind `address`). */
  key: z.string().max(64),
  /** The service's name; the address for an address. */
  label: z.string().max(250),
  /** ISO times the block started and ends. */
  since: z.string(),
  until: z.string(),
});
export type BreakInBlock = z.infer<typeof breakInBlockSchema>;

/** The alarms a node raises itself (the guide's `Alarm=` keys); the management server knows the rest. */
export const NODE_ALARMS = ['eventsink_maximum_backoff', 'syslog_inaccessible', 'capacity_exhausted'] as const;

/** How a node sends its support log: batches of at most `maxEntries`, at most every `intervalMs`, `maxQueue` kept while unsent. */
export const SUPPORT_LOG_BATCH = { maxEntries: 200, intervalMs: 1_000, maxQueue: 2_000, maxTextLength: 4_000 } as const;

/** One support log line as the node formatted it (rfc5424.ts parsePinoLine: secrets already redacted). */
export const supportLogEntrySchema = z.object({
  /** Milliseconds since the epoch. */
  time: z.number().int().min(0),
  /** pino's level number (10 trace … 60 fatal). */
  level: z.number().int().min(0).max(100),
  /** The guide's `name`: e.g. node.conference. */
  module: z.string().max(100),
  /** `Message="..." key="value" ...` */
  text: z.string().max(SUPPORT_LOG_BATCH.maxTextLength),
});
export type SupportLogEntry = z.infer<typeof supportLogEntrySchema>;

/** One device's registration of an alias on a node. */
export const registrationSchema = z.object({
  registrationId: z.string(),
  alias: z.string(),
  username: z.string().optional(),
  protocol: z.literal('SIP'),
  remoteAddress: z.string(),
  isNatted: z.boolean(),
  vendor: z.string().optional(),
  startTime: z.string(),
  /** For the console (status/v1 has no such fields): where calls go, over what, and until when. */
  contact: z.string().optional(),
  transport: z.enum(['udp', 'tcp', 'tls']).optional(),
  expiresAt: z.string().optional(),
});
export type RegistrationReport = z.infer<typeof registrationSchema>;

/**
 * Backplanes (issue 14): when one conference is live on two nodes, the management server pairs them
 * and relays what each needs to reach the other; media then flows node to node over a mediasoup pipe
 * (one per conference per node pair), never through the server.
 */
export const BACKPLANE_TYPES = ['local', 'geographic'] as const;
export type BackplaneType = (typeof BACKPLANE_TYPES)[number];

/** A node's end of a backplane: where its pipe transport listens, and its SRTP key when on. */
export const backplaneTransportSchema = z.object({
  ip: z.string().min(1).max(64),
  port: z.number().int().min(1).max(65_535),
  srtp: z
    .object({
      cryptoSuite: z.enum(['AEAD_AES_256_GCM', 'AEAD_AES_128_GCM', 'AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32']),
      keyBase64: z.string().min(1).max(200),
    })
    .optional(),
});
export type BackplaneTransport = z.infer<typeof backplaneTransportSchema>;

const codecParameterValue = z.union([z.string().max(500), z.number()]);
/** The RTP parameters of a stream piped over a backplane (mediasoup's shape; the worker checks them again). */
export const backplaneRtpParametersSchema = z.object({
  mid: z.string().max(32).optional(),
  codecs: z
    .array(
      z.object({
        mimeType: z.string().max(64),
        payloadType: z.number().int().min(0).max(127),
        clockRate: z.number().int().positive(),
        channels: z.number().int().min(1).max(8).optional(),
        parameters: z.record(z.string().max(64), codecParameterValue).optional(),
        rtcpFeedback: z
          .array(z.object({ type: z.string().max(32), parameter: z.string().max(32).optional() }))
          .max(16)
          .optional(),
      }),
    )
    .min(1)
    .max(8),
  headerExtensions: z
    .array(
      z.object({
        uri: z.string().max(200),
        id: z.number().int().min(1).max(255),
        encrypt: z.boolean().optional(),
        parameters: z.record(z.string(), codecParameterValue).optional(),
      }),
    )
    .max(16)
    .optional(),
  encodings: z
    .array(
      z.object({
        ssrc: z.number().int().min(0).optional(),
        rid: z.string().max(32).optional(),
        codecPayloadType: z.number().int().optional(),
        rtx: z.object({ ssrc: z.number().int().min(0) }).optional(),
        dtx: z.boolean().optional(),
        scalabilityMode: z.string().max(16).optional(),
        maxBitrate: z.number().optional(),
      }),
    )
    .max(4)
    .optional(),
  rtcp: z.object({ cname: z.string().max(255).optional(), reducedSize: z.boolean().optional() }).optional(),
});

/** A participant of the other node, as this node's roster shows it. */
export const backplaneParticipantSchema = z.object({
  id: z.string().min(1).max(64),
  displayName: z.string().max(250),
  role: z.enum(['chair', 'guest']),
  protocol: z.enum(['api', 'webrtc', 'sip']),
  /** Muted by a Host or an administrator, or by themselves; video muted (absent from older nodes: not muted). */
  isMuted: z.boolean().optional(),
  isClientMuted: z.boolean().optional(),
  isVideoMuted: z.boolean().optional(),
  /** Waiting in its node's lobby (for a Host, or locked out): a held chair does not count as a Host present. */
  held: z.boolean().optional(),
  /** When a Host spotlit it (Unix seconds), 0 or absent: not spotlit. */
  spotlight: z.number().int().min(0).optional(),
});
export type BackplaneParticipant = z.infer<typeof backplaneParticipantSchema>;

/** What a Host on one node may do to a participant on another, carried over their backplane. */
export const BACKPLANE_PARTICIPANT_ACTIONS = [
  'mute',
  'unmute',
  'video_muted',
  'video_unmuted',
  'spotlighton',
  'spotlightoff',
  'clearbuzz',
  'unlock',
  'disconnect',
  'allowrxpresentation',
  'denyrxpresentation',
] as const;
export type BackplaneParticipantAction = (typeof BACKPLANE_PARTICIPANT_ACTIONS)[number];

/**
 * Meeting control of one conference across nodes: a Host's action on a participant of the other
 * node (applied there as a Host's), the conference's shared state (newest change wins, by the
 * time it was made), and the end of the conference.
 */
export const backplaneControlSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('participant'), participantId: z.string().min(1).max(64), action: z.enum(BACKPLANE_PARTICIPANT_ACTIONS) }),
  z.object({ kind: z.literal('role'), participantId: z.string().min(1).max(64), role: z.enum(['chair', 'guest']) }),
  z.object({
    kind: z.literal('state'),
    locked: z.boolean(),
    guestsMuted: z.boolean(),
    guestsCanUnmute: z.boolean(),
    /** When it last changed (Unix ms, the deciding node's clock). */
    changedAt: z.number().int().min(0),
  }),
  z.object({ kind: z.literal('end'), reason: z.string().max(250) }),
]);
export type BackplaneControl = z.infer<typeof backplaneControlSchema>;

/** One stream a node sends over the backplane: the other node consumes it as one of its own participants'. */
export const backplaneStreamSchema = z.object({
  producerId: z.string().min(1).max(64),
  participantId: z.string().min(1).max(64),
  kind: z.enum(['audio', 'video']),
  source: z.enum(['mic', 'camera', 'screen']),
  rtpParameters: backplaneRtpParametersSchema,
});
export type BackplaneStream = z.infer<typeof backplaneStreamSchema>;

/** What one side of a backplane offers the other: its participants and every stream it pipes (whole lists, each time). */
const backplaneStreamsMessage = z.object({
  type: z.literal('backplane_streams'),
  backplaneId: z.string().uuid(),
  participants: z.array(backplaneParticipantSchema).max(5_000),
  streams: z.array(backplaneStreamSchema).max(10_000),
});
const backplaneTransportMessage = z.object({ type: z.literal('backplane_transport'), backplaneId: z.string().uuid(), transport: backplaneTransportSchema });
const backplaneControlMessage = z.object({ type: z.literal('backplane_control'), backplaneId: z.string().uuid(), control: backplaneControlSchema });

export const nodeToServerSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('hello'),
    name: z.string().min(1).max(32),
    hostname: z.string().min(1).max(63),
    address: z.string().min(1),
    clientApiUrl: z.string().url(),
    version: z.string(),
    /** Version of the configuration the node already holds (from disk), if any. */
    configVersion: z.string().nullable(),
    /** The node's Ed25519 public key (SPKI DER, base64): its identity. */
    publicKey: z.string().min(1).max(200),
    /** The server's challenge nonce, and the node's signature over `helloSigningInput(...)` with its private key. */
    nonce: z.string().min(1).max(100),
    signature: z.string().min(1).max(200),
    /** Set once enrolled: the id the server gave this identity (a deleted node learns so). */
    nodeId: z.number().int().optional(),
    /** First contact: a one-time enrollment token issued for this node in the console... */
    enrollmentToken: z.string().min(1).max(200).optional(),
    /** ...or the platform's enrollment key (the local node of the quick start; accepted from loopback only). */
    enrollmentKey: z.string().min(1).max(200).optional(),
  }),
  /** Everything live on the node: sent after every (re)connection so the server resynchronises. */
  z.object({ type: z.literal('status'), conferences: z.array(liveConferenceSchema) }),
  z.object({ type: z.literal('conference_started'), conference: liveConferenceSchema }),
  /** `endTime` (ISO): when it ended on the node (the message may come later, after a reconnection); absent from older nodes. */
  z.object({ type: z.literal('conference_ended'), conferenceId: z.string(), endTime: z.string().optional(), conference: conferenceRecordSchema.optional() }),
  z.object({ type: z.literal('participant_joined'), conferenceId: z.string(), participant: liveParticipantSchema }),
  /**
   * `record`: what the CDR keeps (end time, disconnect reason, quality, streams); `participant` and
   * `conference`: who it was and where, for the history. All absent from older nodes.
   */
  z.object({
    type: z.literal('participant_left'),
    conferenceId: z.string(),
    participantId: z.string(),
    record: participantRecordSchema.optional(),
    participant: liveParticipantSchema.optional(),
    conference: conferenceRecordSchema.optional(),
    /** The call tag the client gave (client API `call_tag`); kept in the history, not shown in the console (guide). */
    callTag: z.string().max(250).optional(),
  }),
  /** A participant's state changed (muted, presenting, role, admitted…): the whole participant again. */
  z.object({ type: z.literal('participant_updated'), conferenceId: z.string(), participant: liveParticipantSchema }),
  /** The conference was locked or unlocked, or its Guests muted or unmuted. */
  z.object({ type: z.literal('conference_updated'), conferenceId: z.string(), isLocked: z.boolean(), guestsMuted: z.boolean() }),
  /** The node's load, capacity, CPU, memory and media ports: every `NODE_LOAD_INTERVAL_MS` and after (re)connecting. */
  z.object({ type: z.literal('node_load'), load: nodeLoadSchema }),
  /** Every participant's media streams and call quality on this node, every `MEDIA_STATISTICS_INTERVAL_MS`. */
  z.object({ type: z.literal('media_statistics'), at: z.string(), participants: z.array(participantMediaSchema) }),
  /** The conference's dominant speaker changed (the front of its stage); null = nobody. */
  z.object({ type: z.literal('active_speaker'), conferenceId: z.string(), participantId: z.string().nullable() }),
  z.object({ type: z.literal('config_applied'), version: z.string() }),
  /** The node raised or lowered one of its own alarms (guide keys): an event sink stopped at maximum backoff, a syslog server inaccessible. */
  z.object({
    type: z.literal('alarm'),
    action: z.enum(['raise', 'lower']),
    alarm: z.enum(NODE_ALARMS),
    /** What it is about: the event sink's name, the syslog server's address. */
    instance: z.string().max(250).default(''),
    details: z.string().max(1000).default(''),
  }),
  /** The node's support log lines since the last batch (at most one batch a second; see SUPPORT_LOG_BATCH). */
  z.object({
    type: z.literal('support_log'),
    entries: z.array(supportLogEntrySchema).max(SUPPORT_LOG_BATCH.maxEntries),
    /** Lines the node dropped since the last batch (its queue was full, e.g. while the server was unreachable). */
    dropped: z.number().int().min(0).default(0),
  }),
  /** Every break-in block in force on the node: after (re)connecting and whenever one starts or is lifted. */
  /** Every registration this node holds, sent after each change (status `registration_alias`). */
  z.object({ type: z.literal('registrations'), registrations: z.array(registrationSchema).max(100_000) }),
  z.object({ type: z.literal('break_in_blocks'), blocks: z.array(breakInBlockSchema).max(10_000) }),
  /** The answer to a `command` (commands.ts). */
  commandResultMessage,
  /** This node's end of a backplane the server opened (relayed to the peer as is). */
  backplaneTransportMessage,
  /** This node's participants and streams on a backplane (relayed to the peer as is). */
  backplaneStreamsMessage,
  /** Meeting control for the other end of a backplane (relayed to the peer as is). */
  backplaneControlMessage,
  /** A call leg whose media is on another node (remoteMedia.ts): for that node, relayed by the server holding this link. */
  z.object({ type: z.literal('media_relay'), toNode: z.number().int(), message: remoteLegMessageSchema }),
  /** The participants of other nodes whose media this conference instance now handles (the whole list). */
  z.object({ type: z.literal('conference_media_hosted'), conferenceId: z.string(), participantIds: z.array(z.string().max(64)).max(10_000) }),
  /** The node could not take part in a backplane (e.g. the conference ended meanwhile): the server closes it. */
  z.object({ type: z.literal('backplane_closed'), backplaneId: z.string().uuid(), reason: z.string().max(250) }),
  /** This node's end of a backplane, measured: what it receives (rx) and sends (tx) over it, by stream type. */
  z.object({ type: z.literal('backplane_statistics'), backplaneId: z.string().uuid(), streams: z.array(mediaStreamSchema).max(3) }),
]);
export type NodeToServer = z.infer<typeof nodeToServerSchema>;

/**
 * Why the server refused a node. `revoked` and `deleted` are final: the node stops serving.
 * `duplicate`: another process holding this identity is connected and answering.
 */
export const NODE_REJECTION_CODES = ['invalid_credentials', 'token_invalid', 'revoked', 'deleted', 'duplicate', 'not_allowed'] as const;
export type NodeRejectionCode = (typeof NODE_REJECTION_CODES)[number];
export const FINAL_REJECTIONS: readonly NodeRejectionCode[] = ['revoked', 'deleted'];

export const serverToNodeSchema = z.discriminatedUnion('type', [
  /** First frame on every connection: the node signs this nonce in its hello, so a recorded hello is worthless. */
  z.object({ type: z.literal('challenge'), nonce: z.string().min(1).max(100) }),
  /** `session`: presented on the node's HTTP requests to the server (theme downloads) while connected. */
  z.object({ type: z.literal('welcome'), nodeId: z.number().int(), session: z.string().optional() }),
  z.object({ type: z.literal('config'), snapshot: nodeConfigSnapshotSchema }),
  z.object({ type: z.literal('rejected'), reason: z.string(), code: z.enum(NODE_REJECTION_CODES).optional() }),
  /** An administrator lifts a break-in block (the node answers with its new `break_in_blocks`). */
  z.object({ type: z.literal('lift_break_in_block'), kind: breakInBlockSchema.shape.kind, key: z.string().max(64) }),
  /** An administrator's command on a conference or participant (commands.ts); answered by `command_result`. */
  commandMessage,
  /** The conference is live on this node and on `peer` too: open this node's end of a backplane to it. */
  z.object({
    type: z.literal('backplane_open'),
    backplaneId: z.string().uuid(),
    /** The service's name, as in `conference_started`. */
    conference: z.string().max(250),
    peer: z.object({ nodeId: z.number().int(), name: z.string().max(64), location: z.string().max(250) }),
    backplaneType: z.enum(BACKPLANE_TYPES),
  }),
  /** The peer's end of the backplane. */
  backplaneTransportMessage,
  /** The peer's participants and streams. */
  backplaneStreamsMessage,
  /** The peer's meeting control (a Host there acted on this node's participant, or on the conference). */
  backplaneControlMessage,
  /** About a call leg whose signalling or media is on node `fromNode` (remoteMedia.ts). */
  z.object({ type: z.literal('media_relay'), fromNode: z.number().int(), message: remoteLegMessageSchema }),
  /** One side has nobody left (or is gone): close this node's end. */
  z.object({ type: z.literal('backplane_close'), backplaneId: z.string().uuid() }),
  /** The live nodes' media load, for media allocation (a node not listed is not live). */
  z.object({
    type: z.literal('platform_load'),
    nodes: z
      .array(
        z.object({
          id: z.number().int(),
          mediaTokensUsed: z.number().int().min(0),
          maxMediaTokens: z.number().int().min(0),
          /** The conferences (service names) it holds media of. */
          conferences: z.array(z.string().max(250)).max(10_000),
          /**
           * Its participants per conference (service name): those it signals, at PIN entry left out.
           * A conference's participant limit counts them before a backplane lists them.
           */
          participants: z
            .array(z.object({ conference: z.string().max(250), count: z.number().int().min(0) }))
            .max(10_000)
            .optional(),
        }),
      )
      .max(10_000),
  }),
]);
export type ServerToNode = z.infer<typeof serverToNodeSchema>;

export const NODE_WS_PATH = '/api/node/v1/ws';

/** How often a node reports its load and its participants' media (issue 12: at least every 5 s). */
export const NODE_LOAD_INTERVAL_MS = 5_000;
export const MEDIA_STATISTICS_INTERVAL_MS = 5_000;

/** Theme packages for nodes: `<path>/<id>` and `<path>/base`, authenticated by the enrollment key header. */
export const NODE_THEMES_PATH = '/api/node/v1/themes';
export const NODE_KEY_HEADER = 'x-node-enrollment-key';
/** The session a node was given in its welcome, on its HTTP requests to the server. */
export const NODE_SESSION_HEADER = 'x-node-session';

/** What a node signs to prove its identity: bound to this connection's nonce and to the identity claimed. */
export function helloSigningInput(h: { nonce: string; name: string; publicKey: string }): Buffer {
  return Buffer.from(`openmeet-node-hello\n${h.nonce}\n${h.name}\n${h.publicKey}`, 'utf8');
}

/**
 * Heartbeats both ways (WebSocket ping/pong): each side pings every `intervalMs` and drops a link
 * that has answered nothing for `timeoutMs`: a silent peer is noticed within timeout + interval (10.5 s).
 */
export const NODE_HEARTBEAT = { intervalMs: 2_500, timeoutMs: 8_000 } as const;
