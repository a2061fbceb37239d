import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { participant as participantSchema, requestTokenResult } from '../../shared/client-api/conference.js';
import { until } from '../../shared/testing/until.js';
import { TestPlatform } from '../../testing/TestPlatform.js';
import { baresipCall } from '../testing/baresip.js';
import { startBaresipCallee, type BaresipCallee } from '../testing/baresipCallee.js';
import { MediaTestClient } from '../testing/MediaTestClient.js';

/**
 * A SIP participant (a real baresip with its own tone) is controlled and reported like any other:
 * muted, spotlit, disconnected and transferred from the client API and the command API, listed in
 * status/v1 with its media streams and in history/v1 with protocol sip. A media participant with
 * its own tone listens: muting the phone takes its tone out of what the listener hears.
 */
const TONES = { phone: 600, callee: 800, x: 440, z: 1_000 } as const;
const PORTS: [number, number] = [47_400, 47_599];
const COMMAND = '/api/admin/command/v1';
const STATUS = '/api/admin/status/v1';
const HISTORY = '/api/admin/history/v1';
/** Heard: the level of a tone a listener hears plainly; silent: gone from the mix. */
const HEARD_DB = -40;
const SILENT_DB = -60;

const statusParticipant = z.object({ id: z.string(), protocol: z.string(), display_name: z.string(), conference: z.string() }).passthrough();
const mediaStream = z
  .object({ type: z.string(), rx_codec: z.string().optional(), rx_packets_received: z.number().optional(), tx_packets_sent: z.number().optional() })
  .passthrough();
const list = <T extends z.ZodTypeAny>(item: T) => z.object({ objects: z.array(item) });
const historyParticipant = z
  .object({ id: z.string(), protocol: z.string(), disconnect_reason: z.string(), conference_name: z.string(), media_streams: z.array(z.string()) })
  .passthrough();

