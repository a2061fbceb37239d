import type { Refine } from '../field.js';
import { defineResource, type ResourceDef } from '../resource.js';
import { CALL_TYPES } from './services.js';

/**
 * Users & Devices menu: device aliases (guide-digest-2 §16.5, API §6.7) and users (guide-digest-3
 * §6.3, API §6.8); plus the Services menu's Automatically Dialed Participants (guide-digest-2 §23.5,
 * API §6.3), declared here beside the other bulk-importable objects.
 */

export const DEVICE_MESSAGES = {
  unique: 'A device with this alias already exists.',
  ssoNeedsEmail: "An owner's email address is required for devices registering using Infinity Connect registration using SSO.",
  ssoOrNonSso: 'For any given alias, enable Infinity Connect registration for either SSO or non-SSO authentication, not both.',
} as const;

/** The guide's two rules on Infinity Connect registration (§16.5). */
export const refineDevice: Refine = (v, add) => {
  if (v.enable_infinity_connect_sso !== true) return;
  if (typeof v.primary_owner_email_address !== 'string' || v.primary_owner_email_address.trim() === '') {
    add('primary_owner_email_address', DEVICE_MESSAGES.ssoNeedsEmail);
  }
  if (v.enable_infinity_connect_non_sso === true) add('enable_infinity_connect_sso', DEVICE_MESSAGES.ssoOrNonSso);
};

export const deviceResource = defineResource({
  name: 'device',
  label: 'Device alias',
  plural: 'Device aliases',
  menu: 'Users & Devices',
  route: 'device-aliases',
  permission: 'system',
  nameField: 'alias',
  fields: {
    alias: {
      type: 'text',
      label: 'Device alias',
      max: 250,
      required: true,
      format: 'alias',
      help: 'The alias URI a device or client may register with. Exact match; regular expressions are not supported.',
    },
    tag: { type: 'text', label: 'Service tag', max: 250 },
    description: { type: 'text', label: 'Description', max: 250, help: 'May be shown to registered Infinity Connect clients searching the directory.' },
    enable_sip: { type: 'bool', label: 'Enable SIP registration', default: true },
    enable_h323: { type: 'bool', label: 'Enable H.323 registration', default: true },
    enable_infinity_connect_non_sso: { type: 'bool', label: 'Enable Infinity Connect registration (non-SSO)', default: true },
    enable_infinity_connect_sso: { type: 'bool', label: 'Enable Infinity Connect registration using SSO', default: false },
    username: {
      type: 'text',
      label: 'Username',
      max: 250,
      help: 'Case-sensitive. Applies to SIP, H.323 and Infinity Connect non-SSO registration. Blank: the device is not challenged.',
    },
    password: { type: 'text', label: 'Password', max: 100, secret: true },
    sync_tag: {
      type: 'text',
      label: 'Device origin',
      max: 250,
      readOnly: true,
      help: 'The LDAP sync template that created this device alias; blank if created manually or via the API.',
    },
    primary_owner_email_address: {
      type: 'text',
      label: "Owner's email address",
      max: 100,
      format: 'email',
      help: 'Provisioning messages are sent here. Required for Infinity Connect registration using SSO.',
    },
  },
  unique: [{ fields: ['alias'], message: DEVICE_MESSAGES.unique }],
  refine: refineDevice,
  listColumns: ['alias', 'description', 'username', 'primary_owner_email_address'],
  searchFields: ['alias', 'description', 'username', 'primary_owner_email_address'],
});

export const USER_MESSAGES = {
  uniqueEmail: 'A user with this email address already exists.',
  uniqueUuid: 'A user with this UUID already exists.',
  uniqueExchange: 'A user with this Exchange mailbox UUID already exists.',
} as const;

