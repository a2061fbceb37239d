import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../shared/testing/until.js';
import { TestPlatform } from '../../testing/TestPlatform.js';
import { G711Decoder, G711Encoder } from '../media/audio/G711.js';
import { toneLevelDb } from '../testing/baresip.js';
import { MediaTestClient } from '../testing/MediaTestClient.js';

/**
 * A phone as most desk phones and room systems write their SDP: no a=ssrc, no rtcp-mux (RTCP on
 * the next port), PCMU. Played here over real UDP (SIP and RTP) against the node's real SIP
 * stack and mediasoup, with its own tone, so the test can both send what it says and decode
 * what it hears; it changes SSRC halfway, as a phone does after hold or a re-INVITE.
 */
const TONES = { phone: 600, late: 700, mover: 800, lateNoSsrc: 900, x: 440, y: 1_000 } as const;
const PORTS: [number, number] = [47_400, 47_599];
const RATE = 48_000;
const FRAME = 960;

/** Level (dBFS) of `hz` in 48-kHz PCM (blockwise, robust to a skipped or repeated frame: see toneLevelDb). */
const levelDb = (pcm: ArrayLike<number>, hz: number): number => toneLevelDb({ sampleRate: RATE, samples: pcm }, hz, 0, (pcm.length / RATE) * 1000);

class UdpPhone {
  readonly sip: Socket = createSocket('udp4');
  readonly rtp: Socket = createSocket('udp4');
  readonly rtcp: Socket = createSocket('udp4');
  /** What we decoded of the node's RTP (48 kHz). */
  heard: number[] = [];
  rtcpFromNode = 0;
  private readonly encoder = new G711Encoder('pcmu', RATE, 1);
  private readonly decoder = new G711Decoder('pcmu', RATE, 1);
  private sending: NodeJS.Timeout | null = null;
  private n = 0;
  private seq = 100;
  private ts = 5_000;
  ssrc = 0x1234_5678;
  private remote: { address: string; port: number } | null = null;
  /** The dialog's To header with the node's tag (for requests in the call). */
  private toTag = '';
  private cseq = 1;
  private remoteRtcpPort = 0;

  async open(): Promise<void> {
    await new Promise<void>((r) => this.sip.bind(0, '127.0.0.1', r));
    // An even RTP port and RTCP on the next one, as RFC 3550 phones do.
    for (;;) {
      await new Promise<void>((r) => this.rtp.bind(0, '127.0.0.1', r));
      if (this.rtp.address().port % 2 === 0) {
        try {
          await new Promise<void>((resolve, reject) => {
            this.rtcp.once('error', reject);
            this.rtcp.bind(this.rtp.address().port + 1, '127.0.0.1', resolve);
          });
          break;
        } catch {
          /* taken: try another pair */
        }
      }
      this.rtp.close();
      (this as { rtp: Socket }).rtp = createSocket('udp4');
    }
    this.rtp.on('message', (msg) => {
      // RTP only (RTCP shares the port with rtcp-mux).
      if (msg.length <= 12 || msg[0]! >> 6 !== 2 || (msg[1]! >= 200 && msg[1]! <= 207)) return;
      this.heard.push(...this.decoder.decode(msg.subarray(12)));
    });
    this.rtcp.on('message', () => this.rtcpFromNode++);
  }

  constructor(
    private readonly toneHz: number,
    private readonly callId: string,
    readonly name = 'Desk phone',
  ) {}

