import { MSG, type FieldSpecs, type Refine } from '../field.js';
import { defineResource } from '../resource.js';
import { CODECS } from './callControl.js';
import { CALL_QUALITIES, CRYPTO_MODES } from './services.js';

/**
 * Platform menu: Global settings (guide-digest-1 §16), the Management Node (§15), system locations
 * (§17) and Conferencing Nodes (guide-digest-2 §7). Field keys are the management API's names.
 */

const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);

// ───────────────────────── Global settings ─────────────────────────

const SERVICE = 'Service configuration';
const CONNECTIVITY = 'Connectivity';
const PORTS = 'Port ranges';
const CODECS_SECTION = 'Codecs';
const SECURITY = 'Security';
const BREAK_IN = 'Break-in resistance';
const EXTERNAL = 'External system integration';
const WEB = 'Management web interface configuration';
const REPORTING = 'Reporting';
const BURSTING = 'Cloud bursting';
const PREVIEW = 'Tech preview features';

const portSetting = (label: string, dflt: number) =>
  ({ type: 'int', label, min: 10_000, max: 49_999, default: dflt, section: PORTS, restartsNodes: true }) as const;

/** The guide's cross-field rules of the global settings. */
export const refineGlobal: Refine = (v, add) => {
  const backstop = num(v.eject_last_participant_backstop_timeout);
  if (backstop !== null && backstop > 0 && backstop < 60)
    add('eject_last_participant_backstop_timeout', 'Enter 0 (never eject) or a value between 60 and 86400 seconds.');

  const sigStart = num(v.signalling_ports_start);
  const sigEnd = num(v.signalling_ports_end);
  const mediaStart = num(v.media_ports_start);
  const mediaEnd = num(v.media_ports_end);
  if (sigStart !== null && sigEnd !== null && sigEnd <= sigStart) add('signalling_ports_end', 'The signaling port range end must be greater than its start.');
  if (mediaStart !== null && mediaEnd !== null) {
    if (mediaEnd <= mediaStart) add('media_ports_end', 'The media port range end must be greater than its start.');
    else if (mediaEnd - mediaStart + 1 < 100) add('media_ports_end', 'The media port range must contain at least 100 ports.');
  }
  if (sigStart !== null && sigEnd !== null && mediaStart !== null && mediaEnd !== null && sigStart <= mediaEnd && mediaStart <= sigEnd)
    add('media_ports_start', 'The media port range must not overlap the signaling port range.');

  if ((v.enable_webrtc === true || v.enable_rtmp === true) && v.enable_application_api !== true)
    add('enable_application_api', 'This setting must be enabled if you want to Enable WebRTC or Enable RTMP.');

  if (v.ocsp_state === 'OVERRIDE' && !v.ocsp_responder_url) add('ocsp_responder_url', 'An OCSP responder URL is required when OCSP state is Override.');
  if (v.error_reporting_enabled === true && !v.error_reporting_url)
    add('error_reporting_url', 'An incident reporting URL is required when incident reporting is enabled.');
};

