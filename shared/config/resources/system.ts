import { isIpv4, isIpv6, MSG } from '../field.js';
import { defineResource } from '../resource.js';

/**
 * System menu (guide-digest-1 §14): DNS and NTP servers, web proxies, SNMP NMSs, syslog and SMTP
 * servers, static routes and event sinks. Field keys are the management API's names.
 */

const port = (label: string, dflt: number) => ({ type: 'int', label, min: 1, max: 65535, default: dflt }) as const;
const description = { type: 'text', label: 'Description', max: 250 } as const;

export const dnsServerResource = defineResource({
  name: 'dns_server',
  label: 'DNS server',
  plural: 'DNS servers',
  menu: 'System',
  route: 'dns-servers',
  permission: 'system',
  nameField: 'address',
  fields: {
    // IPv6 name resolution does not need an IPv6 DNS server, so the guide allows IPv4 only.
    address: { type: 'text', label: 'Address', max: 255, required: true, format: 'ipv4' },
    description,
  },
  unique: [{ fields: ['address'], message: 'A DNS server with this address already exists.' }],
  listColumns: ['address', 'description'],
  intro: "At least one DNS server is required. Assign them to system locations and to the Management Node. Not acted on yet: OpenMeet uses the host's own DNS.",
});

export const ntpServerResource = defineResource({
  name: 'ntp_server',
  label: 'NTP server',
  plural: 'NTP servers',
  menu: 'System',
  route: 'ntp-servers',
  permission: 'system',
  nameField: 'address',
  fields: {
    address: { type: 'text', label: 'Address', max: 255, required: true, format: 'host' },
    description,
    key_id: { type: 'int', label: 'Secure NTP key ID', min: 1, max: 65534, default: null, section: 'Secure NTP' },
    // Entered in plain text; stored by the guide as a SHA1 hash, so it is never shown again.
    key: { type: 'text', label: 'Secure NTP key', max: 100, secret: true, section: 'Secure NTP', help: 'SHA1 key for authenticated NTP.' },
  },
  refine: (v, add) => {
    const hasKey = typeof v.key === 'string' && v.key !== '';
    const hasId = typeof v.key_id === 'number';
    if (hasKey && !hasId) add('key_id', 'A key ID is required when a Secure NTP key is set.');
    if (hasId && !hasKey) add('key', 'A Secure NTP key is required when a key ID is set.');
  },
  unique: [{ fields: ['address'], message: 'An NTP server with this address already exists.' }],
  listColumns: ['address', 'description', 'key_id'],
  intro:
    "We recommend at least three NTP servers. Assign them to system locations and to the Management Node. Not acted on yet: OpenMeet uses the host's own clock.",
});

export const webProxyResource = defineResource({
  // The management API calls web proxies `http_proxy` (and locations/the Management Node refer to
  // them by that key), so that is the resource name.
  name: 'http_proxy',
  label: 'Web proxy',
  plural: 'Web proxies',
  menu: 'System',
  route: 'web-proxies',
  permission: 'system',
  fields: {
    name: { type: 'text', label: 'Name', max: 250, required: true },
    address: { type: 'text', label: 'Address', max: 255, required: true, format: 'host' },
    port: port('Port', 8080),
    protocol: { type: 'choice', label: 'Protocol', choices: [['http', 'HTTP']], default: 'http' },
    username: { type: 'text', label: 'Username', max: 100 },
    password: { type: 'text', label: 'Password', max: 100, secret: true },
  },
  unique: [{ fields: ['name'], message: 'A web proxy with this name already exists.' }],
  listColumns: ['name', 'address', 'port'],
  searchFields: ['name', 'address'],
  intro: 'Not acted on yet: OpenMeet makes no requests through a web proxy.',
});

export const snmpNmsResource = defineResource({
  name: 'snmp_network_management_system',
  label: 'SNMP NMS',
  plural: 'SNMP NMSs',
  menu: 'System',
  route: 'snmp-nms',
  permission: 'system',
  fields: {
    name: { type: 'text', label: 'Name', max: 250, required: true },
    description,
    address: { type: 'text', label: 'Address', max: 255, required: true, format: 'host' },
    port: port('Port', 161),
    snmp_trap_community: { type: 'text', label: 'SNMP trap community', max: 16, default: 'public', help: 'Traps are SNMPv2c only.' },
  },
  unique: [{ fields: ['name'], message: 'An SNMP NMS with this name already exists.' }],
  listColumns: ['name', 'address', 'port'],
  searchFields: ['name', 'description', 'address'],
  intro: 'Not acted on yet: OpenMeet has no SNMP agent.',
});

