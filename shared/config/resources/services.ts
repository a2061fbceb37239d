import { validatePins } from '../../conference/pin.js';
import type { FieldSpecs, Refine } from '../field.js';
import type { RecordOf } from '../record.js';
import { defineResource } from '../resource.js';

/**
 * Services (Services menu): Virtual Meeting Rooms, Virtual Auditoriums, Virtual Receptions and the
 * Test Call Service. All are `conference` objects in the management API, told apart by
 * `service_type`; each type has its own fields (guide-digest-2 §9, §10, §12, §15).
 */

export const LAYOUTS = [
  ['one_main_zero_pips', 'Full-screen main speaker only (1:0 layout)'],
  ['one_main_seven_pips', 'Large main speaker and up to 7 other participants (1+7 layout)'],
  ['one_main_twentyone_pips', 'Main speaker and up to 21 other participants (1+21 layout)'],
  ['two_mains_twentyone_pips', 'Two main speakers and up to 21 other participants (2+21 layout)'],
  ['four_mains_zero_pips', 'Up to four main speakers (2x2 layout)'],
] as const;

export const CALL_TYPES = [
  ['audio', 'Audio-only'],
  ['video-only', 'Main video only'],
  ['video', 'Main video + presentation'],
] as const;

export const CRYPTO_MODES = [
  ['besteffort', 'Best effort'],
  ['on', 'Required'],
  ['off', 'No encryption'],
] as const;

export const CALL_QUALITIES = [
  ['sd', 'SD'],
  ['hd', 'HD'],
  ['fullhd', 'Full HD (1080p)'],
] as const;

export const TRI_STATE = [
  ['default', 'Use global setting'],
  ['yes', 'Yes'],
  ['no', 'No'],
] as const;

const common = {
  name: { type: 'text', label: 'Name', max: 250, required: true },
  description: { type: 'text', label: 'Description', max: 250 },
} satisfies FieldSpecs;

const media = {
  max_callrate_in: {
    type: 'int',
    label: 'Maximum inbound call bandwidth (kbps)',
    min: 128,
    max: 8192,
    default: null,
    section: 'Advanced options',
    notYetActive: true,
  },
  max_callrate_out: {
    type: 'int',
    label: 'Maximum outbound call bandwidth (kbps)',
    min: 128,
    max: 8192,
    default: null,
    section: 'Advanced options',
    notYetActive: true,
  },
  call_type: { type: 'choice', label: 'Conference capabilities', choices: CALL_TYPES, default: 'video', section: 'Advanced options', notYetActive: true },
  max_pixels_per_second: {
    type: 'choice',
    label: 'Maximum call quality',
    choices: CALL_QUALITIES,
    default: null,
    nullable: true,
    nullLabel: 'Use global setting',
    section: 'Advanced options',
    notYetActive: true,
  },
  crypto_mode: {
    type: 'choice',
    label: 'Media encryption',
    choices: CRYPTO_MODES,
    default: null,
    nullable: true,
    nullLabel: 'Use global setting',
    section: 'Advanced options',
  },
  tag: { type: 'text', label: 'Service tag', max: 250, section: 'Advanced options' },
} satisfies FieldSpecs;

const theme = { ivr_theme: { type: 'ref', label: 'Theme', resource: 'ivr_theme', nullLabel: '<use Default theme>' } } satisfies FieldSpecs;

const pins = {
  pin: { type: 'text', label: 'Host PIN', max: 20, secret: true, writeOnly: false, help: '4–20 digits, optional trailing #. Blank: no PIN.' },
  allow_guests: { type: 'bool', label: 'Allow Guests', default: false },
  guest_pin: { type: 'text', label: 'Guest PIN', max: 20, secret: true, writeOnly: false },
} satisfies FieldSpecs;

const hostedConference = {
  ...common,
  ...pins,
  ...theme,
  enable_overlay_text: { type: 'bool', label: 'Show names of participants', default: false, notYetActive: true },
  automatic_participants: { type: 'refList', label: 'Automatically Dialed Participants', resource: 'automatic_participant' },
  guests_can_present: { type: 'bool', label: 'Guests can present', default: true, section: 'Advanced options' },
  enable_chat: { type: 'choice', label: 'Enable chat', choices: TRI_STATE, default: 'default', section: 'Advanced options' },
  participant_limit: { type: 'int', label: 'Participant limit', min: 0, max: 1_000_000, default: null, help: 'Blank: unlimited.', section: 'Advanced options' },
  ...media,
} satisfies FieldSpecs;

/** The guide's PIN rules (§20.2), reported beside the PIN fields. */
export const refinePins: Refine = (v, add) => {
  const str = (x: unknown) => (typeof x === 'string' ? x.trim() : '');
  const errs = validatePins({ pin: str(v.pin), guestPin: str(v.guest_pin), allowGuests: v.allow_guests === true });
  for (const [field, messages] of Object.entries(errs)) for (const m of messages ?? []) add(field, m);
};

