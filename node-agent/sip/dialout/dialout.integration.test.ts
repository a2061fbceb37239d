import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../../shared/testing/until.js';
import type { Conference } from '../../conference/Conference.js';
import { TestPlatform } from '../../../testing/TestPlatform.js';
import { toneLevelDb, type BaresipCallResult } from '../../testing/baresip.js';
import { startBaresipCallee, type BaresipCallee } from '../../testing/baresipCallee.js';
import { MediaTestClient } from '../../testing/MediaTestClient.js';
import { freePort, sippDevice } from '../../testing/sipp.js';

/**
 * Calls the conference places: a Host's client API `dial` rings a real baresip that auto-answers;
 * it joins with the role asked, hears the Host's tone and is heard (each has its own tone).
 */
const TONES = { host: 440, callee: 700 } as const;
const PORTS: [number, number] = [47_400, 47_599];
const ALIAS = 'meet.dialout';

describe('dial-out to SIP phones', () => {
  let platform: TestPlatform;
  const clients: MediaTestClient[] = [];
  const callees: BaresipCallee[] = [];

  beforeAll(async () => {
    platform = await TestPlatform.start({ node: { sipPort: 0 } });
    await platform.rest('POST', 'conference/', { name: 'Dial room', aliases: [{ alias: ALIAS }, { alias: 'dial.room@example.com' }], pin: '1357' });
    await until(
      () => platform.node.manager.directory.lookup(ALIAS),
      (s) => s !== undefined,
    );
  }, 60_000);
  afterAll(async () => {
    await Promise.all(callees.map((c) => c.stop()));
    await Promise.all(clients.map((c) => c.close()));
    await platform?.stop();
  });

  /** A Host in the meeting over the client API, its media a MediaTestClient sending `toneHz`. */
  const host = async (name: string, toneHz: number) => {
    const r = await platform.client(ALIAS, 'request_token', { body: { display_name: name }, pin: '1357' });
    expect(r.status).toBe(200);
    const { token, participant_uuid: uuid } = (await r.json()).result as { token: string; participant_uuid: string };
    const conf = platform.node.manager.conferences().find((c) => c.get(uuid))!;
    const client = new MediaTestClient(name, PORTS, { toneHz });
    clients.push(client);
    await client.join(conf.media, uuid);
    client.startSending(20, ['audio']);
    return { token, uuid, conf, client };
  };

  /** A Host's client API `dial` (its uuid at once), then the dialled call answered: its leg is up. */
  const dialAnswered = async (token: string, conf: Conference, body: Record<string, unknown>): Promise<string> => {
    const r = await platform.client(ALIAS, 'dial', { token, body });
    expect(r.status).toBe(200);
    const uuid = (await r.json()).result[0] as string;
    await until(
      () => conf.get(uuid)?.leg ?? null,
      (leg) => leg !== null,
      20_000,
    );
    return uuid;
  };

  /** The phone answered: in the conference, the Host hears it, it hears the Host and not itself, and its hang-up ends it there. */
  const callConnects = async (conf: Conference, uuid: string, callee: BaresipCallee, client: MediaTestClient, hostTone: number) => {
    await client.waitFor('the callee heard by the Host', () => client.toneLevelDb(TONES.callee) > -40, 20_000);
    const hostHears = client.toneLevelDb(TONES.callee);
    // A few seconds of the Host's tone for the phone to decode.
    await new Promise((r) => setTimeout(r, 3_000));
    const heard = await stop(callee);
    expect(heard.heard, 'baresip decoded audio').not.toBeNull();
    const end = (heard.heard!.samples.length / heard.heard!.sampleRate) * 1000 - 1_500;
    const levels = { host: toneLevelDb(heard.heard!, hostTone, end - 2_000, end), self: toneLevelDb(heard.heard!, TONES.callee, end - 2_000, end) };
    console.info(`dial-out: the Host hears the callee at ${hostHears.toFixed(1)} dBFS; the callee decoded ${JSON.stringify(levels)} dBFS`);
    expect(levels.host, JSON.stringify(levels)).toBeGreaterThan(-40);
    expect(levels.self, JSON.stringify(levels)).toBeLessThan(levels.host - 20);
    // Its hang-up (BYE) takes it out of the conference.
    await until(
      () => conf.get(uuid),
      (p) => p === undefined,
      15_000,
    );
  };

  it('a Host dials a phone: dial answers its uuid at once; it rings, answers, joins as a Guest, hears the Host and is heard', async () => {
    const { token, conf, client } = await host('Host', TONES.host);
    const callee = await startBaresipCallee({ user: 'bob', toneHz: TONES.callee });
    callees.push(callee);
    const r = await platform.client(ALIAS, 'dial', {
      token,
      body: { role: 'GUEST', destination: callee.address, protocol: 'sip', remote_display_name: 'Bob' },
    });
    const body = await r.json();
    expect(r.status, JSON.stringify(body)).toBe(200);
    expect(body.result).toHaveLength(1);
    const uuid = body.result[0] as string;
    expect(conf.get(uuid)?.displayName).toBe('Bob');
    await until(
      () => conf.get(uuid)?.leg ?? null,
      (leg) => leg !== null,
      20_000,
    );
    expect(conf.get(uuid)!.toClientObject('conference')).toMatchObject({ role: 'guest', protocol: 'sip', call_direction: 'out', display_name: 'Bob' });
    // The caller ID is the conference's first alias valid for SIP.
    expect(callee.output()).toMatch(/dial\.room@example\.com/);
    await callConnects(conf, uuid, callee, client, TONES.host);
  }, 90_000);

  it('command API participant/dial: the node hosting the conference calls the phone in as a Host; the answer names the participant', async () => {
    const { conf, client } = await host('Host 3', 587);
    const callee = await startBaresipCallee({ user: 'carol', toneHz: TONES.callee });
    callees.push(callee);
    const r = await platform.api('POST', '/api/admin/command/v1/participant/dial/', {
      conference_alias: ALIAS,
      destination: `sip:${callee.address}`,
      role: 'chair',
      remote_display_name: 'Carol',
    });
    const body = await r.json();
    expect(r.status, JSON.stringify(body)).toBe(200);
    const uuid = body.data.participant_id as string;
    expect(conf.get(uuid)).toBeDefined();
    await until(
      () => conf.get(uuid)?.leg ?? null,
      (leg) => leg !== null,
      20_000,
    );
    expect(conf.get(uuid)!.toClientObject('conference')).toMatchObject({ role: 'chair', call_direction: 'out', display_name: 'Carol' });
    // The conference alias asked for is the caller ID.
    expect(callee.output()).toMatch(/meet\.dialout@/);
    await callConnects(conf, uuid, callee, client, 587);
    const unknown = await platform.api('POST', '/api/admin/command/v1/participant/dial/', { conference_alias: 'no.such.room', destination: 'x@127.0.0.1' });
    expect(unknown.status).toBe(400);
  }, 90_000);

  it('Automatically Dialed Participants: when the first participant starts the conference, each is dialled once; one that answers is heard and hears, one that cannot be reached leaves with its reason', async () => {
    const callee = await startBaresipCallee({ user: 'dave', toneHz: TONES.callee });
    callees.push(callee);
    const room = await platform.create('conference', { name: 'ADP room', aliases: [{ alias: 'meet.adp' }], pin: '2468' });
    await platform.rest('POST', 'automatic_participant/', { alias: callee.address, remote_display_name: 'Dave', role: 'chair', conference: [room] });
    await platform.rest('POST', 'automatic_participant/', { alias: 'unreachable', conference: [room] });
    await until(
      () => platform.node.manager.directory.lookup('meet.adp')?.automaticParticipants.length ?? 0,
      (n) => n === 2,
      15_000,
    );
    const left = new Map<string, string>();
    const onLeft = (_c: Conference, p: { displayName: string }, reason: string) => left.set(p.displayName, reason);
    platform.node.manager.on('participantLeft', onLeft);
    const r = await platform.client('meet.adp', 'request_token', { body: { display_name: 'First' }, pin: '2468' });
    expect(r.status).toBe(200);
    const { participant_uuid: uuid } = (await r.json()).result as { participant_uuid: string };
    const conf = platform.node.manager.conferences().find((c) => c.get(uuid))!;
    const client = new MediaTestClient('First', PORTS, { toneHz: 659 });
    clients.push(client);
    await client.join(conf.media, uuid);
    client.startSending(20, ['audio']);
    const dave = (await until(
      () => conf.participants.find((p) => p.displayName === 'Dave' && p.leg !== null),
      (p) => p !== undefined,
      20_000,
    ))!;
    expect(dave.toClientObject('conference')).toMatchObject({ role: 'chair', call_direction: 'out', protocol: 'sip' });
    await until(
      () => left.get('unreachable'),
      (why) => why !== undefined,
      10_000,
    );
    expect(left.get('unreachable')).toBe('Call rejected: 404 Not Found');
    await callConnects(conf, dave.id, callee, client, 659);
    platform.node.manager.off('participantLeft', onLeft);
    // Dialled once: nobody rings it again while the conference goes on.
    expect(conf.participants.filter((p) => p.callDirection === 'out')).toHaveLength(0);
  }, 90_000);

  it("the console's Dial out to participant (tRPC command.dial, by the conference's name) rings the phone in with the role and name given", async () => {
    const { conf, client } = await host('Host 5', 587);
    const callee = await startBaresipCallee({ user: 'frank', toneHz: TONES.callee });
    callees.push(callee);
    const login = await fetch(`${platform.server.url}/trpc/auth.login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'pw' }),
    });
    expect(login.status).toBe(200);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const r = await fetch(`${platform.server.url}/trpc/command.dial`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ conferenceName: 'Dial room', destination: callee.address, role: 'guest', displayName: 'Frank' }),
    });
    const body = await r.json();
    expect(r.status, JSON.stringify(body)).toBe(200);
    const uuid = body.result.data.participant_id as string;
    await until(
      () => conf.get(uuid)?.leg ?? null,
      (leg) => leg !== null,
      20_000,
    );
    expect(conf.get(uuid)!.toClientObject('conference')).toMatchObject({ role: 'guest', call_direction: 'out', display_name: 'Frank' });
    // The service's first alias is the caller ID.
    expect(callee.output()).toMatch(/meet\.dialout@/);
    await callConnects(conf, uuid, callee, client, 587);
  }, 90_000);

  it("the dial's DTMF sequence is keyed by SIP INFO (application/dtmf-relay) 3 s after the answer, a comma pausing 2 s", async () => {
    const { token, conf } = await host('Host 4', 494);
    const callee = await startBaresipCallee({ user: 'erin', toneHz: TONES.callee });
    callees.push(callee);
    const uuid = await dialAnswered(token, conf, { role: 'GUEST', destination: callee.address, protocol: 'sip', dtmf_sequence: '1,#' });
    const answeredAt = Date.now();
    await until(
      () => callee.output(),
      (out) => /DTMF[^\n]*#/i.test(out),
      15_000,
    );
    // Both keys, in order; the '#' after the 3-s start, the first key's 0.5 s and the comma's 2 s.
    expect(Date.now() - answeredAt).toBeGreaterThan(4_500);
    expect(callee.output()).toMatch(/received DTMF: '1'[\s\S]*received DTMF: '#'/);

    // A Host's keys for the dialled participant (client API participant `dtmf`) reach the phone, in order.
    const keyed = await platform.client(ALIAS, `participants/${uuid}/dtmf`, { token, body: { digits: '42*' } });
    expect(keyed.status).toBe(200);
    await until(
      () => callee.output(),
      (out) => /received DTMF: '4'[\s\S]*received DTMF: '2'[\s\S]*received DTMF: '\*'/.test(out),
      10_000,
    );
    await stop(callee);
  }, 60_000);

  it('an ADP routed Automatically goes where the outgoing Call Routing Rule sends it; a dial with protocol auto that no rule matches fails', async () => {
    const callee = await startBaresipCallee({ user: 'gina', toneHz: TONES.callee });
    callees.push(callee);
    const rules = platform.node.manager.directory.routingRules.length;
    await platform.rest('POST', 'gateway_routing_rule/', {
      name: 'ADPs out',
      priority: 20,
      match_string: 'adp\\.(.+)',
      replace_string: `\\1@127.0.0.1:${callee.port}`,
      match_incoming_calls: false,
      match_outgoing_calls: true,
      called_device_type: 'external',
      outgoing_protocol: 'sip',
    });
    const room = await platform.create('conference', { name: 'Routed ADP room', aliases: [{ alias: 'meet.adp.routed' }], pin: '2468' });
    await platform.rest('POST', 'automatic_participant/', { alias: 'adp.gina', remote_display_name: 'Gina', routing: 'routing_rule', conference: [room] });
    await until(
      () => [platform.node.manager.directory.routingRules.length, platform.node.manager.directory.lookup('meet.adp.routed')?.automaticParticipants.length ?? 0],
      ([r, a]) => r === rules + 1 && a === 1,
      15_000,
    );
    const r = await platform.client('meet.adp.routed', 'request_token', { body: { display_name: 'Starter' }, pin: '2468' });
    expect(r.status).toBe(200);
    const { participant_uuid: uuid, token } = (await r.json()).result as { participant_uuid: string; token: string };
    const conf = platform.node.manager.conferences().find((c) => c.get(uuid))!;
    const client = new MediaTestClient('Starter', PORTS, { toneHz: 659 });
    clients.push(client);
    await client.join(conf.media, uuid);
    client.startSending(20, ['audio']);
    const gina = (await until(
      () => conf.participants.find((p) => p.displayName === 'Gina' && p.leg !== null),
      (p) => p !== undefined,
      20_000,
    ))!;
    await callConnects(conf, gina.id, callee, client, 659);
    const auto = await platform.client('meet.adp.routed', 'dial', { token, body: { role: 'GUEST', destination: 'nomatch.x', protocol: 'auto' } });
    expect(auto.status).toBe(403);
    expect((await auto.json()).result).toBe('Gateway dial out failed');
  }, 90_000);

  it("a manual dial-out goes through the node's system location's SIP proxy (the Request-URI stays the destination's)", async () => {
    const { token, conf } = await host('Host 6', 494);
    const callee = await startBaresipCallee({ user: 'ivy', toneHz: TONES.callee });
    callees.push(callee);
    const nodes = (await (await platform.rest('GET', 'worker_vm/')).json()) as { objects: { system_location: string }[] };
    const location = nodes.objects[0]!.system_location;
    const proxy = await platform.create('sip_proxy', { name: 'Test proxy', address: '127.0.0.1', port: callee.port, transport: 'udp' });
    await platform.rest('PATCH', location.replace(/^.*\/configuration\/v1\//, ''), { sip_proxy: proxy });
    await until(
      () => platform.node.manager.location?.sipProxy,
      (p) => p === `127.0.0.1:${callee.port};transport=udp`,
      15_000,
    );
    // TEST-NET-1: nothing answers there; only the proxy (this baresip) can take the call.
    await dialAnswered(token, conf, { role: 'GUEST', destination: 'ivy@192.0.2.99:5999', protocol: 'sip', remote_display_name: 'Ivy' });
    expect(callee.output()).toMatch(/established/i);
    await stop(callee);
    await platform.rest('PATCH', location.replace(/^.*\/configuration\/v1\//, ''), { sip_proxy: null });
    await until(
      () => platform.node.manager.location?.sipProxy,
      (p) => p === null,
      15_000,
    );
  }, 60_000);

  it("a call nobody can take leaves the conference with its reason; other protocols fail with the guide's reason", async () => {
    const { token, conf } = await host('Host 2', 523);
    const reasons = new Map<string, string>();
    conf.on('participantLeft', (p, reason) => reasons.set(p.id, reason));
    // An alias without a host and no registration: 404 from the fork, at once.
    const r = await platform.client(ALIAS, 'dial', { token, body: { role: 'HOST', destination: 'nobody', protocol: 'sip' } });
    expect(r.status).toBe(200);
    const uuid = (await r.json()).result[0] as string;
    await until(
      () => reasons.get(uuid),
      (why) => why !== undefined,
      10_000,
    );
    expect(reasons.get(uuid)).toBe('Call rejected: 404 Not Found');
    const h323 = await platform.client(ALIAS, 'dial', { token, body: { role: 'GUEST', destination: 'x@127.0.0.1', protocol: 'h323' } });
    expect(h323.status).toBe(403);
    expect((await h323.json()).result).toBe('Gateway dial out failed');
  }, 60_000);

  it('a dialled device that sends a re-INVITE without an offer gets our offer (sendrecv) in the 200, answers in the ACK, and stays in the call (sipp)', async () => {
    const { token, conf } = await host('Host 3', 587);
    const port = await freePort();
    const device = sippDevice('uas-reinvite-no-offer.xml', port);
    await new Promise((r) => setTimeout(r, 300));
    const uuid = await dialAnswered(token, conf, { role: 'GUEST', destination: `device@127.0.0.1:${port}`, protocol: 'sip' });
    // sipp re-INVITEs 500 ms after the ACK; before this change the node answered 488 and sipp failed.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(conf.get(uuid), 'still in the conference after the re-INVITE').toBeDefined();
    const bye = await platform.client(ALIAS, `participants/${uuid}/disconnect`, { token });
    expect(bye.status).toBe(200);
    expect(await device, 'sipp saw our offer in the 200 (m=audio, a=sendrecv), then our BYE').toBe(0);
  }, 60_000);

  async function stop(c: BaresipCallee): Promise<BaresipCallResult> {
    callees.splice(callees.indexOf(c), 1);
    return c.stop();
  }
});
