import { describe, expect, it } from 'vitest';
import { MSG, type FieldSpecs } from '../field.js';
import { RESOURCES } from '../registry.js';
import { schemasOf, type ResourceDef } from '../resource.js';
import {
  CALL_CONTROL_RESOURCES,
  gatewayRoutingRuleResource as crr,
  h323GatekeeperResource,
  policyServerResource,
  sipProxyResource,
  stunServerResource,
  turnServerResource,
} from './callControl.js';
import { globalResource, managementVmResource, PLATFORM_RESOURCES, systemLocationResource, workerVmResource } from './platform.js';
import {
  dnsServerResource,
  eventSinkResource,
  ntpServerResource,
  smtpServerResource,
  snmpNmsResource,
  staticRouteResource,
  SYSTEM_RESOURCES,
  syslogServerResource,
  webProxyResource,
} from './system.js';

const MINE: ResourceDef[] = [...PLATFORM_RESOURCES, ...CALL_CONTROL_RESOURCES, ...SYSTEM_RESOURCES];

/** Objects that references may point at which are defined elsewhere (or not as definitions). */
const EXTERNAL_TARGETS = ['ivr_theme', 'tls_certificate', 'ca_certificate', 'automatic_participant', 'device', 'end_user', 'system_location'];

const create = (def: ResourceDef, input: Record<string, unknown>) => schemasOf(def).create.parse(input) as Record<string, unknown>;

function issuesOf(def: ResourceDef, input: Record<string, unknown>) {
  const r = schemasOf(def).create.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}
function expectIssue(def: ResourceDef, input: Record<string, unknown>, path: string, message: string) {
  expect(issuesOf(def, input)).toContainEqual({ path, message });
}
function expectValid(def: ResourceDef, input: Record<string, unknown>) {
  expect(issuesOf(def, input)).toEqual([]);
}

describe('resource definitions: structure', () => {
  it('every ref/refList points at a defined resource or a known external object', () => {
    const names = new Set([...RESOURCES.map((d) => d.name), ...EXTERNAL_TARGETS]);
    for (const def of MINE)
      for (const [key, f] of Object.entries(def.fields))
        if (f.type === 'ref' || f.type === 'refList') expect(names.has(f.resource), `${def.name}.${key} → ${f.resource}`).toBe(true);
  });

  it('names and routes are unique and every definition is registered', () => {
    const names = RESOURCES.map((d) => d.name);
    const routes = RESOURCES.map((d) => d.route);
    expect(new Set(names).size).toBe(names.length);
    expect(new Set(routes).size).toBe(routes.length);
    for (const def of MINE) expect(RESOURCES).toContain(def);
  });

  it('list columns, unique rules, name field, order and search fields are field keys', () => {
    for (const def of MINE) {
      const keys = Object.keys(def.fields);
      for (const c of def.listColumns) expect(keys, `${def.name} column ${c}`).toContain(c);
      for (const u of def.unique ?? []) for (const f of [...u.fields, ...(u.path ? [u.path] : [])]) expect(keys, `${def.name} unique ${f}`).toContain(f);
      if (!def.singleton) expect(keys, `${def.name} name field`).toContain(def.nameField ?? 'name');
      if (def.orderBy) expect(keys).toContain(def.orderBy.replace(/^-/, ''));
      for (const s of def.searchFields ?? []) expect(keys, `${def.name} search ${s}`).toContain(s);
    }
  });

  it('singletons read with their defaults before they are first saved', () => {
    for (const def of MINE.filter((d) => d.singleton)) expect(() => schemasOf(def).plain.parse({}), def.name).not.toThrow();
  });

  it('every choice default is one of its choices', () => {
    for (const def of MINE)
      for (const [key, f] of Object.entries(def.fields)) {
        if (f.type === 'choice' && f.default !== null)
          expect(
            f.choices.map(([v]) => v),
            `${def.name}.${key}`,
          ).toContain(f.default);
        if (f.type === 'choice' && f.default === null) expect(f.nullable, `${def.name}.${key}`).toBe(true);
        if (f.type === 'list' && f.default && f.choices) for (const d of f.default) expect(f.choices.map(([v]) => v)).toContain(d);
      }
  });

  it('menus, permissions and stores are as the console expects', () => {
    for (const def of PLATFORM_RESOURCES) expect([def.menu, def.permission]).toEqual(['Platform', 'system']);
    for (const def of SYSTEM_RESOURCES) expect([def.menu, def.permission]).toEqual(['System', 'system']);
    for (const def of CALL_CONTROL_RESOURCES.filter((d) => d !== crr)) expect([def.menu, def.permission]).toEqual(['Call Control', 'system']);
    expect([crr.menu, crr.route, crr.permission, crr.orderBy, crr.label, crr.plural]).toEqual([
      'Services',
      'call-routing',
      'gateway',
      'priority',
      'Call Routing Rule',
      'Call Routing Rules',
    ]);
    expect([systemLocationResource.store, systemLocationResource.route]).toEqual(['system_location', 'locations']);
    expect([workerVmResource.store, workerVmResource.route, workerVmResource.noCreate]).toEqual(['worker_vm', 'nodes', false]);
    expect([globalResource.singleton, globalResource.route, managementVmResource.singleton, managementVmResource.route]).toEqual([
      true,
      'global-settings',
      true,
      'management-node',
    ]);
    expect(dnsServerResource.nameField).toBe('address');
    expect(policyServerResource.label).toBe('Policy profile');
  });
});

