import { createSocket, type Socket } from 'node:dgram';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { relayAnswer, relaySipAnswer, UdpRelay } from './UdpRelay.js';

const log = pino({ level: 'silent' });
const open: { close(): unknown }[] = [];
afterEach(() => {
  for (const o of open.splice(0)) o.close();
});

async function socket(): Promise<Socket & { got: Buffer[]; port: number }> {
  const s = createSocket('udp4') as Socket & { got: Buffer[]; port: number };
  s.got = [];
  s.on('message', (m) => s.got.push(m));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  s.port = s.address().port;
  open.push(s);
  return s;
}
const stun = () => Buffer.concat([Buffer.from([0x00, 0x01, 0x00, 0x00]), Buffer.alloc(16, 7)]);
const rtp = (n: number) => Buffer.concat([Buffer.from([0x80, 0x6f, 0x00, n]), Buffer.alloc(16, n)]);
const settle = () => new Promise((r) => setTimeout(r, 50));

describe('the edge relay (a proxying node forwarding a call to its transcoding node)', () => {
  it('forwards only after the endpoint’s ICE check, both ways, and never a stray sender’s packets', async () => {
    const media = await socket();
    const endpoint = await socket();
    const stray = await socket();
    const relay = await UdpRelay.open({ address: '127.0.0.1', portRange: [47000, 47099], target: { address: '127.0.0.1', port: media.port }, log });
    open.push(relay);
    expect(relay.port).toBeGreaterThanOrEqual(47000);
    // Media before any check: nobody to forward for.
    endpoint.send(rtp(1), relay.port, '127.0.0.1');
    media.send(rtp(2), relay.port, '127.0.0.1');
    await settle();
    expect(media.got).toHaveLength(0);
    expect(endpoint.got).toHaveLength(0);
    // The endpoint's STUN check goes on; the answer and media come back to it.
    endpoint.send(stun(), relay.port, '127.0.0.1');
    await settle();
    expect(media.got.map((b) => b[0])).toEqual([0x00]);
    media.send(rtp(3), relay.port, '127.0.0.1');
    endpoint.send(rtp(4), relay.port, '127.0.0.1');
    stray.send(rtp(5), relay.port, '127.0.0.1');
    await settle();
    expect(endpoint.got.map((b) => b[3])).toEqual([3]);
    expect(media.got.slice(1).map((b) => b[3])).toEqual([4]);
    expect(relay.forwarded).toEqual({ toMedia: 2, toEndpoint: 1, dropped: 3 });
  });

  it('gives the endpoint the relay in the answer in place of the transcoding node’s candidates', () => {
    const answer = [
      'v=0',
      'o=- 1 1 IN IP4 10.0.0.2',
      's=-',
      't=0 0',
      'a=ice-lite',
      'a=group:BUNDLE 0 1',
      'm=audio 40000 UDP/TLS/RTP/SAVPF 111',
      'c=IN IP4 10.0.0.2',
      'a=mid:0',
      'a=candidate:udpcandidate 1 udp 1076302079 10.0.0.2 40000 typ host',
      'a=candidate:tcpcandidate 1 tcp 1076276479 10.0.0.2 40001 typ host tcptype passive',
      'm=video 40000 UDP/TLS/RTP/SAVPF 96',
      'c=IN IP4 10.0.0.2',
      'a=mid:1',
      'a=candidate:udpcandidate 1 udp 1076302079 10.0.0.2 40000 typ host',
      '',
    ].join('\r\n');
    const out = relayAnswer(answer, { address: '10.0.0.1', port: 47010 })!;
    expect(out.target).toEqual({ address: '10.0.0.2', port: 40000 });
    const lines = out.sdp.split('\r\n');
    expect(lines.filter((l) => l.startsWith('a=candidate'))).toEqual([
      'a=candidate:edgerelay 1 udp 2130706431 10.0.0.1 47010 typ host',
      'a=candidate:edgerelay 1 udp 2130706431 10.0.0.1 47010 typ host',
    ]);
    expect(lines.filter((l) => l.startsWith('m='))).toEqual(['m=audio 47010 UDP/TLS/RTP/SAVPF 111', 'm=video 47010 UDP/TLS/RTP/SAVPF 96']);
    expect(out.sdp).not.toContain('10.0.0.2 40000');
    expect(relayAnswer(answer.replace(/a=candidate:udp.*\r\n/g, ''), null)).toBeNull();
  });

  it('for a SIP call, takes the first sender as the phone (symmetric RTP) and forwards only its packets', async () => {
    const media = await socket();
    const phone = await socket();
    const stray = await socket();
    const relay = await UdpRelay.open({
      address: '127.0.0.1',
      portRange: [47000, 47099],
      target: { address: '127.0.0.1', port: media.port },
      log,
      latch: 'first',
    });
    open.push(relay);
    media.send(rtp(1), relay.port, '127.0.0.1');
    await settle();
    phone.send(rtp(2), relay.port, '127.0.0.1');
    await settle();
    stray.send(rtp(3), relay.port, '127.0.0.1');
    media.send(rtp(4), relay.port, '127.0.0.1');
    await settle();
    expect(media.got.map((b) => b[3])).toEqual([2]);
    expect(phone.got.map((b) => b[3])).toEqual([4]);
    expect(stray.got).toHaveLength(0);
  });

  it('gives a SIP phone an answer whose every port is a relay of its own: RTP, and RTCP where it is not muxed', async () => {
    const answer = [
      'v=0',
      'o=- 1 1 IN IP4 10.0.0.2',
      's=-',
      'c=IN IP4 10.0.0.2',
      't=0 0',
      'm=audio 40010 RTP/AVP 0 101',
      'a=rtpmap:0 PCMU/8000',
      'a=rtcp:40011',
      'a=sendrecv',
      'm=video 40020 RTP/AVP 96',
      'a=rtpmap:96 VP8/90000',
      'a=rtcp-mux',
      'm=application 0 UDP/BFCP *',
      '',
    ].join('\r\n');
    const asked: string[] = [];
    let next = 47_050;
    const out = await relaySipAnswer(answer, async (t) => {
      asked.push(`${t.address}:${t.port}`);
      return { address: '10.0.0.1', port: next++ };
    });
    expect(asked).toEqual(['10.0.0.2:40010', '10.0.0.2:40011', '10.0.0.2:40020']);
    expect(out).toBe(
      [
        'v=0',
        'o=- 1 1 IN IP4 10.0.0.1',
        's=-',
        'c=IN IP4 10.0.0.1',
        't=0 0',
        'm=audio 47050 RTP/AVP 0 101',
        'a=rtpmap:0 PCMU/8000',
        'a=sendrecv',
        'a=rtcp:47051',
        'm=video 47052 RTP/AVP 96',
        'a=rtpmap:96 VP8/90000',
        'a=rtcp-mux',
        'm=application 0 UDP/BFCP *',
        '',
      ].join('\r\n'),
    );
  });
});
