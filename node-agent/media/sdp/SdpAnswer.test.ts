import { parse as parseSdp } from 'sdp-transform';
import type { MediaDescription } from 'sdp-transform';
import type { types } from 'mediasoup';
import { describe, expect, it } from 'vitest';
import { answerDirection, buildAnswer, type AnswerMediaOptions, type AnswerOptions } from './SdpAnswer.js';
import { SdpError, legRouterMediaCodecs, negotiateOffer, parseOffer, type NegotiateOptions, type NegotiatedOffer, type SdpDirection } from './SdpOffer.js';
import { consume, fixture, produce, routerCaps } from './testing/ortc.js';

const CHROMIUM = fixture('chromium-156-audio-video-recvonly-video.sdp');
const PEXIP = fixture('pexip-sdk-audio-video-inactive-slides.sdp');
const SIMULCAST = fixture('chromium-156-simulcast.sdp');
const DATACHANNEL = fixture('chromium-156-sendonly-recvonly-datachannel.sdp');
const WERIFT = fixture('werift-media-test-client.sdp');

/** What a mediasoup WebRtcTransport on 192.0.2.10 (UDP and TCP) reports. */
const TRANSPORT: Pick<AnswerOptions, 'iceParameters' | 'iceCandidates' | 'dtlsParameters'> = {
  iceParameters: { usernameFragment: 'msufrag0123456789', password: 'mspassword0123456789abcdef', iceLite: true },
  iceCandidates: [
    { foundation: 'udpcandidate', priority: 1076302079, ip: '192.0.2.10', address: '192.0.2.10', protocol: 'udp', port: 40000, type: 'host' },
    {
      foundation: 'tcpcandidate',
      priority: 1076276479,
      ip: '192.0.2.10',
      address: '192.0.2.10',
      protocol: 'tcp',
      port: 40001,
      type: 'host',
      tcpType: 'passive',
    },
  ],
  dtlsParameters: {
    role: 'auto',
    fingerprints: [
      { algorithm: 'sha-1', value: '11:22' },
      { algorithm: 'sha-256', value: 'AA:BB:CC' },
      { algorithm: 'sha-512', value: 'DD:EE' },
    ],
  },
};

/**
 * The whole single-stream flow on mediasoup's own ORTC code: negotiate against the conference
 * router, make the leg router with the offer's payload types, produce what the remote sends and
 * consume something for each m-line the remote receives on (its own stream, as a loopback would).
 */
function flow(sdp: string, negOpts: NegotiateOptions = {}, send: (m: NegotiatedOffer['media'][number]) => boolean = () => true) {
  const offer = parseOffer(sdp);
  const leg = routerCaps(legRouterMediaCodecs(negotiateOffer(offer, routerCaps(), negOpts)));
  const neg = negotiateOffer(offer, leg, negOpts);
  const media: Record<string, AnswerMediaOptions> = {};
  const consumable: Partial<Record<'audio' | 'video', types.RtpParameters>> = {};
  for (const m of neg.media.filter((x) => x.accepted && !x.parked && x.producerRtpParameters))
    consumable[m.kind!] ??= produce(m.kind!, m.producerRtpParameters!, leg);
  for (const m of neg.media.filter((x) => x.accepted && !x.parked)) {
    const source = consumable[m.kind!] ?? produce(m.kind!, fakeProducer(m.kind!, m.codec!.mimeType, m.codec!.payloadType, m.codec!.parameters), leg);
    media[m.mid!] = { recv: m.remoteSends, ...(m.remoteReceives && send(m) ? { send: consume(source, m.rtpCapabilities, m.mid) } : {}) };
  }
  return { offer, neg, leg, media, answer: () => parseSdp(buildAnswer(neg, { ...TRANSPORT, media, sessionId: '42' })) };
}

