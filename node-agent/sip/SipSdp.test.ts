import { parse } from 'sdp-transform';
import { describe, expect, it } from 'vitest';
import { buildSipAnswer, parseSipOffer, SipSdpError } from './SipSdp.js';

// An offer as baresip writes it (opus, G.722, G.711, telephone-event; VP8), with rtcp-mux and a=ssrc.
const BARESIP = [
  'v=0',
  'o=- 1234 5678 IN IP4 192.0.2.10',
  's=-',
  'c=IN IP4 192.0.2.10',
  't=0 0',
  'm=audio 40000 RTP/AVP 96 9 0 8 101',
  'a=rtpmap:96 opus/48000/2',
  'a=fmtp:96 stereo=1;sprop-stereo=1',
  'a=rtpmap:101 telephone-event/8000',
  'a=rtcp-mux',
  'a=ssrc:11111111 cname:phone',
  'a=sendrecv',
  'm=video 40002 RTP/AVPF 100',
  'a=rtpmap:100 VP8/90000',
  'a=rtcp-fb:* nack pli',
  'a=rtcp-fb:* ccm fir',
  'a=ssrc:22222222 cname:phone',
  'a=sendrecv',
  '',
].join('\r\n');

describe('SIP SDP (plain RTP)', () => {
  it('takes Opus and VP8 from a phone offer, with the peer address, port, rtcp-mux and SSRC', () => {
    const o = parseSipOffer(BARESIP);
    expect(o.audio).toMatchObject({ index: 0, address: '192.0.2.10', port: 40000, rtcpMux: true, ssrc: 11111111, direction: 'sendrecv' });
    expect(o.audio?.codec).toMatchObject({ payloadType: 96, mimeType: 'audio/opus', clockRate: 48000, fmtp: 'stereo=1;sprop-stereo=1' });
    expect(o.video).toMatchObject({ index: 1, port: 40002, rtcpMux: false, ssrc: 22222222 });
    expect(o.video?.codec.mimeType).toBe('video/VP8');
    expect(o.video?.codec.rtcpFeedback).toEqual([
      { type: 'nack', parameter: 'pli' },
      { type: 'ccm', parameter: 'fir' },
    ]);
  });

  it('answers each m-line in order with our ports and the offer payload types', () => {
    const o = parseSipOffer(BARESIP);
    const answer = parse(
      buildSipAnswer(o, {
        address: '198.51.100.1',
        sessionId: '42',
        version: 1,
        audio: { address: '198.51.100.1', port: 50000, send: true },
        video: { address: '198.51.100.1', port: 50002, send: false },
      }),
    );
    expect(answer.media.map((m) => [m.type, m.port, String(m.payloads), m.direction])).toEqual([
      ['audio', 50000, '96 101', 'sendrecv'],
      ['video', 50002, '100', 'recvonly'],
    ]);
    expect(answer.media[0]?.rtcpMux).toBe('rtcp-mux');
    expect(answer.media[1]?.rtcpMux).toBeUndefined();
    expect(answer.media[0]?.rtp).toEqual([
      { payload: 96, codec: 'opus', rate: 48000, encoding: 2 },
      { payload: 101, codec: 'telephone-event', rate: 8000 },
    ]);
    expect(answer.media[0]?.fmtp).toEqual([
      { payload: 96, config: 'stereo=1;sprop-stereo=1' },
      { payload: 101, config: '0-15' },
    ]);
    expect(answer.media[1]?.rtp.map((r) => r.codec)).toEqual(['VP8']);
  });

  it('takes telephone-event (RFC 4733) beside the audio codec: at its clock when offered, else 8 kHz, else 48 kHz; none without an offer', () => {
    const audio = (payloads: string, maps: string[]) =>
      BARESIP.replace('m=audio 40000 RTP/AVP 96 9 0 8 101', `m=audio 40000 RTP/AVP ${payloads}`)
        .replace('a=rtpmap:101 telephone-event/8000', maps.join('\r\n'))
        .replace(/m=video[\s\S]*$/, '');
    const both = ['a=rtpmap:101 telephone-event/8000', 'a=rtpmap:110 telephone-event/48000'];
    expect(parseSipOffer(audio('96 101 110', both)).audio?.telephoneEvent).toEqual({ payloadType: 110, clockRate: 48_000 });
    expect(parseSipOffer(audio('0 110 101', both)).audio?.telephoneEvent).toEqual({ payloadType: 101, clockRate: 8_000 });
    expect(parseSipOffer(audio('0 110', both)).audio?.telephoneEvent).toEqual({ payloadType: 110, clockRate: 48_000 });
    expect(parseSipOffer(audio('0', both)).audio?.telephoneEvent).toBeUndefined();
    // Other clocks are not taken, and video never has it.
    expect(parseSipOffer(audio('0 120', ['a=rtpmap:120 telephone-event/16000'])).audio?.telephoneEvent).toBeUndefined();
    expect(parseSipOffer(BARESIP).video?.telephoneEvent).toBeUndefined();
    const answer = parse(
      buildSipAnswer(parseSipOffer(audio('8 101', both)), {
        address: '198.51.100.1',
        sessionId: '1',
        version: 1,
        audio: { address: '198.51.100.1', port: 50000, send: true },
      }),
    );
    expect(answer.media[0]).toMatchObject({
      payloads: '8 101',
      rtp: [
        { payload: 8, codec: 'PCMA' },
        { payload: 101, codec: 'telephone-event', rate: 8000 },
      ],
    });
  });

  it('declines an m-line it cannot take (port 0) and answers the rest', () => {
    const o = parseSipOffer(
      BARESIP.replace('m=video 40002 RTP/AVPF 100', 'm=video 40002 RTP/AVPF 34').replace('a=rtpmap:100 VP8/90000', 'a=rtpmap:34 H263/90000'),
    );
    expect(o.video).toBeUndefined();
    const answer = parse(
      buildSipAnswer(o, { address: '198.51.100.1', sessionId: '1', version: 1, audio: { address: '198.51.100.1', port: 50000, send: true } }),
    );
    expect(answer.media.map((m) => m.port)).toEqual([50000, 0]);
  });

  it('a hold offer (sendonly) gets recvonly', () => {
    const o = parseSipOffer(BARESIP.replace(/a=sendrecv/g, 'a=sendonly'));
    const answer = parse(
      buildSipAnswer(o, { address: '198.51.100.1', sessionId: '1', version: 2, audio: { address: '198.51.100.1', port: 50000, send: true } }),
    );
    expect(answer.media[0]?.direction).toBe('recvonly');
  });

  it('takes G.722, then G.711, when Opus is not offered (µ-law before A-law, static types without rtpmap)', () => {
    const audioOnly = (payloads: string) =>
      BARESIP.replace('m=audio 40000 RTP/AVP 96 9 0 8 101', `m=audio 40000 RTP/AVP ${payloads}`).replace(/m=video[\s\S]*$/, '');
    expect(parseSipOffer(audioOnly('8 0')).audio!.codec).toMatchObject({ payloadType: 0, mimeType: 'audio/PCMU', clockRate: 8_000 });
    expect(parseSipOffer(audioOnly('0 9 8')).audio!.codec).toMatchObject({ payloadType: 9, mimeType: 'audio/G722', clockRate: 8_000 });
    expect(parseSipOffer(audioOnly('9')).audio!.codec.channels).toBeUndefined();
    expect(parseSipOffer(audioOnly('9 96')).audio!.codec.mimeType).toBe('audio/opus');
    expect(parseSipOffer(audioOnly('8 0')).audio!.codec.channels).toBeUndefined();
    expect(parseSipOffer(audioOnly('8 101')).audio!.codec).toMatchObject({ payloadType: 8, mimeType: 'audio/PCMA', clockRate: 8_000 });
    expect(parseSipOffer(audioOnly('96 0')).audio!.codec.mimeType).toBe('audio/opus');
    const answer = parse(
      buildSipAnswer(parseSipOffer(audioOnly('8 0')), {
        address: '198.51.100.1',
        sessionId: '1',
        version: 2,
        audio: { address: '198.51.100.1', port: 50000, send: true },
      }),
    );
    expect(answer.media[0]).toMatchObject({ payloads: 0, rtp: [{ payload: 0, codec: 'PCMU', rate: 8_000 }] });
    const g722 = parse(
      buildSipAnswer(parseSipOffer(audioOnly('9')), {
        address: '198.51.100.1',
        sessionId: '1',
        version: 2,
        audio: { address: '198.51.100.1', port: 50000, send: true },
      }),
    );
    expect(g722.media[0]).toMatchObject({ payloads: 9, rtp: [{ payload: 9, codec: 'G722', rate: 8_000 }] });
    // Nothing we take: 488 with what we do take.
    expect(() => parseSipOffer(audioOnly('3'))).toThrow(/No usable media \(Opus, G\.722 or G\.711/);
  });

  it('refuses malformed and empty SDP with SipSdpError', () => {
    for (const bad of ['', 'hello', 'v=0\r\nm=audio x RTP/AVP 0\r\n', 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\n', 'v=0\r\n' + 'a=x\r\n'.repeat(5000)])
      expect(() => parseSipOffer(bad)).toThrow(SipSdpError);
    // No connection address anywhere.
    expect(() => parseSipOffer(BARESIP.replace('c=IN IP4 192.0.2.10\r\n', ''))).toThrow(SipSdpError);
    // RTP/SAVP without a key we can use: nothing usable.
    expect(() => parseSipOffer(BARESIP.replace(/RTP\/AVPF?/g, 'RTP/SAVP'))).toThrow(/No usable SRTP crypto suite/);
  });
});

describe('SIP SDP (SRTP by SDES) and the media encryption setting', () => {
  const KEY80 = Buffer.alloc(30, 7).toString('base64');
  const KEY_GCM256 = Buffer.alloc(44, 9).toString('base64');
  // Each m-line with a=crypto lines (RFC 4568), on the given profile.
  const withCrypto = (profile: 'RTP/AVP' | 'RTP/SAVP', crypto: string[]) =>
    BARESIP.replace('m=audio 40000 RTP/AVP', `m=audio 40000 ${profile}`)
      .replace('m=video 40002 RTP/AVPF', `m=video 40002 ${profile}F`)
      .replace(/a=sendrecv/g, ['a=sendrecv', ...crypto].join('\r\n'));
  const SAVP = withCrypto('RTP/SAVP', [`a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:${KEY80}`, `a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:${KEY80}|2^31`]);
  const ours = { suite: 'AES_CM_128_HMAC_SHA1_80' as const, keyBase64: Buffer.alloc(30, 1).toString('base64') };

  it('Best effort: an RTP/SAVP offer is taken with the strongest suite, answered on RTP/SAVP with its tag and our key', () => {
    const o = parseSipOffer(SAVP);
    expect(o.audio?.crypto).toEqual({ tag: 2, suite: 'AES_CM_128_HMAC_SHA1_80', keyBase64: KEY80 });
    expect(o.video?.crypto?.tag).toBe(2);
    const answer = parse(
      buildSipAnswer(o, {
        address: '198.51.100.1',
        sessionId: '1',
        version: 1,
        audio: { address: '198.51.100.1', port: 50000, send: true, srtp: ours },
        video: { address: '198.51.100.1', port: 50002, send: true, srtp: ours },
      }),
    );
    expect(answer.media.map((m) => m.protocol)).toEqual(['RTP/SAVP', 'RTP/SAVPF']);
    expect(answer.media[0]?.crypto).toEqual([{ id: 2, suite: 'AES_CM_128_HMAC_SHA1_80', config: `inline:${ours.keyBase64}` }]);
  });

  it('prefers AES-GCM, and skips keys of the wrong length, MKIs, session parameters and unknown suites', () => {
    expect(
      parseSipOffer(withCrypto('RTP/SAVP', [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY80}`, `a=crypto:5 AEAD_AES_256_GCM inline:${KEY_GCM256}`])).audio
        ?.crypto,
    ).toMatchObject({ tag: 5, suite: 'AEAD_AES_256_GCM' });
    for (const bad of [
      `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${Buffer.alloc(16).toString('base64')}`,
      `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY80}|2^20|1:4`,
      `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY80}|1:4`,
      `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY80} UNENCRYPTED_SRTCP`,
      `a=crypto:1 F8_128_HMAC_SHA1_80 inline:${KEY80}`,
    ])
      expect(() => parseSipOffer(withCrypto('RTP/SAVP', [bad])), bad).toThrow(/No usable SRTP crypto suite/);
  });

  it('Best effort: a=crypto on RTP/AVP (best-effort phones) is taken with SRTP; plain RTP/AVP stays plain', () => {
    expect(parseSipOffer(withCrypto('RTP/AVP', [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY80}`])).audio?.crypto?.tag).toBe(1);
    expect(parseSipOffer(BARESIP).audio?.crypto).toBeUndefined();
  });

  it('Required: plain RTP is refused (488 "Media encryption is required"), SRTP taken', () => {
    expect(() => parseSipOffer(BARESIP, 'on')).toThrow(new SipSdpError('Media encryption is required'));
    expect(parseSipOffer(SAVP, 'on').audio?.crypto).toBeDefined();
    expect(parseSipOffer(withCrypto('RTP/AVP', [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY80}`]), 'on').video?.crypto).toBeDefined();
  });

  it('No encryption: an SRTP-only offer is refused, a=crypto on RTP/AVP ignored (answered plain, no a=crypto)', () => {
    expect(() => parseSipOffer(SAVP, 'off')).toThrow(new SipSdpError('Media encryption is not allowed'));
    const o = parseSipOffer(withCrypto('RTP/AVP', [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY80}`]), 'off');
    expect(o.audio?.crypto).toBeUndefined();
    const answer = parse(
      buildSipAnswer(o, { address: '198.51.100.1', sessionId: '1', version: 1, audio: { address: '198.51.100.1', port: 50000, send: true, srtp: ours } }),
    );
    expect(answer.media[0]?.protocol).toBe('RTP/AVP');
    expect(answer.media[0]?.crypto).toBeUndefined();
  });
});
