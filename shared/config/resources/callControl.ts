import { MSG, type FieldSpecs } from '../field.js';
import { defineResource } from '../resource.js';
import { CALL_QUALITIES, CRYPTO_MODES, TRI_STATE } from './services.js';

/**
 * Call Control menu (guide-digest-1 §18, §20–§22): H.323 gatekeepers, SIP proxies, TURN and STUN
 * servers, policy profiles; and the Call Routing Rules of the Services menu (guide-digest-2 §14,
 * management API `gateway_routing_rule`). Lync / Skype for Business servers, Teams Connectors and
 * Google Meet access tokens are not modelled yet, so their fields are left out.
 */

const named = {
  name: { type: 'text', label: 'Name', max: 250, required: true },
  description: { type: 'text', label: 'Description', max: 250 },
} satisfies FieldSpecs;

const address = { type: 'text', label: 'Address', max: 255, required: true, format: 'host', help: 'An IP address or FQDN.' } as const;
/** Blank port: an FQDN address is resolved by DNS SRV lookup first (guide §18). */
const port = (dflt: number, help: string) => ({ type: 'int', label: 'Port', min: 1, max: 65535, default: dflt, help }) as const;
const SRV_HELP = 'Blank: if the address is an FQDN, DNS SRV records are looked up first. With a port, only an A/AAAA lookup is made.';

export const h323GatekeeperResource = defineResource({
  name: 'h323_gatekeeper',
  label: 'H.323 gatekeeper',
  plural: 'H.323 gatekeepers',
  menu: 'Call Control',
  route: 'h323-gatekeepers',
  permission: 'system',
  fields: { ...named, address, port: port(1719, SRV_HELP) },
  unique: [{ fields: ['name'], message: 'An H.323 gatekeeper with this name already exists.' }],
  listColumns: ['name', 'address', 'port'],
  intro: 'Used for outbound H.323 calls only; OpenMeet never registers to them. Not acted on yet: OpenMeet has no H.323 calling.',
});

export const sipProxyResource = defineResource({
  name: 'sip_proxy',
  label: 'SIP proxy',
  plural: 'SIP proxies',
  menu: 'Call Control',
  route: 'sip-proxies',
  permission: 'system',
  fields: {
    ...named,
    address,
    port: port(5061, SRV_HELP),
    transport: {
      type: 'choice',
      label: 'Transport',
      choices: [
        ['tls', 'TLS'],
        ['tcp', 'TCP'],
        ['udp', 'UDP'],
      ],
      default: 'tls',
    },
  },
  unique: [{ fields: ['name'], message: 'A SIP proxy with this name already exists.' }],
  listColumns: ['name', 'address', 'port', 'transport'],
  intro:
    'Used for outbound SIP calls only (dial-out, Automatically Dialed Participants, gateway calls of Call Routing Rules), over its transport; OpenMeet never registers to them.',
});

export const turnServerResource = defineResource({
  name: 'turn_server',
  label: 'TURN server',
  plural: 'TURN servers',
  menu: 'Call Control',
  route: 'turn-servers',
  permission: 'system',
  fields: {
    ...named,
    address,
    port: port(3478, 'With a port, the address is resolved by A-record lookup. Blank: a _turn._udp DNS SRV lookup is made, with no fallback to an A record.'),
    server_type: {
      type: 'choice',
      label: 'TURN server type',
      choices: [
        ['namepsw', 'Username and password'],
        ['coturn_shared', 'Shared secret (coturn)'],
      ],
      default: 'namepsw',
    },
    transport_type: {
      type: 'choice',
      label: 'Transport',
      choices: [
        ['udp', 'UDP'],
        ['tcp', 'TCP'],
        ['tls', 'TLS'],
      ],
      default: 'udp',
      help: 'Conferencing Nodes use TURN over UDP; this is what is offered to clients.',
    },
    username: { type: 'text', label: 'Username', max: 100, help: 'An account on the TURN server that can create bindings.' },
    password: { type: 'text', label: 'Password', max: 100, secret: true },
    secret_key: { type: 'text', label: 'Shared secret', max: 256, secret: true },
  },
  refine: (v, add) => {
    if (v.server_type === 'coturn_shared' && !v.secret_key) add('secret_key', MSG.required);
  },
  unique: [{ fields: ['name'], message: 'A TURN server with this name already exists.' }],
  listColumns: ['name', 'address', 'port'],
  searchFields: ['name', 'description', 'address'],
});