function fakeProducer(kind: 'audio' | 'video', mimeType: string, payloadType: number, parameters: Record<string, unknown>): types.RtpParameters {
  return {
    codecs: [{ mimeType, payloadType, clockRate: kind === 'audio' ? 48000 : 90000, ...(kind === 'audio' ? { channels: 2 } : {}), parameters }],
    encodings: [{ ssrc: 4242 }],
  };
}

const section = (sdp: ReturnType<typeof parseSdp>, i: number): MediaDescription => sdp.media[i]!;
const attr = (m: MediaDescription) => m as MediaDescription & { content?: string };

describe('answerDirection (RFC 3264 §6.1)', () => {
  const table: [SdpDirection, boolean, boolean, SdpDirection][] = [
    ['sendrecv', true, true, 'sendrecv'],
    ['sendrecv', true, false, 'sendonly'],
    ['sendrecv', false, true, 'recvonly'],
    ['sendrecv', false, false, 'inactive'],
    ['sendonly', true, true, 'recvonly'],
    ['sendonly', true, false, 'inactive'],
    ['recvonly', true, true, 'sendonly'],
    ['recvonly', false, true, 'inactive'],
    ['inactive', true, true, 'inactive'],
  ];
  for (const [offered, send, recv, expected] of table) {
    it(`offer ${offered}, we send ${send}, we receive ${recv} → ${expected}`, () => {
      expect(answerDirection(offered, send, recv)).toBe(expected);
    });
  }
});