describe('Global settings', () => {
  const g = () => create(globalResource, {});

  it('has the guide defaults', () => {
    expect(g()).toMatchObject({
      guests_only_timeout: 60,
      eject_last_participant_backstop_timeout: 0,
      pin_entry_timeout: 120,
      waiting_for_chair_timeout: 900,
      default_theme: null,
      max_callrate_in: null,
      max_callrate_out: null,
      max_pixels_per_second: 'hd',
      max_presentation_bandwidth_ratio: 75,
      external_participant_avatar_lookup: true,
      enable_sip: true,
      enable_sip_udp: false,
      enable_h323: true,
      enable_webrtc: true,
      enable_rtmp: true,
      enable_application_api: true,
      enable_fecc: true,
      enable_chat: true,
      enable_dialout: true,
      default_to_new_webapp: true,
      enable_lync_auto_escalate: false,
      enable_lync_vbss: false,
      enable_ssh: true,
      enable_directory: true,
      enable_edge_non_mesh: true,
      crypto_mode: 'besteffort',
      signalling_ports_start: 33000,
      signalling_ports_end: 39999,
      media_ports_start: 40000,
      media_ports_end: 49999,
      ocsp_state: 'OFF',
      sip_tls_cert_verify_mode: 'OFF',
      logs_max_age: 0,
      bdpm_pin_checks_enabled: true,
      bdpm_scan_quarantine_enabled: true,
      legacy_api_http: false,
      logon_banner: '',
      session_timeout_enabled: true,
      management_session_timeout: 30,
      bursting_enabled: false,
      bursting_min_lifetime: 50,
      enable_turn_443: false,
    });
    expect(g().disabled_codecs).toEqual(['MP4A-LATM_128', 'H264_H_0', 'H264_H_1']);
  });

  it('marks exactly the guide ★ settings as restarting the nodes', () => {
    const restarting = Object.entries(globalResource.fields as FieldSpecs)
      .filter(([, f]) => f.restartsNodes)
      .map(([k]) => k)
      .sort();
    expect(restarting).toEqual([
      'enable_h323',
      'enable_rtmp',
      'enable_sip',
      'media_ports_end',
      'media_ports_start',
      'signalling_ports_end',
      'signalling_ports_start',
    ]);
  });

  it('groups settings in the guide sections', () => {
    const sections = [...new Set(Object.values(globalResource.fields).map((f) => f.section))];
    expect(sections).toEqual([
      'Service configuration',
      'Connectivity',
      'Port ranges',
      'Codecs',
      'Security',
      'Break-in resistance',
      'External system integration',
      'Management web interface configuration',
      'Reporting',
      'Cloud bursting',
      'Tech preview features',
    ]);
  });

  it('rejects values out of the guide ranges', () => {
    expectIssue(globalResource, { max_presentation_bandwidth_ratio: 24 }, 'max_presentation_bandwidth_ratio', MSG.min(25));
    expectIssue(globalResource, { max_presentation_bandwidth_ratio: 76 }, 'max_presentation_bandwidth_ratio', MSG.max(75));
    expectIssue(globalResource, { pin_entry_timeout: 29 }, 'pin_entry_timeout', MSG.min(30));
    expectIssue(globalResource, { guests_only_timeout: 86_401 }, 'guests_only_timeout', MSG.max(86_400));
    expectIssue(globalResource, { management_session_timeout: 4 }, 'management_session_timeout', MSG.min(5));
    expectIssue(globalResource, { logs_max_age: 3651 }, 'logs_max_age', MSG.max(3650));
    expectIssue(globalResource, { max_callrate_in: 127 }, 'max_callrate_in', MSG.min(128));
    expectIssue(globalResource, { max_callrate_out: 8193 }, 'max_callrate_out', MSG.max(8192));
    expectIssue(globalResource, { signalling_ports_start: 9999 }, 'signalling_ports_start', MSG.min(10_000));
    expectIssue(globalResource, { media_ports_end: 50_000 }, 'media_ports_end', MSG.max(49_999));
    expectIssue(globalResource, { management_qos: 64 }, 'management_qos', MSG.max(63));
    expectIssue(globalResource, { bdpm_max_pin_failures_per_window: 4 }, 'bdpm_max_pin_failures_per_window', MSG.min(5));
    expectIssue(globalResource, { bursting_min_lifetime: 4 }, 'bursting_min_lifetime', MSG.min(5));
    expectIssue(globalResource, { guests_only_timeout: 1.5 }, 'guests_only_timeout', MSG.integer);
    expectIssue(globalResource, { max_pixels_per_second: 'uhd' }, 'max_pixels_per_second', MSG.choice('uhd'));
    expectIssue(globalResource, { crypto_mode: 'maybe' }, 'crypto_mode', MSG.choice('maybe'));
    expectIssue(globalResource, { ocsp_state: 'off' }, 'ocsp_state', MSG.choice('off'));
    expectIssue(globalResource, { disabled_codecs: ['H264_H_0', 'H265'] }, 'disabled_codecs.1', MSG.choice('H265'));
    expectIssue(globalResource, { ocsp_responder_url: 'ftp://ocsp.example.com' }, 'ocsp_responder_url', MSG.url);
    expectIssue(globalResource, { contact_email_address: 'admin' }, 'contact_email_address', MSG.email);
    expectIssue(globalResource, { local_mssip_domain: 'not a domain' }, 'local_mssip_domain', MSG.domain);
    expectIssue(globalResource, { logon_banner: 'x'.repeat(4097) }, 'logon_banner', MSG.maxLength(4096));
  });

  it('last participant backstop timeout is 0 or 60–86400', () => {
    expectValid(globalResource, { eject_last_participant_backstop_timeout: 0 });
    expectValid(globalResource, { eject_last_participant_backstop_timeout: 60 });
    expectValid(globalResource, { eject_last_participant_backstop_timeout: 86_400 });
    expectIssue(
      globalResource,
      { eject_last_participant_backstop_timeout: 59 },
      'eject_last_participant_backstop_timeout',
      'Enter 0 (never eject) or a value between 60 and 86400 seconds.',
    );
    expectIssue(globalResource, { eject_last_participant_backstop_timeout: 86_401 }, 'eject_last_participant_backstop_timeout', MSG.max(86_400));
  });

  it('port ranges: start before end, at least 100 media ports, no overlap', () => {
    expectIssue(
      globalResource,
      { signalling_ports_start: 39_999, signalling_ports_end: 33_000 },
      'signalling_ports_end',
      'The signaling port range end must be greater than its start.',
    );
    expectIssue(
      globalResource,
      { media_ports_start: 45_000, media_ports_end: 45_000 },
      'media_ports_end',
      'The media port range end must be greater than its start.',
    );
    expectIssue(
      globalResource,
      { media_ports_start: 45_000, media_ports_end: 45_098 },
      'media_ports_end',
      'The media port range must contain at least 100 ports.',
    );
    expectValid(globalResource, { media_ports_start: 45_000, media_ports_end: 45_099 });
    expectIssue(globalResource, { signalling_ports_end: 40_000 }, 'media_ports_start', 'The media port range must not overlap the signaling port range.');
    expectValid(globalResource, { signalling_ports_start: 10_000, signalling_ports_end: 19_999, media_ports_start: 20_000, media_ports_end: 49_999 });
  });

  it('WebRTC and RTMP need the client API', () => {
    const msg = 'This setting must be enabled if you want to Enable WebRTC or Enable RTMP.';
    expectIssue(globalResource, { enable_application_api: false }, 'enable_application_api', msg);
    expectIssue(globalResource, { enable_application_api: false, enable_webrtc: false }, 'enable_application_api', msg);
    expectValid(globalResource, { enable_application_api: false, enable_webrtc: false, enable_rtmp: false });
  });

  it('OCSP Override needs a responder URL; incident reporting needs a URL', () => {
    expectIssue(globalResource, { ocsp_state: 'OVERRIDE' }, 'ocsp_responder_url', 'An OCSP responder URL is required when OCSP state is Override.');
    expectValid(globalResource, { ocsp_state: 'OVERRIDE', ocsp_responder_url: 'http://ocsp.example.com/' });
    expectValid(globalResource, { ocsp_state: 'ON' });
    expectIssue(
      globalResource,
      { error_reporting_enabled: true, error_reporting_url: '' },
      'error_reporting_url',
      'An incident reporting URL is required when incident reporting is enabled.',
    );
    expectValid(globalResource, { error_reporting_enabled: true });
  });
});