  /**
   * INVITE with our SDP (no a=ssrc, no rtcp-mux); resolves with the 200's SDP body after sending the ACK.
   * `late`: the INVITE has no SDP, and the ACK carries our answer to the node's offer (PCMU, rtcp-mux, with a=ssrc).
   */
  async call(port: number, alias: string, late = false, answerSsrc = true): Promise<string> {
    const rtpPort = this.rtp.address().port;
    const sdp = late
      ? ''
      : [
          'v=0',
          'o=phone 1 1 IN IP4 127.0.0.1',
          's=-',
          'c=IN IP4 127.0.0.1',
          't=0 0',
          `m=audio ${rtpPort} RTP/AVP 0 101`,
          'a=rtpmap:0 PCMU/8000',
          'a=rtpmap:101 telephone-event/8000',
          'a=fmtp:101 0-15',
          'a=sendrecv',
          '',
        ].join('\r\n');
    const lateAnswer = () =>
      [
        'v=0',
        'o=phone 1 1 IN IP4 127.0.0.1',
        's=-',
        'c=IN IP4 127.0.0.1',
        't=0 0',
        `m=audio ${rtpPort} RTP/AVP 0`,
        'a=rtpmap:0 PCMU/8000',
        'a=rtcp-mux',
        ...(answerSsrc ? [`a=ssrc:${this.ssrc} cname:desk`] : []),
        'a=sendrecv',
        '',
      ].join('\r\n');
    const own = this.sip.address().port;
    const invite =
      `INVITE sip:${alias}@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${own};branch=z9hG4bK${this.callId}inv;rport\r\n` +
      `From: "${this.name}" <sip:desk@127.0.0.1>;tag=ph1\r\nTo: <sip:${alias}@127.0.0.1>\r\nCall-ID: ${this.callId}\r\nCSeq: 1 INVITE\r\n` +
      `Contact: <sip:desk@127.0.0.1:${own}>\r\nMax-Forwards: 70\r\n${sdp ? 'Content-Type: application/sdp\r\n' : ''}Content-Length: ${Buffer.byteLength(sdp)}\r\n\r\n${sdp}`;
    const ok = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no 200 OK for the INVITE')), 20_000);
      this.sip.on('message', (msg) => {
        const text = msg.toString();
        if (!/^SIP\/2\.0 200/.test(text) || !/CSeq: 1 INVITE/i.test(text)) return;
        clearTimeout(timer);
        const toTag = /^To:.*$/im.exec(text)![0];
        this.toTag = toTag;
        const body = late ? lateAnswer() : '';
        const ack =
          `ACK sip:${alias}@127.0.0.1:${port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${own};branch=z9hG4bK${this.callId}ack;rport\r\n` +
          `From: "${this.name}" <sip:desk@127.0.0.1>;tag=ph1\r\n${toTag}\r\nCall-ID: ${this.callId}\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\n${body ? 'Content-Type: application/sdp\r\n' : ''}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
        this.sip.send(ack, port, '127.0.0.1');
        resolve(text.slice(text.indexOf('\r\n\r\n') + 4));
      });
    });
    this.sip.send(invite, port, '127.0.0.1');
    const answer = await ok;
    const m = /^m=audio (\d+) /m.exec(answer);
    this.remote = { address: '127.0.0.1', port: Number(m![1]) };
    this.remoteRtcpPort = late ? this.remote.port : Number(/^a=rtcp:(\d+)/m.exec(answer)?.[1] ?? this.remote.port + 1);
    return answer;
  }

  /**
   * A re-INVITE in the call, with `offer` or without one (empty); the ACK carries `ackBody`.
   * Resolves with the final answer's status and body.
   */
  async reinvite(port: number, alias: string, offer: string, ackBody: string): Promise<{ status: number; body: string }> {
    const own = this.sip.address().port;
    const cseq = ++this.cseq;
    const head = (method: string, branch: string) =>
      `${method} sip:${alias}@127.0.0.1:${port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${own};branch=z9hG4bK${this.callId}${branch};rport\r\n` +
      `From: "${this.name}" <sip:desk@127.0.0.1>;tag=ph1\r\n${this.toTag}\r\nCall-ID: ${this.callId}\r\nCSeq: ${cseq} ${method}\r\nMax-Forwards: 70\r\n`;
    const withBody = (body: string) => `${body ? 'Content-Type: application/sdp\r\n' : ''}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    const final = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no final answer to the re-INVITE (CSeq ${cseq})`)), 15_000);
      const onMessage = (msg: Buffer) => {
        const text = msg.toString();
        const status = Number(/^SIP\/2\.0 (\d{3})/.exec(text)?.[1] ?? 0);
        if (status < 200 || !new RegExp(`CSeq: ${cseq} INVITE`, 'i').test(text)) return;
        clearTimeout(timer);
        this.sip.off('message', onMessage);
        if (status < 300) this.sip.send(head('ACK', `ack${cseq}`) + withBody(ackBody), port, '127.0.0.1');
        resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4) });
      };
      this.sip.on('message', onMessage);
    });
    this.sip.send(head('INVITE', `inv${cseq}`) + `Contact: <sip:desk@127.0.0.1:${own}>\r\n` + withBody(offer), port, '127.0.0.1');
    return final;
  }

  /** Keys `digits` one by one as SIP INFO (application/dtmf-relay), each answered before the next. */
  async info(port: number, alias: string, digits: string): Promise<void> {
    const own = this.sip.address().port;
    for (const digit of digits) {
      const cseq = ++this.cseq;
      const body = `Signal=${digit}\r\nDuration=160\r\n`;
      const answered = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no answer to INFO ${digit}`)), 5_000);
        const onMessage = (msg: Buffer) => {
          if (!new RegExp(`^SIP/2\\.0 200[\\s\\S]*CSeq: ${cseq} INFO`, 'i').test(msg.toString())) return;
          clearTimeout(timer);
          this.sip.off('message', onMessage);
          resolve();
        };
        this.sip.on('message', onMessage);
      });
      this.sip.send(
        `INFO sip:${alias}@127.0.0.1:${port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${own};branch=z9hG4bK${this.callId}info${cseq};rport\r\n` +
          `From: "${this.name}" <sip:desk@127.0.0.1>;tag=ph1\r\n${this.toTag}\r\nCall-ID: ${this.callId}\r\nCSeq: ${cseq} INFO\r\nMax-Forwards: 70\r\n` +
          `Content-Type: application/dtmf-relay\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        port,
        '127.0.0.1',
      );
      await answered;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /**
   * Levels (dBFS) of `otherHz` and of its own tone in the last second it decoded, once the other is
   * heard and itself 20 dB below (polled up to 20 s; a loaded machine may take a while), else as they are.
   */
  async lastSecondLevels(otherHz: number): Promise<{ z: number; self: number }> {
    const lastSecond = () => {
      const last = this.heard.slice(-RATE);
      return { z: levelDb(last, otherHz), self: levelDb(last, this.toneHz) };
    };
    return until(lastSecond, (h) => h.z > -40 && h.self < h.z - 20, 20_000, 250).catch(() => lastSecond());
  }

  /** The phone's SDP (PCMU, rtcp-mux, a=ssrc): its answer to a late offer, or a new offer. */
  sdp(): string {
    return [
      'v=0',
      'o=phone 1 2 IN IP4 127.0.0.1',
      's=-',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      `m=audio ${this.rtp.address().port} RTP/AVP 0`,
      'a=rtpmap:0 PCMU/8000',
      'a=rtcp-mux',
      `a=ssrc:${this.ssrc} cname:desk`,
      'a=sendrecv',
      '',
    ].join('\r\n');
  }

  startSending(): void {
    this.sending = setInterval(() => {
      const pcm = Int16Array.from({ length: FRAME }, (_, i) => Math.round(0.3 * 32_767 * Math.sin((2 * Math.PI * this.toneHz * (this.n * FRAME + i)) / RATE)));
      this.n++;
      const header = Buffer.alloc(12);
      header[0] = 0x80;
      header[1] = 0;
      header.writeUInt16BE(this.seq, 2);
      header.writeUInt32BE(this.ts, 4);
      header.writeUInt32BE(this.ssrc, 8);
      this.seq = (this.seq + 1) & 0xffff;
      this.ts = (this.ts + 160) >>> 0;
      this.rtp.send(Buffer.concat([header, this.encoder.encode(pcm, FRAME)]), this.remote!.port, this.remote!.address);
      // An empty receiver report each second from the RTCP port (it is also what tells the node where that port is).
      if (this.n % 50 === 1) {
        const rr = Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 0]);
        rr.writeUInt32BE(this.ssrc, 4);
        this.rtcp.send(rr, this.remoteRtcpPort, this.remote!.address);
      }
    }, 20);
  }

  close(): void {
    if (this.sending) clearInterval(this.sending);
    for (const s of [this.sip, this.rtp, this.rtcp]) s.close();
  }
}

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
    for (const alias of ['meet.desk', 'meet.late'])
      await until(
        () => platform.node.manager.directory.lookup(alias),
        (s) => s !== undefined,
      );
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