export const stunServerResource = defineResource({
  name: 'stun_server',
  label: 'STUN server',
  plural: 'STUN servers',
  menu: 'Call Control',
  route: 'stun-servers',
  permission: 'system',
  fields: {
    ...named,
    address: { ...address, help: 'An IP address or FQDN; it should not be the address of any of your TURN servers.' },
    port: port(3478, 'Default: 3478.'),
  },
  unique: [{ fields: ['name'], message: 'A STUN server with this name already exists.' }],
  listColumns: ['name', 'address', 'port'],
  searchFields: ['name', 'description', 'address'],
  intro: 'Shipped with stun.l.google.com (port 19302), which can be assigned to locations as a client STUN server.',
});

/** Local policy scripts are jinja2 templates of at most 49152 characters (v24). */
const script = (label: string, section: string) => ({ type: 'text', label, max: 49152, multiline: true, section }) as const;

export const policyServerResource = defineResource({
  name: 'policy_server',
  label: 'Policy profile',
  plural: 'Policy profiles',
  menu: 'Call Control',
  route: 'policy-profiles',
  permission: 'system',
  fields: {
    ...named,
    url: {
      type: 'text',
      label: 'External policy server URL',
      max: 255,
      format: 'url',
      section: 'External policy server',
      help: 'For example https://policy.example.com/path. An HTTPS server certificate must be trusted.',
    },
    username: { type: 'text', label: 'Username', max: 100, section: 'External policy server', help: 'Basic Authentication; basic ASCII only.' },
    password: { type: 'text', label: 'Password', max: 100, secret: true, section: 'External policy server' },
    prefer_local_avatar_configuration: {
      type: 'bool',
      label: 'Use local avatar configuration',
      default: false,
      section: 'Participant avatar lookup',
      help: 'Avatar requests go to the Avatar URL of the matching local user record.',
    },
    enable_avatar_lookup: {
      type: 'bool',
      label: 'Enable external avatar lookup',
      default: false,
      section: 'Participant avatar lookup',
      help: 'If both are enabled, local configuration is used first; if there is no matching user or no Avatar URL, the external policy server is asked.',
    },
    enable_service_lookup: { type: 'bool', label: 'Enable external service configuration lookup', default: false, section: 'Service configuration policy' },
    enable_internal_service_policy: { type: 'bool', label: 'Apply local policy', default: false, section: 'Service configuration policy' },
    internal_service_policy_template: script('Script', 'Service configuration policy'),
    enable_media_location_lookup: { type: 'bool', label: 'Enable external media location lookup', default: false, section: 'Media location policy' },
    enable_internal_media_location_policy: { type: 'bool', label: 'Apply local policy', default: false, section: 'Media location policy' },
    internal_media_location_policy_template: script('Script', 'Media location policy'),
    enable_directory_lookup: { type: 'bool', label: 'Enable external directory lookup', default: false, section: 'Directory information requests' },
    enable_registration_lookup: { type: 'bool', label: 'Enable external registration policy', default: false, section: 'Registration requests' },
  },
  refine: (v, add) => {
    const external = ['enable_avatar_lookup', 'enable_service_lookup', 'enable_media_location_lookup', 'enable_directory_lookup', 'enable_registration_lookup'];
    if (external.some((k) => v[k] === true) && !v.url) add('url', 'An external policy server URL is required when an external lookup is enabled.');
    if (v.enable_internal_service_policy === true && !v.internal_service_policy_template) add('internal_service_policy_template', MSG.required);
    if (v.enable_internal_media_location_policy === true && !v.internal_media_location_policy_template)
      add('internal_media_location_policy_template', MSG.required);
  },
  unique: [{ fields: ['name'], message: 'A policy profile with this name already exists.' }],
  listColumns: ['name', 'url', 'enable_service_lookup', 'enable_internal_service_policy'],
  intro: 'When both are enabled, external policy is applied first, then local policy. A profile is used only by the locations it is assigned to.',
});

/** Codecs offered in SDP (Global settings > Codecs; Call Routing Rules). */
export const CODECS = [
  ['MP4A-LATM_128', 'AAC-LD128'],
  ['MP4A-LATM_64', 'AAC-LD64'],
  ['MP4A-LATM_48', 'AAC-LD48'],
  ['G719', 'G.719'],
  ['G7221C_48', 'G.722.1 Annex C 48k (Siren14)'],
  ['G7221C_32', 'G.722.1 Annex C 32k (Siren14)'],
  ['G7221C_24', 'G.722.1 Annex C 24k (Siren14)'],
  ['G7221_32', 'G.722.1 32k (Siren7)'],
  ['G7221_24', 'G.722.1 24k (Siren7)'],
  ['G722', 'G.722'],
  ['G729', 'G.729'],
  ['G711A', 'G.711 A-law'],
  ['G711U', 'G.711 µ-law'],
  ['opus', 'Opus'],
  ['SPEEX_WB', 'Speex wideband'],
  ['SPEEX_NB', 'Speex narrowband'],
  ['AAC_LC', 'AAC-LC'],
  ['H264_H_0', 'H.264 High (mode 0)'],
  ['H264_H_1', 'H.264 High (mode 1)'],
  ['H264_B_0', 'H.264 Baseline (mode 0)'],
  ['H264_B_1', 'H.264 Baseline (mode 1)'],
  ['H264_SVC', 'H.264 SVC'],
  ['VP8', 'VP8'],
  ['VP9', 'VP9'],
  ['H263', 'H.263'],
  ['H261', 'H.261'],
  ['RTVIDEO', 'RTVideo'],
] as const;