describe('Management Node', () => {
  it('has the guide defaults', () => {
    expect(create(managementVmResource, { name: 'mgr.example.com' })).toMatchObject({
      description: '',
      dns_servers: [],
      ntp_servers: [],
      static_routes: [],
      http_proxy: null,
      tls_certificate: null,
      mtu: 1500,
      enable_ssh: 'GLOBAL',
      snmp_mode: 'DISABLED',
      snmp_community: 'public',
      snmp_system_contact: 'admin@domain.com',
      snmp_system_location: 'Virtual machine',
      snmp_network_management_system: null,
    });
  });

  it('keeps the wizard-set network identity out of the writable schema', () => {
    const v = create(managementVmResource, { name: 'mgr', address: '10.0.0.1', hostname: 'mgr' });
    expect(v).not.toHaveProperty('address');
    expect(v).not.toHaveProperty('hostname');
  });

  it('rejects the guide bad cases', () => {
    expectIssue(managementVmResource, { name: '' }, 'name', MSG.required);
    expect(schemasOf(managementVmResource).plain.parse({})).toMatchObject({ name: 'Management Node', mtu: 1500 });
    expectIssue(managementVmResource, { name: 'x'.repeat(33) }, 'name', MSG.maxLength(32));
    expectIssue(managementVmResource, { name: 'mgr', mtu: 1501 }, 'mtu', MSG.max(1500));
    expectIssue(managementVmResource, { name: 'mgr', mtu: 511 }, 'mtu', MSG.min(512));
    expectIssue(managementVmResource, { name: 'mgr', enable_ssh: 'YES' }, 'enable_ssh', MSG.choice('YES'));
    expectIssue(managementVmResource, { name: 'mgr', ipv6_address: '10.0.0.1' }, 'ipv6_address', MSG.ipv6);
    expectIssue(managementVmResource, { name: 'mgr', static_nat_address: '2001:db8::1' }, 'static_nat_address', MSG.ipv4);
    expectIssue(managementVmResource, { name: 'mgr', alternative_fqdn: 'bad_name!' }, 'alternative_fqdn', MSG.domain);
    expectIssue(managementVmResource, { name: 'mgr', dns_servers: ['/api/x/1/'] }, 'dns_servers.0', MSG.ref);
  });

  it('SNMPv3 needs a username and both passwords of at least 8 characters', () => {
    expectIssue(managementVmResource, { name: 'mgr', snmp_mode: 'AUTHPRIV' }, 'snmp_username', MSG.required);
    expectIssue(managementVmResource, { name: 'mgr', snmp_mode: 'AUTHPRIV' }, 'snmp_privacy_password', MSG.required);
    expectIssue(managementVmResource, { name: 'mgr', snmp_mode: 'AUTHPRIV' }, 'snmp_authentication_password', MSG.required);
    expectIssue(managementVmResource, { name: 'mgr', snmp_privacy_password: 'short' }, 'snmp_privacy_password', MSG.minLength(8));
    expectValid(managementVmResource, {
      name: 'mgr',
      snmp_mode: 'AUTHPRIV',
      snmp_username: 'monitor',
      snmp_privacy_password: 'privacy-pass',
      snmp_authentication_password: 'auth-pass1',
    });
    expectValid(managementVmResource, { name: 'mgr', snmp_mode: 'STANDARD' });
  });
});

