import { sql } from 'drizzle-orm';
import { boolean, customType, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, varchar } from 'drizzle-orm/pg-core';

/** Binary column (theme packages, backups): Buffer in, Buffer out on both PGlite and node-postgres. */
const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (v) => (Buffer.isBuffer(v) ? v : Buffer.from(v)),
});

const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true })
    .notNull()
    .defaultNow()
    .$onUpdate(() => new Date()),
};

/** System locations (Platform > Locations). */
export const systemLocation = pgTable('system_location', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  name: varchar('name', { length: 250 }).notNull().unique(),
  description: varchar('description', { length: 250 }).notNull().default(''),
  mtu: integer('mtu').notNull().default(1500),
  /** The location's other fields by management API name (DNS/NTP servers, proxies, TURN/STUN, overflow...). */
  settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default({}),
  ...timestamps,
});

/** Conferencing nodes (`worker_vm`). `lastContacted` is written by the node registry. */
export const conferencingNode = pgTable('conferencing_node', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  name: varchar('name', { length: 32 }).notNull().unique(),
  hostname: varchar('hostname', { length: 63 }).notNull(),
  address: varchar('address', { length: 64 }).notNull(),
  clientApiUrl: varchar('client_api_url', { length: 255 }).notNull().default(''),
  systemLocationId: integer('system_location_id')
    .notNull()
    .references(() => systemLocation.id),
  role: varchar('role', { length: 16 }).notNull().default('transcoding'),
  maintenanceMode: boolean('maintenance_mode').notNull().default(false),
  version: varchar('version', { length: 32 }).notNull().default(''),
  lastContacted: timestamp('last_contacted', { withTimezone: true }),
  /** The node's other fields by management API name (netmask, gateway, TLS certificate, SIP TLS FQDN...). */
  settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default({}),
  ...timestamps,
});

/**
 * A conferencing node's own credential: the Ed25519 public key it proved at enrollment. The node
 * keeps the private key in its data directory and signs the server's nonce on every connection.
 */
export const nodeCredential = pgTable('node_credential', {
  nodeId: integer('node_id')
    .primaryKey()
    .references(() => conferencingNode.id, { onDelete: 'cascade' }),
  /** SPKI DER, base64. */
  publicKey: text('public_key').notNull(),
  enrolledAt: timestamp('enrolled_at', { withTimezone: true }).notNull().defaultNow(),
  /** Set by an administrator: the node is refused until a new enrollment token is used. */
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
});

/** One-time enrollment tokens, issued in the console for one node; only their SHA-256 is kept. */
export const nodeEnrollmentToken = pgTable(
  'node_enrollment_token',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    nodeId: integer('node_id')
      .notNull()
      .references(() => conferencingNode.id, { onDelete: 'cascade' }),
    tokenHash: varchar('token_hash', { length: 64 }).notNull().unique(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('node_enrollment_token_node_idx').on(t.nodeId)],
);

/** Services: Virtual Meeting Rooms now (`service_type` = conference); the others share the table later. */
export const conference = pgTable(
  'conference',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    name: varchar('name', { length: 250 }).notNull(),
    description: varchar('description', { length: 250 }).notNull().default(''),
    serviceType: varchar('service_type', { length: 32 }).notNull().default('conference'),
    pin: varchar('pin', { length: 20 }).notNull().default(''),
    guestPin: varchar('guest_pin', { length: 20 }).notNull().default(''),
    allowGuests: boolean('allow_guests').notNull().default(false),
    participantLimit: integer('participant_limit'),
    /** Every other field of the service, by its management API name (validated by the service type's definition). */
    settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default({}),
    ...timestamps,
  },
  (t) => [
    index('conference_service_type_idx').on(t.serviceType),
    uniqueIndex('conference_name_key').on(t.name),
    index('conference_lower_name_idx').on(sql`lower(${t.name})`),
  ],
);

/** Service aliases. `normalised` is unique across every service (guide §19.2). */
export const conferenceAlias = pgTable(
  'conference_alias',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    alias: varchar('alias', { length: 250 }).notNull(),
    normalised: varchar('normalised', { length: 250 }).notNull(),
    description: varchar('description', { length: 250 }).notNull().default(''),
    conferenceId: integer('conference_id')
      .notNull()
      .references(() => conference.id, { onDelete: 'cascade' }),
    viewOrder: integer('view_order').notNull().default(0),
    ...timestamps,
  },
  (t) => [uniqueIndex('conference_alias_normalised_key').on(t.normalised), index('conference_alias_conference_idx').on(t.conferenceId)],
);