export const globalResource = defineResource({
  name: 'global',
  label: 'Global settings',
  plural: 'Global settings',
  menu: 'Platform',
  route: 'global-settings',
  permission: 'system',
  singleton: true,
  fields: {
    // Service configuration
    guests_only_timeout: {
      type: 'int',
      label: 'Guests-only timeout',
      min: 0,
      max: 86_400,
      default: 60,
      section: SERVICE,
      help: 'Seconds a conference continues with only Guests after all Hosts have left.',
    },
    eject_last_participant_backstop_timeout: {
      type: 'int',
      label: 'Last participant backstop timeout',
      min: 0,
      max: 86_400,
      default: 0,
      section: SERVICE,
      help: 'Seconds a conference continues with only one participant: 0 (never eject) or 60–86400.',
    },
    pin_entry_timeout: {
      type: 'int',
      label: 'PIN entry timeout',
      min: 30,
      max: 86_400,
      default: 120,
      section: SERVICE,
      help: 'Seconds a participant may stay at the PIN entry screen before being disconnected.',
    },
    waiting_for_chair_timeout: {
      type: 'int',
      label: 'Waiting for Host timeout',
      min: 0,
      max: 86_400,
      default: 900,
      section: SERVICE,
      help: 'Seconds a Guest may wait for a Host before being disconnected.',
    },
    default_theme: { type: 'ref', label: 'Default theme', resource: 'ivr_theme', nullLabel: 'Base theme', section: SERVICE },
    max_callrate_in: { type: 'int', label: 'Maximum inbound call bandwidth (kbps)', min: 128, max: 8192, default: null, section: SERVICE, notYetActive: true },
    max_callrate_out: {
      type: 'int',
      label: 'Maximum outbound call bandwidth (kbps)',
      min: 128,
      max: 8192,
      default: null,
      section: SERVICE,
      notYetActive: true,
    },
    max_pixels_per_second: { type: 'choice', label: 'Maximum call quality', choices: CALL_QUALITIES, default: 'hd', section: SERVICE, notYetActive: true },
    max_presentation_bandwidth_ratio: {
      type: 'int',
      label: 'Maximum presentation bandwidth ratio',
      min: 25,
      max: 75,
      default: 75,
      section: SERVICE,
      help: 'Percent of the call bandwidth for presentation to SIP and H.323 endpoints.',
      notYetActive: true,
    },
    external_participant_avatar_lookup: {
      type: 'bool',
      label: 'External participant avatar lookup',
      default: true,
      section: SERVICE,
      help: 'Microsoft Teams conferences only.',
      notYetActive: true,
    },
    // Connectivity (★ in the guide: changing restarts all Conferencing Nodes)
    enable_sip: {
      type: 'bool',
      label: 'Enable SIP',
      default: true,
      section: CONNECTIVITY,
      restartsNodes: true,
      help: 'Disabling SIP also disables Skype for Business / Lync (MS-SIP).',
    },
    enable_sip_udp: { type: 'bool', label: 'Enable SIP UDP', default: false, section: CONNECTIVITY },
    enable_h323: { type: 'bool', label: 'Enable H.323', default: true, section: CONNECTIVITY, restartsNodes: true, notYetActive: true },
    enable_webrtc: { type: 'bool', label: 'Enable WebRTC', default: true, section: CONNECTIVITY, notYetActive: true },
    enable_rtmp: { type: 'bool', label: 'Enable RTMP', default: true, section: CONNECTIVITY, restartsNodes: true, notYetActive: true },
    enable_application_api: {
      type: 'bool',
      label: 'Enable support for Infinity Connect clients and the Pexip-compatible Client API',
      default: true,
      section: CONNECTIVITY,
      help: 'Must be enabled to use WebRTC or RTMP.',
      notYetActive: true,
    },
    enable_fecc: { type: 'bool', label: 'Enable Far End Camera Control', default: true, section: CONNECTIVITY, notYetActive: true },
    enable_chat: { type: 'bool', label: 'Enable chat', default: true, section: CONNECTIVITY },
    enable_dialout: { type: 'bool', label: 'Enable outbound calls', default: true, section: CONNECTIVITY, notYetActive: true },
    default_to_new_webapp: { type: 'bool', label: 'Do not default to the legacy Web App', default: true, section: CONNECTIVITY, notYetActive: true },
    local_mssip_domain: {
      type: 'text',
      label: 'OpenMeet domain (for Lync / Skype for Business integration)',
      max: 255,
      format: 'domain',
      section: CONNECTIVITY,
      notYetActive: true,
    },
    enable_lync_auto_escalate: {
      type: 'bool',
      label: 'Enable Skype for Business / Lync auto-escalation',
      default: false,
      section: CONNECTIVITY,
      notYetActive: true,
    },
    enable_lync_vbss: { type: 'bool', label: 'Enable VbSS for Skype for Business', default: false, section: CONNECTIVITY, notYetActive: true },
    management_qos: { type: 'int', label: 'DSCP value for management traffic', min: 0, max: 63, default: 0, section: CONNECTIVITY, notYetActive: true },
    enable_ssh: { type: 'bool', label: 'Enable SSH', default: true, section: CONNECTIVITY, notYetActive: true },
    enable_directory: { type: 'bool', label: 'Enable directory', default: true, section: CONNECTIVITY, notYetActive: true },
    enable_edge_non_mesh: {
      type: 'bool',
      label: 'Enable restricted routing for Proxying Edge Nodes',
      default: true,
      section: CONNECTIVITY,
      notYetActive: true,
    },
    crypto_mode: { type: 'choice', label: 'Media encryption', choices: CRYPTO_MODES, default: 'besteffort', section: CONNECTIVITY },
    // Port ranges
    signalling_ports_start: { ...portSetting('Signaling port range start', 33_000), notYetActive: true },
    signalling_ports_end: { ...portSetting('Signaling port range end', 39_999), notYetActive: true },
    media_ports_start: portSetting('Media port range start', 40_000),
    media_ports_end: portSetting('Media port range end', 49_999),
    // Codecs: the API lists the disabled ones; the console shows Available/Chosen.
    disabled_codecs: {
      type: 'list',
      label: 'Disabled codecs',
      item: { max: 32 },
      choices: CODECS,
      default: ['MP4A-LATM_128', 'H264_H_0', 'H264_H_1'],
      section: CODECS_SECTION,
      help: 'For H.264 High Profile, enable only H.264 High (mode 1).',
      notYetActive: true,
    },
    // Security
    ocsp_state: {
      type: 'choice',
      label: 'OCSP state',
      choices: [
        ['OFF', 'Off'],
        ['ON', 'On'],
        ['OVERRIDE', 'Override'],
      ],
      default: 'OFF',
      section: SECURITY,
      notYetActive: true,
    },
    ocsp_responder_url: { type: 'text', label: 'OCSP responder URL', max: 255, format: 'url', section: SECURITY, notYetActive: true },
    sip_tls_cert_verify_mode: {
      type: 'choice',
      label: 'SIP TLS certificate verification mode',
      choices: [
        ['OFF', 'Off'],
        ['ON', 'On'],
      ],
      default: 'OFF',
      section: SECURITY,
      notYetActive: true,
    },
    logs_max_age: {
      type: 'int',
      label: 'Maximum log age (days)',
      min: 0,
      max: 3650,
      default: 0,
      section: SECURITY,
      help: 'Call history older than this is purged. 0: no limit.',
    },
    // Break-in resistance
    bdpm_pin_checks_enabled: { type: 'bool', label: 'Enable PIN brute force resistance', default: true, section: BREAK_IN },
    bdpm_max_pin_failures_per_window: {
      type: 'int',
      label: 'PIN brute force resistance threshold',
      min: 5,
      max: 200,
      default: 20,
      section: BREAK_IN,
      help: 'Incorrect PIN attempts against one service in a 10-minute window before it is blocked.',
    },
    bdpm_scan_quarantine_enabled: { type: 'bool', label: 'Enable VOIP scanner resistance', default: true, section: BREAK_IN },
    trusted_proxies: {
      type: 'list',
      label: 'Trusted proxy addresses',
      item: { max: 50, format: 'cidr' },
      maxItems: 50,
      default: [],
      section: BREAK_IN,
      help: 'Reverse proxies in front of the Conferencing Nodes, as address/prefix (e.g. 10.0.0.5/32). Only for requests from these is the client address taken from X-Forwarded-For (the rightmost address not listed here); break-in resistance then counts that address.',
    },
    bdpm_max_scan_attempts_per_window: {
      type: 'int',
      label: 'VOIP scanner resistance threshold',
      min: 5,
      max: 200,
      default: 20,
      section: BREAK_IN,
      help: 'Incorrect aliases dialed from one address in a 10-minute window before it is blocked.',
    },
    // External system integration
    legacy_api_http: { type: 'bool', label: 'Enable HTTP access for external systems', default: false, section: EXTERNAL, notYetActive: true },
    legacy_api_username: { type: 'text', label: 'External system username', max: 100, section: EXTERNAL, notYetActive: true },
    legacy_api_password: { type: 'text', label: 'External system password', max: 100, secret: true, section: EXTERNAL, notYetActive: true },
    // Management web interface configuration
    logon_banner: {
      type: 'text',
      label: 'Login banner text',
      max: 4096,
      multiline: true,
      section: WEB,
      help: 'Plain text shown on the login page.',
      notYetActive: true,
    },
    session_timeout_enabled: { type: 'bool', label: 'Enable management web interface session timeout', default: true, section: WEB },
    management_session_timeout: {
      type: 'int',
      label: 'Management web interface session timeout',
      min: 5,
      max: 1440,
      default: 30,
      section: WEB,
      help: 'Minutes.',
    },
    // Reporting
    error_reporting_enabled: { type: 'bool', label: 'Enable incident reporting', default: false, section: REPORTING, notYetActive: true },
    error_reporting_url: {
      type: 'text',
      label: 'Incident reporting URL',
      max: 255,
      format: 'url',
      default: 'https://acr.pexip.com',
      section: REPORTING,
      notYetActive: true,
    },
    contact_email_address: { type: 'text', label: 'Contact email address', max: 100, format: 'email', section: REPORTING, notYetActive: true },
    enable_analytics: { type: 'bool', label: 'Automatically send deployment and usage statistics', default: false, section: REPORTING, notYetActive: true },
    // Cloud bursting
    bursting_enabled: { type: 'bool', label: 'Enable bursting to the cloud', default: false, section: BURSTING, notYetActive: true },
    bursting_threshold: {
      type: 'int',
      label: 'Bursting threshold',
      min: 1,
      default: 5,
      section: BURSTING,
      help: 'HD calls remaining in a location at or below which an overflow node is started.',
      notYetActive: true,
    },
    bursting_min_lifetime: { type: 'int', label: 'Minimum lifetime', min: 5, default: 50, section: BURSTING, help: 'Minutes.', notYetActive: true },
    cloud_provider: {
      type: 'choice',
      label: 'Cloud provider',
      choices: [
        ['AWS', 'Amazon Web Services (AWS)'],
        ['AZURE', 'Microsoft Azure'],
        ['GCP', 'Google Cloud Platform (GCP)'],
      ],
      default: 'AWS',
      section: BURSTING,
      notYetActive: true,
    },
    aws_access_key: { type: 'text', label: 'AWS access key ID', max: 40, section: BURSTING, notYetActive: true },
    aws_secret_key: { type: 'text', label: 'AWS secret access key', max: 100, secret: true, section: BURSTING, notYetActive: true },
    azure_client_id: { type: 'text', label: 'Azure client ID', max: 100, section: BURSTING, notYetActive: true },
    azure_secret: { type: 'text', label: 'Azure secret key', max: 100, secret: true, section: BURSTING, notYetActive: true },
    azure_subscription_id: { type: 'text', label: 'Azure subscription ID', max: 100, section: BURSTING, notYetActive: true },
    azure_tenant: { type: 'text', label: 'Azure tenant ID', max: 100, section: BURSTING, notYetActive: true },
    gcp_project_id: { type: 'text', label: 'GCP project ID', max: 100, section: BURSTING, notYetActive: true },
    gcp_client_email: { type: 'text', label: 'GCP service account ID', max: 250, section: BURSTING, notYetActive: true },
    gcp_private_key: { type: 'text', label: 'GCP private key', max: 12_288, multiline: true, secret: true, section: BURSTING, notYetActive: true },
    // Tech preview features
    enable_push_notifications: { type: 'bool', label: 'Enable push notifications', default: false, section: PREVIEW, notYetActive: true },
    enable_turn_443: {
      type: 'bool',
      label: 'Enable media relay on TCP port 443',
      default: false,
      section: PREVIEW,
      help: 'May disrupt ongoing WebRTC sessions.',
      notYetActive: true,
    },
    pss_enabled: { type: 'bool', label: 'Enable Smart Scale', default: false, section: PREVIEW, notYetActive: true },
    enable_adaptive_composition: { type: 'bool', label: 'Enable adaptive composition layout', default: false, section: PREVIEW, notYetActive: true },
  },
  refine: refineGlobal,
  listColumns: [],
  intro:
    'Changes reach the conferencing nodes within a second. Settings marked "Not acted on yet" are stored and served by the APIs, but OpenMeet does not use them yet.',
});

