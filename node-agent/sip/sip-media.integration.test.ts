import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../shared/testing/until.js';
import { TestPlatform } from '../../testing/TestPlatform.js';
import { baresipCall, toneLevelDb } from '../testing/baresip.js';
import { MediaTestClient } from '../testing/MediaTestClient.js';

/**
 * A SIP phone and WebRTC participants in one meeting, each with its own tone: the participants
 * hear the phone (its audio reaches the conference's mix), and the phone hears them and not itself.
 */
const TONES = { phone: 600, x: 440, y: 1_000 } as const;
const PORTS: [number, number] = [47_000, 47_199];

describe('SIP and WebRTC participants hear each other', () => {
  let platform: TestPlatform;
  let port: number;
  const clients: MediaTestClient[] = [];

  beforeAll(async () => {
    platform = await TestPlatform.start({ node: { sipPort: 0 } });
    await platform.rest('POST', 'conference/', { name: 'Phone room', aliases: [{ alias: 'meet.phone' }], pin: '2468' });
    // Media encryption Required: plain RTP is refused there, SRTP taken.
    await platform.rest('POST', 'conference/', { name: 'Secure room', aliases: [{ alias: 'meet.secure' }], pin: '2468', crypto_mode: 'on' });
    // No encryption: an SRTP-only phone is refused there.
    await platform.rest('POST', 'conference/', { name: 'Clear room', aliases: [{ alias: 'meet.clear' }], pin: '2468', crypto_mode: 'off' });
    await platform.nodeKnows(['meet.phone', 'meet.secure', 'meet.clear']);
    port = platform.node.sip!.port!;
  }, 60_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await platform?.stop();
  });

  const conference = () => platform.node.manager.conferences().find((c) => c.participants.some((p) => p.protocol === 'sip'));

  for (const codec of [
    { name: 'Opus', audioCodecs: 'opus/48000/2', alias: 'meet.phone' },
    { name: 'G.711 µ-law', audioCodecs: 'PCMU/8000/1', alias: 'meet.phone' },
    { name: 'G.711 A-law', audioCodecs: 'PCMA/8000/1', alias: 'meet.phone' },
    // G.722 (baresip's is spandsp's): 16-kHz audio on an 8000 RTP clock.
    { name: 'G.722', audioCodecs: 'G722/16000/1', alias: 'meet.phone' },
    // SRTP only (RTP/SAVP with a=crypto) into a room whose Media encryption is Required.
    { name: 'SRTP (SDES) Opus', audioCodecs: 'opus/48000/2', alias: 'meet.secure', mediaenc: 'srtp-mand' as const },
    // Best effort (a=crypto on RTP/AVP), G.711.
    { name: 'best-effort SRTP G.711 µ-law', audioCodecs: 'PCMU/8000/1', alias: 'meet.phone', mediaenc: 'srtp' as const },
  ]) {
    it(`a ${codec.name} phone and two participants: each participant hears the phone and the other; the phone hears both and not itself`, async () => {
      const levels: Record<string, number> = {};
      const mine: MediaTestClient[] = [];
      const { out, heard } = await baresipCall(`sip:${codec.alias}**2468@127.0.0.1:${port}`, {
        toneHz: TONES.phone,
        audioCodecs: codec.audioCodecs,
        ...(codec.mediaenc ? { mediaenc: codec.mediaenc } : {}),
        holdMs: 1_000,
        during: async () => {
          const conf = await until(conference, (c) => c !== undefined, 10_000);
          // The leg is set once the 200 is sent.
          const phone = (await until(
            () => conf!.participants.find((p) => p.protocol === 'sip' && p.leg !== null),
            (p) => p !== undefined,
            10_000,
          ))!;
          levels.encrypted = phone.toClientObject('conference').encryption === 'On' ? 1 : 0;
          for (const name of ['x', 'y'] as const) {
            const client = new MediaTestClient(name, PORTS, { toneHz: TONES[name] });
            clients.push(client);
            mine.push(client);
            await client.join(conf!.media, name);
            client.startSending(20, ['audio']);
          }
          const [x, y] = mine as [MediaTestClient, MediaTestClient];
          await x.waitFor('the phone heard by x', () => x.toneLevelDb(TONES.phone) > -40, 15_000);
          await y.waitFor('the phone heard by y', () => y.toneLevelDb(TONES.phone) > -40, 15_000);
          await x.waitFor('y heard by x', () => x.toneLevelDb(TONES.y) > -40, 15_000);
          levels.xHearsPhone = x.toneLevelDb(TONES.phone);
          levels.yHearsPhone = y.toneLevelDb(TONES.phone);
          levels.xHearsY = x.toneLevelDb(TONES.y);
          // Give the phone a few seconds of both tones to decode.
          await new Promise((r) => setTimeout(r, 3_000));
        },
      });
      await Promise.all(mine.map((c) => c.close()));
      expect(out, out).toMatch(/established/i);
      expect(out).not.toMatch(/DURING FAILED.*/);
      // The participant's "encryption" says whether its media is SRTP.
      expect(levels.encrypted).toBe(codec.mediaenc ? 1 : 0);
      expect(levels.xHearsPhone).toBeGreaterThan(-40);
      expect(levels.yHearsPhone).toBeGreaterThan(-40);
      expect(heard, 'baresip decoded audio').not.toBeNull();
      // The last 2 s of what the phone decoded: both participants, its own tone at least 20 dB lower.
      const end = (heard!.samples.length / heard!.sampleRate) * 1000 - 1_500;
      const at = (hz: number) => toneLevelDb(heard!, hz, end - 2_000, end);
      const phoneLevels = { x: at(TONES.x), y: at(TONES.y), self: at(TONES.phone) };
      console.info(`${codec.name} phone: participants hear ${JSON.stringify(levels)}; the phone decoded ${JSON.stringify(phoneLevels)} dBFS`);
      expect(phoneLevels.x, JSON.stringify(phoneLevels)).toBeGreaterThan(-40);
      expect(phoneLevels.y, JSON.stringify(phoneLevels)).toBeGreaterThan(-40);
      expect(phoneLevels.self, JSON.stringify(phoneLevels)).toBeLessThan(Math.min(phoneLevels.x, phoneLevels.y) - 20);
    }, 90_000);
  }

  it('a plain-RTP phone calling a room whose Media encryption is Required gets 488 and no participant', async () => {
    const { out } = await baresipCall(`sip:meet.secure**2468@127.0.0.1:${port}`, { toneHz: TONES.phone, holdMs: 3_000 });
    expect(out, out).toMatch(/488 Not Acceptable Here/);
    expect(out).not.toMatch(/established/i);
    expect(platform.node.manager.conferences().some((c) => c.participants.some((p) => p.protocol === 'sip'))).toBe(false);
  }, 30_000);

  it('an SRTP-only phone (RTP/SAVP) calling a room whose Media encryption is No encryption gets 488 and no participant', async () => {
    const { out } = await baresipCall(`sip:meet.clear**2468@127.0.0.1:${port}`, { toneHz: TONES.phone, holdMs: 3_000, mediaenc: 'srtp-mand' });
    expect(out, out).toMatch(/488 Not Acceptable Here/);
    expect(out).not.toMatch(/established/i);
    expect(platform.node.manager.conferences().some((c) => c.participants.some((p) => p.protocol === 'sip'))).toBe(false);
  }, 30_000);
});
