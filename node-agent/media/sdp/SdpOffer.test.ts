import { describe, expect, it } from 'vitest';
import {
  MAX_MEDIA_SECTIONS,
  SdpError,
  codecsMatch,
  h264Profile,
  legRouterMediaCodecs,
  mediasoupWireExtensionIds,
  negotiateOffer,
  parseOffer,
  producerRtpParameters,
  remoteDtlsParameters,
  remoteRtpCapabilities,
  type OfferCodec,
  type ParsedOffer,
} from './SdpOffer.js';
import { consume, fixture, ortc, produce, routerCaps } from './testing/ortc.js';

const CHROMIUM = fixture('chromium-156-audio-video-recvonly-video.sdp');
const PEXIP = fixture('pexip-sdk-audio-video-inactive-slides.sdp');
const SIMULCAST = fixture('chromium-156-simulcast.sdp');
const DATACHANNEL = fixture('chromium-156-sendonly-recvonly-datachannel.sdp');
const WERIFT = fixture('werift-media-test-client.sdp');

const MID = 'urn:ietf:params:rtp-hdrext:sdes:mid';
const ABS_SEND_TIME = 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time';
const TWCC = 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01';
const AUDIO_LEVEL = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';
const RID = 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id';

/** A small hand-written offer; `media` replaces the m-sections. */
function offerSdp(opts: { session?: string[]; media?: string[][]; bundle?: string | null } = {}): string {
  const media = opts.media ?? [audioSection('0'), videoSection('1')];
  const lines = [
    'v=0',
    'o=- 1 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    ...(opts.bundle === null ? [] : [`a=group:BUNDLE ${opts.bundle ?? media.map((_, i) => i).join(' ')}`]),
    ...(opts.session ?? []),
    ...media.flat(),
  ];
  return lines.join('\r\n') + '\r\n';
}
const TRANSPORT = ['a=ice-ufrag:uf01', 'a=ice-pwd:0123456789abcdefghijkl', 'a=fingerprint:sha-256 AB:CD:EF', 'a=setup:actpass', 'a=rtcp-mux'];
function audioSection(mid: string | null, extra: string[] = []): string[] {
  return [
    'm=audio 9 UDP/TLS/RTP/SAVPF 111',
    'c=IN IP4 0.0.0.0',
    ...TRANSPORT,
    ...(mid === null ? [] : [`a=mid:${mid}`]),
    'a=sendrecv',
    'a=rtpmap:111 opus/48000/2',
    'a=ssrc:11 cname:c',
    ...extra,
  ];
}
function videoSection(
  mid: string | null,
  extra: string[] = [],
  fmts = '96 97',
  codecs = ['a=rtpmap:96 VP8/90000', 'a=rtpmap:97 rtx/90000', 'a=fmtp:97 apt=96'],
): string[] {
  return [
    `m=video 9 UDP/TLS/RTP/SAVPF ${fmts}`,
    'c=IN IP4 0.0.0.0',
    ...TRANSPORT,
    ...(mid === null ? [] : [`a=mid:${mid}`]),
    'a=sendrecv',
    ...codecs,
    'a=ssrc:22 cname:c',
    ...extra,
  ];
}

function expectSdpError(fn: () => unknown, code: SdpError['code'], message?: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SdpError);
    expect((err as SdpError).code).toBe(code);
    if (message) expect((err as SdpError).message).toMatch(message);
    return;
  }
  throw new Error(`expected SdpError ${code}`);
}

