import { createSocket, type Socket } from 'node:dgram';
import { until } from '../../shared/testing/until.js';
import { G711Decoder, G711Encoder } from '../media/audio/G711.js';
import { toneLevelDb } from './toneLevel.js';

const RATE = 48_000;
const FRAME = 960;

/** Level (dBFS) of `hz` in 48-kHz PCM (blockwise, robust to a skipped or repeated frame: see toneLevelDb). */
const levelDb = (pcm: ArrayLike<number>, hz: number): number => toneLevelDb({ sampleRate: RATE, samples: pcm }, hz, 0, (pcm.length / RATE) * 1000);

/**
 * A phone as most desk phones and room systems write their SDP: no a=ssrc, no rtcp-mux (RTCP on
 * the next port), PCMU. Played over real UDP (SIP and RTP) with its own tone, so a test can both
 * send what it says and decode what it hears.
 */
export class UdpPhone {
  readonly sip: Socket = createSocket('udp4');
  readonly rtp: Socket = createSocket('udp4');
  readonly rtcp: Socket = createSocket('udp4');
  /** What we decoded of the node's RTP (48 kHz). */
  heard: number[] = [];
  rtcpFromNode = 0;
  /** BYEs the node sent (it hung up), each answered 200. */
  byeFromNode = 0;
  /** RTP packets received, by payload type. */
  readonly payloadTypes: Record<number, number> = {};
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
    await new Promise<void>((r) => this.sip.bind(0, this.local, r));
    // An even RTP port and RTCP on the next one, as RFC 3550 phones do.
    for (;;) {
      await new Promise<void>((r) => this.rtp.bind(0, this.local, r));
      if (this.rtp.address().port % 2 === 0) {
        try {
          await new Promise<void>((resolve, reject) => {
            this.rtcp.once('error', reject);
            this.rtcp.bind(this.rtp.address().port + 1, this.local, resolve);
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
      const pt = msg[1]! & 0x7f;
      this.payloadTypes[pt] = (this.payloadTypes[pt] ?? 0) + 1;
      if (pt !== 0) return;
      // The payload starts after the CSRCs and any header extension; padding at the end is not audio.
      let offset = 12 + (msg[0]! & 0x0f) * 4;
      if (msg[0]! & 0x10) offset += 4 + msg.readUInt16BE(offset + 2) * 4;
      const end = msg[0]! & 0x20 ? msg.length - msg[msg.length - 1]! : msg.length;
      if (offset < end) this.heard.push(...this.decoder.decode(msg.subarray(offset, end)));
    });
    this.rtcp.on('message', () => this.rtcpFromNode++);
    this.sip.on('message', (msg, from) => {
      const text = msg.toString();
      if (!/^BYE /.test(text)) return;
      this.byeFromNode++;
      const headers = text.split('\r\n').filter((l) => /^(Via|From|To|Call-ID|CSeq):/i.test(l));
      this.sip.send(`SIP/2.0 200 OK\r\n${headers.join('\r\n')}\r\nContent-Length: 0\r\n\r\n`, from.port, from.address);
    });
  }

  constructor(
    private readonly toneHz: number,
    private readonly callId: string,
    readonly name = 'Desk phone',
    /** `local`: the phone's address; `node`: the node's SIP address (both loopback by default). */
    private readonly at: { local?: string; node?: string } = {},
  ) {}

  private get local(): string {
    return this.at.local ?? '127.0.0.1';
  }

  private get node(): string {
    return this.at.node ?? '127.0.0.1';
  }

  /** Where the node's answer told the phone to send its RTP. */
  get mediaAddress(): string | undefined {
    return this.remote?.address;
  }

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
          `o=phone 1 1 IN IP4 ${this.local}`,
          's=-',
          `c=IN IP4 ${this.local}`,
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
        `o=phone 1 1 IN IP4 ${this.local}`,
        's=-',
        `c=IN IP4 ${this.local}`,
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
      `INVITE sip:${alias}@${this.node} SIP/2.0\r\nVia: SIP/2.0/UDP ${this.local}:${own};branch=z9hG4bK${this.callId}inv;rport\r\n` +
      `From: "${this.name}" <sip:desk@${this.local}>;tag=ph1\r\nTo: <sip:${alias}@${this.node}>\r\nCall-ID: ${this.callId}\r\nCSeq: 1 INVITE\r\n` +
      `Contact: <sip:desk@${this.local}:${own}>\r\nMax-Forwards: 70\r\n${sdp ? 'Content-Type: application/sdp\r\n' : ''}Content-Length: ${Buffer.byteLength(sdp)}\r\n\r\n${sdp}`;
    const ok = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no 200 OK for the INVITE')), 20_000);
      this.sip.on('message', (msg) => {
        const text = msg.toString();
        // A refusal ends the wait at once, with what the node said.
        if (/^SIP\/2\.0 [3-6]\d\d/.test(text) && /CSeq: 1 INVITE/i.test(text)) {
          clearTimeout(timer);
          reject(new Error(`INVITE refused: ${text.split('\r\n')[0]} ${/^Warning:.*$/im.exec(text)?.[0] ?? ''}`));
          return;
        }
        if (!/^SIP\/2\.0 200/.test(text) || !/CSeq: 1 INVITE/i.test(text)) return;
        clearTimeout(timer);
        const toTag = /^To:.*$/im.exec(text)![0];
        this.toTag = toTag;
        const body = late ? lateAnswer() : '';
        const ack =
          `ACK sip:${alias}@${this.node}:${port} SIP/2.0\r\nVia: SIP/2.0/UDP ${this.local}:${own};branch=z9hG4bK${this.callId}ack;rport\r\n` +
          `From: "${this.name}" <sip:desk@${this.local}>;tag=ph1\r\n${toTag}\r\nCall-ID: ${this.callId}\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\n${body ? 'Content-Type: application/sdp\r\n' : ''}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
        this.sip.send(ack, port, this.node);
        resolve(text.slice(text.indexOf('\r\n\r\n') + 4));
      });
    });
    this.sip.send(invite, port, this.node);
    const answer = await ok;
    const m = /^m=audio (\d+) /m.exec(answer);
    // Where the answer says to send: its connection address (another node's, when media allocation put the media there).
    this.remote = { address: /^c=IN IP4 (\S+)/m.exec(answer)?.[1] ?? this.node, port: Number(m![1]) };
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
      `${method} sip:${alias}@${this.node}:${port} SIP/2.0\r\nVia: SIP/2.0/UDP ${this.local}:${own};branch=z9hG4bK${this.callId}${branch};rport\r\n` +
      `From: "${this.name}" <sip:desk@${this.local}>;tag=ph1\r\n${this.toTag}\r\nCall-ID: ${this.callId}\r\nCSeq: ${cseq} ${method}\r\nMax-Forwards: 70\r\n`;
    const withBody = (body: string) => `${body ? 'Content-Type: application/sdp\r\n' : ''}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    const final = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no final answer to the re-INVITE (CSeq ${cseq})`)), 15_000);
      const onMessage = (msg: Buffer) => {
        const text = msg.toString();
        const status = Number(/^SIP\/2\.0 (\d{3})/.exec(text)?.[1] ?? 0);
        if (status < 200 || !new RegExp(`CSeq: ${cseq} INVITE`, 'i').test(text)) return;
        clearTimeout(timer);
        this.sip.off('message', onMessage);
        if (status < 300) this.sip.send(head('ACK', `ack${cseq}`) + withBody(ackBody), port, this.node);
        resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4) });
      };
      this.sip.on('message', onMessage);
    });
    this.sip.send(head('INVITE', `inv${cseq}`) + `Contact: <sip:desk@${this.local}:${own}>\r\n` + withBody(offer), port, this.node);
    return final;
  }

  /** Keys `digits` one by one as SIP INFO (application/dtmf-relay), each answered before the next. */
  async info(port: number, alias: string, digits: string): Promise<void> {
    for (const digit of digits) {
      const body = `Signal=${digit}\r\nDuration=160\r\n`;
      await this.inDialog('INFO', port, alias, `Content-Type: application/dtmf-relay\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Sends a request in the call's dialog (headers after Max-Forwards, then the body) and resolves on its 200. */
  private async inDialog(method: 'INFO' | 'BYE', port: number, alias: string, tail: string): Promise<void> {
    const own = this.sip.address().port;
    const cseq = ++this.cseq;
    const answered = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${method} (CSeq ${cseq})`)), 5_000);
      const onMessage = (msg: Buffer) => {
        if (!new RegExp(`^SIP/2\\.0 200[\\s\\S]*CSeq: ${cseq} ${method}`, 'i').test(msg.toString())) return;
        clearTimeout(timer);
        this.sip.off('message', onMessage);
        resolve();
      };
      this.sip.on('message', onMessage);
    });
    this.sip.send(
      `${method} sip:${alias}@${this.node}:${port} SIP/2.0\r\nVia: SIP/2.0/UDP ${this.local}:${own};branch=z9hG4bK${this.callId}${method.toLowerCase()}${cseq};rport\r\n` +
        `From: "${this.name}" <sip:desk@${this.local}>;tag=ph1\r\n${this.toTag}\r\nCall-ID: ${this.callId}\r\nCSeq: ${cseq} ${method}\r\nMax-Forwards: 70\r\n${tail}`,
      port,
      this.node,
    );
    await answered;
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

  /** Level (dBFS) of `hz` in the last `ms` it decoded. */
  heardLevelDb(hz: number, ms: number): number {
    return levelDb(this.heard.slice(-Math.round((RATE * ms) / 1000)), hz);
  }

  /** The phone's SDP (PCMU, rtcp-mux, a=ssrc): its answer to a late offer, or a new offer. */
  sdp(): string {
    return [
      'v=0',
      `o=phone 1 2 IN IP4 ${this.local}`,
      's=-',
      `c=IN IP4 ${this.local}`,
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

  /** Hangs up: a BYE in the dialog, resolved when answered. */
  bye(port: number, alias: string): Promise<void> {
    return this.inDialog('BYE', port, alias, 'Content-Length: 0\r\n\r\n');
  }

  /**
   * Keys `digits` as RFC 4733 telephone-events (payload type 101, as offered) in its RTP stream:
   * per key five 20-ms packets with the marker on the first, then three with the end bit.
   */
  async keys(digits: string): Promise<void> {
    const codes: Record<string, number> = { '*': 10, '#': 11 };
    for (const key of digits) {
      const event = codes[key] ?? Number(key);
      const ts = this.ts;
      this.ts = (this.ts + 160 * 8) >>> 0;
      for (let i = 0; i < 8; i++) {
        const end = i >= 5;
        const packet = Buffer.alloc(16);
        packet[0] = 0x80;
        packet[1] = (i === 0 ? 0x80 : 0) | 101;
        packet.writeUInt16BE(this.seq, 2);
        packet.writeUInt32BE(ts, 4);
        packet.writeUInt32BE(this.ssrc, 8);
        packet[12] = event;
        packet[13] = (end ? 0x80 : 0) | 10;
        packet.writeUInt16BE(Math.min(5, i + 1) * 160, 14);
        this.seq = (this.seq + 1) & 0xffff;
        this.rtp.send(packet, this.remote!.port, this.remote!.address);
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  close(): void {
    if (this.sending) clearInterval(this.sending);
    for (const s of [this.sip, this.rtp, this.rtcp]) s.close();
  }
}