export const endUserResource = defineResource({
  name: 'end_user',
  label: 'User',
  plural: 'Users',
  menu: 'Users & Devices',
  route: 'users',
  permission: 'system',
  nameField: 'primary_email_address',
  fields: {
    primary_email_address: { type: 'text', label: 'Email address', max: 100, required: true, format: 'email' },
    description: { type: 'text', label: 'Description', max: 250 },
    first_name: { type: 'text', label: 'First name', max: 250 },
    last_name: { type: 'text', label: 'Last name', max: 250 },
    display_name: { type: 'text', label: 'Display name', max: 250, help: 'Not currently used.' },
    telephone_number: { type: 'text', label: 'Telephone number', max: 100 },
    mobile_number: { type: 'text', label: 'Mobile number', max: 100 },
    title: { type: 'text', label: 'Title', max: 128 },
    department: { type: 'text', label: 'Department', max: 100 },
    avatar_url: {
      type: 'text',
      label: 'Avatar URL',
      max: 255,
      format: 'url',
      help: 'An unprotected URL reachable from Conferencing Nodes returning a square JPEG (RGB or RGBA) at the requested size.',
    },
    // Required and unique in the guide; blank on create means "generate one" (the domain does).
    uuid: { type: 'text', label: 'UUID', max: 36, format: 'uuid', section: 'Advanced options', help: 'Blank: one is generated.' },
    ms_exchange_guid: { type: 'text', label: 'Exchange mailbox UUID', max: 100, format: 'uuid', section: 'Advanced options' },
    sync_tag: {
      type: 'text',
      label: 'User origin',
      max: 250,
      readOnly: true,
      section: 'Advanced options',
      help: 'The LDAP sync template that created this user; blank if created manually or via the API.',
    },
  },
  unique: [
    { fields: ['primary_email_address'], message: USER_MESSAGES.uniqueEmail },
    { fields: ['uuid'], message: USER_MESSAGES.uniqueUuid },
    { fields: ['ms_exchange_guid'], message: USER_MESSAGES.uniqueExchange },
  ],
  listColumns: ['primary_email_address', 'first_name', 'last_name', 'department'],
  searchFields: ['primary_email_address', 'first_name', 'last_name', 'display_name', 'description'],
});

export const ADP_PROTOCOLS = [
  ['sip', 'SIP'],
  ['h323', 'H.323'],
  ['mssip', 'Lync / Skype for Business (MS-SIP)'],
  ['rtmp', 'RTMP'],
  ['gms', 'Google Meet'],
  ['teams', 'Microsoft Teams'],
  ['auto', 'Auto (use Call Routing Rules)'],
] as const;

export const ADP_MESSAGES = {
  dtmf: 'A DTMF sequence may contain only the digits 0-9, * (asterisk), # (hash) and , (comma).',
  rtmpUrl: 'Enter a valid RTMP URL (rtmp:// or rtmps://).',
} as const;