export const vmrResource = defineResource({
  name: 'vmr',
  label: 'Virtual Meeting Room',
  plural: 'Virtual Meeting Rooms',
  menu: 'Services',
  route: 'vmrs',
  permission: 'vmr',
  store: 'conference',
  unique: [{ fields: ['name'], message: 'A service with this name already exists.' }],
  serviceType: 'conference',
  hasAliases: true,
  fields: {
    ...hostedConference,
    host_view: { type: 'choice', label: 'View', choices: LAYOUTS, default: 'one_main_seven_pips' },
    primary_owner_email_address: { type: 'text', label: "Owner's email address", max: 100, format: 'email', notYetActive: true },
  },
  refine: refinePins,
  listColumns: ['name', 'aliases', 'pin', 'allow_guests', 'participant_limit'],
  searchFields: ['name', 'description'],
});

export const virtualAuditoriumResource = defineResource({
  name: 'virtual_auditorium',
  label: 'Virtual Auditorium',
  plural: 'Virtual Auditoriums',
  menu: 'Services',
  route: 'virtual-auditoriums',
  permission: 'vmr',
  store: 'conference',
  unique: [{ fields: ['name'], message: 'A service with this name already exists.' }],
  serviceType: 'lecture',
  hasAliases: true,
  fields: {
    ...hostedConference,
    host_view: { type: 'choice', label: 'Host view', choices: LAYOUTS, default: 'one_main_seven_pips' },
    guest_view: { type: 'choice', label: 'Guest view', choices: LAYOUTS, default: 'one_main_seven_pips' },
    mute_all_guests: { type: 'bool', label: 'Mute all Guests', default: false },
    force_presenter_into_main: { type: 'bool', label: 'Lock presenter as main speaker', default: false, notYetActive: true },
  },
  refine: refinePins,
  listColumns: ['name', 'aliases', 'pin', 'allow_guests', 'participant_limit'],
  searchFields: ['name', 'description'],
});

export const virtualReceptionResource = defineResource({
  name: 'virtual_reception',
  label: 'Virtual Reception',
  plural: 'Virtual Receptions',
  menu: 'Services',
  route: 'virtual-receptions',
  permission: 'vmr',
  store: 'conference',
  unique: [{ fields: ['name'], message: 'A service with this name already exists.' }],
  serviceType: 'two_stage_dialing',
  hasAliases: true,
  fields: {
    ...common,
    ...theme,
    two_stage_dial_type: {
      type: 'choice',
      label: 'Virtual Reception type',
      choices: [
        ['regular', 'Regular'],
        ['mssip', 'Lync / Skype for Business'],
        ['gms', 'Google Meet'],
        ['teams', 'Microsoft Teams'],
      ],
      default: 'regular',
    },
    system_location: { type: 'ref', label: 'Lookup location', resource: 'system_location', nullLabel: 'The Conferencing Node handling the call' },
    post_match_string: { type: 'text', label: 'Post-lookup regex match', max: 250, format: 'regex' },
    post_replace_string: { type: 'text', label: 'Post-lookup regex replace string', max: 250 },
    match_string: {
      type: 'text',
      label: 'Destination alias regex match',
      max: 250,
      format: 'regex',
      help: 'Blank: any alias entered is allowed. An alias that does not match is not routed.',
      section: 'Advanced options',
    },
    replace_string: { type: 'text', label: 'Destination alias regex replace string', max: 250, section: 'Advanced options' },
    ...media,
  },
  listColumns: ['name', 'aliases', 'two_stage_dial_type'],
  searchFields: ['name', 'description'],
});

export const testCallResource = defineResource({
  name: 'test_call',
  label: 'Test Call Service',
  plural: 'Test Call Service',
  menu: 'Services',
  route: 'test-call-services',
  permission: 'vmr',
  store: 'conference',
  unique: [{ fields: ['name'], message: 'A service with this name already exists.' }],
  serviceType: 'test_call',
  hasAliases: true,
  fields: {
    ...common,
    ...theme,
    max_callrate_in: media.max_callrate_in,
    call_type: media.call_type,
    max_pixels_per_second: media.max_pixels_per_second,
    crypto_mode: media.crypto_mode,
    tag: media.tag,
  },
  listColumns: ['name', 'aliases'],
  searchFields: ['name', 'description'],
  intro: 'Callers see and hear themselves with a two-second delay. Shipped with the alias test_call.',
});

export const SERVICE_RESOURCES = [vmrResource, virtualAuditoriumResource, virtualReceptionResource, testCallResource];

/** `service_type` → its definition. */
export const SERVICE_BY_TYPE = new Map(SERVICE_RESOURCES.map((d) => [d.serviceType, d]));

/** A service of any type, typed by its own definition: `'pin' in r` tells the ones with PINs (VMRs, Virtual Auditoriums). */
export type ServiceDef = (typeof SERVICE_RESOURCES)[number];
export type ServiceRecord = RecordOf<ServiceDef>;