describe('System location', () => {
  it('keeps the table columns name, description, mtu', () => {
    expect(Object.keys(systemLocationResource.fields).slice(0, 2)).toEqual(['name', 'description']);
    expect(systemLocationResource.fields.mtu).toMatchObject({ type: 'int', min: 512, max: 1500, default: 1500 });
    expect(systemLocationResource.fields.name).toMatchObject({ required: true, max: 250 });
    expect(systemLocationResource.unique).toEqual([{ fields: ['name'], message: 'A system location with this name already exists.' }]);
  });

  it('has the guide defaults', () => {
    expect(create(systemLocationResource, { name: 'London' })).toMatchObject({
      name: 'London',
      description: '',
      mtu: 1500,
      dns_servers: [],
      ntp_servers: [],
      client_stun_servers: [],
      client_turn_servers: [],
      event_sinks: [],
      transcoding_location: null,
      overflow_location1: null,
      overflow_location2: null,
      h323_gatekeeper: null,
      sip_proxy: null,
      turn_server: null,
      stun_server: null,
      policy_server: null,
      media_qos: 0,
      signalling_qos: 0,
      local_mssip_domain: '',
      use_relay_candidates_only: false,
      bdpm_pin_checks_enabled: 'GLOBAL',
      bdpm_scan_quarantine_enabled: 'GLOBAL',
    });
    expect(systemLocationResource.fields.transcoding_location).toMatchObject({ resource: 'system_location', nullLabel: 'This location' });
  });

  it('rejects the guide bad cases', () => {
    expectIssue(systemLocationResource, {}, 'name', MSG.required);
    expectIssue(systemLocationResource, { name: '   ' }, 'name', MSG.required);
    expectIssue(systemLocationResource, { name: 'x'.repeat(251) }, 'name', MSG.maxLength(250));
    expectIssue(systemLocationResource, { name: 'L', mtu: 1501 }, 'mtu', MSG.max(1500));
    expectIssue(systemLocationResource, { name: 'L', mtu: 511 }, 'mtu', MSG.min(512));
    expectIssue(systemLocationResource, { name: 'L', media_qos: 64 }, 'media_qos', MSG.max(63));
    expectIssue(systemLocationResource, { name: 'L', signalling_qos: -1 }, 'signalling_qos', MSG.min(0));
    expectIssue(systemLocationResource, { name: 'L', bdpm_pin_checks_enabled: 'YES' }, 'bdpm_pin_checks_enabled', MSG.choice('YES'));
    expectIssue(systemLocationResource, { name: 'L', local_mssip_domain: 'not a domain' }, 'local_mssip_domain', MSG.domain);
    expectIssue(systemLocationResource, { name: 'L', sip_proxy: 0 }, 'sip_proxy', MSG.ref);
    expectIssue(
      systemLocationResource,
      { name: 'L', overflow_location1: 3, overflow_location2: 3 },
      'overflow_location2',
      'The secondary overflow location must differ from the primary overflow location.',
    );
    expectValid(systemLocationResource, {
      name: 'L',
      dns_servers: [1, 2],
      ntp_servers: [1],
      transcoding_location: 2,
      overflow_location1: 3,
      overflow_location2: 4,
    });
  });
});