describe('parseOffer: real offers', () => {
  it('Chromium 156: audio + video sendrecv + a second recvonly video', () => {
    const o = parseOffer(CHROMIUM);
    expect(o.bundle).toEqual(['0', '1', '2']);
    expect(o.setup).toBe('actpass');
    expect(o.iceParameters).toEqual({ usernameFragment: 'w8Y0', password: 'W4RA+6ULBwvDhy9VHWfXR5d5' });
    expect(o.fingerprints).toEqual([
      { algorithm: 'sha-256', value: '5D:C7:12:84:2E:2F:1C:2C:2E:11:3C:E5:E1:D7:EF:F5:4C:24:34:DB:46:DB:06:A0:7C:03:ED:A0:73:64:BD:9E' },
    ]);
    expect(o.extmapAllowMixed).toBe(true);
    expect(o.media.map((m) => [m.mid, m.kind, m.role, m.direction, m.bundled, m.disabled])).toEqual([
      ['0', 'audio', 'main', 'sendrecv', true, false],
      ['1', 'video', 'main', 'sendrecv', true, false],
      ['2', 'video', 'extra', 'recvonly', true, false],
    ]);
    const [audio, video] = o.media;
    expect(audio!.codecs.map((c) => [c.payloadType, c.mimeType, c.clockRate, c.channels])).toEqual([
      [111, 'audio/opus', 48000, 2],
      [63, 'audio/red', 48000, 2],
      [9, 'audio/G722', 8000, 1],
      [0, 'audio/PCMU', 8000, 1],
      [8, 'audio/PCMA', 8000, 1],
      [13, 'audio/CN', 8000, 1],
      [110, 'audio/telephone-event', 48000, 1],
      [126, 'audio/telephone-event', 8000, 1],
    ]);
    expect(audio!.codecs[0]!.parameters).toEqual({ minptime: 10, useinbandfec: 1 });
    expect(audio!.codecs[0]!.rtcpFeedback).toEqual([{ type: 'transport-cc' }]);
    expect(audio!.headerExtensions.map((e) => [e.id, e.uri])).toEqual([
      [1, AUDIO_LEVEL],
      [2, ABS_SEND_TIME],
      [3, TWCC],
      [4, MID],
    ]);
    expect(audio!.ssrcs).toEqual([
      { ssrc: 1995826608, cname: '/vOnC75xo6cJPduI', msid: '4915efce-7974-44f2-b627-d151c2de80e7 20a7bdd5-de5b-49d1-81ab-46dab05ba989' },
    ]);
    expect(audio!.msid).toEqual({ streamId: '4915efce-7974-44f2-b627-d151c2de80e7', trackId: '20a7bdd5-de5b-49d1-81ab-46dab05ba989' });
    expect(audio!.rtcpMux && audio!.rtcpRsize).toBe(true);

    expect(video!.codecs.map((c) => c.payloadType)).toEqual([96, 102, 104, 108, 114, 116, 39, 45, 98, 100, 118, 120]);
    expect(video!.rtx).toContainEqual({ payloadType: 97, apt: 96, clockRate: 90000, fmtp: 'apt=96' });
    expect(video!.rtx).toHaveLength(11);
    const h264 = video!.codecs.find((c) => c.payloadType === 108)!;
    expect(h264.parameters).toEqual({ 'level-asymmetry-allowed': 1, 'packetization-mode': 1, 'profile-level-id': '42e01f' });
    expect(video!.codecs[0]!.rtcpFeedback).toEqual([
      { type: 'goog-remb' },
      { type: 'transport-cc' },
      { type: 'ccm', parameter: 'fir' },
      { type: 'nack' },
      { type: 'nack', parameter: 'pli' },
    ]);
    expect(video!.ssrcGroups).toEqual([{ semantics: 'FID', ssrcs: [2892183412, 3923138514] }]);
    expect(video!.iceUfrag).toBe('w8Y0');
    expect(o.warnings).toEqual([]);
  });

  it('Pexip SDK style: the inactive third m-line with a=content:slides is the presentation', () => {
    const o = parseOffer(PEXIP);
    expect(o.media.map((m) => [m.mid, m.role, m.direction, m.content])).toEqual([
      ['0', 'main', 'sendrecv', undefined],
      ['1', 'main', 'sendrecv', undefined],
      ['2', 'presentation', 'inactive', 'slides'],
    ]);
  });

  it('werift (MediaTestClient): video first, upper-case OPUS, other extension ids per m-line', () => {
    const o = parseOffer(WERIFT);
    expect(o.media.map((m) => [m.mid, m.kind, m.role])).toEqual([
      ['0', 'video', 'main'],
      ['1', 'audio', 'main'],
    ]);
    expect(o.media[1]!.codecs[0]).toMatchObject({ payloadType: 96, mimeType: 'audio/OPUS', name: 'OPUS', channels: 2 });
    expect(o.media[0]!.msid).toBeUndefined();
    expect(o.warnings.some((w) => w.includes(MID) && w.includes('id 3 and 1'))).toBe(true);
  });

  it('Chromium with a data channel: sendonly audio, recvonly video, application m-line', () => {
    const o = parseOffer(DATACHANNEL);
    expect(o.media.map((m) => [m.mid, m.type, m.role, m.direction])).toEqual([
      ['0', 'audio', 'main', 'sendonly'],
      ['1', 'video', 'main', 'recvonly'],
      ['2', 'application', 'application', 'sendrecv'],
    ]);
  });

  it('Chromium simulcast: rids and the a=simulcast send list', () => {
    const video = parseOffer(SIMULCAST).media[1]!;
    expect(video.rids).toEqual([
      { id: 'q', direction: 'send', params: undefined },
      { id: 'h', direction: 'send', params: undefined },
      { id: 'f', direction: 'send', params: undefined },
    ]);
    expect(video.simulcast).toEqual({ send: ['q', 'h', 'f'], recv: [] });
    expect(video.ssrcs).toEqual([]);
  });
});

