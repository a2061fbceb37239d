import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeAgent } from './NodeAgent.js';
import { TestPlatform } from '../testing/TestPlatform.js';
import { until } from '../shared/testing/until.js';

/**
 * Break-in resistance end to end (guide-digest-2 §5): thresholds and switches set through the
 * management REST API, attacks made with real client API requests to the node, and the node's own
 * pino log records checked against the guide's messages. All requests come from 127.0.0.1, so each
 * scenario ends by switching the protection off in the node's location (which forgets its state).
 */
const KEY = 'break-in-key';
const NOT_FOUND = { status: 'failed', result: 'Neither conference nor gateway found' };

describe('break-in resistance on a conferencing node', () => {
  let platform: TestPlatform;
  let node: NodeAgent;
  let locationUri: string;
  /** Every record the node logged at info and above. */
  const records: Record<string, unknown>[] = [];
  const rest = (method: string, path: string, body?: object) => platform.rest(method, path, body);
  const policy = () => node.manager.breakIn.current;
  const setLocation = async (body: { bdpm_pin_checks_enabled?: string; bdpm_scan_quarantine_enabled?: string }, ok: () => boolean) => {
    await rest('PATCH', locationUri, body);
    await until(ok, (v) => v);
  };
  const requestToken = (alias: string, name: string, pin?: string) =>
    fetch(`${node.url}/api/client/v2/conferences/${encodeURIComponent(alias)}/request_token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(pin !== undefined ? { pin } : {}) },
      body: JSON.stringify({ display_name: name }),
    });
  const withToken = (alias: string, path: string, token: string, method = 'GET') =>
    fetch(`${node.url}/api/client/v2/conferences/${encodeURIComponent(alias)}/${path}`, {
      method,
      headers: { token, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
      body: method === 'POST' ? '{}' : undefined,
    });
  const withTokenBody = (alias: string, path: string, token: string, body: object) =>
    fetch(`${node.url}/api/client/v2/conferences/${encodeURIComponent(alias)}/${path}`, {
      method: 'POST',
      headers: { token, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const logged = (msg: string) => records.filter((r) => r.msg === msg);

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _enc, cb) {
        for (const line of String(chunk).split('\n')) if (line) records.push(JSON.parse(line));
        cb();
      },
    });
    platform = await TestPlatform.start({
      server: { enrollmentKey: KEY },
      node: { name: 'bdpm-node', mediaPortRange: [45000, 45999], logger: pino({ level: 'info' }, sink) },
    });
    node = platform.node;
    const nodes = await (await rest('GET', 'worker_vm/')).json();
    locationUri = nodes.objects.find((n: { name: string }) => n.name === 'bdpm-node').system_location;
    expect(locationUri).toMatch(/system_location\/\d+\/$/);
    await rest('PATCH', 'global/1/', { bdpm_max_pin_failures_per_window: 5, bdpm_max_scan_attempts_per_window: 5 });
    await rest('POST', 'conference/', {
      name: "Alice's VMR",
      aliases: [{ alias: 'alice' }, { alias: 'meet.alice' }, { alias: '5551' }],
      pin: '123456',
      allow_guests: true,
      guest_pin: '654321',
    });
    await rest('POST', 'conference/', { name: 'Open room', aliases: [{ alias: 'open' }] });
    await until(
      () => [node.manager.directory.lookup('alice'), node.manager.directory.lookup('open'), policy().maxPinFailuresPerWindow],
      ([a, o, n]) => !!a && !!o && n === 5,
    );
    expect(policy()).toEqual({ pinBruteForceResistance: true, voipScannerResistance: true, maxPinFailuresPerWindow: 5, maxScanAttemptsPerWindow: 5 });
  });
  afterAll(() => platform?.stop());

  it('blocks a VMR after more than the threshold of wrong PINs: even the right PIN then finds nothing', async () => {
    const host = await requestToken('alice', 'Alice', '123456');
    expect(host.status).toBe(200);
    const hostToken = (await host.json()).result.token as string;

    for (let i = 1; i <= 5; i++) {
      const r = await requestToken('alice', `Mallory ${i}`, '000000');
      expect(r.status).toBe(403);
      expect(await r.json()).toEqual({ status: 'success', result: 'Invalid PIN' });
    }
    // Exactly the threshold: the service still answers.
    const fifth = await requestToken('alice', 'Guest', '654321');
    expect(fifth.status).toBe(200);
    const guestToken = (await fifth.json()).result.token as string;
    expect(logged('Break-in prevention policy blocking all attempts to join this service.')).toHaveLength(0);

    const sixth = await requestToken('meet.alice', 'Mallory 6', '999999');
    expect(sixth.status).toBe(403);
    const started = logged('Break-in prevention policy blocking all attempts to join this service.');
    expect(started).toHaveLength(1);
    expect(started[0]).toMatchObject({
      level: 30,
      part: 'conference',
      node: 'bdpm-node',
      ConferenceAlias: 'meet.alice',
      Service: "Alice's VMR",
      Participant: 'Mallory 6',
      Protocol: 'API',
      Direction: 'in',
      'Remote-address': '127.0.0.1',
      Reason: 'Service appears to be under PIN break-in attack',
      remaining_block_duration_seconds: '600',
    });

    // Now every new attempt, with the right Host or Guest PIN, no PIN or a wrong one, looks like a non-existent alias.
    for (const [alias, pin] of [
      ['alice', '123456'],
      ['meet.alice', '654321'],
      ['alice', undefined],
      ['alice', '111111'],
    ] as const) {
      const r = await requestToken(alias, 'Alice again', pin);
      expect(r.status).toBe(404);
      expect(await r.json()).toEqual(NOT_FOUND);
    }
    const during = logged('Break-in prevention policy blocking all attempts to join this service.').slice(1);
    expect(during).toHaveLength(4);
    expect(during[0]).toMatchObject({ ConferenceAlias: 'alice', Participant: 'Alice again', Reason: 'Service appears to be under PIN break-in attack' });
    for (const r of during) expect(Number(r.remaining_block_duration_seconds)).toBeGreaterThan(590);
    for (const r of during) expect(Number(r.remaining_block_duration_seconds)).toBeLessThanOrEqual(600);
    // Other services still work.
    expect((await requestToken('open', 'Bystander')).status).toBe(200);

    // Those already in the conference are unaffected.
    expect((await withToken('alice', 'refresh_token', hostToken, 'POST')).status).toBe(200);
    const list = await (await withToken('alice', 'participants', guestToken)).json();
    expect(list.result.map((p: { display_name: string }) => p.display_name).sort()).toEqual(['Alice', 'Guest']);

    // The location turns PIN brute force resistance off: the block no longer applies, at once.
    await setLocation({ bdpm_pin_checks_enabled: 'OFF' }, () => !policy().pinBruteForceResistance);
    const again = await requestToken('alice', 'Alice again', '123456');
    expect(again.status).toBe(200);
    expect((await again.json()).result.role).toBe('HOST');
    // While off, wrong PINs are not counted.
    for (let i = 0; i < 8; i++) expect((await requestToken('alice', 'Mallory', '000000')).status).toBe(403);
    await setLocation({ bdpm_pin_checks_enabled: 'GLOBAL' }, () => policy().pinBruteForceResistance);
    expect((await requestToken('alice', 'Alice', '123456')).status).toBe(200);
    await setLocation({ bdpm_pin_checks_enabled: 'OFF' }, () => !policy().pinBruteForceResistance);
  });

  it('quarantines an address after more than the threshold of unknown aliases: then even an existing alias is refused', async () => {
    const before = records.length;
    for (let i = 1; i <= 5; i++) {
      const r = await requestToken(`guess-${i}`, 'Scanner');
      expect(r.status).toBe(404);
      expect(await r.json()).toEqual(NOT_FOUND);
    }
    expect((await requestToken('open', 'Scanner')).status).toBe(200);
    expect(logged('Participant has been quarantined by Break-in prevention policy due to excessive failed join attempts.')).toHaveLength(0);

    expect((await requestToken('guess-6', 'Scanner')).status).toBe(404);
    const quarantined = logged('Participant has been quarantined by Break-in prevention policy due to excessive failed join attempts.');
    expect(quarantined).toHaveLength(1);
    expect(quarantined[0]).toMatchObject({
      level: 30,
      part: 'conference',
      Participant: 'Scanner',
      Protocol: 'API',
      Direction: 'in',
      'Remote-address': '127.0.0.1',
      Reason: 'Too many attempts to join non-existent aliases',
      remaining_block_duration_seconds: '600',
    });

    const refused = await requestToken('open', 'Scanner');
    expect(refused.status).toBe(404);
    expect(await refused.json()).toEqual(NOT_FOUND);
    const rejected = logged('Break-in prevention policy rejecting call attempt from quarantined caller.');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({
      level: 30,
      Protocol: 'API',
      Direction: 'in',
      'Local-alias': "[u'open']",
      'Remote-address': '127.0.0.1',
      Reason: 'Suspicious join attempt rejected',
    });
    expect(Number(rejected[0]!.remaining_block_duration_seconds)).toBeGreaterThan(590);
    expect(Number(rejected[0]!.remaining_block_duration_seconds)).toBeLessThanOrEqual(600);
    // No other log line claims the call was handled otherwise (e.g. a conference started for it).
    expect(records.slice(before).filter((r) => r.msg === 'conference instance started' && r.conference === 'Open room')).toHaveLength(0);

    // Turning VOIP scanner resistance off in the location lifts the quarantine at once.
    await setLocation({ bdpm_scan_quarantine_enabled: 'OFF' }, () => !policy().voipScannerResistance);
    expect((await requestToken('open', 'Scanner')).status).toBe(200);
    for (let i = 0; i < 8; i++) expect((await requestToken(`guess-${i}`, 'Scanner')).status).toBe(404);
    expect((await requestToken('open', 'Scanner')).status).toBe(200);
  });

  it('does nothing when the global switches are off (the location using the global setting)', async () => {
    await rest('PATCH', 'global/1/', { bdpm_pin_checks_enabled: false, bdpm_scan_quarantine_enabled: false });
    await setLocation({ bdpm_pin_checks_enabled: 'GLOBAL', bdpm_scan_quarantine_enabled: 'GLOBAL' }, () => true);
    await until(
      () => node.manager.location,
      (l) => l?.pinBruteForceResistance === false && l.voipScannerResistance === false,
    );
    const logsBefore = records.length;
    for (let i = 0; i < 8; i++) expect((await requestToken('alice', 'Mallory', '000000')).status).toBe(403);
    for (let i = 0; i < 8; i++) expect((await requestToken(`nobody-${i}`, 'Scanner')).status).toBe(404);
    expect((await requestToken('alice', 'Alice', '123456')).status).toBe(200);
    expect((await requestToken('open', 'Scanner')).status).toBe(200);
    expect(records.slice(logsBefore).filter((r) => String(r.msg).startsWith('Break-in prevention') || String(r.msg).includes('quarantined'))).toEqual([]);
    // Switched on again globally, with the threshold of 5, the same traffic is blocked.
    await rest('PATCH', 'global/1/', { bdpm_pin_checks_enabled: true });
    await until(
      () => policy().pinBruteForceResistance,
      (v) => v,
    );
    for (let i = 0; i < 6; i++) expect((await requestToken('alice', 'Mallory', '000000')).status).toBe(403);
    expect((await requestToken('alice', 'Alice', '123456')).status).toBe(404);
  });

  it('applies to Virtual Reception entries: a blocked service is an invalid number, unknown numbers count against the address', async () => {
    // State from above: Alice's VMR is blocked (PIN brute force on); VOIP scanner resistance is switched on now.
    await rest('POST', 'conference/', { name: 'Reception', service_type: 'two_stage_dialing', aliases: [{ alias: 'reception' }] });
    await rest('PATCH', 'global/1/', { bdpm_scan_quarantine_enabled: true });
    await until(
      () => [node.manager.directory.lookup('reception'), policy().voipScannerResistance],
      ([r, on]) => !!r && on === true,
    );
    const enter = async (digits: string) => {
      const r = await requestToken('reception', 'Caller');
      expect(r.status).toBe(200);
      const me = (await r.json()).result;
      const d = await withTokenBody('reception', `participants/${me.participant_uuid}/dtmf`, me.token, { digits });
      expect(d.status).toBe(200);
    };
    const invalid = () => records.filter((r) => r.msg === 'Virtual Reception: invalid conference ID entered').map((r) => r.why);

    await enter('5551#');
    expect(invalid().at(-1)).toBe('service blocked by break-in prevention');
    expect(logged('Break-in prevention policy blocking all attempts to join this service.').at(-1)).toMatchObject({
      ConferenceAlias: '5551',
      Service: "Alice's VMR",
      Participant: 'Caller',
    });
    expect(records.filter((r) => r.msg === 'Virtual Reception transferring participant')).toHaveLength(0);

    // Six unknown numbers over two reception calls (three each): the sixth quarantines the address.
    const quarantines = () => logged('Participant has been quarantined by Break-in prevention policy due to excessive failed join attempts.');
    const before = quarantines().length;
    await enter('9001#9002#9003#');
    expect(quarantines()).toHaveLength(before);
    await enter('9004#9005#9006#');
    const q = quarantines();
    expect(q).toHaveLength(before + 1);
    expect(q.at(-1)).toMatchObject({ Participant: 'Caller', 'Remote-address': '127.0.0.1', Reason: 'Too many attempts to join non-existent aliases' });
    const refused = await requestToken('reception', 'Caller');
    expect(refused.status).toBe(404);
    expect(logged('Break-in prevention policy rejecting call attempt from quarantined caller.').at(-1)).toMatchObject({ 'Local-alias': "[u'reception']" });
  });
});