describe('Conferencing Node', () => {
  const node = { name: 'cn01', hostname: 'cn01', address: '10.0.0.11', system_location: 1 };

  it('has the guide defaults', () => {
    expect(create(workerVmResource, node)).toMatchObject({
      node_type: 'CONFERENCING',
      maintenance_mode: false,
      description: '',
      domain: '',
      netmask: '',
      gateway: '',
      ipv6_address: '',
      alternative_fqdn: '',
      tls_certificate: null,
      static_routes: [],
      enable_distributed_database: true,
      enable_ssh: 'GLOBAL',
      deployment_type: 'MANUAL-PROVISION-ONLY',
      vm_cpu_count: 4,
      vm_system_memory: 4096,
      media_priority_weight: 0,
      snmp_mode: 'DISABLED',
      snmp_community: 'public',
    });
  });

  it('has the table columns and the guide uniqueness rules', () => {
    for (const k of ['name', 'hostname', 'address', 'node_type', 'maintenance_mode', 'system_location']) expect(workerVmResource.fields).toHaveProperty(k);
    expect(workerVmResource.fields.node_type).toMatchObject({
      default: 'CONFERENCING',
      choices: [
        ['CONFERENCING', 'Transcoding Conferencing Node'],
        ['PROXYING', 'Proxying Edge Node'],
      ],
    });
    expect(workerVmResource.unique?.map((u) => u.fields.join('+'))).toEqual([
      'name',
      'address',
      'hostname',
      'hostname+domain',
      'ipv6_address',
      'alternative_fqdn',
    ]);
  });

  it('rejects the guide bad cases', () => {
    expectIssue(workerVmResource, { ...node, system_location: undefined }, 'system_location', MSG.ref);
    expectIssue(workerVmResource, { ...node, name: 'x'.repeat(33) }, 'name', MSG.maxLength(32));
    expectIssue(workerVmResource, { ...node, hostname: 'cn_01' }, 'hostname', MSG.hostname);
    expectIssue(workerVmResource, { ...node, hostname: '-cn01' }, 'hostname', MSG.hostname);
    expectIssue(workerVmResource, { ...node, hostname: 'x'.repeat(64) }, 'hostname', MSG.maxLength(63));
    expectIssue(workerVmResource, { ...node, hostname: '12345' }, 'hostname', 'The hostname cannot be entirely numeric.');
    expectIssue(workerVmResource, { ...node, address: '10.0.0.256' }, 'address', MSG.ip);
    expectIssue(workerVmResource, { ...node, netmask: '255.0.255.0' }, 'netmask', MSG.netmask);
    expectIssue(workerVmResource, { ...node, gateway: 'gw' }, 'gateway', MSG.ip);
    expectIssue(workerVmResource, { ...node, domain: 'example..com' }, 'domain', MSG.domain);
    expectIssue(workerVmResource, { ...node, ipv6_address: '10.0.0.1' }, 'ipv6_address', MSG.ipv6);
    expectIssue(workerVmResource, { ...node, static_nat_address: '2001:db8::1' }, 'static_nat_address', MSG.ipv4);
    expectIssue(workerVmResource, { ...node, alternative_fqdn: 'not a name' }, 'alternative_fqdn', MSG.domain);
    expectIssue(workerVmResource, { ...node, node_type: 'EDGE' }, 'node_type', MSG.choice('EDGE'));
    expectIssue(workerVmResource, { ...node, vm_cpu_count: 1 }, 'vm_cpu_count', MSG.min(2));
    expectIssue(workerVmResource, { ...node, vm_system_memory: 4098 }, 'vm_system_memory', 'System memory must be a multiple of 4.');
    expectIssue(workerVmResource, { ...node, vm_system_memory: 1996 }, 'vm_system_memory', MSG.min(2000));
    expectIssue(workerVmResource, { ...node, secondary_address: '172.16.0.10' }, 'secondary_netmask', MSG.required);
    expectIssue(workerVmResource, { ...node, snmp_mode: 'AUTHPRIV' }, 'snmp_username', MSG.required);
    expectValid(workerVmResource, {
      ...node,
      domain: 'example.com',
      netmask: '255.255.255.0',
      gateway: '10.0.0.1',
      secondary_address: '172.16.0.10',
      secondary_netmask: '255.255.0.0',
      ipv6_address: '2001:db8::11',
      ipv6_gateway: '2001:db8::1',
      alternative_fqdn: 'cn01.example.com',
      node_type: 'PROXYING',
      vm_system_memory: 8192,
    });
  });
});