export const syslogServerResource = defineResource({
  name: 'syslog_server',
  label: 'Syslog server',
  plural: 'Syslog servers',
  menu: 'System',
  route: 'syslog-servers',
  permission: 'system',
  nameField: 'address',
  fields: {
    description: { type: 'text', label: 'Description', max: 500 },
    address: { type: 'text', label: 'Address', max: 255, required: true, format: 'host' },
    port: port('Port', 514),
    transport: {
      type: 'choice',
      label: 'Transport',
      choices: [
        ['udp', 'UDP'],
        ['tcp', 'TCP'],
        ['tls', 'TLS'],
      ] as const,
      default: 'udp',
    },
    support_log: { type: 'bool', label: 'Support log', default: false, help: 'Support log and administrator log entries (facilities local2 and local0).' },
    audit_log: { type: 'bool', label: 'Audit log', default: false, help: 'The Linux audit log (facility local6).' },
    web_log: {
      type: 'bool',
      label: 'Web server log',
      default: false,
      help: 'All HTTPS requests to the Management Node and Conferencing Nodes (facility local7).',
    },
  },
  unique: [{ fields: ['address', 'port', 'transport'], message: 'A syslog server with this address, port and transport already exists.' }],
  listColumns: ['address', 'port', 'transport', 'support_log', 'audit_log', 'web_log'],
  searchFields: ['address', 'description'],
});

export const smtpServerResource = defineResource({
  name: 'smtp_server',
  label: 'SMTP server',
  plural: 'SMTP servers',
  menu: 'System',
  route: 'smtp-servers',
  permission: 'system',
  fields: {
    name: { type: 'text', label: 'Name', max: 250, required: true },
    description: { type: 'text', label: 'Description', max: 500 },
    address: { type: 'text', label: 'Address', max: 255, required: true, format: 'host' },
    port: port('Port', 587),
    username: { type: 'text', label: 'Username', max: 100 },
    password: { type: 'text', label: 'Password', max: 100, secret: true },
    from_email_address: {
      type: 'text',
      label: 'From email address',
      max: 100,
      required: true,
      format: 'email',
      help: 'Must be an address the SMTP server and account are permitted to send from.',
    },
    connection_security: {
      type: 'choice',
      label: 'Connection security',
      choices: [
        ['none', 'None'],
        ['starttls', 'StartTLS'],
      ],
      default: 'none',
    },
  },
  unique: [{ fields: ['name'], message: 'An SMTP server with this name already exists.' }],
  listColumns: ['name', 'address', 'port', 'from_email_address'],
  searchFields: ['name', 'description', 'address'],
  intro: 'Not acted on yet: OpenMeet sends no email.',
});

export const staticRouteResource = defineResource({
  name: 'static_route',
  label: 'Static route',
  plural: 'Static routes',
  menu: 'System',
  route: 'static-routes',
  permission: 'system',
  fields: {
    name: { type: 'text', label: 'Name', max: 250, required: true },
    address: { type: 'text', label: 'Destination network address', max: 64, required: true, format: 'ip' },
    prefix: { type: 'int', label: 'Network prefix', min: 0, max: 128, required: true, help: '0–32 for IPv4, 0–128 for IPv6.' },
    gateway: { type: 'text', label: 'Gateway IP address', max: 64, required: true, format: 'ip' },
  },
  refine: (v, add) => {
    const address = typeof v.address === 'string' ? v.address : '';
    const gateway = typeof v.gateway === 'string' ? v.gateway : '';
    if (isIpv4(address) && typeof v.prefix === 'number' && v.prefix > 32) add('prefix', MSG.max(32));
    if ((isIpv4(address) && isIpv6(gateway)) || (isIpv6(address) && isIpv4(gateway)))
      add('gateway', 'The gateway must be an address of the same IP version as the destination network.');
  },
  unique: [{ fields: ['name'], message: 'A static route with this name already exists.' }],
  listColumns: ['name', 'address', 'prefix', 'gateway'],
  searchFields: ['name', 'address'],
  intro: "Not acted on yet: OpenMeet uses the host's own routes.",
});

export const eventSinkResource = defineResource({
  name: 'event_sink',
  label: 'Event sink',
  plural: 'Event sinks',
  menu: 'System',
  route: 'event-sinks',
  permission: 'system',
  fields: {
    name: { type: 'text', label: 'Name', max: 250, required: true },
    description,
    url: { type: 'text', label: 'URL', max: 500, required: true, format: 'url' },
    username: { type: 'text', label: 'Username', max: 100, help: 'Case-sensitive. Leave blank if authentication is not required.' },
    password: { type: 'text', label: 'Password', max: 100, secret: true },
    verify_tls_certificate: { type: 'bool', label: 'Verify TLS', default: false, help: 'Only valid if the URL is HTTPS.' },
    bulk_support: { type: 'bool', label: 'Bulk support', default: false, section: 'Advanced options', help: 'Send events in batches.' },
    version: { type: 'int', label: 'Version', min: 1, default: 1, section: 'Advanced options', help: 'Event sink protocol version.' },
  },
  refine: (v, add) => {
    if (v.verify_tls_certificate === true && typeof v.url === 'string' && !/^https:/i.test(v.url))
      add('verify_tls_certificate', 'TLS verification is only valid if the URL is HTTPS.');
  },
  unique: [{ fields: ['name'], message: 'An event sink with this name already exists.' }],
  listColumns: ['name', 'url', 'verify_tls_certificate'],
  intro: 'Conferencing Nodes POST every participant and conference event to the sink URL. Select the sinks each system location uses on the location.',
});

/** In menu order. (SNMP itself is configured per node; the SNMP NMS is the System-menu object.) */
export const SYSTEM_RESOURCES = [
  dnsServerResource,
  ntpServerResource,
  webProxyResource,
  snmpNmsResource,
  syslogServerResource,
  smtpServerResource,
  staticRouteResource,
  eventSinkResource,
];