// ───────────────────────── Shared node fields ─────────────────────────

const ENABLE_SSH = {
  type: 'choice',
  label: 'Enable SSH',
  choices: [
    ['GLOBAL', 'Use Global SSH setting'],
    ['OFF', 'Off'],
    ['ON', 'On'],
  ],
  default: 'GLOBAL',
} as const;

/** SNMP fields of the Management Node and of each Conferencing Node (guide §14.4). */
const snmpFields = {
  snmp_mode: {
    type: 'choice',
    label: 'SNMP mode',
    choices: [
      ['DISABLED', 'Off'],
      ['STANDARD', 'SNMPv2c read-only'],
      ['AUTHPRIV', 'SNMPv3 read-only'],
    ],
    default: 'DISABLED',
    section: 'SNMP',
    help: 'SNMPv3 uses authPriv with SHA1 authentication and AES 128-bit encryption.',
  },
  snmp_community: { type: 'text', label: 'SNMP community', max: 16, default: 'public', secret: true, section: 'SNMP', help: 'SNMPv2c only.' },
  snmp_username: { type: 'text', label: 'SNMPv3 username', max: 100, section: 'SNMP' },
  snmp_privacy_password: {
    type: 'text',
    label: 'SNMPv3 privacy password',
    min: 8,
    max: 100,
    secret: true,
    section: 'SNMP',
    help: 'AES; DES is not supported.',
  },
  snmp_authentication_password: {
    type: 'text',
    label: 'SNMPv3 authentication password',
    min: 8,
    max: 100,
    secret: true,
    section: 'SNMP',
    help: 'SHA; MD5 is not supported.',
  },
  snmp_system_contact: { type: 'text', label: 'SNMP system contact', max: 250, default: 'admin@domain.com', section: 'SNMP' },
  snmp_system_location: { type: 'text', label: 'SNMP system location', max: 250, default: 'Virtual machine', section: 'SNMP' },
} satisfies FieldSpecs;

