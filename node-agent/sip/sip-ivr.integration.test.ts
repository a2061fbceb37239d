import { strToU8, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../shared/testing/until.js';
import { TestPlatform } from '../../testing/TestPlatform.js';
import type { Conference } from '../conference/Conference.js';
import { baresipCall, toneLevelDb, type BaresipCallResult } from '../testing/baresip.js';
import { MediaTestClient } from '../testing/MediaTestClient.js';
import { PROMPT_TONES } from './ivr/prompts.js';

/**
 * The keypad IVR with a real SIP phone (baresip, RFC 4733): a call to a PIN-protected room without
 * a PIN is answered at PIN entry and joins with the role its PIN gives, then hears and is heard on
 * the same call; three wrong PINs disconnect it and count against the room; a Virtual Reception
 * caller keys the conference number and ends up in that conference (PIN entry there if it has one).
 */
const PORTS: [number, number] = [47_600, 47_799];
const TONES = { phone: 600, x: 440 } as const;
/**
 * The Base theme's prompts (server/theme/baseTheme.ts): 660 Hz then 880 Hz, after a 2 s pause for
 * those heard on connecting (the PIN and number requests). Our own tones (ivr/prompts.ts) are not used.
 */
const BASE_PROMPT_HZ = 660;
const OWN_TONE_HZ = PROMPT_TONES['conf-getpin_48kHz_mono.wav'].hz;

describe('SIP keypad IVR: PIN entry and the Virtual Reception', () => {
  let platform: TestPlatform;
  let port: number;
  const clients: MediaTestClient[] = [];

  beforeAll(async () => {
    platform = await TestPlatform.start({ node: { sipPort: 0 } });
    await platform.rest('POST', 'conference/', {
      name: 'Pin room',
      aliases: [{ alias: 'meet.pin' }, { alias: '5555' }],
      pin: '1234',
      allow_guests: true,
      guest_pin: '5678',
    });
    await platform.rest('POST', 'conference/', { name: 'Open guests', aliases: [{ alias: 'meet.guests' }], pin: '2468#', allow_guests: true });
    await platform.rest('POST', 'conference/', { name: 'Open room', aliases: [{ alias: 'meet.open' }, { alias: '4321' }] });
    await platform.rest('POST', 'conference/', { name: 'Reception', service_type: 'two_stage_dialing', aliases: [{ alias: 'meet.reception' }] });
    await platform.nodeKnows(['meet.pin', 'meet.guests', 'meet.open', 'meet.reception']);
    port = platform.node.sip!.port!;
  }, 60_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await platform?.stop();
  });

  const conference = (name: string) => platform.node.manager.conferences().find((c) => c.service.name === name);
  const sipIn = (name: string) => conference(name)?.participants.find((p) => p.protocol === 'sip' && p.leg !== null);

  /** A participant in the conference with its own tone: hears the phone? And the phone it? */
  async function listenIn(conf: Conference, seen: Record<string, unknown>): Promise<void> {
    const x = new MediaTestClient('x', PORTS, { toneHz: TONES.x });
    clients.push(x);
    await x.join(conf.media, 'x');
    x.startSending(20, ['audio']);
    await x.waitFor('the phone heard by x', () => x.toneLevelDb(TONES.phone) > -40, 15_000).catch(() => undefined);
    seen.xHearsPhone = x.toneLevelDb(TONES.phone);
    // Time for the phone to decode x.
    await new Promise((r) => setTimeout(r, 2_500));
    await x.close();
  }

  /** Level of `hz` in what the phone decoded between `fromMs` and `toMs` of its call. */
  function phoneHeard(res: BaresipCallResult, hz: number, fromMs: number, toMs: number): number {
    return res.heard ? toneLevelDb(res.heard, hz, fromMs, toMs) : -Infinity;
  }

  /** The phone heard x in the last seconds of its call. */
  function phoneHeardX(res: BaresipCallResult): number {
    const heard = res.heard;
    if (!heard) return -Infinity;
    const end = (heard.samples.length / heard.sampleRate) * 1000 - 1_500;
    return toneLevelDb(heard, TONES.x, end - 1_500, end);
  }

  it('a call without a PIN is answered at PIN entry, keys the Host PIN and joins as Host: it hears and is heard', async () => {
    const seen: Record<string, unknown> = {};
    const res = await baresipCall(`sip:meet.pin@127.0.0.1:${port}`, {
      toneHz: TONES.phone,
      audioCodecs: 'PCMU/8000/1',
      // The PIN request has a 2 s pause first: keys after it.
      holdMs: 3_500,
      during: async (keypad) => {
        // Answered, and nobody in the room yet.
        seen.inRoomBeforePin = conference('Pin room')?.participants.length ?? 0;
        await keypad.press('1234');
        const phone = await until(
          () => sipIn('Pin room'),
          (p) => p !== undefined,
          10_000,
        ).catch(() => undefined);
        seen.role = phone?.role;
        if (phone) await listenIn(conference('Pin room')!, seen);
      },
    });
    expect(res.out, res.out).toMatch(/established/i);
    expect(seen).toMatchObject({ inRoomBeforePin: 0, role: 'HOST' });
    // The theme's PIN request before the keys: its 2 s pause, then its tones (not our own tone).
    expect(phoneHeard(res, BASE_PROMPT_HZ, 0, 1_500)).toBeLessThan(-50);
    expect(phoneHeard(res, BASE_PROMPT_HZ, 1_500, 3_500)).toBeGreaterThan(-40);
    expect(phoneHeard(res, OWN_TONE_HZ, 0, 3_500)).toBeLessThan(-50);
    expect(seen.xHearsPhone).toBeGreaterThan(-40);
    expect(phoneHeardX(res)).toBeGreaterThan(-40);
  }, 90_000);

  it('a Guest calling before any Host is held and hears the theme\'s "waiting for the Host" prompt; the Host arrives, it joins and hears the room', async () => {
    await platform.rest('POST', 'conference/', { name: 'Wait room', aliases: [{ alias: 'meet.wait' }], pin: '1234', allow_guests: true, guest_pin: '5678' });
    await until(
      () => platform.node.manager.directory.lookup('meet.wait'),
      (s) => s !== undefined,
    );
    const seen: Record<string, unknown> = {};
    const res = await baresipCall(`sip:meet.wait**5678@127.0.0.1:${port}`, {
      toneHz: TONES.phone,
      audioCodecs: 'PCMU/8000/1',
      // The Base theme's prompt has a 2 s pause, then its tones: the Host comes after it.
      holdMs: 5_000,
      during: async () => {
        const phone = await until(
          () => conference('Wait room')?.participants.find((p) => p.protocol === 'sip'),
          (p) => p !== undefined,
          10_000,
        );
        seen.heldBeforeHost = phone!.held;
        const host = await platform.client('meet.wait', 'request_token', { body: { display_name: 'Host' }, pin: '1234' });
        expect(host.status).toBe(200);
        await until(
          () => sipIn('Wait room')?.held,
          (held) => held === false,
          10_000,
        );
        seen.admitted = true;
        await listenIn(conference('Wait room')!, seen);
      },
    });
    const levels = {
      prompt: phoneHeard(res, BASE_PROMPT_HZ, 1_500, 4_500),
      xWhileHeld: phoneHeard(res, TONES.x, 0, 4_500),
      x: phoneHeardX(res),
      seconds: res.heard ? res.heard.samples.length / res.heard.sampleRate : 0,
    };
    console.info(`waiting for the Host (SIP): ${JSON.stringify({ ...seen, ...levels })}`);
    expect(res.out, res.out).toMatch(/established/i);
    expect(seen).toMatchObject({ heldBeforeHost: true, admitted: true });
    // While held: the theme's prompt (its 2 s pause, then 660 Hz); nobody else is heard.
    expect(phoneHeard(res, BASE_PROMPT_HZ, 1_500, 4_500)).toBeGreaterThan(-40);
    expect(phoneHeard(res, TONES.x, 0, 4_500)).toBeLessThan(-50);
    // Admitted: it hears the room (x) and is heard.
    expect(seen.xHearsPhone).toBeGreaterThan(-40);
    expect(phoneHeardX(res)).toBeGreaterThan(-40);
  }, 90_000);

  it('a call to a room at its participant limit is answered, hears "the conferencing system capacity has been exceeded" and is hung up', async () => {
    await platform.rest('POST', 'conference/', { name: 'Small room', aliases: [{ alias: 'meet.small' }], participant_limit: 1 });
    await until(
      () => platform.node.manager.directory.lookup('meet.small'),
      (s) => s !== undefined,
    );
    const first = await platform.client('meet.small', 'request_token', { body: { display_name: 'First' } });
    expect(first.status).toBe(200);
    const res = await baresipCall(`sip:meet.small@127.0.0.1:${port}`, { toneHz: TONES.phone, audioCodecs: 'PCMU/8000/1', holdMs: 9_000 });
    const seconds = res.heard ? res.heard.samples.length / res.heard.sampleRate : 0;
    const prompt = phoneHeard(res, BASE_PROMPT_HZ, 1_500, 4_000);
    console.info(`capacity exceeded (SIP): the phone heard the prompt at ${prompt.toFixed(1)} dBFS; our BYE after ${seconds.toFixed(1)} s of call`);
    expect(res.out, res.out).toMatch(/established/i);
    // The theme's prompt after its 2 s pause; then our BYE, well before the phone's own 9 s.
    expect(prompt).toBeGreaterThan(-40);
    expect(seconds).toBeLessThan(7);
    // baresip's own count of the call: ended by our BYE (the prompt takes 2.6 s, then 1 s more).
    expect(res.out).toMatch(/terminated \(duration: [1-6] secs\)/);
    expect(conference('Small room')?.participants.map((p) => p.displayName)).toEqual(['First']);
  }, 60_000);

  it("a room whose theme has its own PIN request (a WAV) plays that instead of the Base theme's", async () => {
    // The theme's conf-getpin: 1 s of 1200 Hz, PCM 16-bit mono 48 kHz as the guide asks.
    const rate = 48_000;
    const pcm = Buffer.alloc(rate * 2);
    for (let i = 0; i < rate; i++) pcm.writeInt16LE(Math.round(12_000 * Math.sin((2 * Math.PI * 1_200 * i) / rate)), i * 2);
    const header = Buffer.alloc(44);
    header.write('RIFF', 0, 'ascii');
    header.writeUInt32LE(36 + pcm.length, 4);
    header.write('WAVEfmt ', 8, 'ascii');
    header.writeUInt32LE(16, 16);
    header.writeUInt16LE(1, 20);
    header.writeUInt16LE(1, 22);
    header.writeUInt32LE(rate, 24);
    header.writeUInt32LE(rate * 2, 28);
    header.writeUInt16LE(2, 32);
    header.writeUInt16LE(16, 34);
    header.write('data', 36, 'ascii');
    header.writeUInt32LE(pcm.length, 40);
    const zip = zipSync({
      'themeconfig.json': strToU8(JSON.stringify({ theme_version: 2 })),
      'conf-getpin_48kHz_mono.wav': new Uint8Array(Buffer.concat([header, pcm])),
      'icon_waiting_for_host.svg': strToU8('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10"/></svg>'),
    });
    const form = new FormData();
    form.append('name', 'Spoken');
    form.append('package', new Blob([zip], { type: 'application/zip' }), 'theme.zip');
    const up = await fetch(`${platform.server.url}/api/admin/configuration/v1/ivr_theme/`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` },
      body: form,
    });
    expect(up.status, await up.clone().text()).toBe(201);
    const themeUri = new URL(up.headers.get('location')!, platform.server.url).pathname;
    await platform.rest('POST', 'conference/', { name: 'Themed room', aliases: [{ alias: 'meet.themed' }], pin: '1357', ivr_theme: themeUri });
    // The node holds the package once it serves one of its files for the room.
    await until(
      () => fetch(`${platform.node.url}/api/client/v2/conferences/meet.themed/theme/icon_waiting_for_host.svg`).then((r) => r.status),
      (status) => status === 200,
      20_000,
    );
    const seen: Record<string, unknown> = {};
    const res = await baresipCall(`sip:meet.themed@127.0.0.1:${port}`, {
      toneHz: TONES.phone,
      audioCodecs: 'PCMU/8000/1',
      holdMs: 1_500,
      during: async (keypad) => {
        await keypad.press('1357');
        seen.role = (
          await until(
            () => sipIn('Themed room'),
            (p) => p !== undefined,
            10_000,
          ).catch(() => undefined)
        )?.role;
      },
    });
    expect(seen.role).toBe('HOST');
    expect(phoneHeard(res, 1_200, 0, 2_000)).toBeGreaterThan(-40);
    expect(phoneHeard(res, BASE_PROMPT_HZ, 0, 2_000)).toBeLessThan(-50);
  }, 60_000);

  it('the Guest PIN joins as Guest; in a room whose Guests need no PIN, # alone joins as Guest', async () => {
    const roles: unknown[] = [];
    for (const [alias, keys, room] of [
      ['meet.pin', '5678', 'Pin room'],
      ['meet.guests', '#', 'Open guests'],
    ] as const) {
      await baresipCall(`sip:${alias}@127.0.0.1:${port}`, {
        toneHz: TONES.phone,
        audioCodecs: 'PCMU/8000/1',
        holdMs: 1_000,
        during: async (keypad) => {
          await keypad.press(keys);
          roles.push(
            (
              await until(
                () => sipIn(room),
                (p) => p !== undefined,
                10_000,
              ).catch(() => undefined)
            )?.role,
          );
        },
      });
    }
    expect(roles).toEqual(['GUEST', 'GUEST']);
  }, 60_000);

  it('three wrong PINs: the phone is disconnected (our BYE) without joining, and the failures count against the room', async () => {
    const before = platform.node.manager.breakIn.stats().pinCounters;
    const seen: Record<string, unknown> = {};
    const res = await baresipCall(`sip:meet.pin@127.0.0.1:${port}`, {
      toneHz: TONES.phone,
      audioCodecs: 'opus/48000/2',
      holdMs: 1_000,
      during: async (keypad) => {
        await keypad.press('1111');
        await keypad.press('2222');
        seen.callsAfterTwo = platform.node.sip!.calls;
        await keypad.press('3333');
        // Our BYE ends the dialog before baresip hangs up itself.
        seen.callsAfterThree = await until(
          () => platform.node.sip!.calls,
          (n) => n === 0,
          10_000,
        ).catch(() => platform.node.sip!.calls);
        seen.joined = sipIn('Pin room') !== undefined;
        await new Promise((r) => setTimeout(r, 1_000));
      },
    });
    expect(res.out, res.out).toMatch(/established/i);
    expect(seen).toEqual({ callsAfterTwo: 1, callsAfterThree: 0, joined: false });
    // "The PIN is invalid for this conference" just before our BYE ends the call (the end of what it decoded).
    const endMs = res.heard ? (res.heard.samples.length / res.heard.sampleRate) * 1000 : 0;
    expect(phoneHeard(res, BASE_PROMPT_HZ, endMs - 1_500, endMs)).toBeGreaterThan(-40);
    // baresip's log of the BYE it received.
    expect(res.out, res.out).toMatch(/session closed/i);
    expect(platform.node.manager.breakIn.stats().pinCounters).toBeGreaterThan(before);
  }, 60_000);

  it('a Virtual Reception caller keys 4321# and is moved into that room on the same call: it hears and is heard there', async () => {
    const seen: Record<string, unknown> = {};
    const res = await baresipCall(`sip:meet.reception@127.0.0.1:${port}`, {
      toneHz: TONES.phone,
      audioCodecs: 'opus/48000/2',
      holdMs: 1_000,
      during: async (keypad) => {
        seen.inReception =
          (await until(
            () => sipIn('Reception'),
            (p) => p !== undefined,
            10_000,
          ).catch(() => undefined)) !== undefined;
        await keypad.press('4321#');
        const phone = await until(
          () => sipIn('Open room'),
          (p) => p !== undefined,
          10_000,
        ).catch(() => undefined);
        seen.moved = phone !== undefined;
        seen.leftReception =
          (await until(
            () => sipIn('Reception'),
            (p) => p === undefined,
            10_000,
          ).catch(() => 'still there')) === undefined;
        if (phone) await listenIn(conference('Open room')!, seen);
      },
    });
    expect(res.out, res.out).toMatch(/established/i);
    expect(seen).toMatchObject({ inReception: true, moved: true, leftReception: true });
    // The reception's number request on answering (after its 2 s pause).
    expect(phoneHeard(res, BASE_PROMPT_HZ, 1_500, 3_500)).toBeGreaterThan(-40);
    expect(seen.xHearsPhone).toBeGreaterThan(-40);
    expect(phoneHeardX(res)).toBeGreaterThan(-40);
  }, 90_000);

  it('a Virtual Reception caller keys 5555# (a PIN-protected room), then the PIN, and joins it as Host', async () => {
    const seen: Record<string, unknown> = {};
    await baresipCall(`sip:meet.reception@127.0.0.1:${port}`, {
      toneHz: TONES.phone,
      audioCodecs: 'PCMU/8000/1',
      holdMs: 1_000,
      during: async (keypad) => {
        await until(
          () => sipIn('Reception'),
          (p) => p !== undefined,
          10_000,
        );
        await keypad.press('5555#');
        seen.leftReception =
          (await until(
            () => sipIn('Reception'),
            (p) => p === undefined,
            10_000,
          ).catch(() => 'still there')) === undefined;
        await keypad.press('1234');
        seen.role = (
          await until(
            () => sipIn('Pin room'),
            (p) => p !== undefined,
            10_000,
          ).catch(() => undefined)
        )?.role;
      },
    });
    expect(seen).toEqual({ leftReception: true, role: 'HOST' });
  }, 60_000);
});