describe('parseOffer: details', () => {
  it('takes ICE credentials and fingerprints from the session level, every fingerprint line', () => {
    const media = [['m=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:a', 'a=rtpmap:111 opus/48000/2', 'a=rtcp-mux']];
    const o = parseOffer(
      offerSdp({
        media,
        session: [
          'a=ice-ufrag:sess',
          'a=ice-pwd:sessionpassword0123456789',
          'a=fingerprint:sha-1 aa:bb',
          'a=fingerprint:SHA-256 cc:dd',
          'a=fingerprint:md5 ee:ff',
          'a=setup:passive',
        ],
      }),
    );
    expect(o.iceParameters).toEqual({ usernameFragment: 'sess', password: 'sessionpassword0123456789' });
    expect(o.fingerprints).toEqual([
      { algorithm: 'sha-1', value: 'AA:BB' },
      { algorithm: 'sha-256', value: 'CC:DD' },
    ]);
    expect(o.setup).toBe('passive');
  });

  it('accepts \\n line endings and a missing a=setup (RFC 4145 default active, with a warning)', () => {
    const sdp = offerSdp()
      .replace(/\r\n/g, '\n')
      .replace(/a=setup:actpass\n/g, '');
    const o = parseOffer(sdp);
    expect(o.setup).toBe('active');
    expect(o.warnings.join()).toMatch(/no a=setup/);
  });

  it('keeps numeric-looking values as strings (a=group:BUNDLE 0, a=ice-ufrag:1234)', () => {
    const media = [
      audioSection('0').map((l) =>
        l.replace('a=ice-ufrag:uf01', 'a=ice-ufrag:1234').replace('a=ice-pwd:0123456789abcdefghijkl', 'a=ice-pwd:1234567890123456789012'),
      ),
    ];
    const o = parseOffer(offerSdp({ media, bundle: '0' }));
    expect(o.bundle).toEqual(['0']);
    expect(o.media[0]!.mid).toBe('0');
    expect(o.iceParameters).toEqual({ usernameFragment: '1234', password: '1234567890123456789012' });
  });

  it('a single m-line needs neither BUNDLE nor a mid', () => {
    const o = parseOffer(offerSdp({ media: [audioSection(null)], bundle: null }));
    expect(o.media[0]!.mid).toBeUndefined();
    expect(o.bundle).toEqual([]);
  });

  it('marks offerer-disabled m-lines (port 0) but not bundle-only ones', () => {
    const disabled = videoSection('1').map((l) => l.replace('m=video 9', 'm=video 0'));
    const bundleOnly = [...videoSection('2').map((l) => l.replace('m=video 9', 'm=video 0')), 'a=bundle-only'];
    const o = parseOffer(offerSdp({ media: [audioSection('0'), disabled, bundleOnly] }));
    expect(o.media.map((m) => [m.disabled, m.bundleOnly, m.role])).toEqual([
      [false, false, 'main'],
      [true, false, 'extra'],
      [false, true, 'main'],
    ]);
  });

  it('plain RTP/AVP m-lines are unsupported', () => {
    const rtpAvp = videoSection('1').map((l) => l.replace('UDP/TLS/RTP/SAVPF', 'RTP/AVP'));
    expect(parseOffer(offerSdp({ media: [audioSection('0'), rtpAvp] })).media[1]!.role).toBe('unsupported');
  });
});