/** SNMPv3 needs its username and both passwords. */
export const refineSnmp: Refine = (v, add) => {
  if (v.snmp_mode !== 'AUTHPRIV') return;
  for (const k of ['snmp_username', 'snmp_privacy_password', 'snmp_authentication_password']) if (!v[k]) add(k, MSG.required);
};

// ───────────────────────── Management Node ─────────────────────────

export const managementVmResource = defineResource({
  name: 'management_vm',
  label: 'Management Node',
  plural: 'Management Node',
  menu: 'Platform',
  route: 'management-node',
  permission: 'system',
  singleton: true,
  fields: {
    // Not `required` so the singleton reads with its defaults before it is first saved; a blank
    // name is still refused on save (refineManagementVm).
    name: { type: 'text', label: 'Name', max: 32, default: 'Management Node', help: 'The DNS hostname and domain set when the installation wizard was run.' },
    description: { type: 'text', label: 'Description', max: 250 },
    dns_servers: { type: 'refList', label: 'DNS servers', resource: 'dns_server' },
    ntp_servers: { type: 'refList', label: 'NTP servers', resource: 'ntp_server' },
    syslog_servers: { type: 'refList', label: 'Syslog servers', resource: 'syslog_server' },
    http_proxy: {
      type: 'ref',
      label: 'Web proxy',
      resource: 'http_proxy',
      help: 'For usage statistics, incident reports, license activation, cloud bursting and One-Touch Join OAuth requests.',
    },
    tls_certificate: { type: 'ref', label: 'TLS certificate', resource: 'tls_certificate' },
    alternative_fqdn: {
      type: 'text',
      label: 'Configured FQDN',
      max: 255,
      format: 'domain',
      help: "Optional; must match an identity in the Management Node's TLS certificate.",
    },
    static_nat_address: { type: 'text', label: 'IPv4 static NAT address', max: 64, format: 'ipv4' },
    ipv6_address: { type: 'text', label: 'IPv6 address', max: 64, format: 'ipv6' },
    ipv6_gateway: { type: 'text', label: 'Gateway IPv6 address', max: 64, format: 'ipv6', help: 'Blank: the node listens for IPv6 Router Advertisements.' },
    static_routes: { type: 'refList', label: 'Static routes', resource: 'static_route' },
    mtu: { type: 'int', label: 'MTU', min: 512, max: 1500, default: 1500, help: 'At most 1460 in Google Cloud Platform.' },
    enable_ssh: ENABLE_SSH,
    ...snmpFields,
    snmp_network_management_system: {
      type: 'ref',
      label: 'SNMP NMS',
      resource: 'snmp_network_management_system',
      section: 'SNMP',
      help: 'Where this node sends SNMP traps (SNMPv2c only).',
    },
    // Set by the installation wizard; shown, not editable here.
    address: { type: 'text', label: 'IPv4 address', max: 64, readOnly: true },
    netmask: { type: 'text', label: 'Network mask', max: 64, readOnly: true },
    gateway: { type: 'text', label: 'Gateway IPv4 address', max: 64, readOnly: true },
    hostname: { type: 'text', label: 'Hostname', max: 63, readOnly: true },
    domain: { type: 'text', label: 'Domain', max: 192, readOnly: true },
  },
  refine: (v, add) => {
    if (typeof v.name !== 'string' || v.name.trim() === '') add('name', MSG.required);
    refineSnmp(v, add);
  },
  listColumns: ['name', 'address', 'hostname'],
  intro: 'Do not change the Management Node by any other means (hypervisor, SSH); its IP address cannot be changed here.',
});

