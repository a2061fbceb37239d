import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../shared/testing/until.js';
import { TestPlatform } from '../../testing/TestPlatform.js';
import { toneLevelDb } from '../testing/baresip.js';
import { MediaTestClient } from '../testing/MediaTestClient.js';
import { UdpPhone } from '../testing/UdpPhone.js';

/**
 * A phone as most desk phones and room systems write their SDP: no a=ssrc, no rtcp-mux (RTCP on
 * the next port), PCMU. Played here over real UDP (SIP and RTP) against the node's real SIP
 * stack and mediasoup, with its own tone, so the test can both send what it says and decode
 * what it hears; it changes SSRC halfway, as a phone does after hold or a re-INVITE.
 */
const TONES = { phone: 600, late: 700, mover: 800, lateNoSsrc: 900, x: 440, y: 1_000 } as const;
const PORTS: [number, number] = [47_400, 47_599];
const RATE = 48_000;

/** Level (dBFS) of `hz` in 48-kHz PCM (blockwise, robust to a skipped or repeated frame: see toneLevelDb). */
const levelDb = (pcm: ArrayLike<number>, hz: number): number => toneLevelDb({ sampleRate: RATE, samples: pcm }, hz, 0, (pcm.length / RATE) * 1000);

describe('a SIP phone whose SDP has no a=ssrc (and no rtcp-mux)', () => {
  let platform: TestPlatform;
  let port: number;
  const clients: MediaTestClient[] = [];
  const phone = new UdpPhone(TONES.phone, 'no-ssrc-1');
  const latePhone = new UdpPhone(TONES.late, 'late-offer-1');

  beforeAll(async () => {
    platform = await TestPlatform.start({ node: { sipPort: 0 } });
    await platform.rest('POST', 'conference/', { name: 'Desk room', aliases: [{ alias: 'meet.desk' }], pin: '2468' });
    await platform.rest('POST', 'conference/', { name: 'Late room', aliases: [{ alias: 'meet.late' }], pin: '2468' });
    await platform.nodeKnows(['meet.desk', 'meet.late']);
    port = platform.node.sip!.port!;
    await phone.open();
    await latePhone.open();
  }, 60_000);
  afterAll(async () => {
    phone.close();
    latePhone.close();
    await Promise.all(clients.map((c) => c.close()));
    await platform?.stop();
  });

  it('is heard by the participants (its SSRC learnt from its packets, again after it changes), hears them and not itself, and gets RTCP on its RTCP port', async () => {
    const answer = await phone.call(port, 'meet.desk**2468');
    // The answer gives our RTCP port (RFC 3605): RTCP is not muxed.
    expect(answer).toMatch(/^a=rtcp:\d+/m);
    expect(answer).not.toMatch(/a=rtcp-mux/);
    const conf = await until(
      () => platform.node.manager.conferences().find((c) => c.participants.some((p) => p.protocol === 'sip')),
      (c) => c !== undefined,
      10_000,
    );
    phone.startSending();
    const mine: MediaTestClient[] = [];
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
    const before = { x: x.toneLevelDb(TONES.phone), y: y.toneLevelDb(TONES.phone) };

    // A new SSRC (as after hold): the stream is produced again and still heard.
    phone.ssrc = 0x0bad_cafe;
    await new Promise((r) => setTimeout(r, 1_500));
    await x.waitFor('the phone heard by x after its SSRC changed', () => x.toneLevelDb(TONES.phone) > -40, 15_000);
    const after = x.toneLevelDb(TONES.phone);

    // What the phone decoded in its last second: both participants, not itself (polled: a loaded machine may take a while).
    const lastSecond = () => {
      const last = phone.heard.slice(-RATE);
      return { x: levelDb(last, TONES.x), y: levelDb(last, TONES.y), self: levelDb(last, TONES.phone) };
    };
    const heard = await until(lastSecond, (h) => h.x > -40 && h.y > -40 && h.self < Math.min(h.x, h.y) - 20, 20_000, 250).catch(() => lastSecond());
    console.info(
      `no-ssrc phone: heard by x/y ${JSON.stringify(before)}, by x after the SSRC change ${after.toFixed(1)}; the phone decoded ${JSON.stringify(heard)} dBFS`,
    );
    expect(heard.x, JSON.stringify(heard)).toBeGreaterThan(-40);
    expect(heard.y, JSON.stringify(heard)).toBeGreaterThan(-40);
    expect(heard.self, JSON.stringify(heard)).toBeLessThan(Math.min(heard.x, heard.y) - 20);
    // RTCP (receiver/sender reports) reaches the phone's RTCP port through the relay.
    await until(
      () => phone.rtcpFromNode,
      (n) => n > 0,
      15_000,
    );
  }, 90_000);
  it('with a late offer (an INVITE without SDP): our offer in the 200, its answer in the ACK; it is heard and hears', async () => {
    const offer = await latePhone.call(port, 'meet.late**2468', true);
    // Our offer: the audio codecs we take, G.711 among them.
    expect(offer).toMatch(/^m=audio \d+ RTP\/AVP .*\b0\b/m);
    expect(offer).toMatch(/^a=rtpmap:0 PCMU\/8000/m);
    const conf = await until(
      () => platform.node.manager.conferences().find((c) => c.service.aliases.includes('meet.late') && c.participants.some((p) => p.protocol === 'sip')),
      (c) => c !== undefined,
      10_000,
    );
    latePhone.startSending();
    const z = new MediaTestClient('z', PORTS, { toneHz: TONES.x });
    clients.push(z);
    await z.join(conf!.media, 'z');
    z.startSending(20, ['audio']);
    await z.waitFor('the late-offer phone heard by z', () => z.toneLevelDb(TONES.late) > -40, 20_000);
    const heard = await latePhone.lastSecondLevels(TONES.x);
    console.info(`late-offer phone: heard by z at ${z.toneLevelDb(TONES.late).toFixed(1)}; the phone decoded ${JSON.stringify(heard)} dBFS`);
    expect(heard.z, JSON.stringify(heard)).toBeGreaterThan(-40);
    expect(heard.self, JSON.stringify(heard)).toBeLessThan(heard.z - 20);
  }, 90_000);

  it('a re-INVITE in a late-offer call: with an offer (its ACK empty) the call goes on; without one, our offer in the 200 and its answer in the ACK', async () => {
    const inCall = () => platform.node.manager.conferences().some((c) => c.participants.some((p) => p.protocol === 'sip' && p.displayName === 'Desk phone'));
    expect(inCall()).toBe(true);
    const z = clients.at(-1)!;
    const heardNow = async (what: string) => {
      const before = latePhone.heard.length;
      await until(
        () => latePhone.heard.length,
        (n) => n > before + RATE,
        10_000,
        100,
      );
      await z.waitFor(`the late-offer phone heard by z ${what}`, () => z.toneLevelDb(TONES.late) > -40, 10_000);
    };

    // A re-INVITE with an offer: our answer in the 200; its ACK has no body, which is right here (before: the call ended).
    const withOffer = await latePhone.reinvite(port, 'meet.late**2468', latePhone.sdp(), '');
    expect(withOffer.status).toBe(200);
    expect(withOffer.body).toMatch(/^m=audio \d+ RTP\/AVP 0\b/m);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(inCall()).toBe(true);
    await heardNow('after a re-INVITE with an offer');

    // A re-INVITE without an offer (before: 488): our offer in the 200, sendrecv, a new version.
    const noOffer = await latePhone.reinvite(port, 'meet.late**2468', '', latePhone.sdp());
    expect(noOffer.status).toBe(200);
    expect(noOffer.body).toMatch(/^m=audio \d+ RTP\/AVP /m);
    expect(noOffer.body).toMatch(/^a=sendrecv/m);
    expect(/^o=\S+ \S+ (\d+)/m.exec(noOffer.body)![1]).not.toBe(/^o=\S+ \S+ (\d+)/m.exec(withOffer.body)![1]);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(inCall()).toBe(true);
    await heardNow('after a re-INVITE without an offer');
  }, 90_000);

  it('with a late offer answered without a=ssrc (as most desk phones answer): our offer gave a relay port, so it is heard and hears', async () => {
    const phone = new UdpPhone(TONES.lateNoSsrc, 'late-no-ssrc', 'Plain answer');
    await phone.open();
    try {
      const offer = await phone.call(port, 'meet.late**2468', true, false);
      expect(offer).toMatch(/^m=audio \d+ RTP\/AVP /m);
      phone.startSending();
      const z = clients.at(-1)!;
      await z.waitFor('the late-offer phone without a=ssrc heard by z', () => z.toneLevelDb(TONES.lateNoSsrc) > -40, 20_000);
      const heard = await phone.lastSecondLevels(TONES.x);
      console.info(
        `late offer answered without a=ssrc: heard by z at ${z.toneLevelDb(TONES.lateNoSsrc).toFixed(1)}; the phone decoded ${JSON.stringify(heard)} dBFS`,
      );
      expect(heard.z, JSON.stringify(heard)).toBeGreaterThan(-40);
      expect(heard.self, JSON.stringify(heard)).toBeLessThan(heard.z - 20);
    } finally {
      phone.close();
    }
  }, 90_000);

  it('moves on the same call: without the PIN it is answered at PIN entry (was 403), keys it and joins; the command API then transfers it to another room, where it is heard and hears', async () => {
    const mover = new UdpPhone(TONES.mover, 'no-ssrc-move', 'Moving phone');
    await mover.open();
    try {
      const answer = await mover.call(port, 'meet.desk');
      const relayPort = Number(/^m=audio (\d+) /m.exec(answer)![1]);
      mover.startSending();
      await mover.info(port, 'meet.desk', '2468#');
      const participantIn = (alias: string) =>
        platform.node.manager
          .conferences()
          .find((c) => c.service.aliases.includes(alias))
          ?.participants.find((p) => p.displayName === 'Moving phone');
      const joined = await until(
        () => participantIn('meet.desk'),
        (p) => p !== undefined,
        15_000,
      );
      const [x] = clients as [MediaTestClient];
      await x.waitFor('the phone that keyed its PIN heard in the room', () => x.toneLevelDb(TONES.mover) > -40, 20_000);

      const r = await platform.api('POST', '/api/admin/command/v1/participant/transfer/', {
        participant_id: joined!.id,
        conference_alias: 'meet.late',
        role: 'chair',
        pin: '2468',
      });
      expect(r.status, await r.clone().text()).toBe(200);
      await until(
        () => participantIn('meet.late'),
        (p) => p !== undefined,
        15_000,
      );
      const z = clients.at(-1)!;
      await z.waitFor('the transferred phone heard in the other room', () => z.toneLevelDb(TONES.mover) > -40, 20_000);
      const heard = await mover.lastSecondLevels(TONES.x);
      console.info(
        `moving no-ssrc phone (relay port ${relayPort} kept): heard in the second room at ${z.toneLevelDb(TONES.mover).toFixed(1)}; it decoded ${JSON.stringify(heard)} dBFS`,
      );
      expect(heard.z, JSON.stringify(heard)).toBeGreaterThan(-40);
      expect(heard.self, JSON.stringify(heard)).toBeLessThan(heard.z - 20);
      expect(participantIn('meet.desk')).toBeUndefined();
    } finally {
      mover.close();
    }
  }, 120_000);
});