/** Administrator accounts; passwords stored as scrypt hashes. */
export const adminUser = pgTable('admin_user', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  username: varchar('username', { length: 150 }).notNull().unique(),
  passwordHash: text('password_hash').notNull(),
  mayUseWeb: boolean('may_use_web').notNull().default(true),
  mayUseApi: boolean('may_use_api').notNull().default(true),
  fullName: varchar('full_name', { length: 250 }).notNull().default(''),
  email: varchar('email', { length: 250 }).notNull().default(''),
  ...timestamps,
});

/** Administrator roles: named sets of permissions; an administrator's permissions are the union of their roles'. */
export const adminRole = pgTable('admin_role', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  name: varchar('name', { length: 250 }).notNull().unique(),
  permissions: jsonb('permissions').$type<string[]>().notNull().default([]),
  builtin: boolean('builtin').notNull().default(false),
  ...timestamps,
});

export const adminUserRole = pgTable(
  'admin_user_role',
  {
    adminUserId: integer('admin_user_id')
      .notNull()
      .references(() => adminUser.id, { onDelete: 'cascade' }),
    adminRoleId: integer('admin_role_id')
      .notNull()
      .references(() => adminRole.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.adminUserId, t.adminRoleId] })],
);

/**
 * Configuration objects of the many kinds nothing queries by field (SIP proxies, TURN servers,
 * event sinks, devices, ADPs, call routing rules...): one row each, the validated object as JSON
 * under its management API field names. `uniqueKey` holds the normalised value that must be
 * unique within the resource (usually the lower-cased name), so the database enforces it.
 */
export const configObject = pgTable(
  'config_object',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    resource: varchar('resource', { length: 64 }).notNull(),
    uniqueKey: varchar('unique_key', { length: 500 }),
    data: jsonb('data').$type<Record<string, unknown>>().notNull(),
    ...timestamps,
  },
  (t) => [uniqueIndex('config_object_resource_unique_key').on(t.resource, t.uniqueKey), index('config_object_resource_idx').on(t.resource, t.id)],
);

/** Themes (`ivr_theme`): the uploaded ZIP package, validated, and what it contains. */
export const ivrTheme = pgTable('ivr_theme', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  name: varchar('name', { length: 250 }).notNull().unique(),
  description: varchar('description', { length: 250 }).notNull().default(''),
  uuid: varchar('uuid', { length: 36 }).notNull(),
  /** SHA-256 (hex) and length of the ZIP, whose bytes are in ivr_theme_part. */
  packageSha256: varchar('package_sha256', { length: 64 }).notNull(),
  packageSize: integer('package_size').notNull(),
  /** File names in the package and the parsed themeconfig.json. */
  contents: jsonb('contents').$type<{ files: string[]; config: Record<string, unknown> }>().notNull(),
  ...timestamps,
});

/**
 * A theme's ZIP in parts of at most 1 MiB, in order: written and served a part at a time, so a
 * package is never held whole in memory, and every management server sharing the database has it.
 */