export const automaticParticipantResource = defineResource({
  name: 'automatic_participant',
  label: 'Automatically Dialed Participant',
  plural: 'Automatically Dialed Participants',
  menu: 'Services',
  route: 'automatic-participants',
  permission: 'vmr',
  nameField: 'alias',
  fields: {
    alias: {
      type: 'text',
      label: 'Participant alias',
      max: 250,
      required: true,
      help: 'The alias to dial when a conference starts. With Protocol SIP, a valid SIP alias.',
    },
    remote_display_name: { type: 'text', label: 'Participant display name', max: 250, help: 'Blank: the alias is shown.' },
    description: { type: 'text', label: 'Description', max: 250 },
    routing: {
      type: 'choice',
      label: 'Route this call',
      choices: [
        ['manual', 'Manually'],
        ['routing_rule', 'Automatically'],
      ],
      default: 'manual',
      help: 'Automatically: the alias must match an outgoing Call Routing Rule.',
    },
    protocol: { type: 'choice', label: 'Protocol', choices: ADP_PROTOCOLS, default: 'sip', help: 'Applies only when the call is routed manually.' },
    dtmf_sequence: {
      type: 'text',
      label: 'DTMF sequence',
      max: 250,
      pattern: { re: /^[0-9*#,]*$/, message: ADP_MESSAGES.dtmf },
      help: 'Sent 3 seconds after the call connects, one digit every 0.5 seconds; a comma is a 2-second pause. Example: 777#,,,1234#',
    },
    role: {
      type: 'choice',
      label: 'Role',
      choices: [
        ['guest', 'Guest'],
        ['chair', 'Host'],
      ],
      default: 'guest',
    },
    conference: { type: 'refList', label: 'Conference', resource: 'conference' },
    system_location: { type: 'ref', label: 'Outgoing location', resource: 'system_location', nullLabel: 'Automatic' },
    streaming: { type: 'bool', label: 'Streaming', default: false, help: 'A receive-only streaming or recording participant, not shown in the stage layout.' },
    keep_conference_alive: {
      type: 'choice',
      label: 'Keep conference alive',
      choices: [
        ['keep_conference_alive', 'Yes'],
        ['keep_conference_alive_if_multiple', 'If multiple'],
        ['keep_conference_alive_never', 'No'],
      ],
      default: 'keep_conference_alive_if_multiple',
      help: 'For streaming participants, No is recommended.',
    },
    call_type: {
      type: 'choice',
      label: 'Call capability',
      choices: CALL_TYPES,
      default: 'video',
      help: 'Applies only when the call is routed manually; not to RTMP calls.',
    },
    presentation_url: {
      type: 'text',
      label: 'Dual stream (presentation) URL',
      max: 250,
      pattern: { re: /^rtmps?:\/\/\S+$/i, message: ADP_MESSAGES.rtmpUrl },
      help: 'The RTMP URL of the second (presentation) stream of a dual streaming RTMP participant. Blank for a single stream.',
    },
  },
  listColumns: ['alias', 'remote_display_name', 'protocol', 'role', 'conference'],
  searchFields: ['alias', 'remote_display_name', 'description'],
});

/** Each strategy's and NAT's minimum below its maximum (the guide's refresh bounds). */
export const refineRegistration: Refine = (v, add) => {
  for (const [min, max] of [
    ['adaptive_min_refresh', 'adaptive_max_refresh'],
    ['maximum_min_refresh', 'maximum_max_refresh'],
    ['natted_min_refresh', 'natted_max_refresh'],
  ] as const) {
    if (typeof v[min] === 'number' && typeof v[max] === 'number' && v[min] > v[max])
      add(max, 'The maximum refresh interval must not be less than the minimum.');
  }
};

const refresh = (label: string, dflt: number) => ({ type: 'int', label, min: 60, max: 7200, default: dflt }) as const;

/** Services > Registrar (guide-digest-2 §16.4; API `registration`, a singleton): what every node's registrar applies. */
export const registrationResource = defineResource({
  name: 'registration',
  label: 'Registrar',
  plural: 'Registrar',
  menu: 'Services',
  route: 'registrar',
  permission: 'system',
  singleton: true,
  listColumns: [],
  fields: {
    enable: { type: 'bool', label: 'Enable registrar', default: true },
    refresh_strategy: {
      type: 'choice',
      label: 'Registration refresh strategy',
      choices: [
        ['adaptive', 'Adaptive'],
        ['maximum', 'Basic'],
      ],
      default: 'adaptive',
      help: 'Adaptive lengthens the interval as the number of registrations on the handling node grows, always within its minimum and maximum. Basic uses the requested value within its minimum and maximum.',
    },
    adaptive_min_refresh: refresh('Minimum refresh interval (Adaptive)', 60),
    adaptive_max_refresh: refresh('Maximum refresh interval (Adaptive)', 3600),
    maximum_min_refresh: refresh('Minimum refresh interval (Basic)', 60),
    maximum_max_refresh: refresh('Maximum refresh interval (Basic)', 300),
    natted_min_refresh: { ...refresh('Minimum refresh interval (when behind NAT)', 60), help: 'For SIP endpoints behind NAT.' },
    natted_max_refresh: { ...refresh('Maximum refresh interval (when behind NAT)', 90), help: 'Shorter, to keep the NAT pinhole open.' },
    route_via_registrar: {
      type: 'bool',
      label: 'Route calls via registrar',
      default: true,
      help: 'Registered desktop clients send all calls via their registration node.',
      notYetActive: true,
    },
  },
  refine: refineRegistration,
});

export const USERS_DEVICES_RESOURCES: ResourceDef[] = [deviceResource, endUserResource, automaticParticipantResource, registrationResource];