// ───────────────────────── System locations ─────────────────────────

const BREAK_IN_CHOICE = (what: string) =>
  [
    ['GLOBAL', `Use Global ${what} setting`],
    ['OFF', 'No'],
    ['ON', 'Yes'],
  ] as const;

export const systemLocationResource = defineResource({
  name: 'system_location',
  label: 'System location',
  plural: 'System locations',
  menu: 'Platform',
  route: 'locations',
  permission: 'system',
  store: 'system_location',
  fields: {
    name: { type: 'text', label: 'Name', max: 250, required: true },
    description: { type: 'text', label: 'Description', max: 250 },
    dns_servers: {
      type: 'refList',
      label: 'DNS servers',
      resource: 'dns_server',
      help: 'Used by all Conferencing Nodes in this location; at least one is needed.',
      notYetActive: true,
    },
    ntp_servers: {
      type: 'refList',
      label: 'NTP servers',
      resource: 'ntp_server',
      help: 'Used by all Conferencing Nodes in this location; at least one is needed.',
      notYetActive: true,
    },
    syslog_servers: { type: 'refList', label: 'Syslog servers', resource: 'syslog_server' },
    h323_gatekeeper: {
      type: 'ref',
      label: 'H.323 gatekeeper',
      resource: 'h323_gatekeeper',
      help: 'For outbound H.323 calls when adding a participant to a conference.',
      notYetActive: true,
    },
    snmp_network_management_system: {
      type: 'ref',
      label: 'SNMP NMS',
      resource: 'snmp_network_management_system',
      help: 'Where Conferencing Nodes in this location send SNMP traps.',
      notYetActive: true,
    },
    sip_proxy: {
      type: 'ref',
      label: 'SIP proxy',
      resource: 'sip_proxy',
      help: 'For outbound SIP calls when adding a participant to a conference.',
    },
    http_proxy: { type: 'ref', label: 'Web proxy', resource: 'http_proxy', help: 'For incident reporting and One-Touch Join requests.', notYetActive: true },
    turn_server: {
      type: 'ref',
      label: 'TURN server',
      resource: 'turn_server',
      help: 'Offered to ICE clients (WebRTC, Skype for Business) outside the firewall.',
      notYetActive: true,
    },
    stun_server: {
      type: 'ref',
      label: 'STUN server',
      resource: 'stun_server',
      help: 'Used by the nodes to find the public address to signal to ICE clients.',
      notYetActive: true,
    },
    client_stun_servers: {
      type: 'refList',
      label: 'Client STUN servers',
      resource: 'stun_server',
      help: 'Given to WebRTC clients connecting to nodes in this location.',
    },
    client_turn_servers: {
      type: 'refList',
      label: 'Client TURN servers',
      resource: 'turn_server',
      help: 'Given to WebRTC clients connecting to nodes in this location.',
    },
    use_relay_candidates_only: { type: 'bool', label: 'Use relay candidates only', default: false, help: 'WebRTC clients use TURN relay candidates only.' },
    mtu: {
      type: 'int',
      label: 'MTU',
      min: 512,
      max: 1500,
      default: 1500,
      help: 'At most 1460 if any node in this location runs in Google Cloud Platform.',
      notYetActive: true,
    },
    media_qos: { type: 'int', label: 'DSCP value for media', min: 0, max: 63, default: 0, notYetActive: true },
    signalling_qos: { type: 'int', label: 'DSCP value for signaling', min: 0, max: 63, default: 0, notYetActive: true },
    transcoding_location: {
      type: 'ref',
      label: 'Transcoding location',
      resource: 'system_location',
      nullLabel: 'This location',
      section: 'Media handling',
      help: 'Must be a different location if this location contains Proxying Edge Nodes, and must contain Transcoding Conferencing Nodes.',
    },
    overflow_location1: {
      type: 'ref',
      label: 'Primary overflow location',
      resource: 'system_location',
      section: 'Media handling',
      help: 'Used when the Transcoding location is full.',
    },
    overflow_location2: {
      type: 'ref',
      label: 'Secondary overflow location',
      resource: 'system_location',
      section: 'Media handling',
      help: 'Used when the Transcoding location and the Primary overflow location are full.',
    },
    local_mssip_domain: {
      type: 'text',
      label: 'OpenMeet domain (for Lync / Skype for Business integration)',
      max: 255,
      format: 'domain',
      help: 'Overrides the global domain for outbound Skype for Business calls from this location.',
      notYetActive: true,
    },
    policy_server: { type: 'ref', label: 'Policy profile', resource: 'policy_server' },
    event_sinks: { type: 'refList', label: 'Event sinks', resource: 'event_sink' },
    bdpm_pin_checks_enabled: {
      type: 'choice',
      label: 'Enable PIN brute force resistance in this location',
      choices: BREAK_IN_CHOICE('PIN brute force resistance'),
      default: 'GLOBAL',
      section: 'Break-in resistance',
    },
    bdpm_scan_quarantine_enabled: {
      type: 'choice',
      label: 'Enable VOIP scanner resistance in this location',
      choices: BREAK_IN_CHOICE('VOIP scanner resistance'),
      default: 'GLOBAL',
      section: 'Break-in resistance',
    },
  },
  refine: (v, add) => {
    const o1 = num(v.overflow_location1);
    const o2 = num(v.overflow_location2);
    if (o1 !== null && o1 === o2) add('overflow_location2', 'The secondary overflow location must differ from the primary overflow location.');
  },
  unique: [{ fields: ['name'], message: 'A system location with this name already exists.' }],
  listColumns: ['name', 'description', 'mtu'],
  intro: 'Changes take at least 60 seconds to reach the Conferencing Nodes. Nodes in one location need a low-latency (≤150 ms) link.',
});