describe('Call Control objects', () => {
  it('H.323 gatekeeper: defaults and bad cases', () => {
    expect(create(h323GatekeeperResource, { name: 'GK', address: 'gk.example.com' })).toMatchObject({ port: 1719, description: '' });
    expectValid(h323GatekeeperResource, { name: 'GK', address: '10.0.0.5', port: null });
    expectIssue(h323GatekeeperResource, { name: 'GK' }, 'address', MSG.required);
    expectIssue(h323GatekeeperResource, { name: 'GK', address: 'gk example' }, 'address', MSG.host);
    expectIssue(h323GatekeeperResource, { name: 'GK', address: 'gk.example.com', port: 65_536 }, 'port', MSG.max(65_535));
    expectIssue(h323GatekeeperResource, { name: 'GK', address: 'gk.example.com', port: 0 }, 'port', MSG.min(1));
  });

  it('SIP proxy: defaults and bad cases', () => {
    expect(create(sipProxyResource, { name: 'VCS', address: 'vcs.example.com' })).toMatchObject({ port: 5061, transport: 'tls' });
    expectIssue(sipProxyResource, { address: 'vcs.example.com' }, 'name', MSG.required);
    expectIssue(sipProxyResource, { name: 'VCS', address: 'vcs.example.com', transport: 'sctp' }, 'transport', MSG.choice('sctp'));
    expectIssue(sipProxyResource, { name: 'VCS', address: 'x'.repeat(256) }, 'address', MSG.maxLength(255));
  });

  it('TURN server: defaults and bad cases', () => {
    expect(create(turnServerResource, { name: 'TURN', address: 'turn.example.com' })).toMatchObject({
      port: 3478,
      server_type: 'namepsw',
      transport_type: 'udp',
      username: '',
      password: '',
    });
    expectIssue(turnServerResource, { name: 'TURN', address: 'turn.example.com', server_type: 'coturn_shared' }, 'secret_key', MSG.required);
    expectValid(turnServerResource, { name: 'TURN', address: 'turn.example.com', server_type: 'coturn_shared', secret_key: 's3cret' });
    expectIssue(turnServerResource, { name: 'TURN', address: 'turn.example.com', password: 'x'.repeat(101) }, 'password', MSG.maxLength(100));
  });

  it('STUN server: defaults and bad cases', () => {
    expect(create(stunServerResource, { name: 'Google', address: 'stun.l.google.com', port: 19302 })).toMatchObject({ port: 19302 });
    expect(create(stunServerResource, { name: 'STUN', address: '198.51.100.7' })).toMatchObject({ port: 3478 });
    expectIssue(stunServerResource, { name: 'STUN', address: '' }, 'address', MSG.required);
  });

  it('Policy profile: defaults and rules', () => {
    const v = create(policyServerResource, { name: 'Policy' });
    for (const k of [
      'enable_service_lookup',
      'enable_avatar_lookup',
      'enable_media_location_lookup',
      'enable_directory_lookup',
      'enable_registration_lookup',
      'enable_internal_service_policy',
      'enable_internal_media_location_policy',
      'prefer_local_avatar_configuration',
    ])
      expect(v[k], k).toBe(false);
    expect(v.url).toBe('');
    expectIssue(
      policyServerResource,
      { name: 'P', enable_service_lookup: true },
      'url',
      'An external policy server URL is required when an external lookup is enabled.',
    );
    expectValid(policyServerResource, { name: 'P', enable_service_lookup: true, url: 'https://policy.example.com/path' });
    expectIssue(policyServerResource, { name: 'P', url: 'policy.example.com' }, 'url', MSG.url);
    expectIssue(policyServerResource, { name: 'P', enable_internal_service_policy: true }, 'internal_service_policy_template', MSG.required);
    expectValid(policyServerResource, {
      name: 'P',
      enable_internal_media_location_policy: true,
      internal_media_location_policy_template: '{{ suggested_media_overflow_locations }}',
    });
    expectIssue(
      policyServerResource,
      { name: 'P', internal_service_policy_template: 'x'.repeat(49_153) },
      'internal_service_policy_template',
      MSG.maxLength(49_152),
    );
    expectValid(policyServerResource, { name: 'P', internal_service_policy_template: 'x'.repeat(49_152) });
  });
});

