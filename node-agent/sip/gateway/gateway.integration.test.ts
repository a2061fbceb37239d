import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../../shared/testing/until.js';
import { TestPlatform } from '../../../testing/TestPlatform.js';
import { baresipCall, toneLevelDb, type BaresipCallResult } from '../../testing/baresip.js';
import { startBaresipCallee, type BaresipCallee } from '../../testing/baresipCallee.js';
import { MediaTestClient } from '../../testing/MediaTestClient.js';
import { runSipp } from '../../testing/sipp.js';

/**
 * Gateway calls by Call Routing Rules: a caller dialling an alias that only a rule matches is
 * connected to the rule's destination (its regex replace) over SIP. Each side has its own tone and
 * hears the other's, not its own. SIP↔SIP with two real baresips, WebRTC↔SIP with a participant.
 */
const TONES = { caller: 440, callee: 700, browser: 523 } as const;
const PORTS: [number, number] = [47_600, 47_799];

/** The level of `hz` in the last 2 s (before the last 1.5 s) of what a phone decoded. */
function level(r: BaresipCallResult, hz: number): number {
  expect(r.heard, 'baresip decoded audio').not.toBeNull();
  const end = (r.heard!.samples.length / r.heard!.sampleRate) * 1000 - 1_500;
  return toneLevelDb(r.heard!, hz, end - 2_000, end);
}

