import { strToU8, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../shared/testing/until.js';
import { TestPlatform } from '../../testing/TestPlatform.js';
import { baresipCall } from '../testing/baresip.js';
import { MediaTestClient } from '../testing/MediaTestClient.js';
import { runSipp } from '../testing/sipp.js';
import type { Conference } from '../conference/Conference.js';
import type { Participant } from '../conference/Participant.js';
import type { SipCallLeg } from './SipCallLeg.js';

/**
 * DTMF from real SIP phones: baresip keys RFC 4733 telephone-events on its audio (Opus on a side
 * router, G.711 on the conference router), sipp sends SIP INFO; a Host's keys are the guide's
 * conference controls (*7 lock, *5 mute Guests, ## end), a Guest's keys change nothing.
 */
const PORTS: [number, number] = [47_400, 47_599];
const TONES = { phone: 600, x: 440 } as const;

describe('DTMF from SIP phones: the Host keypad controls', () => {
  let platform: TestPlatform;
  let port: number;
  const clients: MediaTestClient[] = [];

  beforeAll(async () => {
    platform = await TestPlatform.start({ node: { sipPort: 0 } });
    await platform.rest('POST', 'conference/', { name: 'Keypad room', aliases: [{ alias: 'meet.keys' }], pin: '1234', allow_guests: true, guest_pin: '5678' });
    await until(
      () => platform.node.manager.directory.lookup('meet.keys'),
      (s) => s !== undefined,
    );
    port = platform.node.sip!.port!;
  }, 60_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await platform?.stop();
  });

  const conference = () => platform.node.manager.conferences().find((c) => c.service.name === 'Keypad room');
  /** The phone's participant once its call is answered, and every key its leg reports. */
  async function phoneIn(): Promise<{ conf: Conference; phone: Participant; keys: string[] }> {
    const conf = (await until(conference, (c) => c !== undefined, 10_000))!;
    const phone = (await until(
      () => conf.participants.find((p) => p.protocol === 'sip' && p.leg !== null),
      (p) => p !== undefined,
      10_000,
    ))!;
    const keys: string[] = [];
    (phone.leg as SipCallLeg).keypad.on('dtmf', (d) => keys.push(d));
    return { conf, phone, keys };
  }

  for (const codec of [
    { name: 'Opus', audioCodecs: 'opus/48000/2' },
    { name: 'G.711 µ-law', audioCodecs: 'PCMU/8000/1' },
    // SRTP (best effort, a=crypto): mediasoup decrypts before the carrier codec is told apart.
    { name: 'SRTP Opus', audioCodecs: 'opus/48000/2', mediaenc: 'srtp' as const },
  ]) {
    it(`an ${codec.name} Host phone keys *7 (locked), *7 (unlocked), *5 (Guests muted) by RFC 4733, and a participant still hears it`, async () => {
      const seen: Record<string, unknown> = {};
      const { out } = await baresipCall(`sip:meet.keys**1234@127.0.0.1:${port}`, {
        toneHz: TONES.phone,
        audioCodecs: codec.audioCodecs,
        ...(codec.mediaenc ? { mediaenc: codec.mediaenc } : {}),
        holdMs: 1_000,
        during: async (keypad) => {
          const { conf, phone, keys } = await phoneIn();
          seen.role = phone.role;
          seen.encrypted = phone.toClientObject('conference').encryption === 'On';
          const x = new MediaTestClient('x', PORTS, { toneHz: TONES.x });
          clients.push(x);
          await x.join(conf.media, 'x');
          x.startSending(20, ['audio']);
          await keypad.press('*7');
          await until(
            () => conf.locked,
            (l) => l,
            10_000,
          ).catch(() => undefined);
          seen.lockedAfterFirst = conf.locked;
          await keypad.press('*7');
          await until(
            () => conf.locked,
            (l) => !l,
            10_000,
          ).catch(() => undefined);
          seen.lockedAfterSecond = conf.locked;
          await keypad.press('*5');
          await until(
            () => conf.guestsMuted,
            (m) => m,
            10_000,
          ).catch(() => undefined);
          seen.guestsMuted = conf.guestsMuted;
          seen.keys = keys.join('');
          // The telephone-events do not disturb the phone's audio in the mix.
          await x.waitFor('the phone heard by x', () => x.toneLevelDb(TONES.phone) > -40, 15_000).catch(() => undefined);
          seen.xHearsPhone = x.toneLevelDb(TONES.phone);
          await x.close();
        },
      });
      expect(out, out).toMatch(/established/i);
      expect(out).not.toMatch(/DURING FAILED.*/);
      expect(seen).toMatchObject({
        role: 'HOST',
        encrypted: codec.mediaenc !== undefined,
        keys: '*7*7*5',
        lockedAfterFirst: true,
        lockedAfterSecond: false,
        guestsMuted: true,
      });
      expect(seen.xHearsPhone).toBeGreaterThan(-40);
      conference()?.setGuestsMuted(false);
    }, 90_000);
  }

  it("a Guest phone's *7 reaches its call but does not lock the conference", async () => {
    const seen: Record<string, unknown> = {};
    const { out } = await baresipCall(`sip:meet.keys**5678@127.0.0.1:${port}`, {
      toneHz: TONES.phone,
      audioCodecs: 'PCMU/8000/1',
      holdMs: 1_000,
      during: async (keypad) => {
        const { conf, phone, keys } = await phoneIn();
        seen.role = phone.role;
        await keypad.press('*7');
        await until(
          () => keys.length,
          (n) => n >= 2,
          10_000,
        ).catch(() => undefined);
        seen.keys = keys.join('');
        seen.locked = conf.locked;
      },
    });
    expect(out, out).toMatch(/established/i);
    expect(seen).toEqual({ role: 'GUEST', keys: '*7', locked: false });
  }, 60_000);

  it('a Host phone keys ## and the conference ends: the phone gets our BYE', async () => {
    const seen: Record<string, unknown> = {};
    const { out } = await baresipCall(`sip:meet.keys**1234@127.0.0.1:${port}`, {
      toneHz: TONES.phone,
      audioCodecs: 'PCMU/8000/1',
      holdMs: 1_000,
      during: async (keypad) => {
        const { conf } = await phoneIn();
        await keypad.press('##');
        await until(
          () => conf.participants.length,
          (n) => n === 0,
          10_000,
        ).catch(() => undefined);
        seen.left = conf.participants.length;
        seen.running = platform.node.manager.conferences().includes(conf);
        // Our BYE ends the dialog before baresip hangs up itself.
        seen.calls = await until(
          () => platform.node.sip!.calls,
          (n) => n === 0,
          10_000,
        ).catch(() => platform.node.sip!.calls);
        // Time for the BYE to reach the phone before it hangs up itself.
        await new Promise((r) => setTimeout(r, 1_500));
      },
    });
    expect(seen).toEqual({ left: 0, running: false, calls: 0 });
    // baresip's log of the BYE it received.
    expect(out, out).toMatch(/session closed/i);
  }, 60_000);

  it("a room whose theme sets its own controls: *7 does nothing, the theme's *9 locks", async () => {
    const form = new FormData();
    form.append('name', 'Own keys');
    const themeconfig = { theme_version: 2, dtmf_conference_control_commands: { '*9': 'toggle_lock', '*8': 'toggle_guest_mute', '#9': 'end_conference' } };
    const zip = zipSync({
      'themeconfig.json': strToU8(JSON.stringify(themeconfig)),
      'icon_waiting_for_host.svg': strToU8('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10"/></svg>'),
    });
    form.append('package', new Blob([zip], { type: 'application/zip' }), 'theme.zip');
    const up = await fetch(`${platform.server.url}/api/admin/configuration/v1/ivr_theme/`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` },
      body: form,
    });
    expect(up.status, await up.clone().text()).toBe(201);
    const themeUri = new URL(up.headers.get('location')!, platform.server.url).pathname;
    await platform.rest('POST', 'conference/', { name: 'Own keys room', aliases: [{ alias: 'meet.ownkeys' }], pin: '1234', ivr_theme: themeUri });
    // The node holds the package once it serves one of its files for the room.
    await until(
      () => fetch(`${platform.node.url}/api/client/v2/conferences/meet.ownkeys/theme/icon_waiting_for_host.svg`).then((r) => r.status),
      (status) => status === 200,
      20_000,
    );
    const seen: Record<string, unknown> = {};
    await baresipCall(`sip:meet.ownkeys**1234@127.0.0.1:${port}`, {
      toneHz: TONES.phone,
      audioCodecs: 'PCMU/8000/1',
      holdMs: 1_000,
      during: async (keypad) => {
        const conf = (await until(
          () => platform.node.manager.conferences().find((c) => c.service.name === 'Own keys room' && c.participants.some((p) => p.leg !== null)),
          (c) => c !== undefined,
          10_000,
        ))!;
        const keys: string[] = [];
        (conf.participants[0]!.leg as SipCallLeg).keypad.on('dtmf', (d) => keys.push(d));
        await keypad.press('*7');
        await until(
          () => keys.length,
          (n) => n >= 2,
          10_000,
        ).catch(() => undefined);
        seen.afterStar7 = conf.locked;
        await keypad.press('*9');
        seen.afterStar9 = await until(
          () => conf.locked,
          (l) => l,
          10_000,
        ).catch(() => conf.locked);
        seen.keys = keys.join('');
      },
    });
    expect(seen).toEqual({ afterStar7: false, afterStar9: true, keys: '*7*9' });
  }, 60_000);

  it('a Host keys *7 by SIP INFO (application/dtmf-relay "*", then application/dtmf "7") and the conference locks', async () => {
    conference()?.setLocked(false);
    let locked = false;
    const watch = setInterval(() => (locked ||= conference()?.locked === true), 50);
    try {
      // sipp's own check of every step: a failure throws, as execFile did.
      const code = await runSipp('info-dtmf.xml', port, 'meet.keys**1234', { timeoutS: 15 });
      if (code !== 0) throw new Error(`sipp info-dtmf.xml exited ${code}`);
    } finally {
      clearInterval(watch);
    }
    expect(locked).toBe(true);
  }, 40_000);
});