describe('Call Routing Rule', () => {
  const rule = { name: 'Fallback to SIP', priority: 200, match_string: '(?!.*@example\\.com$).*' };

  it('has the guide defaults', () => {
    expect(create(crr, rule)).toMatchObject({
      enable: true,
      match_incoming_calls: true,
      match_outgoing_calls: false,
      match_source_location: null,
      match_incoming_only_if_registered: false,
      match_incoming_webrtc: true,
      match_incoming_sip: true,
      match_incoming_mssip: true,
      match_incoming_h323: true,
      match_incoming_teams: false,
      match_string_full: false,
      replace_string: '',
      max_callrate_in: null,
      max_callrate_out: null,
      call_type: 'video',
      max_pixels_per_second: null,
      crypto_mode: null,
      ivr_theme: null,
      called_device_type: 'external',
      outgoing_location: null,
      outgoing_protocol: 'sip',
      sip_proxy: null,
      h323_gatekeeper: null,
      turn_server: null,
      stun_server: null,
      treat_as_trusted: false,
      external_participant_avatar_lookup: 'default',
      denoise_audio: true,
      disabled_codecs: [],
    });
  });

  it('labels blank references as the console does', () => {
    expect(crr.fields.match_source_location).toMatchObject({ nullLabel: 'Any Location' });
    expect(crr.fields.outgoing_location).toMatchObject({ nullLabel: 'Automatic' });
    expect(crr.fields.sip_proxy).toMatchObject({ nullLabel: 'Use DNS' });
    expect(crr.fields.h323_gatekeeper).toMatchObject({ nullLabel: 'Use DNS' });
    expect(crr.fields.ivr_theme).toMatchObject({ nullLabel: '<use Default theme>' });
  });

  it('requires a name, a priority 1–200 and a valid regex', () => {
    expectIssue(crr, { ...rule, name: '' }, 'name', MSG.required);
    expectIssue(crr, { ...rule, priority: undefined }, 'priority', MSG.required);
    expectIssue(crr, { ...rule, priority: 0 }, 'priority', MSG.min(1));
    expectIssue(crr, { ...rule, priority: 201 }, 'priority', MSG.max(200));
    expectIssue(crr, { ...rule, priority: null }, 'priority', MSG.integer);
    expectIssue(crr, { ...rule, match_string: '' }, 'match_string', MSG.required);
    const bad = issuesOf(crr, { ...rule, match_string: '(unclosed' }).find((i) => i.path === 'match_string');
    expect(bad?.message).toMatch(/^Invalid regular expression: /);
    expectIssue(crr, { ...rule, match_string: 'x'.repeat(251) }, 'match_string', MSG.maxLength(250));
  });

  it('rejects bad choices and bandwidths', () => {
    expectIssue(crr, { ...rule, call_type: 'hd' }, 'call_type', MSG.choice('hd'));
    expectIssue(crr, { ...rule, outgoing_protocol: 'xmpp' }, 'outgoing_protocol', MSG.choice('xmpp'));
    expectIssue(crr, { ...rule, called_device_type: 'anything' }, 'called_device_type', MSG.choice('anything'));
    expectIssue(crr, { ...rule, crypto_mode: 'required' }, 'crypto_mode', MSG.choice('required'));
    expectIssue(crr, { ...rule, max_callrate_in: 64 }, 'max_callrate_in', MSG.min(128));
    expectIssue(crr, { ...rule, max_callrate_out: 9000 }, 'max_callrate_out', MSG.max(8192));
    expectIssue(crr, { ...rule, external_participant_avatar_lookup: true }, 'external_participant_avatar_lookup', MSG.required);
    expectValid(crr, {
      ...rule,
      call_type: 'auto',
      crypto_mode: 'on',
      max_pixels_per_second: 'fullhd',
      sip_proxy: 1,
      outgoing_location: 2,
      match_source_location: 3,
    });
  });

  it('applies to incoming gateway calls, outgoing calls from a conference, or both', () => {
    expectIssue(
      crr,
      { ...rule, match_incoming_calls: false },
      'match_incoming_calls',
      'Select Incoming gateway calls, Outgoing calls from a conference, or both.',
    );
    expectValid(crr, { ...rule, match_incoming_calls: false, match_outgoing_calls: true });
    expectValid(crr, { ...rule, match_outgoing_calls: true });
  });
});

