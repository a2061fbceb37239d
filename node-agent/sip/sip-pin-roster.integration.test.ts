import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { participant as participantSchema, requestTokenResult } from '../../shared/client-api/conference.js';
import { until } from '../../shared/testing/until.js';
import { TestPlatform } from '../../testing/TestPlatform.js';
import { MediaTestClient } from '../testing/MediaTestClient.js';
import { UdpPhone } from '../testing/UdpPhone.js';

/**
 * Callers waiting at a room's PIN entry screen are in its roster (guide §20.6: "shown with role
 * Unknown"; the client API's `service_type` `ivr`), where a Host lets them in with Make Host / Make
 * Guest, without a PIN, or disconnects them. Real UDP phones (SIP and RTP, each with its own tone)
 * against the node's SIP stack and mediasoup; the roster through the client API and its events.
 */
const TONES = { phone: 700, x: 440 } as const;
const PORTS: [number, number] = [47_400, 47_599];

describe("callers at a room's PIN entry screen, in its roster", () => {
  let platform: TestPlatform;
  let port: number;
  const phones: UdpPhone[] = [];
  const clients: MediaTestClient[] = [];

  beforeAll(async () => {
    platform = await TestPlatform.start({ node: { sipPort: 0 } });
    for (const [name, alias] of [
      ['Roster room', 'meet.roster'],
      ['Later room', 'meet.later'],
    ] as const)
      await platform.rest('POST', 'conference/', { name, aliases: [{ alias }], pin: '1357', guest_pin: '2468', allow_guests: true });
    await platform.nodeKnows(['meet.roster', 'meet.later']);
    port = platform.node.sip!.port!;
  }, 60_000);
  afterAll(async () => {
    for (const p of phones) p.close();
    await Promise.all(clients.map((c) => c.close()));
    await platform?.stop();
  });

  const join = async (alias: string, pin: string, name: string) => {
    const r = await platform.client(alias, 'request_token', { pin, body: { display_name: name } });
    expect(r.status, await r.clone().text()).toBe(200);
    return requestTokenResult.parse(((await r.json()) as { result: unknown }).result);
  };
  /** The roster as the client API gives it, each entry checked against the SDK's participant schema. */
  const roster = async (alias: string, token: string) => {
    const r = await platform.client(alias, 'participants', { method: 'GET', token });
    return z.array(participantSchema).parse(((await r.json()) as { result: unknown }).result);
  };
  const listed = (alias: string, token: string, name: string) =>
    until(
      async () => (await roster(alias, token)).find((p) => p.display_name === name),
      (p) => p !== undefined,
      15_000,
    ) as Promise<z.infer<typeof participantSchema>>;
  /** The participant in status/v1 (as the console lists it), once listed. */
  const statusOf = async (id: string) =>
    until(
      async () => {
        const body = (await (await platform.rest('GET', '/api/admin/status/v1/participant/')).json()) as { objects: Record<string, unknown>[] };
        return body.objects.find((o) => o.id === id);
      },
      (p) => p !== undefined,
      15_000,
    );
  const phone = async (name: string, callId: string) => {
    const p = new UdpPhone(TONES.phone, callId, name);
    phones.push(p);
    await p.open();
    return p;
  };

  it('a Host sees a caller at PIN entry (ivr), a Guest cannot let it in, the Host makes it Host: it joins without a PIN, heard and hearing', async () => {
    const hanna = await join('meet.roster', '1357', 'Hanna Host');
    const events = await platform.events('meet.roster', hanna.token);
    const desk = await phone('Desk at the PIN', 'pin-roster-1');
    await desk.call(port, 'meet.roster');
    desk.startSending();

    const atPin = await listed('meet.roster', hanna.token, 'Desk at the PIN');
    expect(atPin).toMatchObject({ service_type: 'ivr', role: 'guest', protocol: 'sip', has_media: false, disconnect_supported: 'YES' });
    await until(
      () => events.of('participant_create').find((e) => (e.data as { uuid?: string }).uuid === atPin.uuid),
      (e) => e !== undefined,
      10_000,
    );
    // Not a participant yet: nobody in the conference hears it.
    const conf = platform.node.manager.conferences().find((c) => c.service.aliases.includes('meet.roster'))!;
    expect(conf.get(atPin.uuid)).toBeUndefined();

    // Guests cannot let anyone in.
    const gus = await join('meet.roster', '2468', 'Gus Guest');
    const byGuest = await platform.client('meet.roster', `participants/${atPin.uuid}/role`, { token: gus.token, body: { role: 'chair' } });
    expect(byGuest.status).toBe(403);
    expect(await byGuest.json()).toEqual({ status: 'success', result: 'Invalid role' });

    const byHost = await platform.client('meet.roster', `participants/${atPin.uuid}/role`, { token: hanna.token, body: { role: 'chair' } });
    expect(byHost.status, await byHost.clone().text()).toBe(200);
    const joined = await until(
      () => conf.get(atPin.uuid),
      (p) => p !== undefined,
      10_000,
    );
    expect(joined).toMatchObject({ role: 'HOST', protocol: 'sip', displayName: 'Desk at the PIN' });
    // The roster's entry goes, then comes back as the participant it became, with the same uuid.
    const inConference = await listed('meet.roster', hanna.token, 'Desk at the PIN');
    expect(inConference).toMatchObject({ uuid: atPin.uuid, service_type: 'conference', role: 'chair', protocol: 'sip' });
    const order = events.events
      .map((e, i) => ({ ...e, i }))
      .filter((e) => (e.data as { uuid?: string } | null)?.uuid === atPin.uuid)
      .map((e) => `${e.event}${e.event === 'participant_create' ? `:${(e.data as { service_type: string }).service_type}` : ''}`);
    expect(order.slice(0, 3)).toEqual(['participant_create:ivr', 'participant_delete', 'participant_create:conference']);

    // In the meeting: a participant with its own tone hears the phone, and the phone hears it.
    const x = new MediaTestClient('x', PORTS, { toneHz: TONES.x });
    clients.push(x);
    await x.join(conf.media, 'x');
    x.startSending(20, ['audio']);
    await x.waitFor('the phone let in from PIN entry heard', () => x.toneLevelDb(TONES.phone) > -40, 20_000);
    const heard = await until(
      () => desk.lastSecondLevels(TONES.x),
      (h) => h.z > -40,
      20_000,
      250,
    ).catch(() => desk.lastSecondLevels(TONES.x));
    console.info(`pin roster: the phone let in is heard at ${x.toneLevelDb(TONES.phone).toFixed(1)} dBFS; it decoded ${JSON.stringify(heard)} dBFS`);
    expect(heard.z, JSON.stringify(heard)).toBeGreaterThan(-40);
    expect(heard.self, JSON.stringify(heard)).toBeLessThan(heard.z - 20);
  }, 90_000);

  it('a caller at PIN entry before the conference starts is in its roster when it does; a Host disconnects it: our BYE, and it leaves the roster', async () => {
    const early = await phone('Early caller', 'pin-roster-2');
    await early.call(port, 'meet.later');
    // Answered at PIN entry: no conference instance for the room yet.
    expect(platform.node.manager.conferences().some((c) => c.service.aliases.includes('meet.later'))).toBe(false);
    const hanna = await join('meet.later', '1357', 'Hanna Host');
    const atPin = await listed('meet.later', hanna.token, 'Early caller');
    expect(atPin.service_type).toBe('ivr');
    // Only a Host's disconnect and role change reach it: muting it is refused.
    const mute = await platform.client('meet.later', `participants/${atPin.uuid}/mute`, { token: hanna.token });
    expect(mute.status).toBe(403);
    // Live status: role Unknown (guide §14.3).
    expect(await statusOf(atPin.uuid)).toMatchObject({ role: 'unknown', protocol: 'sip', display_name: 'Early caller' });
    const r = await platform.client('meet.later', `participants/${atPin.uuid}/disconnect`, { token: hanna.token });
    expect(r.status, await r.clone().text()).toBe(200);
    await until(
      () => early.byeFromNode,
      (n) => n > 0,
      10_000,
    );
    await until(
      async () => (await roster('meet.later', hanna.token)).some((p) => p.uuid === atPin.uuid),
      (still) => !still,
      10_000,
    );
    // History: a caller that never got past the PIN entry screen has role Unknown (guide: participant history).
    const record = await until(
      async () => {
        const h = await platform.api('GET', `/api/admin/history/v1/participant/${atPin.uuid}/`);
        return h.status === 200 ? ((await h.json()) as Record<string, unknown>) : undefined;
      },
      (h) => h !== undefined,
      15_000,
      500,
    );
    expect(record).toMatchObject({ role: 'unknown', protocol: 'sip', display_name: 'Early caller' });
  }, 60_000);

  it("an administrator's Make Guest (command API) lets a caller at PIN entry in as a Guest: live status then shows it as one", async () => {
    const hanna = await join('meet.roster', '1357', 'Hanna Host');
    const caller = await phone('Console admit', 'pin-roster-3');
    await caller.call(port, 'meet.roster');
    const atPin = await listed('meet.roster', hanna.token, 'Console admit');
    expect(await statusOf(atPin.uuid)).toMatchObject({ role: 'unknown' });
    const r = await platform.api('POST', '/api/admin/command/v1/participant/role/', { participant_id: atPin.uuid, role: 'guest' });
    expect(r.status, await r.clone().text()).toBe(200);
    await until(
      async () => (await statusOf(atPin.uuid))?.role,
      (role) => role === 'guest',
      15_000,
    );
    expect(await listed('meet.roster', hanna.token, 'Console admit')).toMatchObject({ uuid: atPin.uuid, service_type: 'conference', role: 'guest' });
  }, 60_000);
});
