import { strToU8, zipSync } from 'fflate';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASES } from '../../db/testing.js';
import type { NodeAgent } from '../../node-agent/NodeAgent.js';
import type { NodeConfigSnapshot } from '../../shared/node-protocol/messages.js';
import type { ManagementServer } from '../ManagementServer.js';
import { TestPlatform } from '../../testing/TestPlatform.js';
import { until } from '../../shared/testing/until.js';

const KEY = 'node-config-key';
const BASE = '/api/admin/configuration/v1';
// Secrets that must reach the node but never a log line.
const TURN_PASSWORD = 'Turn-Pa55word-never-logged';
const TURN_SECRET = 'coturn-shared-secret-never-logged';

/** A pino logger at the most verbose level writing into a string, so tests can search what was logged. */
function bufferLogger() {
  const sink = { text: '' };
  const logger = pino({ level: 'trace' }, { write: (s: string) => void (sink.text += s) });
  return { logger, sink };
}

describe.each(TEST_DATABASES)('the node configuration snapshot on $name', ({ open }) => {
  let server: ManagementServer;
  let node: NodeAgent;
  const serverLog = bufferLogger();
  const nodeLog = bufferLogger();
  const auth = { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` };
  let platform: TestPlatform;
  const api = (method: string, path: string, body?: unknown) => platform.api(method, path, body);
  const create = (resource: string, body: object): Promise<string> => platform.create(resource, body);
  const patch = async (uri: string, body: object) => {
    const r = await api('PATCH', uri, body);
    expect(r.status, await r.clone().text()).toBe(202);
  };
  const idOf = (uri: string) => Number(/\/(\d+)\/$/.exec(uri)![1]);
  const held = () => node.link.config;
  /** Resolves once the node holds a snapshot passing `ok`, failing after `ms` (the guide's "within a second" for pushes). */
  const pushed = (ok: (s: NodeConfigSnapshot) => boolean, ms = 1_000) => until(held, (s) => s !== null && ok(s), ms) as Promise<NodeConfigSnapshot>;
  let nodeUri = '';

  beforeAll(async () => {
    platform = await TestPlatform.start({
      database: await open(),
      server: { enrollmentKey: KEY, logger: serverLog.logger },
      node: { name: 'cfg-node', mediaPortRange: [44200, 44299], logger: nodeLog.logger },
    });
    ({ server, node } = platform);
    await until(
      () => node.link.connected && held() !== null,
      (c) => c,
    );
    const list = (await (await api('GET', 'worker_vm/?name=cfg-node')).json()) as { objects: { resource_uri: string }[] };
    nodeUri = list.objects[0]!.resource_uri;
  });
  afterAll(async () => {
    // Once (1 CI run of 4) this hook hung on Postgres; name the step that takes long if it happens again.
    const step = async (what: string, fn: () => Promise<void>) => {
      const slow = setTimeout(() => console.error(`nodeConfig afterAll: ${what} still running after 10 s`), 10_000);
      await fn();
      clearTimeout(slow);
    };
    await step('platform.stop()', async () => platform?.stop());
  });

  it('sends the full snapshot on connect, defaults included', () => {
    const s = held()!;
    expect(s.node).toEqual({ id: idOf(nodeUri), name: 'cfg-node', systemLocation: expect.any(String), maintenanceMode: false });
    expect(s.location).toMatchObject({ name: s.node.systemLocation, clientStunServers: [], clientTurnServers: [], useRelayCandidatesOnly: false });
    expect(s.settings).toEqual({
      guestsOnlyTimeout: 60,
      lastParticipantBackstopTimeout: 0,
      waitingForHostTimeout: 900,
      pinEntryTimeout: 120,
      chatEnabled: true,
      cryptoMode: 'besteffort',
      mediaPorts: [40000, 49999],
      defaultThemeId: null,
      maxPinFailuresPerWindow: 20,
      maxScanAttemptsPerWindow: 20,
      trustedProxies: [],
      enableSip: true,
      enableSipUdp: false,
    });
    expect(s.themes).toEqual([]);
  });

  it("pushes the node's maintenance mode within a second, with a new version", async () => {
    const before = held()!.version;
    await patch(nodeUri, { maintenance_mode: true });
    const s = await pushed((x) => x.node.maintenanceMode);
    expect(s.version).not.toBe(before);
    await patch(nodeUri, { maintenance_mode: false });
    await pushed((x) => !x.node.maintenanceMode);
  });

  it("gives the node its location's client STUN and TURN servers and pushes a TURN server change", async () => {
    const stun = await create('stun_server', { name: 'Google STUN', address: 'stun.l.google.com', port: 19302 });
    const turnA = await create('turn_server', {
      name: 'TURN A',
      address: 'turn-a.example.com',
      port: 3478,
      server_type: 'namepsw',
      transport_type: 'udp',
      username: 'alice',
      password: TURN_PASSWORD,
    });
    const turnB = await create('turn_server', {
      name: 'TURN B',
      address: 'turn-b.example.com',
      port: 443,
      server_type: 'coturn_shared',
      transport_type: 'tls',
      secret_key: TURN_SECRET,
    });
    const node = (await (await fetch(`${server.url}${nodeUri}`, { headers: auth })).json()) as { system_location: string };
    await patch(node.system_location, { client_stun_servers: [stun], client_turn_servers: [turnB, turnA], use_relay_candidates_only: true });

    const s = await pushed((x) => x.location?.clientTurnServers.length === 2);
    expect(s.location).toEqual({
      name: s.node.systemLocation,
      syslogServers: [],
      eventSinks: [],
      policyProfile: null,
      pinBruteForceResistance: true,
      voipScannerResistance: true,
      clientStunServers: [{ address: 'stun.l.google.com', port: 19302 }],
      // In the order the location lists them.
      clientTurnServers: [
        { address: 'turn-b.example.com', port: 443, transport: 'tls', serverType: 'coturn_shared', username: '', password: '', secretKey: TURN_SECRET },
        { address: 'turn-a.example.com', port: 3478, transport: 'udp', serverType: 'namepsw', username: 'alice', password: TURN_PASSWORD, secretKey: '' },
      ],
      useRelayCandidatesOnly: true,
      sipProxy: null,
    });

    await patch(turnA, { address: 'turn-a2.example.com' });
    await pushed((x) => x.location?.clientTurnServers[1]?.address === 'turn-a2.example.com');

    // Moving the node to another location is the node's own change: it gets that location's block.
    const second = await create('system_location', { name: 'Second site' });
    await patch(nodeUri, { system_location: second });
    const moved = await pushed((x) => x.node.systemLocation === 'Second site');
    expect(moved.location).toMatchObject({ name: 'Second site', clientStunServers: [], clientTurnServers: [], useRelayCandidatesOnly: false });
    await patch(nodeUri, { system_location: node.system_location });
    await pushed((x) => x.location?.clientTurnServers.length === 2);
  });

  it('pushes global settings the node acts on', async () => {
    await patch(`${BASE}/global/1/`, {
      guests_only_timeout: 120,
      waiting_for_chair_timeout: 300,
      pin_entry_timeout: 90,
      eject_last_participant_backstop_timeout: 600,
      enable_chat: false,
      media_ports_start: 45000,
      media_ports_end: 45999,
      bdpm_pin_checks_enabled: false,
      bdpm_max_pin_failures_per_window: 30,
      bdpm_max_scan_attempts_per_window: 40,
      trusted_proxies: ['10.0.0.5/32', '2001:db8::/64'],
      enable_sip_udp: true,
      crypto_mode: 'on',
    });
    const s = await pushed((x) => x.settings.guestsOnlyTimeout === 120);
    expect(s.settings).toEqual({
      guestsOnlyTimeout: 120,
      lastParticipantBackstopTimeout: 600,
      waitingForHostTimeout: 300,
      pinEntryTimeout: 90,
      chatEnabled: false,
      cryptoMode: 'on',
      mediaPorts: [45000, 45999],
      defaultThemeId: null,
      maxPinFailuresPerWindow: 30,
      maxScanAttemptsPerWindow: 40,
      trustedProxies: ['10.0.0.5/32', '2001:db8::/64'],
      enableSip: true,
      enableSipUdp: true,
    });
    // Break-in resistance: the global switch, unless the node's location overrides it.
    expect(s.location).toMatchObject({ pinBruteForceResistance: false, voipScannerResistance: true });
    const nodeObj = await (await fetch(`${server.url}${nodeUri}`, { headers: auth })).json();
    await patch(nodeObj.system_location, { bdpm_pin_checks_enabled: 'ON', bdpm_scan_quarantine_enabled: 'OFF' });
    const o = await pushed((x) => x.location?.pinBruteForceResistance === true);
    expect(o.location).toMatchObject({ pinBruteForceResistance: true, voipScannerResistance: false });
    await patch(nodeObj.system_location, { bdpm_pin_checks_enabled: 'GLOBAL', bdpm_scan_quarantine_enabled: 'GLOBAL' });
    await patch(`${BASE}/global/1/`, { bdpm_pin_checks_enabled: true });
  });

  it("carries each service's presenting, chat, Virtual Reception regex and theme fields", async () => {
    const reception = idOf(
      await create('conference', {
        service_type: 'two_stage_dialing',
        name: 'Reception',
        aliases: [{ alias: 'reception' }],
        match_string: '(\\d{4})',
        replace_string: 'meet.\\1',
      }),
    );
    const room = idOf(
      await create('conference', { name: 'Quiet room', aliases: [{ alias: 'quiet' }], guests_can_present: false, enable_chat: 'no', crypto_mode: 'off' }),
    );
    const chatty = idOf(await create('conference', { name: 'Chatty room', aliases: [{ alias: 'chatty' }], enable_chat: 'yes' }));
    const s = await pushed((x) => [reception, room, chatty].every((id) => x.services.some((svc) => svc.id === id)));
    const svc = (id: number) => s.services.find((x) => x.id === id);
    expect(svc(reception)).toMatchObject({
      serviceType: 'two_stage_dialing',
      matchString: '(\\d{4})',
      replaceString: 'meet.\\1',
      chatEnabled: null,
      themeId: null,
    });
    expect(svc(room)).toMatchObject({
      serviceType: 'conference',
      guestsCanPresent: false,
      chatEnabled: false,
      cryptoMode: 'off',
      matchString: '',
      replaceString: '',
    });
    expect(svc(chatty)).toMatchObject({ guestsCanPresent: true, chatEnabled: true, cryptoMode: null });
  });

  it("gives a Virtual Auditorium its guest view and a Test Call Service no PINs, each from its own type's fields", async () => {
    const auditorium = idOf(
      await create('conference', {
        service_type: 'lecture',
        name: 'Town hall',
        aliases: [{ alias: 'townhall' }],
        pin: '4321',
        host_view: 'one_main_zero_pips',
        guest_view: 'four_mains_zero_pips',
        mute_all_guests: true,
        participant_limit: 250,
      }),
    );
    const testCall = idOf(await create('conference', { service_type: 'test_call', name: 'Echo', aliases: [{ alias: 'echo.test' }], tag: 'selftest' }));
    const s = await pushed((x) => [auditorium, testCall].every((id) => x.services.some((svc) => svc.id === id)));
    const svc = (id: number) => s.services.find((x) => x.id === id);
    expect(svc(auditorium)).toMatchObject({
      serviceType: 'lecture',
      pin: '4321',
      hostView: 'one_main_zero_pips',
      guestView: 'four_mains_zero_pips',
      muteAllGuests: true,
      participantLimit: 250,
      aliases: ['townhall'],
    });
    expect(svc(testCall)).toEqual({
      id: testCall,
      name: 'Echo',
      serviceType: 'test_call',
      pin: '',
      guestPin: '',
      allowGuests: false,
      participantLimit: null,
      aliases: ['echo.test'],
      guestsCanPresent: true,
      tag: 'selftest',
      chatEnabled: null,
      cryptoMode: null,
      matchString: '',
      replaceString: '',
      themeId: null,
      hostView: 'one_main_seven_pips',
      guestView: 'one_main_seven_pips',
      muteAllGuests: false,
      automaticParticipants: [],
    });
  });

  it("gives Call Routing Rules their locations' names and the SIP proxy's address", async () => {
    const from = await create('system_location', { name: 'Routing from' });
    const to = await create('system_location', { name: 'Routing to' });
    const proxy = await create('sip_proxy', { name: 'Edge proxy', address: 'proxy.example.com', port: 5070 });
    const routed = idOf(
      await create('gateway_routing_rule', {
        name: 'Routed out',
        priority: 20,
        match_string: '.*@example\\.com',
        match_source_location: from,
        outgoing_location: to,
        sip_proxy: proxy,
      }),
    );
    const plain = idOf(await create('gateway_routing_rule', { name: 'Plain', priority: 5, match_string: '.*', enable: false }));
    const s = await pushed((x) => [routed, plain].every((id) => x.routingRules.some((r) => r.id === id)));
    // In priority order, a disabled rule listed too.
    expect(s.routingRules.filter((r) => r.id === routed || r.id === plain).map((r) => r.name)).toEqual(['Plain', 'Routed out']);
    expect(s.routingRules.find((r) => r.id === routed)).toMatchObject({
      match_source_location_name: 'Routing from',
      outgoing_location_name: 'Routing to',
      sip_proxy_address: 'proxy.example.com:5070;transport=tls',
    });
    expect(s.routingRules.find((r) => r.id === plain)).toMatchObject({
      enable: false,
      match_source_location_name: null,
      outgoing_location_name: null,
      sip_proxy_address: null,
    });
    await patch(proxy, { address: 'proxy2.example.com' });
    await pushed((x) => x.routingRules.find((r) => r.id === routed)?.sip_proxy_address === 'proxy2.example.com:5070;transport=tls');
  });

  it('lists uploaded themes with a content hash and gives a VMR its theme', async () => {
    const upload = async (method: string, path: string, zip: Uint8Array, name?: string) => {
      const form = new FormData();
      if (name) form.append('name', name);
      form.append('package', new Blob([new Uint8Array(zip)], { type: 'application/zip' }), 'theme.zip');
      return fetch(`${server.url}${path}`, { method, headers: auth, body: form });
    };
    const res = await upload('POST', `${BASE}/ivr_theme/`, zipSync({ 'themeconfig.json': strToU8('{"theme_version": 2}') }), 'Corporate');
    expect(res.status, await res.clone().text()).toBe(201);
    const themeUri = new URL(res.headers.get('location')!, server.url).pathname;
    const themeId = idOf(themeUri);
    const withTheme = await pushed((x) => x.themes.some((t) => t.id === themeId));
    const firstHash = withTheme.themes.find((t) => t.id === themeId)!.hash;
    expect(firstHash).toMatch(/^[0-9a-f]{64}$/);

    const vmr = idOf(await create('conference', { name: 'Branded room', aliases: [{ alias: 'branded' }], ivr_theme: themeUri }));
    const s = await pushed((x) => x.services.some((svc) => svc.id === vmr));
    expect(s.services.find((svc) => svc.id === vmr)!.themeId).toBe(themeId);

    await patch(`${BASE}/global/1/`, { default_theme: themeUri });
    await pushed((x) => x.settings.defaultThemeId === themeId);

    // A new package changes the hash, so the node knows to fetch it again.
    const replaced = await upload('PATCH', themeUri, zipSync({ 'themeconfig.json': strToU8('{"theme_version": 2, "recording_indicator_text": "REC"}') }));
    expect(replaced.status, await replaced.clone().text()).toBe(202);
    const after = await pushed((x) => x.themes.find((t) => t.id === themeId)?.hash !== firstHash);
    expect(after.themes.find((t) => t.id === themeId)!.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('never writes TURN credentials to the logs', () => {
    // The TURN servers were pushed above, so the secrets went through every logging path there is.
    expect(held()!.location?.clientTurnServers.map((t) => t.password || t.secretKey)).toEqual([TURN_SECRET, TURN_PASSWORD]);
    expect(serverLog.sink.text.length).toBeGreaterThan(0);
    for (const log of [serverLog.sink.text, nodeLog.sink.text]) {
      expect(log).not.toContain(TURN_PASSWORD);
      expect(log).not.toContain(TURN_SECRET);
    }
  });
});