describe('System objects', () => {
  it('DNS server: IPv4 address only', () => {
    expect(create(dnsServerResource, { address: '8.8.8.8' })).toEqual({ address: '8.8.8.8', description: '' });
    expectIssue(dnsServerResource, { address: '2001:4860:4860::8888' }, 'address', MSG.ipv4);
    expectIssue(dnsServerResource, { address: 'dns.example.com' }, 'address', MSG.ipv4);
    expectIssue(dnsServerResource, {}, 'address', MSG.required);
  });

  it('NTP server: address, optional Secure NTP key and key ID together', () => {
    expect(create(ntpServerResource, { address: 'pool.ntp.org' })).toEqual({ address: 'pool.ntp.org', description: '', key_id: null, key: '' });
    expectIssue(ntpServerResource, { address: 'pool ntp' }, 'address', MSG.host);
    expectIssue(ntpServerResource, { address: '10.0.0.1', key: 'secret' }, 'key_id', 'A key ID is required when a Secure NTP key is set.');
    expectIssue(ntpServerResource, { address: '10.0.0.1', key_id: 5 }, 'key', 'A Secure NTP key is required when a key ID is set.');
    expectValid(ntpServerResource, { address: '10.0.0.1', key_id: 5, key: 'secret' });
  });

  it('Web proxy: port 8080 by default', () => {
    expect(webProxyResource.name).toBe('http_proxy');
    expect(create(webProxyResource, { name: 'Proxy', address: 'proxy.example.com' })).toMatchObject({
      port: 8080,
      protocol: 'http',
      username: '',
      password: '',
    });
    expectIssue(webProxyResource, { name: 'Proxy', address: 'proxy.example.com', port: 70_000 }, 'port', MSG.max(65_535));
  });

  it('SNMP NMS: port 161, trap community public', () => {
    expect(create(snmpNmsResource, { name: 'NMS', address: '10.0.0.9' })).toMatchObject({ port: 161, snmp_trap_community: 'public', description: '' });
    expectIssue(snmpNmsResource, { name: 'NMS', address: '10.0.0.9', snmp_trap_community: 'x'.repeat(17) }, 'snmp_trap_community', MSG.maxLength(16));
  });

  it('Syslog server: port 514, UDP, no logs selected by default', () => {
    expect(create(syslogServerResource, { address: 'syslog.example.com' })).toMatchObject({
      port: 514,
      transport: 'udp',
      support_log: false,
      audit_log: false,
      web_log: false,
    });
    expectIssue(syslogServerResource, { address: 'syslog.example.com', transport: 'relp' }, 'transport', MSG.choice('relp'));
    expectIssue(syslogServerResource, { address: 'syslog.example.com', support_log: 'yes' }, 'support_log', MSG.boolean);
  });

  it('SMTP server: port 587, no connection security, a from address', () => {
    const smtp = { name: 'Mail', address: 'smtp.example.com', from_email_address: 'noreply@example.com' };
    expect(create(smtpServerResource, smtp)).toMatchObject({ port: 587, connection_security: 'none', username: '' });
    expectIssue(smtpServerResource, { ...smtp, from_email_address: 'noreply' }, 'from_email_address', MSG.email);
    expectIssue(smtpServerResource, { ...smtp, from_email_address: '' }, 'from_email_address', MSG.required);
    expectIssue(smtpServerResource, { ...smtp, connection_security: 'tls' }, 'connection_security', MSG.choice('tls'));
    expectValid(smtpServerResource, { ...smtp, connection_security: 'starttls' });
  });

  it('Static route: prefix 0–32 for IPv4, 0–128 for IPv6, gateway of the same family', () => {
    const route = { name: 'to-dmz', address: '10.0.0.0', prefix: 8, gateway: '192.168.0.1' };
    expectValid(staticRouteResource, route);
    expectValid(staticRouteResource, { name: 'v6', address: '2001:db8::', prefix: 64, gateway: '2001:db8::1' });
    expectIssue(staticRouteResource, { ...route, prefix: 33 }, 'prefix', MSG.max(32));
    expectIssue(staticRouteResource, { name: 'v6', address: '2001:db8::', prefix: 129, gateway: '2001:db8::1' }, 'prefix', MSG.max(128));
    expectIssue(staticRouteResource, { ...route, prefix: -1 }, 'prefix', MSG.min(0));
    expectIssue(staticRouteResource, { ...route, prefix: undefined }, 'prefix', MSG.required);
    expectIssue(staticRouteResource, { ...route, address: '10.0.0.0/8' }, 'address', MSG.ip);
    expectIssue(
      staticRouteResource,
      { ...route, gateway: '2001:db8::1' },
      'gateway',
      'The gateway must be an address of the same IP version as the destination network.',
    );
  });

  it('Event sink: URL required, TLS verification only for HTTPS', () => {
    const sink = { name: 'Analytics', url: 'https://events.example.com/sink' };
    expect(create(eventSinkResource, sink)).toMatchObject({ verify_tls_certificate: false, username: '', password: '', bulk_support: false, version: 1 });
    expectIssue(eventSinkResource, { name: 'Analytics' }, 'url', MSG.required);
    expectIssue(eventSinkResource, { ...sink, url: 'events.example.com' }, 'url', MSG.url);
    expectIssue(eventSinkResource, { ...sink, url: 'x'.repeat(501) }, 'url', MSG.maxLength(500));
    expectIssue(
      eventSinkResource,
      { ...sink, url: 'http://events.example.com/', verify_tls_certificate: true },
      'verify_tls_certificate',
      'TLS verification is only valid if the URL is HTTPS.',
    );
    expectValid(eventSinkResource, { ...sink, verify_tls_certificate: true });
    expectIssue(eventSinkResource, { ...sink, version: 0 }, 'version', MSG.min(1));
  });
});