describe('parseOffer: offers it refuses', () => {
  it('not SDP at all', () => {
    expectSdpError(() => parseOffer('hello'), 'malformed');
    expectSdpError(() => parseOffer(''), 'malformed');
    // What a caller outside TypeScript could pass.
    const notSdp: unknown = undefined;
    expectSdpError(() => parseOffer(notSdp as string), 'malformed');
  });

  it('no m-line', () => {
    expectSdpError(() => parseOffer(offerSdp({ media: [], bundle: null })), 'no-media');
  });

  it(`more than ${MAX_MEDIA_SECTIONS} m-lines`, () => {
    const media = Array.from({ length: 9 }, (_, i) => audioSection(String(i)));
    expectSdpError(() => parseOffer(offerSdp({ media })), 'too-many-media', /9 media sections/);
    expect(() => parseOffer(offerSdp({ media: media.slice(0, 8) }))).not.toThrow();
  });

  it('a mid used twice', () => {
    expectSdpError(() => parseOffer(offerSdp({ media: [audioSection('x'), videoSection('x')], bundle: 'x' })), 'duplicate-mid');
  });

  it('a bundled offer with an m-line without mid', () => {
    expectSdpError(() => parseOffer(offerSdp({ media: [audioSection('0'), videoSection(null)], bundle: '0' })), 'missing-mid', /m-line 1/);
  });

  it('several m-lines without BUNDLE', () => {
    expectSdpError(() => parseOffer(offerSdp({ bundle: null })), 'no-bundle');
  });

  it('no ICE credentials', () => {
    expectSdpError(() => parseOffer(offerSdp().replace(/a=ice-pwd:.*\r\n/g, '')), 'no-ice-credentials');
    expectSdpError(() => parseOffer(offerSdp().replace(/a=ice-ufrag:.*\r\n/g, '')), 'no-ice-credentials');
  });

  it('no usable fingerprint', () => {
    expectSdpError(() => parseOffer(offerSdp().replace(/a=fingerprint:.*\r\n/g, '')), 'no-fingerprint');
    expectSdpError(() => parseOffer(offerSdp().replace(/a=fingerprint:sha-256/g, 'a=fingerprint:md5')), 'no-fingerprint');
  });

  it('a=setup:holdconn or nonsense', () => {
    expectSdpError(() => parseOffer(offerSdp().replace(/a=setup:actpass/g, 'a=setup:holdconn')), 'bad-setup');
  });

  it('an ICE-lite offerer (mediasoup is ICE-lite too)', () => {
    expectSdpError(() => parseOffer(offerSdp({ session: ['a=ice-lite'] })), 'ice-lite-conflict');
  });

  it('every m-line disabled', () => {
    const sdp = offerSdp().replace(/m=(audio|video) 9/g, 'm=$1 0');
    expectSdpError(() => parseOffer(sdp), 'no-usable-media');
  });
});