export const gatewayRoutingRuleResource = defineResource({
  name: 'gateway_routing_rule',
  label: 'Call Routing Rule',
  plural: 'Call Routing Rules',
  menu: 'Services',
  route: 'call-routing',
  permission: 'gateway',
  orderBy: 'priority',
  fields: {
    name: {
      type: 'text',
      label: 'Name',
      max: 250,
      required: true,
      help: 'Shown to participants a Virtual Reception transfers into an external meeting via this rule.',
    },
    tag: { type: 'text', label: 'Service tag', max: 250 },
    description: { type: 'text', label: 'Description', max: 250 },
    priority: {
      type: 'int',
      label: 'Priority',
      min: 1,
      max: 200,
      required: true,
      help: 'Rules are checked from 1 down to 200; checking stops at the first match, even if the call then fails.',
    },
    // Use this rule for...
    match_incoming_calls: { type: 'bool', label: 'Incoming gateway calls', default: true, section: 'Use this rule for...' },
    match_outgoing_calls: {
      type: 'bool',
      label: 'Outgoing calls from a conference',
      default: false,
      section: 'Use this rule for...',
      help: 'Calls placed from a conference with Automatic routing.',
    },
    match_source_location: {
      type: 'ref',
      label: 'Calls being handled in location',
      resource: 'system_location',
      nullLabel: 'Any Location',
      section: 'Use this rule for...',
    },
    // When matching incoming gateway calls...
    match_incoming_only_if_registered: {
      type: 'bool',
      label: 'Match incoming calls from registered devices only',
      default: false,
      section: 'When matching incoming Gateway calls...',
      help: 'Calls from unregistered devices and from the web app are then not routed by this rule.',
    },
    match_incoming_webrtc: { type: 'bool', label: 'Match Infinity Connect (WebRTC/RTMP)', default: true, section: 'When matching incoming Gateway calls...' },
    match_incoming_sip: { type: 'bool', label: 'Match SIP', default: true, section: 'When matching incoming Gateway calls...' },
    match_incoming_mssip: {
      type: 'bool',
      label: 'Match Lync / Skype for Business (MS-SIP)',
      default: true,
      section: 'When matching incoming Gateway calls...',
      help: 'Does not apply if Match incoming calls from registered devices only is selected.',
    },
    match_incoming_h323: { type: 'bool', label: 'Match H.323', default: true, section: 'When matching incoming Gateway calls...' },
    match_incoming_teams: { type: 'bool', label: 'Match Microsoft Teams', default: false, section: 'When matching incoming Gateway calls...' },
    // Alias match and transform
    match_string_full: {
      type: 'bool',
      label: 'Match against full alias URI',
      default: false,
      section: 'Alias match and transform',
      help: 'By default the parsed alias is matched (no URI scheme, parameters or host IP addresses).',
    },
    match_string: {
      type: 'text',
      label: 'Destination alias regex match',
      max: 250,
      required: true,
      format: 'regex',
      section: 'Alias match and transform',
      help: 'Case-insensitive; must match the entire alias.',
    },
    replace_string: {
      type: 'text',
      label: 'Destination alias regex replace string',
      max: 250,
      section: 'Alias match and transform',
      help: 'Blank: the alias is not changed.',
    },
    // Call media settings
    max_callrate_in: { type: 'int', label: 'Maximum inbound call bandwidth (kbps)', min: 128, max: 8192, default: null, section: 'Call media settings' },
    max_callrate_out: {
      type: 'int',
      label: 'Maximum outbound call bandwidth (kbps)',
      min: 128,
      max: 8192,
      default: null,
      section: 'Call media settings',
      help: "Not used when dialing out from a conference: the VMR's limit applies.",
    },
    call_type: {
      type: 'choice',
      label: 'Call capability',
      choices: [
        ['audio', 'Audio-only'],
        ['video-only', 'Main video only'],
        ['video', 'Main video + presentation'],
        ['auto', 'Same as incoming call'],
      ],
      default: 'video',
      section: 'Call media settings',
    },
    max_pixels_per_second: {
      type: 'choice',
      label: 'Maximum call quality',
      choices: CALL_QUALITIES,
      default: null,
      nullable: true,
      nullLabel: 'Use global setting',
      section: 'Call media settings',
    },
    crypto_mode: {
      type: 'choice',
      label: 'Media encryption',
      choices: CRYPTO_MODES,
      default: null,
      nullable: true,
      nullLabel: 'Use global setting',
      section: 'Call media settings',
    },
    denoise_audio: { type: 'bool', label: 'Denoise audio', default: true, section: 'Call media settings' },
    live_captions_enabled: { type: 'choice', label: 'Enable live captions', choices: TRI_STATE, default: 'default', section: 'Call media settings' },
    disabled_codecs: { type: 'list', label: 'Disabled codecs', item: { max: 32 }, choices: CODECS, section: 'Call media settings' },
    ivr_theme: { type: 'ref', label: 'Theme', resource: 'ivr_theme', nullLabel: '<use Default theme>', section: 'Call media settings' },
    // Outgoing call placement
    called_device_type: {
      type: 'choice',
      label: 'Call target',
      choices: [
        ['external', 'Registered device or external system'],
        ['registration', 'Registered devices only'],
        ['mssip_conference_id', 'Lync / Skype for Business meeting direct (Conference ID in dialed alias)'],
        ['mssip_server', 'Lync / Skype for Business clients, or meetings via a Virtual Reception'],
        ['gms_conference', 'Google Meet meeting'],
        ['teams_conference', 'Microsoft Teams meeting'],
      ],
      default: 'external',
      section: 'Outgoing call placement',
    },
    outgoing_location: {
      type: 'ref',
      label: 'Outgoing location',
      resource: 'system_location',
      nullLabel: 'Automatic',
      section: 'Outgoing call placement',
      help: 'Automatic: usually the node that received the call.',
    },
    outgoing_protocol: {
      type: 'choice',
      label: 'Protocol',
      choices: [
        ['sip', 'SIP'],
        ['h323', 'H.323'],
        ['mssip', 'Lync / Skype for Business (MS-SIP)'],
        ['rtmp', 'RTMP (streaming)'],
        ['gms', 'Google Meet'],
        ['teams', 'Microsoft Teams'],
      ],
      default: 'sip',
      section: 'Outgoing call placement',
      help: 'A registered device is called with the protocol it registered with. RTMP always goes to an external system.',
    },
    sip_proxy: { type: 'ref', label: 'SIP Proxy', resource: 'sip_proxy', nullLabel: 'Use DNS', section: 'Outgoing call placement' },
    h323_gatekeeper: { type: 'ref', label: 'H.323 Gatekeeper', resource: 'h323_gatekeeper', nullLabel: 'Use DNS', section: 'Outgoing call placement' },
    turn_server: {
      type: 'ref',
      label: 'TURN server',
      resource: 'turn_server',
      nullLabel: "Use the location's TURN server",
      section: 'Outgoing call placement',
    },
    stun_server: {
      type: 'ref',
      label: 'STUN server',
      resource: 'stun_server',
      nullLabel: "Use the location's STUN server",
      section: 'Outgoing call placement',
    },
    treat_as_trusted: {
      type: 'bool',
      label: 'Treat as trusted',
      default: false,
      section: 'Outgoing call placement',
      help: 'The target may treat the caller as part of its organization (Teams, Google Meet, SIP via P-Asserted-Identity).',
    },
    external_participant_avatar_lookup: {
      type: 'choice',
      label: 'External participant avatar lookup',
      choices: TRI_STATE,
      default: 'default',
      section: 'Outgoing call placement',
      help: 'Microsoft Teams only.',
    },
    // Rule state
    enable: { type: 'bool', label: 'Enable this rule', default: true, section: 'Rule state', help: 'Disabled rules are listed but ignored.' },
  },
  refine: (v, add) => {
    if (v.match_incoming_calls !== true && v.match_outgoing_calls !== true)
      add('match_incoming_calls', 'Select Incoming gateway calls, Outgoing calls from a conference, or both.');
  },
  unique: [{ fields: ['name'], message: 'A Call Routing Rule with this name already exists.' }],
  listColumns: ['priority', 'name', 'match_string', 'replace_string', 'outgoing_protocol', 'enable'],
  searchFields: ['name', 'description', 'match_string', 'tag'],
  intro:
    'Rules are checked in priority order for gateway calls and for calls placed from conferences with Automatic routing. Services are matched before any rule.',
});

export const CALL_CONTROL_RESOURCES = [
  gatewayRoutingRuleResource,
  h323GatekeeperResource,
  sipProxyResource,
  turnServerResource,
  stunServerResource,
  policyServerResource,
];