export const ivrThemePart = pgTable(
  'ivr_theme_part',
  {
    themeId: integer('theme_id')
      .notNull()
      .references(() => ivrTheme.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    data: bytea('data').notNull(),
  },
  (t) => [primaryKey({ columns: [t.themeId, t.seq] })],
);

/** Backups of the configuration: passphrase-encrypted archives (manual or automatic). */
export const configBackup = pgTable('config_backup', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  kind: varchar('kind', { length: 16 }).notNull(),
  fileName: varchar('file_name', { length: 250 }).notNull(),
  version: varchar('version', { length: 32 }).notNull(),
  size: integer('size').notNull(),
  archive: bytea('archive').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Console sessions (cookie → administrator). Only a hash of the session token is stored. */
export const adminSession = pgTable('admin_session', {
  tokenHash: varchar('token_hash', { length: 64 }).primaryKey(),
  adminUserId: integer('admin_user_id')
    .notNull()
    .references(() => adminUser.id, { onDelete: 'cascade' }),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  /** The session's last request: the idle timeout (Global Settings) counts from here. */
  lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Platform-wide key/value settings the server owns (e.g. the node enrollment key). */
export const platformSetting = pgTable('platform_setting', {
  key: varchar('key', { length: 64 }).primaryKey(),
  value: text('value').notNull(),
});

/**
 * Administrator log: every configuration change, who made it and what changed (guide: "Configuration
 * added/changed/deleted" entries). Secret values (PINs, passwords) are recorded as changed, never stored.
 */
export const adminLog = pgTable(
  'admin_log',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    time: timestamp('time', { withTimezone: true }).notNull().defaultNow(),
    username: varchar('username', { length: 150 }).notNull(),
    /** added | changed | deleted */
    action: varchar('action', { length: 16 }).notNull(),
    /** The object kind in the guide's words, e.g. "Virtual Meeting Room". */
    objectType: varchar('object_type', { length: 64 }).notNull(),
    objectId: integer('object_id'),
    objectName: varchar('object_name', { length: 250 }).notNull().default(''),
    /** Field → { before, after } for the fields that changed. */
    changes: jsonb('changes').$type<Record<string, { before: unknown; after: unknown }>>().notNull().default({}),
  },
  (t) => [index('admin_log_time_idx').on(t.time)],
);

/**
 * Login history (guide: History & Logs > Login History): every sign-in attempt to the console and
 * every refused API credential, with the username submitted and the client's address and port.
 */
export const loginAttempt = pgTable(
  'login_attempt',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    time: timestamp('time', { withTimezone: true }).notNull().defaultNow(),
    username: varchar('username', { length: 150 }).notNull(),
    address: varchar('address', { length: 64 }).notNull(),
    port: integer('port'),
    /** web (the console's sign-in) | api (HTTP Basic on the management API) */
    channel: varchar('channel', { length: 8 }).notNull(),
    success: boolean('success').notNull(),
    /** Why a failed attempt failed: bad credentials, throttled, no access to this interface. */
    reason: varchar('reason', { length: 64 }).notNull().default(''),
  },
  (t) => [index('login_attempt_time_idx').on(t.time)],
);

/**
 * Conference history (guide: History & Logs > Conference history; history/v1 `conference`). One row per
 * conference instance, written when the node reports it ended. `id` is the node's conference instance id.
 */
export const conferenceHistory = pgTable(
  'conference_history',
  {
    id: varchar('id', { length: 64 }).primaryKey(),
    name: varchar('name', { length: 250 }).notNull(),
    /** conference | lecture | two_stage_dialing | test_call | gateway */
    serviceType: varchar('service_type', { length: 32 }).notNull(),
    tag: varchar('tag', { length: 250 }).notNull().default(''),
    startTime: timestamp('start_time', { withTimezone: true }).notNull(),
    endTime: timestamp('end_time', { withTimezone: true }).notNull(),
    /** Seconds. */
    duration: integer('duration').notNull(),
    participantCount: integer('participant_count').notNull().default(0),
    instantMessageCount: integer('instant_message_count').notNull().default(0),
    /** The node that hosted it. */
    node: varchar('node', { length: 250 }).notNull().default(''),
  },
  (t) => [index('conference_history_start_idx').on(t.startTime), index('conference_history_name_idx').on(t.name)],
);

/**
 * Participant history (history/v1 `participant`): one row per call leg, written when it leaves. Columns
 * carry the fields scripts filter on; `details` holds the rest of the guide's fields by API name.
 */
export const participantHistory = pgTable(
  'participant_history',
  {
    id: varchar('id', { length: 64 }).primaryKey(),
    /** The conference instance; a participant may be written before its conference ends. */
    conferenceId: varchar('conference_id', { length: 64 }).notNull(),
    conferenceName: varchar('conference_name', { length: 250 }).notNull(),
    displayName: varchar('display_name', { length: 250 }).notNull().default(''),
    localAlias: varchar('local_alias', { length: 250 }).notNull().default(''),
    remoteAlias: varchar('remote_alias', { length: 250 }).notNull().default(''),
    remoteAddress: varchar('remote_address', { length: 64 }).notNull().default(''),
    remotePort: integer('remote_port'),
    /** chair | guest (the API's words for Host and Guest) */
    role: varchar('role', { length: 16 }).notNull(),
    serviceType: varchar('service_type', { length: 32 }).notNull(),
    /** api | webrtc | sip | ... */
    protocol: varchar('protocol', { length: 16 }).notNull(),
    /** in | out */
    callDirection: varchar('call_direction', { length: 8 }).notNull().default('in'),
    /** 0_unknown | 1_good | 2_ok | 3_bad | 4_terrible */
    callQuality: varchar('call_quality', { length: 16 }).notNull().default('0_unknown'),
    startTime: timestamp('start_time', { withTimezone: true }).notNull(),
    endTime: timestamp('end_time', { withTimezone: true }).notNull(),
    /** Seconds. */
    duration: integer('duration').notNull(),
    disconnectReason: varchar('disconnect_reason', { length: 250 }).notNull().default(''),
    mediaNode: varchar('media_node', { length: 250 }).notNull().default(''),
    signallingNode: varchar('signalling_node', { length: 250 }).notNull().default(''),
    systemLocation: varchar('system_location', { length: 250 }).notNull().default(''),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [
    index('participant_history_start_idx').on(t.startTime),
    index('participant_history_conference_idx').on(t.conferenceId),
    // history/v1 `participant/?conference=<name>` (scripts name the service).
    index('participant_history_conference_name_idx').on(t.conferenceName),
  ],
);

/** Media streams of a participant's call (history/v1 `media_stream`), one row per stream, kept with the participant. */
export const mediaStreamHistory = pgTable(
  'media_stream_history',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    participantId: varchar('participant_id', { length: 64 }).notNull(),
    streamId: varchar('stream_id', { length: 64 }).notNull().default(''),
    /** audio | video | presentation */
    streamType: varchar('stream_type', { length: 16 }).notNull(),
    node: varchar('node', { length: 250 }).notNull().default(''),
    startTime: timestamp('start_time', { withTimezone: true }).notNull(),
    endTime: timestamp('end_time', { withTimezone: true }).notNull(),
    /** rx_/tx_ bitrate, codec, fps, packet_loss, packets_lost, resolution, jitter, packets received/sent. */
    figures: jsonb('figures').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [index('media_stream_history_participant_idx').on(t.participantId)],
);

/**
 * Backplanes (history/v1 `backplane`): one row per backplane link, as status/v1 lists them (a
 * backplane is two links, one from each node), written by the management server that brokered it
 * when it closes.
 */
export const backplaneHistory = pgTable(
  'backplane_history',
  {
    /** The link's id, as status/v1 `backplane` gave it. */
    id: varchar('id', { length: 64 }).primaryKey(),
    backplaneId: varchar('backplane_id', { length: 64 }).notNull(),
    conference: varchar('conference', { length: 250 }).notNull(),
    mediaNode: varchar('media_node', { length: 250 }).notNull(),
    remoteMediaNode: varchar('remote_media_node', { length: 250 }).notNull(),
    remoteConferenceName: varchar('remote_conference_name', { length: 250 }).notNull(),
    systemLocation: varchar('system_location', { length: 250 }).notNull().default(''),
    /** local | geographic */
    type: varchar('type', { length: 16 }).notNull(),
    startTime: timestamp('start_time', { withTimezone: true }).notNull(),
    endTime: timestamp('end_time', { withTimezone: true }).notNull(),
    /** Seconds. */
    duration: integer('duration').notNull(),
  },
  (t) => [index('backplane_history_start_idx').on(t.startTime), index('backplane_history_conference_idx').on(t.conference)],
);

/**
 * Alarms (guide: Status > Alarms; status/v1 and history/v1 `alarm`). An alarm is active while
 * `timeLowered` is null; the row stays as its history once lowered.
 */
export const alarm = pgTable(
  'alarm',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    /** The alarm's name in the guide's words, e.g. "Conferencing Node not responding". */
    name: varchar('name', { length: 250 }).notNull(),
    /** Stable numeric code per kind of alarm. */
    identifier: integer('identifier').notNull(),
    /** error | warning | info */
    level: varchar('level', { length: 16 }).notNull(),
    details: text('details').notNull().default(''),
    /** What the alarm is about (a node's name, a certificate's subject, an event sink's name...). */
    instance: varchar('instance', { length: 250 }).notNull().default(''),
    /** The node that raised it, or the management node. */
    node: varchar('node', { length: 250 }).notNull().default(''),
    timeRaised: timestamp('time_raised', { withTimezone: true }).notNull().defaultNow(),
    timeLowered: timestamp('time_lowered', { withTimezone: true }),
    acknowledged: boolean('acknowledged').notNull().default(false),
  },
  (t) => [index('alarm_time_raised_idx').on(t.timeRaised), index('alarm_time_lowered_idx').on(t.timeLowered)],
);