// ───────────────────────── Conferencing Nodes ─────────────────────────

export const workerVmResource = defineResource({
  name: 'worker_vm',
  label: 'Conferencing Node',
  plural: 'Conferencing Nodes',
  menu: 'Platform',
  route: 'nodes',
  permission: 'system',
  store: 'worker_vm',
  noCreate: false,
  fields: {
    name: { type: 'text', label: 'Name', max: 32, required: true },
    description: { type: 'text', label: 'Description', max: 250 },
    node_type: {
      type: 'choice',
      label: 'Role',
      choices: [
        ['CONFERENCING', 'Transcoding Conferencing Node'],
        ['PROXYING', 'Proxying Edge Node'],
      ],
      default: 'CONFERENCING',
      help: 'Changing the role disconnects all calls and restarts the node.',
    },
    system_location: {
      type: 'ref',
      label: 'System location',
      resource: 'system_location',
      required: true,
      help: 'Changing the location disconnects all calls and restarts the node.',
    },
    maintenance_mode: {
      type: 'bool',
      label: 'Enable maintenance mode',
      default: false,
      help: 'The node accepts no new conference instances. Persists across reboots.',
    },
    maintenance_mode_reason: { type: 'text', label: 'Maintenance mode reason', max: 250 },
    hostname: {
      type: 'text',
      label: 'Hostname',
      max: 63,
      required: true,
      format: 'hostname',
      pattern: { re: /\D/, message: 'The hostname cannot be entirely numeric.' },
      section: 'Network',
    },
    domain: { type: 'text', label: 'Domain', max: 192, format: 'domain', section: 'Network', help: 'Hostname and Domain make the node’s DNS name.' },
    address: {
      type: 'text',
      label: 'IPv4 address',
      max: 64,
      required: true,
      format: 'ip',
      section: 'Network',
      help: 'Cannot be changed: to move a node, recreate it.',
    },
    netmask: { type: 'text', label: 'Network mask', max: 64, format: 'netmask', section: 'Network' },
    gateway: { type: 'text', label: 'Gateway IPv4 address', max: 64, format: 'ip', section: 'Network' },
    secondary_address: {
      type: 'text',
      label: 'Secondary interface IPv4 address',
      max: 64,
      format: 'ipv4',
      section: 'Network',
      help: 'Optional: enables dual NIC mode (signaling and media to clients on the secondary interface).',
    },
    secondary_netmask: { type: 'text', label: 'Secondary interface network mask', max: 64, format: 'netmask', section: 'Network' },
    ipv6_address: { type: 'text', label: 'IPv6 address', max: 64, format: 'ipv6', section: 'Network' },
    ipv6_gateway: {
      type: 'text',
      label: 'Gateway IPv6 address',
      max: 64,
      format: 'ipv6',
      section: 'Network',
      help: 'Blank: the node listens for IPv6 Router Advertisements.',
    },
    static_nat_address: {
      type: 'text',
      label: 'IPv4 static NAT address',
      max: 64,
      format: 'ipv4',
      section: 'Network',
      help: "The node's public address when it is behind static NAT.",
    },
    static_routes: { type: 'refList', label: 'Static routes', resource: 'static_route', section: 'Network' },
    alternative_fqdn: {
      type: 'text',
      label: 'SIP TLS FQDN',
      max: 255,
      format: 'domain',
      section: 'Certificates',
      help: "Used in SIP TLS Contact addresses; unique per node and must match an identity in the node's TLS certificate. Blank: the IP address is used.",
    },
    tls_certificate: { type: 'ref', label: 'TLS certificate', resource: 'tls_certificate', section: 'Certificates' },
    deployment_type: {
      type: 'choice',
      label: 'Deployment type',
      choices: [
        ['MANUAL-PROVISION-ONLY', 'Generic (configuration-only)'],
        ['MANUAL-ESXI6', 'Manual (ESXi 6.x)'],
        ['MANUAL-ESXI5', 'Manual (ESXi 5.x)'],
        ['MANUAL-ESXI4', 'Manual (ESXi 4.1)'],
        ['MANUAL-HYPERV2012', 'Manual (Hyper-V)'],
        ['MANUAL-KVM', 'Manual (KVM)'],
        ['MANUAL-XEN', 'Manual (Xen)'],
      ],
      default: 'MANUAL-PROVISION-ONLY',
      section: 'Deployment',
    },
    vm_cpu_count: { type: 'int', label: 'Number of virtual CPUs to assign', min: 2, max: 128, default: 4, section: 'Deployment' },
    vm_system_memory: {
      type: 'int',
      label: 'System memory (in megabytes) to assign',
      min: 2000,
      max: 64_000,
      default: 4096,
      section: 'Deployment',
      help: 'A multiple of 4; 1024 MB per vCPU is recommended.',
    },
    enable_distributed_database: {
      type: 'bool',
      label: 'Enable distributed database',
      default: true,
      section: 'Deployment',
      help: 'Enable for always-on nodes; disable for part-time (peak) nodes.',
    },
    media_priority_weight: { type: 'int', label: 'Media priority weight', min: 0, max: 100, default: 0, section: 'Deployment' },
    // OpenMeet's own: Pexip measures capacity from the hardware at boot; here it can be set.
    media_capacity: {
      type: 'int',
      label: 'Media capacity (HD calls)',
      min: 0,
      max: 100_000,
      default: null,
      section: 'Deployment',
      help: "Calls beyond it go to another node or are refused (Resource unavailable). Blank: estimated from the node's CPU cores (25 HD calls per core).",
    },
    enable_ssh: { ...ENABLE_SSH, section: 'SSH' },
    password: { type: 'text', label: 'SSH password', max: 250, secret: true, section: 'SSH', help: 'The SSH username is always admin.' },
    ...snmpFields,
  },
  refine: (v, add) => {
    refineSnmp(v, add);
    const mem = num(v.vm_system_memory);
    if (mem !== null && mem % 4 !== 0) add('vm_system_memory', 'System memory must be a multiple of 4.');
    if (v.secondary_address && !v.secondary_netmask) add('secondary_netmask', MSG.required);
    if (v.secondary_netmask && !v.secondary_address) add('secondary_address', MSG.required);
  },
  // Each node must be unique in name, IPv4 address, hostname, DNS name, IPv6 address and SIP TLS FQDN (guide-digest-2 §7.1).
  unique: [
    { fields: ['name'], message: 'A Conferencing Node with this name already exists.' },
    { fields: ['address'], message: 'A Conferencing Node with this IPv4 address already exists.' },
    { fields: ['hostname'], message: 'A Conferencing Node with this hostname already exists.' },
    { fields: ['hostname', 'domain'], message: 'A Conferencing Node with this DNS name (hostname and domain) already exists.', path: 'hostname' },
    { fields: ['ipv6_address'], message: 'A Conferencing Node with this IPv6 address already exists.' },
    { fields: ['alternative_fqdn'], message: 'A Conferencing Node with this SIP TLS FQDN already exists.' },
  ],
  listColumns: ['name', 'hostname', 'address', 'node_type', 'system_location', 'maintenance_mode'],
  searchFields: ['name', 'hostname', 'address', 'description'],
  intro: 'Nodes take about 5 minutes to become available after deployment. Never clone node VMs.',
});

export const PLATFORM_RESOURCES = [globalResource, managementVmResource, systemLocationResource, workerVmResource];
