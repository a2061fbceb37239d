import { parse } from 'sdp-transform';
import { describe, expect, it } from 'vitest';
import { parseSipOffer } from '../SipSdp.js';
import { buildOutgoingOffer, TELEPHONE_EVENT_PT } from './outgoingOffer.js';

const base = {
  address: '192.0.2.10',
  sessionId: '42',
  version: 1,
  port: 40_002,
  codecs: [
    { payloadType: 111, name: 'opus', clockRate: 48_000, channels: 2 },
    { payloadType: 0, name: 'PCMU', clockRate: 8_000 },
    { payloadType: 8, name: 'PCMA', clockRate: 8_000 },
  ],
};
const key = 'WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz';

describe('buildOutgoingOffer', () => {
  it('offers the codecs in order, then telephone-event, RTCP multiplexed, sendrecv, on plain RTP without a key', () => {
    const m = parse(buildOutgoingOffer(base)).media[0]!;
    expect(m).toMatchObject({
      type: 'audio',
      port: 40_002,
      protocol: 'RTP/AVP',
      payloads: `111 0 8 ${TELEPHONE_EVENT_PT}`,
      rtcpMux: 'rtcp-mux',
      direction: 'sendrecv',
    });
    expect(m.rtp.map((r) => r.codec)).toEqual(['opus', 'PCMU', 'PCMA', 'telephone-event']);
    expect(m.crypto).toBeUndefined();
    // What a phone answering with it would be read as: Opus first.
    expect(parseSipOffer(buildOutgoingOffer(base)).audio?.codec).toMatchObject({ mimeType: 'audio/opus', payloadType: 111 });
  });

  it('Required offers RTP/SAVP with the key; best effort a=crypto on RTP/AVP, which No encryption ignores', () => {
    const required = buildOutgoingOffer({ ...base, srtp: { suite: 'AES_CM_128_HMAC_SHA1_80', keyBase64: key, required: true } });
    expect(parse(required).media[0]).toMatchObject({ protocol: 'RTP/SAVP', crypto: [{ id: 1, suite: 'AES_CM_128_HMAC_SHA1_80', config: `inline:${key}` }] });
    expect(parseSipOffer(required, 'on').audio?.crypto).toMatchObject({ suite: 'AES_CM_128_HMAC_SHA1_80', keyBase64: key });
    const bestEffort = buildOutgoingOffer({ ...base, srtp: { suite: 'AES_CM_128_HMAC_SHA1_80', keyBase64: key, required: false } });
    expect(parse(bestEffort).media[0]?.protocol).toBe('RTP/AVP');
    expect(parseSipOffer(bestEffort, 'besteffort').audio?.crypto?.keyBase64).toBe(key);
    expect(parseSipOffer(bestEffort, 'off').audio?.crypto).toBeUndefined();
  });
});