describe('negotiateOffer', () => {
  const conference = routerCaps();

  it('picks Opus and VP8 with the offer payload types, and says the conference router numbers them differently', () => {
    const neg = negotiateOffer(parseOffer(CHROMIUM), conference);
    const [audio, video, extra] = neg.media;
    expect(audio).toMatchObject({ accepted: true, payloadTypes: [111], payloadTypeMatchesRouter: false, remoteSends: true, remoteReceives: true });
    expect(audio!.codec!.mimeType).toBe('audio/opus');
    expect(audio!.routerCodec!.preferredPayloadType).toBe(100);
    expect(video).toMatchObject({ accepted: true, payloadTypes: [96, 97], payloadTypeMatchesRouter: false, rtxMatchesRouter: false });
    expect(extra).toMatchObject({ accepted: true, parked: true, rejectReason: 'only one video m-line is used' });
    expect(extra!.producerRtpParameters).toBeUndefined();
    expect(neg.rtpCapabilities.codecs).toHaveLength(2); // parked m-lines add nothing
  });

  it('a leg router made with legRouterMediaCodecs numbers the codecs like the offer (RTX cannot be chosen)', () => {
    const offer = parseOffer(CHROMIUM);
    const codecs = legRouterMediaCodecs(negotiateOffer(offer, conference));
    expect(codecs.map((c) => [c.mimeType, c.preferredPayloadType])).toEqual([
      ['audio/opus', 111],
      ['video/VP8', 96],
    ]);
    const leg = routerCaps(codecs);
    const neg = negotiateOffer(offer, leg);
    expect(neg.media.slice(0, 2).map((m) => [m.payloadTypeMatchesRouter, m.rtxMatchesRouter, m.routerRtxPayloadType])).toEqual([
      [true, false, undefined],
      [true, false, 100],
    ]);
    // Without a matching RTX payload type the remote capabilities leave RTX out.
    expect(neg.media[1]!.rtpCapabilities.codecs!.map((c) => c.mimeType)).toEqual(['video/VP8']);
  });

  it('legRouterMediaCodecs leaves out a codec whose payload type mediasoup would give to an earlier RTX', () => {
    const sdp = offerSdp({
      media: [
        videoSection('0', [], '96 97', ['a=rtpmap:96 VP8/90000', 'a=rtpmap:97 rtx/90000', 'a=fmtp:97 apt=96']),
        [
          'm=video 9 UDP/TLS/RTP/SAVPF 100',
          ...TRANSPORT,
          'a=mid:1',
          'a=content:slides',
          'a=recvonly',
          'a=rtpmap:100 H264/90000',
          'a=fmtp:100 packetization-mode=1;profile-level-id=42e01f',
        ],
      ],
    });
    const neg = negotiateOffer(parseOffer(sdp), conference, { acceptPresentation: true });
    const codecs = legRouterMediaCodecs(neg);
    expect(codecs.map((c) => c.preferredPayloadType)).toEqual([96]); // VP8's RTX takes 100
    expect(() => routerCaps(codecs)).not.toThrow();
  });

  it('codecPreference picks H.264 Constrained Baseline packetization-mode 1 (mediasoup matches profile, not level)', () => {
    const neg = negotiateOffer(parseOffer(CHROMIUM), conference, { codecPreference: { video: ['video/H264'] } });
    expect(neg.media[1]!.codec!.payloadType).toBe(108); // 42e01f pm=1; 102 is Baseline (42001f), 104/114 pm=0
    expect(neg.media[1]!.rtx!.payloadType).toBe(109);
    expect(neg.media[1]!.producerRtpParameters!.codecs[0]!.parameters).toEqual({
      'level-asymmetry-allowed': 1,
      'packetization-mode': 1,
      'profile-level-id': '42e01f',
    });
  });

  it('VP9 only when the router has it, by profile-id', () => {
    const vp9Router = routerCaps([
      { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
      { kind: 'video', mimeType: 'video/VP9', clockRate: 90000, parameters: { 'profile-id': 2 } },
    ]);
    const neg = negotiateOffer(parseOffer(CHROMIUM), vp9Router);
    expect(neg.media[1]!.codec!.payloadType).toBe(100); // VP9 profile 2; 98 is profile 0
  });

  it('keeps RTCP feedback both sides know', () => {
    const neg = negotiateOffer(parseOffer(CHROMIUM), conference);
    expect(neg.media[0]!.rtcpFeedback).toEqual([{ type: 'transport-cc' }]);
    expect(neg.media[1]!.rtcpFeedback.map((f) => `${f.type} ${f.parameter ?? ''}`.trim())).toEqual([
      'goog-remb',
      'transport-cc',
      'ccm fir',
      'nack',
      'nack pli',
    ]);
  });

  it('header extensions: leaves out ids mediasoup writes for something else, keeps audio level, flags the MID collision', () => {
    const neg = negotiateOffer(parseOffer(CHROMIUM), conference);
    expect(neg.media[0]!.headerExtensions).toEqual([
      { id: 1, uri: AUDIO_LEVEL }, // collides with mediasoup's MID id, kept for the audio level observers
      { id: 2, uri: ABS_SEND_TIME },
      { id: 3, uri: TWCC },
    ]);
    expect(neg.media[1]!.headerExtensions).toEqual([
      { id: 2, uri: ABS_SEND_TIME },
      { id: 3, uri: TWCC },
    ]);
    // Chromium puts MID at 4: mediasoup's abs-send-time id, on every video packet it sends.
    expect(neg.media[0]!.midCollision).toBeUndefined();
    expect(neg.media[1]!.midCollision).toBe(ABS_SEND_TIME);
    expect(neg.warnings.some((w) => /MID at id 4/.test(w))).toBe(true);

    const keep = negotiateOffer(parseOffer(CHROMIUM), conference, { wireCollisions: 'keep' });
    expect(keep.media[1]!.headerExtensions.map((e) => e.id)).toEqual([14, 2, 13, 3, 5, 4]);
    const noLevel = negotiateOffer(parseOffer(CHROMIUM), conference, { audioLevelDespiteCollision: false });
    expect(noLevel.media[0]!.headerExtensions.map((e) => e.id)).toEqual([2, 3]);
  });

  it('no MID collision with werift or Firefox-style ids', () => {
    const neg = negotiateOffer(parseOffer(WERIFT), conference);
    expect(neg.media.map((m) => m.midCollision)).toEqual([undefined, undefined]);
    expect(neg.media[1]!.headerExtensions).toContainEqual({ id: 1, uri: MID }); // same id as mediasoup's
  });

  it('mediasoupWireExtensionIds: what a consumer puts on the wire, per kind', () => {
    expect([...mediasoupWireExtensionIds(conference, 'audio').keys()].sort((a, b) => a - b)).toEqual([1, 10, 13, 14]);
    expect([...mediasoupWireExtensionIds(conference, 'video').keys()].sort((a, b) => a - b)).toEqual([1, 4, 5, 8, 11, 12, 13, 14]);
  });

  it('producer RtpParameters: what transport.produce() accepts, SSRC + RTX SSRC from the FID group', () => {
    const offer = parseOffer(CHROMIUM);
    const neg = negotiateOffer(offer, conference);
    const video = neg.media[1]!.producerRtpParameters!;
    expect(video).toMatchObject({
      mid: '1',
      encodings: [{ ssrc: 2892183412, rtx: { ssrc: 3923138514 } }],
      rtcp: { cname: '/vOnC75xo6cJPduI', reducedSize: true },
    });
    expect(video.codecs.map((c) => [c.mimeType, c.payloadType, c.parameters])).toEqual([
      ['video/VP8', 96, {}],
      ['video/rtx', 97, { apt: 96 }],
    ]);
    expect(producerRtpParameters(offer, '0', conference)).toEqual(neg.media[0]!.producerRtpParameters);
    expect(producerRtpParameters(offer, '2', conference)).toBeUndefined();
    for (const m of neg.media.filter((x) => x.producerRtpParameters)) {
      const consumable = produce(m.kind!, m.producerRtpParameters!, conference);
      expect(consumable.codecs[0]!.payloadType).toBe(m.routerCodec!.preferredPayloadType);
    }
  });

  it('producer RtpParameters for simulcast by rid (RID and MID kept to route the SSRC-less layers)', () => {
    const neg = negotiateOffer(parseOffer(SIMULCAST), conference);
    const video = neg.media[1]!;
    expect(video.producerRtpParameters!.encodings).toEqual([{ rid: 'q' }, { rid: 'h' }, { rid: 'f' }]);
    expect(video.headerExtensions.map((e) => e.uri)).toEqual(expect.arrayContaining([MID, RID]));
    expect(() => produce('video', video.producerRtpParameters!, conference)).not.toThrow();
  });

  it('producer RtpParameters for SSRC simulcast (SIM group) and a single SSRC without RTX', () => {
    const sim = [
      'a=ssrc-group:SIM 1 2 3',
      'a=ssrc-group:FID 1 11',
      'a=ssrc-group:FID 2 12',
      'a=ssrc-group:FID 3 13',
      ...[1, 2, 3, 11, 12, 13].map((s) => `a=ssrc:${s} cname:x`),
    ];
    const sdp = offerSdp({ media: [audioSection('0'), videoSection('1', sim).filter((l) => l !== 'a=ssrc:22 cname:c')] });
    const neg = negotiateOffer(parseOffer(sdp), conference);
    expect(neg.media[1]!.producerRtpParameters!.encodings).toEqual([
      { ssrc: 1, rtx: { ssrc: 11 } },
      { ssrc: 2, rtx: { ssrc: 12 } },
      { ssrc: 3, rtx: { ssrc: 13 } },
    ]);
    expect(neg.media[0]!.producerRtpParameters!.encodings).toEqual([{ ssrc: 11 }]);
  });

  it('warns when a sender can be routed neither by SSRC nor by MID', () => {
    const sdp = offerSdp({ media: [audioSection('0').filter((l) => !l.startsWith('a=ssrc'))] });
    const neg = negotiateOffer(parseOffer(sdp), conference);
    expect(neg.media[0]!.producerRtpParameters!.encodings).toEqual([{}]);
    expect(neg.warnings.join()).toMatch(/cannot tell its packets apart/);
  });

  it('remote RtpCapabilities: valid for mediasoup, offer payload types and extension ids', () => {
    const caps = remoteRtpCapabilities(parseOffer(CHROMIUM), conference);
    expect(() => ortc.validateRtpCapabilities(JSON.parse(JSON.stringify(caps)))).not.toThrow();
    expect(caps.codecs!.map((c) => [c.kind, c.mimeType, c.preferredPayloadType])).toEqual([
      ['audio', 'audio/opus', 111],
      ['video', 'video/VP8', 96],
    ]);
    expect(caps.headerExtensions).toContainEqual({ kind: 'audio', uri: AUDIO_LEVEL, preferredId: 1, preferredEncrypt: false, direction: 'sendrecv' });
  });

  it('a Consumer made with these capabilities sends the offer payload types on a leg router', () => {
    const offer = parseOffer(PEXIP);
    const leg = routerCaps(legRouterMediaCodecs(negotiateOffer(offer, conference)));
    const neg = negotiateOffer(offer, leg);
    for (const m of neg.media.filter((x) => x.accepted && !x.parked)) {
      const consumer = consume(produce(m.kind!, m.producerRtpParameters!, leg), m.rtpCapabilities, m.mid);
      expect(consumer.codecs.map((c) => c.payloadType)).toEqual([m.codec!.payloadType]);
      // NACK without RTX: mediasoup retransmits on the media SSRC.
      if (m.kind === 'video') expect(consumer.codecs[0]!.rtcpFeedback).toContainEqual({ type: 'nack', parameter: '' });
      expect(consumer.headerExtensions).toEqual([]); // no offered id equals the router's
    }
  });

  it('presentation: parked by default, rejected or accepted on request (no producer when the offer is inactive)', () => {
    const offer = parseOffer(PEXIP);
    expect(negotiateOffer(offer, conference).media[2]).toMatchObject({
      accepted: true,
      parked: true,
      rejectReason: 'presentation is not taken on this leg',
      payloadTypes: [96, 97],
    });
    expect(negotiateOffer(offer, conference, { unusedMedia: 'reject' }).media[2]).toMatchObject({
      accepted: false,
      parked: false,
      rejectReason: 'presentation is not taken on this leg',
    });
    const accepted = negotiateOffer(offer, conference, { acceptPresentation: true }).media[2]!;
    expect(accepted).toMatchObject({ accepted: true, parked: false, remoteSends: false, remoteReceives: false, payloadTypes: [96, 97] });
    expect(accepted.producerRtpParameters).toBeUndefined();
  });

  it('rejects the data channel, sendonly/recvonly set what each side may do', () => {
    const neg = negotiateOffer(parseOffer(DATACHANNEL), conference);
    expect(neg.media.map((m) => [m.accepted, m.remoteSends, m.remoteReceives])).toEqual([
      [true, true, false],
      [true, false, true],
      [false, false, false],
    ]);
    expect(neg.media[2]!.rejectReason).toMatch(/data channels/);
    expect(neg.media[1]!.producerRtpParameters).toBeUndefined();
  });

  it('an unused m-line without a usable codec is rejected, not parked', () => {
    const sdp = offerSdp({ media: [audioSection('0'), videoSection('1'), videoSection('2', [], '45', ['a=rtpmap:45 AV1/90000'])] });
    expect(negotiateOffer(parseOffer(sdp), conference).media[2]).toMatchObject({ accepted: false, parked: false });
  });

  it('an m-line outside the BUNDLE group is rejected', () => {
    const neg = negotiateOffer(parseOffer(offerSdp({ bundle: '0' })), conference);
    expect(neg.media[1]).toMatchObject({ accepted: false, rejectReason: 'not in the BUNDLE group' });
  });

  it('throws when neither main audio nor main video has a codec the router supports', () => {
    const sdp = offerSdp({
      media: [
        ['m=audio 9 UDP/TLS/RTP/SAVPF 0', ...TRANSPORT, 'a=mid:0', 'a=rtpmap:0 PCMU/8000'],
        ['m=video 9 UDP/TLS/RTP/SAVPF 104', ...TRANSPORT, 'a=mid:1', 'a=rtpmap:104 H264/90000', 'a=fmtp:104 packetization-mode=0;profile-level-id=42e01f'],
      ],
    });
    expectSdpError(() => negotiateOffer(parseOffer(sdp), conference), 'no-usable-media', /PCMU\/8000/);
  });

  it('takes audio alone when video has no usable codec', () => {
    const sdp = offerSdp({ media: [audioSection('0'), videoSection('1', [], '45', ['a=rtpmap:45 AV1/90000'])] });
    const neg = negotiateOffer(parseOffer(sdp), conference);
    expect(neg.media.map((m) => m.accepted)).toEqual([true, false]);
    expect(neg.media[1]!.rejectReason).toMatch(/AV1\/90000/);
  });
});

describe('DTLS roles for webRtcTransport.connect()', () => {
  const withSetup = (setup: string): ParsedOffer => parseOffer(offerSdp().replace(/a=setup:actpass/g, `a=setup:${setup}`));
  it('actpass → we are passive (DTLS server), the remote is the client; or active on request', () => {
    expect(remoteDtlsParameters(withSetup('actpass'))).toEqual({
      localSetup: 'passive',
      dtlsParameters: { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: 'AB:CD:EF' }] },
    });
    expect(remoteDtlsParameters(withSetup('actpass'), 'active')).toMatchObject({ localSetup: 'active', dtlsParameters: { role: 'server' } });
  });
  it('active → passive / client; passive → active / server', () => {
    expect(remoteDtlsParameters(withSetup('active'))).toMatchObject({ localSetup: 'passive', dtlsParameters: { role: 'client' } });
    expect(remoteDtlsParameters(withSetup('passive'))).toMatchObject({ localSetup: 'active', dtlsParameters: { role: 'server' } });
  });
  it('negotiateOffer carries them', () => {
    const neg = negotiateOffer(parseOffer(CHROMIUM), routerCaps(), { setupOnActpass: 'active' });
    expect(neg.localSetup).toBe('active');
    expect(neg.dtlsParameters.role).toBe('server');
  });
});