describe('a SIP participant is controlled and reported like any other', () => {
  let platform: TestPlatform;
  let port: number;
  const clients: MediaTestClient[] = [];

  beforeAll(async () => {
    platform = await TestPlatform.start({ node: { sipPort: 0, mediaPortRange: [47_600, 47_799] } });
    await platform.rest('POST', 'conference/', { name: 'Control room', aliases: [{ alias: 'ctl.room' }], pin: '2468', allow_guests: true, guest_pin: '' });
    await platform.rest('POST', 'conference/', { name: 'Command room', aliases: [{ alias: 'ctl.cmd' }], pin: '2468', allow_guests: true, guest_pin: '' });
    await platform.rest('POST', 'conference/', { name: 'Other room', aliases: [{ alias: 'ctl.other' }], pin: '1357', allow_guests: true, guest_pin: '' });
    await platform.rest('POST', 'conference/', { name: 'Console room', aliases: [{ alias: 'ctl.console' }], pin: '2468', allow_guests: true, guest_pin: '' });
    await platform.rest('POST', 'conference/', { name: 'Away room', aliases: [{ alias: 'ctl.away' }], pin: '1357', allow_guests: true, guest_pin: '' });
    await platform.rest('POST', 'conference/', { name: 'Secure room', aliases: [{ alias: 'ctl.secure' }], pin: '2468', crypto_mode: 'on' });
    await platform.rest('POST', 'conference/', { name: 'Dial room', aliases: [{ alias: 'ctl.dial' }], pin: '2468', allow_guests: true, guest_pin: '' });
    await platform.nodeKnows(['ctl.room', 'ctl.cmd', 'ctl.other', 'ctl.console', 'ctl.away', 'ctl.dial', 'ctl.secure']);
    port = platform.node.sip!.port!;
  }, 60_000);
  const callees: BaresipCallee[] = [];
  afterAll(async () => {
    await Promise.all(callees.map((c) => c.stop()));
    await Promise.all(clients.map((c) => c.close()));
    await platform?.stop();
  });

  const hostOf = async (alias: string, pin: string) => {
    const r = await platform.client(alias, 'request_token', { pin, body: { display_name: 'Hanna Host' } });
    expect(r.status, await r.clone().text()).toBe(200);
    return requestTokenResult.parse(((await r.json()) as { result: unknown }).result);
  };
  const roster = async (alias: string, token: string) => {
    const r = await platform.client(alias, 'participants', { method: 'GET', token });
    return z.array(participantSchema).parse(((await r.json()) as { result: unknown }).result);
  };
  /** The phone in `alias`'s roster, once its call is answered. */
  const phoneIn = async (alias: string, token: string) =>
    (await until(
      async () => (await roster(alias, token)).find((p) => p.protocol === 'sip'),
      (p) => p !== undefined,
      15_000,
    ))!;
  const control = async (alias: string, token: string, uuid: string, action: string) => {
    const r = await platform.client(alias, `participants/${uuid}/${action}`, { token });
    expect(r.status, `${action}: ${await r.clone().text()}`).toBe(200);
  };
  const command = async (path: string, body: unknown) => {
    const r = await platform.api('POST', `${COMMAND}/${path}/`, body);
    expect(r.status, `${path}: ${await r.clone().text()}`).toBe(200);
    expect(await r.json()).toEqual({ status: 'success', data: null });
  };
  /** A media participant with its own tone in the conference `alias` (started by its Host). */
  const listener = async (alias: string, name: keyof typeof TONES) => {
    const conf = platform.node.manager.conferences().find((c) => c.service.aliases.includes(alias));
    expect(conf, `conference ${alias} running`).toBeDefined();
    const client = new MediaTestClient(name, PORTS, { toneHz: TONES[name] });
    clients.push(client);
    await client.join(conf!.media, name);
    client.startSending(20, ['audio']);
    return client;
  };
  const hears = (c: MediaTestClient, what: string) => c.waitFor(what, () => c.toneLevelDb(TONES.phone) > HEARD_DB, 20_000);
  const doesNotHear = (c: MediaTestClient, what: string) => c.waitFor(what, () => c.toneLevelDb(TONES.phone) < SILENT_DB, 20_000);

  it('client API: a Host mutes and unmutes the phone (its tone leaves and returns to the mix), spotlights it, keys digits to it (SIP INFO) and disconnects it (BYE); status and history list it as sip', async () => {
    const host = await hostOf('ctl.room', '2468');
    const seen: Record<string, unknown> = {};
    let phoneId = '';
    const { out } = await baresipCall(`sip:ctl.room**2468@127.0.0.1:${port}`, {
      toneHz: TONES.phone,
      holdMs: 500,
      during: async () => {
        const phone = await phoneIn('ctl.room', host.token);
        phoneId = phone.uuid;
        const x = await listener('ctl.room', 'x');
        await hears(x, 'the phone heard before the mute');
        seen.before = x.toneLevelDb(TONES.phone);

        await control('ctl.room', host.token, phoneId, 'mute');
        expect((await roster('ctl.room', host.token)).find((p) => p.uuid === phoneId)?.is_muted).toBe('YES');
        await doesNotHear(x, 'the muted phone silent');
        seen.muted = x.toneLevelDb(TONES.phone);
        await control('ctl.room', host.token, phoneId, 'unmute');
        expect((await roster('ctl.room', host.token)).find((p) => p.uuid === phoneId)?.is_muted).toBe('NO');
        await hears(x, 'the unmuted phone heard again');
        seen.unmuted = x.toneLevelDb(TONES.phone);

        await control('ctl.room', host.token, phoneId, 'spotlighton');
        expect((await roster('ctl.room', host.token)).find((p) => p.uuid === phoneId)?.spotlight).toBeGreaterThan(0);
        await control('ctl.room', host.token, phoneId, 'spotlightoff');
        expect((await roster('ctl.room', host.token)).find((p) => p.uuid === phoneId)?.spotlight).toBe(0);

        // Live status: listed with protocol sip; its media streams carry packets both ways.
        const listed = await until(
          async () =>
            list(statusParticipant)
              .parse(await (await platform.rest('GET', `${STATUS}/participant/`)).json())
              .objects.find((p) => p.id === phoneId),
          // Its encryption is known once the call has media (the update after the 200).
          (p) => p?.encryption !== undefined,
          15_000,
        );
        // Plain RTP: encryption Off, as Pexip reports an unencrypted SIP call.
        expect(listed).toMatchObject({
          protocol: 'sip',
          conference: 'Control room',
          call_direction: 'in',
          encryption: 'Off',
          source_alias: 'sip:phone@127.0.0.1',
        });
        seen.status = listed;
        const streams = await until(
          async () => list(mediaStream).parse(await (await platform.rest('GET', `${STATUS}/participant/${phoneId}/media_stream/`)).json()).objects,
          (s) => s.some((m) => m.type === 'audio' && (m.rx_packets_received ?? 0) > 0 && (m.tx_packets_sent ?? 0) > 0),
          20_000,
          500,
        );
        seen.streams = streams;

        // The Host keys digits for the phone (participant `dtmf`): they reach it as SIP INFO.
        const keyed = await platform.client('ctl.room', `participants/${phoneId}/dtmf`, { token: host.token, body: { digits: '9#' } });
        expect(keyed.status).toBe(200);
        await new Promise((r) => setTimeout(r, 1_500));

        await control('ctl.room', host.token, phoneId, 'disconnect');
        await until(
          async () => (await roster('ctl.room', host.token)).some((p) => p.uuid === phoneId),
          (present) => !present,
          10_000,
        );
        await x.close();
      },
    });
    console.info(`client API control of a SIP phone: ${JSON.stringify(seen)}`);
    expect(out).not.toMatch(/DURING FAILED/);
    expect(out, out).toMatch(/established/i);
    expect(out).toMatch(/received DTMF: '9'[\s\S]*received DTMF: '#'/);
    // The node hung up on the phone (its BYE) before baresip's own /hangup.
    expect(endedByNode(out), out).toBe(true);
    const audio = (seen.streams as z.infer<typeof mediaStream>[]).find((m) => m.type === 'audio')!;
    expect(audio.rx_codec?.toLowerCase()).toBe('opus');

    // History: the call's record, protocol sip, with a disconnect reason and its media streams.
    const record = await until(
      async () => {
        const r = await platform.api('GET', `${HISTORY}/participant/${phoneId}/`);
        return r.status === 200 ? historyParticipant.parse(await r.json()) : undefined;
      },
      (p) => p !== undefined,
      15_000,
      500,
    );
    console.info(`history/v1 participant of the SIP phone: ${JSON.stringify(record)}`);
    expect(record).toMatchObject({
      protocol: 'sip',
      conference_name: 'Control room',
      call_direction: 'in',
      encryption: 'Off',
      has_media: true,
      remote_alias: 'sip:phone@127.0.0.1',
    });
    expect(record!.disconnect_reason.length).toBeGreaterThan(0);
    expect(record!.media_streams.length).toBeGreaterThan(0);
  }, 120_000);

  it('command API: an administrator mutes, unmutes, transfers the phone to another room (heard there, same call) and disconnects it', async () => {
    const host = await hostOf('ctl.cmd', '2468');
    const otherHost = await hostOf('ctl.other', '1357');
    const seen: Record<string, unknown> = {};
    const { out } = await baresipCall(`sip:ctl.cmd**2468@127.0.0.1:${port}`, {
      toneHz: TONES.phone,
      holdMs: 500,
      during: async () => {
        const phone = await phoneIn('ctl.cmd', host.token);
        const x = await listener('ctl.cmd', 'x');
        await hears(x, 'the phone heard before the mute');

        await command('participant/mute', { participant_id: phone.uuid });
        expect((await roster('ctl.cmd', host.token)).find((p) => p.uuid === phone.uuid)?.is_muted).toBe('YES');
        await doesNotHear(x, 'the muted phone silent');
        seen.muted = x.toneLevelDb(TONES.phone);
        await command('participant/unmute', { participant_id: phone.uuid });
        await hears(x, 'the unmuted phone heard again');
        seen.unmuted = x.toneLevelDb(TONES.phone);

        // Transfer: the phone's one call leaves this room and joins the other, where z hears it.
        const z2 = await listener('ctl.other', 'z');
        await command('participant/transfer', { participant_id: phone.uuid, conference_alias: 'ctl.other', role: 'guest' });
        const moved = await phoneIn('ctl.other', otherHost.token);
        expect(moved.role).toBe('guest');
        await until(
          async () => (await roster('ctl.cmd', host.token)).some((p) => p.protocol === 'sip'),
          (present) => !present,
          10_000,
        );
        await hears(z2, 'the transferred phone heard in the other room');
        seen.heardThere = z2.toneLevelDb(TONES.phone);
        await doesNotHear(x, 'the transferred phone gone from the first room');
        seen.goneHere = x.toneLevelDb(TONES.phone);

        await command('participant/disconnect', { participant_id: moved.uuid });
        await until(
          async () => (await roster('ctl.other', otherHost.token)).some((p) => p.uuid === moved.uuid),
          (present) => !present,
          10_000,
        );
        await Promise.all([x.close(), z2.close()]);
      },
    });
    console.info(`command API control of a SIP phone: ${JSON.stringify(seen)}`);
    expect(out).not.toMatch(/DURING FAILED/);
    // One call throughout: established once, no second INVITE from the phone, ended by the node.
    expect(out.match(/Call established/g)?.length, out).toBe(1);
    expect(endedByNode(out), out).toBe(true);
  }, 120_000);

  it('the console (tRPC command.participant and command.transfer, signed in): mutes, unmutes, spotlights, makes the phone a Guest, transfers it (heard there) and disconnects it', async () => {
    const login = await fetch(`${platform.server.url}/trpc/auth.login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'pw' }),
    });
    expect(login.status).toBe(200);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const consoleDoes = async (procedure: 'participant' | 'transfer', input: Record<string, string>) => {
      const r = await fetch(`${platform.server.url}/trpc/command.${procedure}`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json' },
        body: JSON.stringify(input),
      });
      expect(r.status, `${procedure} ${JSON.stringify(input)}: ${await r.clone().text()}`).toBe(200);
    };
    const host = await hostOf('ctl.console', '2468');
    const awayHost = await hostOf('ctl.away', '1357');
    const seen: Record<string, unknown> = {};
    const { out } = await baresipCall(`sip:ctl.console**2468@127.0.0.1:${port}`, {
      toneHz: TONES.phone,
      holdMs: 500,
      during: async () => {
        const phone = await phoneIn('ctl.console', host.token);
        expect(phone.role).toBe('chair');
        const x = await listener('ctl.console', 'x');
        await hears(x, 'the phone heard before the mute');
        const of = async () => (await roster('ctl.console', host.token)).find((p) => p.uuid === phone.uuid);

        await consoleDoes('participant', { participantId: phone.uuid, action: 'mute' });
        expect((await of())?.is_muted).toBe('YES');
        await doesNotHear(x, 'the muted phone silent');
        seen.muted = x.toneLevelDb(TONES.phone);
        await consoleDoes('participant', { participantId: phone.uuid, action: 'unmute' });
        await hears(x, 'the unmuted phone heard again');
        seen.unmuted = x.toneLevelDb(TONES.phone);
        await consoleDoes('participant', { participantId: phone.uuid, action: 'spotlighton' });
        expect((await of())?.spotlight).toBeGreaterThan(0);
        await consoleDoes('participant', { participantId: phone.uuid, action: 'spotlightoff' });
        expect((await of())?.spotlight).toBe(0);
        await consoleDoes('participant', { participantId: phone.uuid, action: 'make_guest' });
        expect((await of())?.role).toBe('guest');

        const z2 = await listener('ctl.away', 'z');
        await consoleDoes('transfer', { participantId: phone.uuid, conferenceAlias: 'ctl.away', role: 'guest' });
        const moved = await phoneIn('ctl.away', awayHost.token);
        await hears(z2, 'the transferred phone heard in the other room');
        seen.heardThere = z2.toneLevelDb(TONES.phone);
        await doesNotHear(x, 'the transferred phone gone from the first room');

        await consoleDoes('participant', { participantId: moved.uuid, action: 'disconnect' });
        await until(
          async () => (await roster('ctl.away', awayHost.token)).some((p) => p.uuid === moved.uuid),
          (present) => !present,
          10_000,
        );
        await Promise.all([x.close(), z2.close()]);
      },
    });
    console.info(`console control of a SIP phone: ${JSON.stringify(seen)}`);
    expect(out).not.toMatch(/DURING FAILED/);
    expect(out.match(/Call established/g)?.length, out).toBe(1);
    expect(endedByNode(out), out).toBe(true);
  }, 120_000);

  it('a dialled-out phone (command API participant/dial) is heard, muted, reported with call_direction out and disconnected by the command API; history keeps it as out', async () => {
    const host = await hostOf('ctl.dial', '2468');
    const callee = await startBaresipCallee({ user: 'dora', toneHz: TONES.callee });
    callees.push(callee);
    const r = await platform.api('POST', `${COMMAND}/participant/dial/`, { conference_alias: 'ctl.dial', destination: `sip:${callee.address}`, role: 'guest' });
    const body = (await r.json()) as { data: { participant_id: string } };
    expect(r.status, JSON.stringify(body)).toBe(200);
    const id = body.data.participant_id;
    const x = await listener('ctl.dial', 'x');
    await x.waitFor('the callee heard', () => x.toneLevelDb(TONES.callee) > HEARD_DB, 20_000);
    await command('participant/mute', { participant_id: id });
    await x.waitFor('the muted callee silent', () => x.toneLevelDb(TONES.callee) < SILENT_DB, 20_000);
    await command('participant/unmute', { participant_id: id });
    await x.waitFor('the unmuted callee heard again', () => x.toneLevelDb(TONES.callee) > HEARD_DB, 20_000);

    const listed = await until(
      async () =>
        list(statusParticipant)
          .parse(await (await platform.rest('GET', `${STATUS}/participant/`)).json())
          .objects.find((p) => p.id === id),
      (p) => p?.encryption !== undefined,
      15_000,
      200,
    );
    expect(listed).toMatchObject({ protocol: 'sip', call_direction: 'out', encryption: 'Off', conference: 'Dial room' });
    await until(
      async () => list(mediaStream).parse(await (await platform.rest('GET', `${STATUS}/participant/${id}/media_stream/`)).json()).objects,
      (s) => s.some((m) => m.type === 'audio' && (m.rx_packets_received ?? 0) > 0 && (m.tx_packets_sent ?? 0) > 0),
      20_000,
      500,
    );

    await command('participant/disconnect', { participant_id: id });
    await until(
      async () => (await roster('ctl.dial', host.token)).some((p) => p.uuid === id),
      (present) => !present,
      10_000,
    );
    await until(callee.output, (out) => /session closed/.test(out), 10_000, 100);
    await x.close();
    const record = await until(
      async () => {
        const h = await platform.api('GET', `${HISTORY}/participant/${id}/`);
        return h.status === 200 ? historyParticipant.parse(await h.json()) : undefined;
      },
      (p) => p !== undefined,
      15_000,
      500,
    );
    expect(record).toMatchObject({ protocol: 'sip', call_direction: 'out', encryption: 'Off', disconnect_reason: 'Disconnected by an administrator' });
    expect(record!.media_streams.length).toBeGreaterThan(0);
  }, 120_000);

  it('an SRTP phone is reported with encryption On in status/v1 and history/v1, and is_transfer_supported false (a transfer is refused; it stays)', async () => {
    let id = '';
    const { out } = await baresipCall(`sip:ctl.secure**2468@127.0.0.1:${port}`, {
      toneHz: TONES.phone,
      mediaenc: 'srtp-mand',
      holdMs: 500,
      during: async () => {
        const listed = await until(
          async () =>
            list(statusParticipant)
              .parse(await (await platform.rest('GET', `${STATUS}/participant/`)).json())
              .objects.find((p) => p.conference === 'Secure room'),
          (p) => p?.encryption !== undefined,
          15_000,
          200,
        );
        expect(listed).toMatchObject({ protocol: 'sip', encryption: 'On' });
        id = listed!.id;
        // Its call cannot move (a new transport would have a new SRTP key): reported, and a transfer is refused while it stays.
        const raw = (await (await platform.rest('GET', `${STATUS}/participant/${id}/`)).json()) as { is_transfer_supported?: boolean };
        expect(raw.is_transfer_supported).toBe(false);
        const r = await platform.api('POST', `${COMMAND}/participant/transfer/`, {
          participant_id: id,
          conference_alias: 'ctl.other',
          role: 'chair',
          pin: '1357',
        });
        expect(r.status).toBe(400);
        expect(await r.json()).toMatchObject({ status: 'error', error: 'Transfer is not supported for this participant' });
        await new Promise((res) => setTimeout(res, 500));
        expect((await platform.rest('GET', `${STATUS}/participant/${id}/`)).status).toBe(200);
      },
    });
    expect(out).not.toMatch(/DURING FAILED/);
    const record = await until(
      async () => {
        const h = await platform.api('GET', `${HISTORY}/participant/${id}/`);
        return h.status === 200 ? historyParticipant.parse(await h.json()) : undefined;
      },
      (p) => p !== undefined,
      15_000,
      500,
    );
    expect(record).toMatchObject({ protocol: 'sip', encryption: 'On' });
  }, 60_000);
});

/** baresip took the node's BYE ("session closed", the call "terminated") before the test's /hangup. */
function endedByNode(out: string): boolean {
  const hangup = out.indexOf('/hangup');
  const closed = out.search(/session closed/);
  const terminated = out.search(/Call with .* terminated/);
  return closed >= 0 && terminated > closed && (hangup < 0 || terminated < hangup);
}