describe('buildAnswer: the Pexip-SDK-style offer', () => {
  const { media, answer } = flow(PEXIP);
  const sdp = answer();

  it('session: ice-lite, BUNDLE of the accepted m-lines, msid-semantic, extmap-allow-mixed', () => {
    expect(sdp.icelite).toBe('ice-lite');
    expect(sdp.groups).toEqual([{ type: 'BUNDLE', mids: '0 1 2' }]);
    expect(sdp.msidSemantic).toEqual({ semantic: 'WMS', token: '*' });
    expect(sdp.extmapAllowMixed).toBe('extmap-allow-mixed');
    expect(sdp.origin.sessionId).toBe(42);
    expect(sdp.media).toHaveLength(3);
  });

  it('audio: sendrecv Opus at the offer payload type, its fmtp and feedback, the consumer SSRC with cname and msid', () => {
    const a = section(sdp, 0);
    expect(a).toMatchObject({ type: 'audio', port: 40000, protocol: 'UDP/TLS/RTP/SAVPF', payloads: 111, direction: 'sendrecv', mid: 0 });
    expect(a.rtp).toEqual([{ payload: 111, codec: 'opus', rate: 48000, encoding: 2 }]);
    expect(a.fmtp).toEqual([{ payload: 111, config: 'minptime=10;useinbandfec=1' }]);
    expect(a.rtcpFb).toEqual([{ payload: 111, type: 'transport-cc' }]);
    const ssrc = media['0']!.send!.encodings![0]!.ssrc!;
    const cname = media['0']!.send!.rtcp!.cname!;
    expect(a.ssrcs).toEqual([
      { id: ssrc, attribute: 'cname', value: cname },
      { id: ssrc, attribute: 'msid', value: 'openmeet audio-0' },
    ]);
    expect(a.msid).toEqual([{ id: 'openmeet', appdata: 'audio-0' }]);
    expect(a.ext!.map((e) => [e.value, e.uri])).toEqual([
      [1, 'urn:ietf:params:rtp-hdrext:ssrc-audio-level'],
      [2, 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time'],
      [3, 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01'],
    ]);
    expect(a.rtcpMux).toBe('rtcp-mux');
    expect(a.rtcpRsize).toBe('rtcp-rsize');
  });

  it('transport attributes: our ICE credentials, one sha-256 fingerprint, setup passive, UDP and TCP-passive host candidates', () => {
    for (const i of [0, 1]) {
      const m = section(sdp, i);
      expect(m.iceUfrag).toBe('msufrag0123456789');
      expect(m.icePwd).toBe('mspassword0123456789abcdef');
      expect(m.fingerprint).toEqual({ type: 'sha-256', hash: 'AA:BB:CC' });
      expect(m.setup).toBe('passive');
      expect(m.connection).toEqual({ version: 4, ip: '192.0.2.10' });
      expect(m.candidates).toEqual([
        { foundation: 'udpcandidate', component: 1, transport: 'udp', priority: 1076302079, ip: '192.0.2.10', port: 40000, type: 'host' },
        { foundation: 'tcpcandidate', component: 1, transport: 'tcp', priority: 1076276479, ip: '192.0.2.10', port: 40001, type: 'host', tcptype: 'passive' },
      ]);
      expect(m.endOfCandidates).toBe('end-of-candidates');
    }
  });

  it('video: VP8 + its RTX (for what the remote sends), no FID group since the consumer has no RTX', () => {
    const v = section(sdp, 1);
    expect(v).toMatchObject({ type: 'video', payloads: '96 97', direction: 'sendrecv', mid: 1 });
    expect(v.rtp).toEqual([
      { payload: 96, codec: 'VP8', rate: 90000 },
      { payload: 97, codec: 'rtx', rate: 90000 },
    ]);
    expect(v.fmtp).toEqual([{ payload: 97, config: 'apt=96' }]);
    expect(v.rtcpFb!.map((f) => `${f.type} ${f.subtype ?? ''}`.trim())).toEqual(['goog-remb', 'transport-cc', 'ccm fir', 'nack', 'nack pli']);
    expect(v.ssrcGroups).toBeUndefined();
    expect(v.ssrcs!.map((s) => s.id)).toEqual([media['1']!.send!.encodings![0]!.ssrc, media['1']!.send!.encodings![0]!.ssrc]);
  });

  it('the slides m-line is parked: in BUNDLE with a port, the negotiated codec, a=inactive, a=content:slides, no SSRC', () => {
    const s = section(sdp, 2);
    expect(s).toMatchObject({ type: 'video', port: 40000, payloads: '96 97', direction: 'inactive', mid: 2, setup: 'passive' });
    expect(attr(s).content).toBe('slides');
    expect(s.ssrcs).toBeUndefined();
    expect(s.msid).toBeUndefined();
  });

  it('with unusedMedia: reject it is rejected the RFC 3264 way: port 0, inactive, mid kept, out of BUNDLE', () => {
    const { neg } = flow(PEXIP, { unusedMedia: 'reject' });
    const rejected = parseSdp(buildAnswer(neg, { ...TRANSPORT, media }));
    expect(rejected.groups).toEqual([{ type: 'BUNDLE', mids: '0 1' }]);
    const s = section(rejected, 2);
    expect(s).toMatchObject({ type: 'video', port: 0, protocol: 'UDP/TLS/RTP/SAVPF', payloads: 96, direction: 'inactive', mid: 2 });
    expect(s.candidates).toBeUndefined();
    expect(s.iceUfrag).toBeUndefined();
  });

  it('round-trips through sdp-transform with CRLF line ends', () => {
    const { neg } = flow(PEXIP);
    const text = buildAnswer(neg, { ...TRANSPORT, media });
    expect(text.startsWith('v=0\r\n')).toBe(true);
    expect(text.endsWith('\r\n')).toBe(true);
    expect(text.split('\r\n').filter((l) => l.startsWith('m='))).toEqual([
      'm=audio 40000 UDP/TLS/RTP/SAVPF 111',
      'm=video 40000 UDP/TLS/RTP/SAVPF 96 97',
      'm=video 40000 UDP/TLS/RTP/SAVPF 96 97',
    ]);
    expect(text).toContain('a=ice-lite');
    expect(text).toContain('a=candidate:tcpcandidate 1 tcp 1076276479 192.0.2.10 40001 typ host tcptype passive');
    expect(text).not.toMatch(/\n\n/);
  });
});

describe('buildAnswer: presentation and directions', () => {
  it('an accepted slides m-line that the remote only receives: sendonly, a=content:slides, in BUNDLE', () => {
    const sdp = flow(CHROMIUM.replace('a=mid:2\r\n', 'a=mid:2\r\na=content:slides\r\n'), { acceptPresentation: true }).answer();
    expect(sdp.groups).toEqual([{ type: 'BUNDLE', mids: '0 1 2' }]);
    const s = section(sdp, 2);
    expect(s).toMatchObject({ port: 40000, direction: 'sendonly', mid: 2 });
    expect(attr(s).content).toBe('slides');
    expect(s.ssrcs!.length).toBe(2);
    expect(s.msid).toEqual([{ id: 'openmeet', appdata: 'video-2' }]);
  });

  it('an accepted inactive slides m-line without anything to send stays alive as a=inactive with a port', () => {
    const { neg, media } = flow(PEXIP, { acceptPresentation: true });
    const sdp = parseSdp(buildAnswer(neg, { ...TRANSPORT, media: { ...media, '2': {} } }));
    expect(section(sdp, 2)).toMatchObject({ port: 40000, direction: 'inactive', mid: 2, payloads: '96 97' });
    expect(sdp.groups![0]!.mids).toBe('0 1 2');
  });

  it('offer sendonly → recvonly (even with something to send), offer recvonly → sendonly, data channel rejected', () => {
    const { neg, media, answer } = flow(DATACHANNEL);
    const sdp = answer();
    expect(sdp.media.map((m) => [m.type, m.port, m.direction])).toEqual([
      ['audio', 40000, 'recvonly'],
      ['video', 40000, 'sendonly'],
      ['application', 0, 'inactive'],
    ]);
    expect(section(sdp, 2)).toMatchObject({ protocol: 'UDP/DTLS/SCTP', payloads: 'webrtc-datachannel', mid: 2 });
    expect(sdp.groups![0]!.mids).toBe('0 1');
    // A consumer offered for the sendonly audio m-line is not announced.
    const withSend = parseSdp(buildAnswer(neg, { ...TRANSPORT, media: { ...media, '0': { send: media['1']!.send } } }));
    expect(section(withSend, 0).ssrcs).toBeUndefined();
    expect(section(withSend, 0).direction).toBe('recvonly');
  });

  it('recv: false and no send on a sendrecv m-line → inactive; reject: true → port 0', () => {
    const { neg } = flow(CHROMIUM);
    const sdp = parseSdp(buildAnswer(neg, { ...TRANSPORT, media: { '0': { recv: false }, '1': { reject: true } } }));
    expect(sdp.media.map((m) => [m.port, m.direction])).toEqual([
      [40000, 'inactive'],
      [0, 'inactive'],
      [40000, 'inactive'], // the second video m-line: parked
    ]);
    expect(String(sdp.groups![0]!.mids)).toBe('0 2');
  });

  it('a parked m-line stays inactive whatever the options say', () => {
    const { neg, media } = flow(PEXIP);
    const sdp = parseSdp(buildAnswer(neg, { ...TRANSPORT, media: { ...media, '2': { recv: true, send: media['1']!.send } } }));
    expect(section(sdp, 2).direction).toBe('inactive');
    expect(section(sdp, 2).ssrcs).toBeUndefined();
  });

  it('without options: receive what the remote sends, send nothing', () => {
    const { neg } = flow(CHROMIUM);
    const sdp = parseSdp(buildAnswer(neg, TRANSPORT as AnswerOptions));
    expect(sdp.media.map((m) => m.direction)).toEqual(['recvonly', 'recvonly', 'inactive']);
  });

  it('keeps the offer order (werift offers video first)', () => {
    const sdp = flow(WERIFT).answer();
    expect(sdp.media.map((m) => [m.type, m.mid, m.payloads])).toEqual([
      ['video', 0, 97],
      ['audio', 1, 96],
    ]);
    expect(section(sdp, 1).rtp).toEqual([{ payload: 96, codec: 'OPUS', rate: 48000, encoding: 2 }]);
    // werift's offer has no rtcp-rsize and no extmap-allow-mixed at media level: not in the answer either.
    expect(section(sdp, 0).rtcpRsize).toBeUndefined();
  });

  it('simulcast the remote sends: a=rid recv and a=simulcast:recv', () => {
    const sdp = flow(SIMULCAST).answer();
    const v = section(sdp, 1);
    expect(v.rids).toEqual([
      { id: 'q', direction: 'recv' },
      { id: 'h', direction: 'recv' },
      { id: 'f', direction: 'recv' },
    ]);
    expect(v.simulcast).toEqual({ dir1: 'recv', list1: 'q;h;f' });
  });
});

describe('buildAnswer: RTX', () => {
  it('announces the consumer RTX SSRC in an FID group when the router RTX payload type is the offer one', () => {
    // VP8 at 96 with RTX at 100: mediasoup gives VP8's RTX the first free dynamic payload type, 100.
    const t = ['a=ice-ufrag:uf01', 'a=ice-pwd:0123456789abcdefghijkl', 'a=fingerprint:sha-256 AB:CD', 'a=setup:actpass', 'a=rtcp-mux'];
    const custom = [
      'v=0',
      'o=- 1 1 IN IP4 0.0.0.0',
      's=-',
      't=0 0',
      'a=group:BUNDLE a v',
      'm=audio 9 UDP/TLS/RTP/SAVPF 111',
      ...t,
      'a=mid:a',
      'a=sendrecv',
      'a=rtpmap:111 opus/48000/2',
      'a=ssrc:1 cname:x',
      'm=video 9 UDP/TLS/RTP/SAVPF 96 100',
      ...t,
      'a=mid:v',
      'a=sendrecv',
      'a=rtpmap:96 VP8/90000',
      'a=rtcp-fb:96 nack',
      'a=rtcp-fb:96 nack pli',
      'a=rtpmap:100 rtx/90000',
      'a=fmtp:100 apt=96',
      'a=ssrc-group:FID 2 3',
      'a=ssrc:2 cname:x',
      'a=ssrc:3 cname:x',
      '',
    ].join('\r\n');
    const { neg, media, answer } = flow(custom);
    expect(neg.media[1]!.rtx!.payloadType).toBe(100);
    expect(neg.media[1]!.rtxMatchesRouter).toBe(true);
    const send = media['v']!.send!;
    expect(send.codecs.map((c) => [c.mimeType, c.payloadType])).toEqual([
      ['video/VP8', 96],
      ['video/rtx', 100],
    ]);
    const v = section(answer(), 1);
    const { ssrc, rtx } = send.encodings![0]!;
    expect(v.payloads).toBe('96 100');
    expect(v.ssrcGroups).toEqual([{ semantics: 'FID', ssrcs: `${ssrc} ${rtx!.ssrc}` }]);
    expect(v.ssrcs!.map((s) => s.id)).toEqual([ssrc, ssrc, rtx!.ssrc, rtx!.ssrc]);
  });
});

describe('buildAnswer: inputs that would make a broken answer', () => {
  it('a consumer of the conference router (router payload types) → payload-type-mismatch', () => {
    const offer = parseOffer(PEXIP);
    const conference = routerCaps();
    const neg = negotiateOffer(offer, conference);
    const audio = neg.media[0]!;
    const consumer = consume(produce('audio', audio.producerRtpParameters!, conference), audio.rtpCapabilities, '0');
    expect(consumer.codecs[0]!.payloadType).toBe(100); // the router's, not the offer's 111
    const err = catchErr(() => buildAnswer(neg, { ...TRANSPORT, media: { '0': { send: consumer } } }));
    expect(err.code).toBe('payload-type-mismatch');
    expect(err.message).toMatch(/payload type 100 .* offer uses 111/);
  });

  it('a consumer with RTX the offer numbers differently → payload-type-mismatch', () => {
    const { neg, media } = flow(PEXIP);
    const send = structuredClone(media['1']!.send!);
    send.codecs.push({ mimeType: 'video/rtx', payloadType: 100, clockRate: 90000, parameters: { apt: 96 } });
    send.encodings![0]!.rtx = { ssrc: 5 };
    expect(catchErr(() => buildAnswer(neg, { ...TRANSPORT, media: { '1': { send } } })).message).toMatch(/RTX with payload type 100/);
  });

  it('a consumer of another codec → payload-type-mismatch', () => {
    const { neg, media } = flow(PEXIP);
    const send = structuredClone(media['1']!.send!);
    send.codecs[0]!.mimeType = 'video/H264';
    expect(catchErr(() => buildAnswer(neg, { ...TRANSPORT, media: { '1': { send } } })).code).toBe('payload-type-mismatch');
  });

  it('a consumer created without the m-line mid → bad-answer-input', () => {
    const { neg, media } = flow(PEXIP);
    const send = { ...media['1']!.send!, mid: '7' };
    expect(catchErr(() => buildAnswer(neg, { ...TRANSPORT, media: { '1': { send } } })).message).toMatch(/consume\(\{ mid: '1' \}\)/);
  });

  it('no candidate, no fingerprint, no ICE credentials, no SSRC → bad-answer-input', () => {
    const { neg, media } = flow(PEXIP);
    expect(catchErr(() => buildAnswer(neg, { ...TRANSPORT, iceCandidates: [] })).code).toBe('bad-answer-input');
    expect(catchErr(() => buildAnswer(neg, { ...TRANSPORT, dtlsParameters: { fingerprints: [] } })).code).toBe('bad-answer-input');
    expect(catchErr(() => buildAnswer(neg, { ...TRANSPORT, iceParameters: { usernameFragment: '', password: 'x' } })).code).toBe('bad-answer-input');
    const send = { ...media['0']!.send!, encodings: [{}] };
    expect(catchErr(() => buildAnswer(neg, { ...TRANSPORT, media: { '0': { send } } })).message).toMatch(/no SSRC/);
  });
});

describe('buildAnswer: options', () => {
  it('another fingerprint algorithm, a=setup:active, IPv6-only candidates, stream and track ids', () => {
    const { offer, media } = flow(PEXIP);
    const leg = routerCaps(legRouterMediaCodecs(negotiateOffer(offer, routerCaps())));
    const neg = negotiateOffer(offer, leg, { setupOnActpass: 'active' });
    const text = buildAnswer(neg, {
      ...TRANSPORT,
      iceCandidates: [{ foundation: 'v6', priority: 1, ip: '2001:db8::1', address: '2001:db8::1', protocol: 'udp', port: 5000, type: 'host' }],
      fingerprintAlgorithm: 'sha-512',
      streamId: 'conf',
      media: { '0': { ...media['0']!, trackId: 'mix' } },
      sessionVersion: 3,
    });
    const sdp = parseSdp(text);
    const a = section(sdp, 0);
    expect(a.fingerprint).toEqual({ type: 'sha-512', hash: 'DD:EE' });
    expect(a.setup).toBe('active');
    expect(a.connection).toEqual({ version: 6, ip: '2001:db8::1' });
    expect(a.port).toBe(5000);
    expect(a.msid).toEqual([{ id: 'conf', appdata: 'mix' }]);
    expect(sdp.origin.sessionVersion).toBe(3);
  });

  it('falls back to the first fingerprint when the wanted algorithm is missing', () => {
    const { neg } = flow(PEXIP);
    const sdp = parseSdp(buildAnswer(neg, { ...TRANSPORT, dtlsParameters: { fingerprints: [{ algorithm: 'sha-384', value: '01' }] } }));
    expect(section(sdp, 0).fingerprint).toEqual({ type: 'sha-384', hash: '01' });
  });
});

function catchErr(fn: () => unknown): SdpError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SdpError);
    return err as SdpError;
  }
  throw new Error('expected an SdpError');
}