describe('gateway calls by Call Routing Rules', () => {
  let platform: TestPlatform;
  let port: number;
  const callees: BaresipCallee[] = [];
  const clients: MediaTestClient[] = [];

  beforeAll(async () => {
    platform = await TestPlatform.start({ node: { sipPort: 0 } });
    port = platform.node.sip!.port!;
  }, 60_000);
  afterAll(async () => {
    await Promise.all(callees.map((c) => c.stop()));
    await Promise.all(clients.map((c) => c.close()));
    await platform?.stop();
  });

  /** A rule sending `gw.<name>` to the callee's address (the regex's group in the replace). */
  const rule = async (name: string, callee: BaresipCallee, extra: object = {}) => {
    const before = platform.node.manager.directory.routingRules.length;
    await platform.rest('POST', 'gateway_routing_rule/', {
      name: `To ${name}`,
      priority: 10 + before,
      match_string: `gw\\.(${name})`,
      replace_string: `\\1@127.0.0.1:${callee.port}`,
      called_device_type: 'external',
      outgoing_protocol: 'sip',
      ...extra,
    });
    await until(
      () => platform.node.manager.directory.routingRules.length,
      (n) => n === before + 1,
      15_000,
    );
  };
  const gatewayConference = (name: string) => platform.node.manager.conferences().find((c) => c.service.name.startsWith(`To ${name} (`));

  it('SIP to SIP: phone A dials a rule alias, phone B (the rule destination) rings and answers; each hears the other and not itself', async () => {
    const callee = await startBaresipCallee({ user: 'bob', toneHz: TONES.callee, audioCodecs: 'PCMU/8000/1' });
    callees.push(callee);
    await rule('bob', callee);
    const stats: Record<string, number> = {};
    const caller = await baresipCall(`sip:gw.bob@127.0.0.1:${port}`, {
      toneHz: TONES.caller,
      holdMs: 1_000,
      during: async () => {
        const conf = await until(
          () => gatewayConference('bob'),
          (c) => c !== undefined && c.participants.length === 2 && c.participants.every((p) => p.leg !== null),
          20_000,
        );
        stats.participants = conf!.participants.length;
        stats.out = conf!.participants.filter((p) => p.callDirection === 'out').length;
        // Both sides' media for a few seconds.
        await new Promise((r) => setTimeout(r, 4_000));
      },
    });
    expect(caller.out, caller.out).toMatch(/established/i);
    expect(caller.out).not.toMatch(/DURING FAILED/);
    expect(stats).toEqual({ participants: 2, out: 1 });
    // A hung up: the gateway hangs B up and the call's conference is gone.
    await until(
      () => gatewayConference('bob'),
      (c) => c === undefined,
      15_000,
    );
    const heardByCallee = await callees.splice(callees.indexOf(callee), 1)[0]!.stop();
    // The callee saw the caller's identity.
    expect(heardByCallee.out).toMatch(/phone@127\.0\.0\.1/);
    const levels = {
      callerHearsCallee: level(caller, TONES.callee),
      callerHearsSelf: level(caller, TONES.caller),
      calleeHearsCaller: level(heardByCallee, TONES.caller),
      calleeHearsSelf: level(heardByCallee, TONES.callee),
    };
    console.info(`gateway SIP↔SIP: ${JSON.stringify(levels)} dBFS`);
    expect(levels.callerHearsCallee, JSON.stringify(levels)).toBeGreaterThan(-40);
    expect(levels.calleeHearsCaller, JSON.stringify(levels)).toBeGreaterThan(-40);
    expect(levels.callerHearsSelf, JSON.stringify(levels)).toBeLessThan(levels.callerHearsCallee - 20);
    expect(levels.calleeHearsSelf, JSON.stringify(levels)).toBeLessThan(levels.calleeHearsCaller - 20);
  }, 90_000);

  it('a SIP caller re-INVITing without an offer gets our offer (sendrecv) in the 200 and stays connected to the callee until its BYE (sipp to baresip)', async () => {
    const callee = await startBaresipCallee({ user: 'carl', toneHz: TONES.callee, audioCodecs: 'PCMU/8000/1' });
    callees.push(callee);
    await rule('carl', callee);
    let connected = 0;
    const watch = setInterval(() => {
      const c = gatewayConference('carl');
      if (c?.participants.length === 2) connected++;
    }, 250);
    const code = await runSipp('reinvite-no-offer.xml', port, 'gw.carl', { timeoutS: 20, traceErrors: true });
    clearInterval(watch);
    // Before: 488 to the re-INVITE, and sipp failed at its 200.
    expect(code, 'sipp: 200 with our offer to its re-INVITE without one, then 200 to its BYE').toBe(0);
    expect(connected, 'both legs were in the call through the re-INVITE').toBeGreaterThan(4);
    await until(
      () => gatewayConference('carl'),
      (c) => c === undefined,
      15_000,
    );
    await callees.splice(callees.indexOf(callee), 1)[0]!.stop();
  }, 90_000);

  it('WebRTC to SIP: request_token on a rule alias gives a token at once, the phone rings and answers; each hears the other', async () => {
    const callee = await startBaresipCallee({ user: 'carol', toneHz: TONES.callee });
    callees.push(callee);
    await rule('carol', callee);
    const r = await platform.client('gw.carol', 'request_token', { body: { display_name: 'Browser' } });
    const body = await r.json();
    expect(r.status, JSON.stringify(body)).toBe(200);
    const uuid = body.result.participant_uuid as string;
    const conf = gatewayConference('carol')!;
    expect(conf.get(uuid)).toBeDefined();
    const client = new MediaTestClient('Browser', PORTS, { toneHz: TONES.browser });
    clients.push(client);
    await client.join(conf.media, uuid);
    client.startSending(20, ['audio']);
    await until(
      () => conf.participants.find((p) => p.callDirection === 'out' && p.leg !== null),
      (p) => p !== undefined,
      20_000,
    );
    await client.waitFor('the phone heard by the browser', () => client.toneLevelDb(TONES.callee) > -40, 20_000);
    const browserHears = client.toneLevelDb(TONES.callee);
    // The browser's own keys (its call `dtmf`, e.g. a PIN for an IVR at the far end) pass through to the phone.
    const keyed = await platform.client('gw.carol', `participants/${uuid}/dtmf`, { token: body.result.token as string, body: { digits: '7#' } });
    expect(keyed.status).toBe(200);
    await until(
      () => callee.output(),
      (out) => /received DTMF: '7'[\s\S]*received DTMF: '#'/.test(out),
      10_000,
    );
    await new Promise((res) => setTimeout(res, 3_000));
    const heard = await callees.splice(callees.indexOf(callee), 1)[0]!.stop();
    const levels = { browserHearsPhone: browserHears, phoneHearsBrowser: level(heard, TONES.browser), phoneHearsSelf: level(heard, TONES.callee) };
    console.info(`gateway WebRTC↔SIP: ${JSON.stringify(levels)} dBFS`);
    expect(levels.phoneHearsBrowser, JSON.stringify(levels)).toBeGreaterThan(-40);
    expect(levels.phoneHearsSelf, JSON.stringify(levels)).toBeLessThan(levels.phoneHearsBrowser - 20);
    // The phone hung up: the browser's side of the call ends too.
    await until(
      () => conf.get(uuid),
      (p) => p === undefined,
      15_000,
    );
  }, 90_000);

  it("the rule's Media encryption applies to both legs: Required takes SRTP phones through, each hearing the other; a plain-RTP caller gets 488", async () => {
    const callee = await startBaresipCallee({ user: 'dan', toneHz: TONES.callee, mediaenc: 'srtp-mand' });
    callees.push(callee);
    await rule('dan', callee, { crypto_mode: 'on' });
    const encrypted: boolean[] = [];
    const caller = await baresipCall(`sip:gw.dan@127.0.0.1:${port}`, {
      toneHz: TONES.caller,
      mediaenc: 'srtp-mand',
      holdMs: 1_000,
      during: async () => {
        const conf = await until(
          () => gatewayConference('dan'),
          (c) => c !== undefined && c.participants.length === 2 && c.participants.every((p) => p.leg !== null),
          20_000,
        );
        encrypted.push(...conf!.participants.map((p) => p.leg!.encrypted === true));
        await new Promise((r) => setTimeout(r, 4_000));
      },
    });
    expect(caller.out, caller.out).toMatch(/established/i);
    expect(encrypted).toEqual([true, true]);
    const heardByCallee = await callees.splice(callees.indexOf(callee), 1)[0]!.stop();
    const levels = { callerHearsCallee: level(caller, TONES.callee), calleeHearsCaller: level(heardByCallee, TONES.caller) };
    console.info(`gateway SRTP: ${JSON.stringify(levels)} dBFS`);
    expect(levels.callerHearsCallee, JSON.stringify(levels)).toBeGreaterThan(-40);
    expect(levels.calleeHearsCaller, JSON.stringify(levels)).toBeGreaterThan(-40);

    const plain = await baresipCall(`sip:gw.dan@127.0.0.1:${port}`, { toneHz: TONES.caller, holdMs: 3_000 });
    expect(plain.out, plain.out).toMatch(/488 Not Acceptable Here/);
  }, 90_000);
});