describe('codec matching like mediasoup', () => {
  const codec = (mimeType: string, parameters: OfferCodec['parameters'] = {}, clockRate = 90000, channels?: number): OfferCodec => ({
    payloadType: 96,
    mimeType,
    name: mimeType.split('/')[1]!,
    clockRate,
    channels,
    parameters,
    rtcpFeedback: [],
  });
  const router = (mimeType: string, parameters: Record<string, unknown> = {}, clockRate = 90000, channels?: number) => ({
    kind: (mimeType.startsWith('audio') ? 'audio' : 'video') as 'audio' | 'video',
    mimeType,
    preferredPayloadType: 100,
    clockRate,
    channels,
    parameters,
  });

  it('mime type case-insensitively, clock rate and audio channels', () => {
    expect(codecsMatch(codec('audio/OPUS', {}, 48000, 2), router('audio/opus', {}, 48000, 2))).toBe(true);
    expect(codecsMatch(codec('audio/opus', {}, 48000, 1), router('audio/opus', {}, 48000, 2))).toBe(false);
    expect(codecsMatch(codec('audio/PCMU', {}, 8000, undefined), router('audio/PCMU', {}, 8000, 1))).toBe(true);
    expect(codecsMatch(codec('video/VP8', {}, 90000), router('video/VP8', {}, 48000))).toBe(false);
  });

  it('H.264: packetization-mode and profile, not level', () => {
    const r = router('video/H264', { 'packetization-mode': 1, 'profile-level-id': '42e01f' });
    expect(codecsMatch(codec('video/H264', { 'packetization-mode': 1, 'profile-level-id': '42e01f' }), r)).toBe(true);
    expect(codecsMatch(codec('video/H264', { 'packetization-mode': 1, 'profile-level-id': '42e034' }), r)).toBe(true); // level 5.2
    expect(codecsMatch(codec('video/H264', { 'packetization-mode': 1, 'profile-level-id': '4de01f' }), r)).toBe(true); // CB via Main idc
    expect(codecsMatch(codec('video/H264', { 'packetization-mode': 1, 'profile-level-id': '42001f' }), r)).toBe(false); // Baseline
    expect(codecsMatch(codec('video/H264', { 'packetization-mode': 0, 'profile-level-id': '42e01f' }), r)).toBe(false);
    expect(codecsMatch(codec('video/H264', { 'packetization-mode': 1 }), r)).toBe(true); // default 42e01f
    expect(codecsMatch(codec('video/H264', { 'packetization-mode': 1, 'profile-level-id': 'zzzzzz' }), r)).toBe(false);
  });

  it('h264Profile', () => {
    expect(h264Profile('42e01f')).toBe('ConstrainedBaseline');
    expect(h264Profile('42001f')).toBe('Baseline');
    expect(h264Profile('4d001f')).toBe('Main');
    expect(h264Profile('640032')).toBe('High');
    expect(h264Profile(640032)).toBe('High'); // sdp-transform makes it a number
    expect(h264Profile('640c1f')).toBe('ConstrainedHigh');
    expect(h264Profile('f4001f')).toBe('PredictiveHigh444');
    expect(h264Profile(undefined)).toBe('ConstrainedBaseline');
    expect(h264Profile('42e0ff')).toBeUndefined(); // no such level
    expect(h264Profile('12e01f')).toBeUndefined();
  });

  it('VP9 profile-id (default 0)', () => {
    expect(codecsMatch(codec('video/VP9', { 'profile-id': 0 }), router('video/VP9'))).toBe(true);
    expect(codecsMatch(codec('video/VP9', { 'profile-id': 2 }), router('video/VP9'))).toBe(false);
  });
});
