import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, varchar } from 'drizzle-orm/pg-core';

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
  ...timestamps,
});

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
    ...timestamps,
  },
  (t) => [uniqueIndex('conference_name_key').on(t.name), index('conference_lower_name_idx').on(sql`lower(${t.name})`)],
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
  ...timestamps,
});

/** Console sessions (cookie → administrator). Only a hash of the session token is stored. */
export const adminSession = pgTable('admin_session', {
  tokenHash: varchar('token_hash', { length: 64 }).primaryKey(),
  adminUserId: integer('admin_user_id')
    .notNull()
    .references(() => adminUser.id, { onDelete: 'cascade' }),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
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
