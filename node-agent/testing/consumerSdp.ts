/**
 * A compact SDP offer for a plain WebRTC receiver (a werift peer: the forwarding benchmark's subscribers, MultiStreamTestClient) of mediasoup consumers on
 * one WebRtcTransport: ICE-lite, one BUNDLE, one sendonly m-line per consumer (its mid, codecs,
 * header extensions and SSRCs), setup:actpass. The receiver's answer gives back its fingerprint
 * and DTLS role for `transport.connect`. (mediasoup-client's RemoteSdp does the same for browsers.)
 */
import type { types } from 'mediasoup';

export interface ConsumerSdpInput {
  iceParameters: types.IceParameters;
  iceCandidates: types.IceCandidate[];
  dtlsParameters: types.DtlsParameters;
  consumers: { kind: 'audio' | 'video'; rtpParameters: types.RtpParameters; streamId: string; trackId: string }[];
}

export function consumerOffer(t: ConsumerSdpInput): string {
  const fp = t.dtlsParameters.fingerprints.find((f) => f.algorithm === 'sha-256') ?? t.dtlsParameters.fingerprints[0];
  if (!fp) throw new Error('transport has no DTLS fingerprint');
  const udp = t.iceCandidates.filter((c) => c.protocol === 'udp');
  const mids = t.consumers.map((c) => c.rtpParameters.mid ?? '');
  if (mids.some((m) => m === '')) throw new Error('consumer without mid');
  const lines = [
    'v=0',
    `o=mediasoup-bench ${Date.now()} 1 IN IP4 0.0.0.0`,
    's=-',
    't=0 0',
    'a=ice-lite',
    `a=group:BUNDLE ${mids.join(' ')}`,
    'a=msid-semantic: WMS *',
  ];
  for (const c of t.consumers) {
    const p = c.rtpParameters;
    const pts = p.codecs.map((codec) => codec.payloadType);
    const port = udp[0]?.port ?? 9;
    lines.push(`m=${c.kind} ${port} UDP/TLS/RTP/SAVPF ${pts.join(' ')}`, 'c=IN IP4 127.0.0.1', `a=mid:${p.mid}`, 'a=sendonly');
    lines.push(`a=ice-ufrag:${t.iceParameters.usernameFragment}`, `a=ice-pwd:${t.iceParameters.password}`);
    lines.push(`a=fingerprint:${fp.algorithm} ${fp.value.toUpperCase()}`, 'a=setup:actpass');
    for (const cand of udp) lines.push(`a=candidate:${cand.foundation} 1 udp ${cand.priority} ${cand.address} ${cand.port} typ host`);
    lines.push('a=end-of-candidates', 'a=rtcp-mux', 'a=rtcp-rsize');
    for (const codec of p.codecs) {
      const [, name] = codec.mimeType.split('/');
      lines.push(`a=rtpmap:${codec.payloadType} ${name}/${codec.clockRate}${codec.channels && codec.channels > 1 ? `/${codec.channels}` : ''}`);
      const params = Object.entries(codec.parameters ?? {}).map(([k, v]) => `${k}=${v}`);
      if (params.length) lines.push(`a=fmtp:${codec.payloadType} ${params.join(';')}`);
      for (const fb of codec.rtcpFeedback ?? []) lines.push(`a=rtcp-fb:${codec.payloadType} ${fb.type}${fb.parameter ? ` ${fb.parameter}` : ''}`);
    }
    for (const ext of p.headerExtensions ?? []) lines.push(`a=extmap:${ext.id} ${ext.uri}`);
    const cname = p.rtcp?.cname ?? 'bench';
    lines.push(`a=msid:${c.streamId} ${c.trackId}`);
    const enc = p.encodings?.[0];
    if (enc?.ssrc) {
      const ssrcs = enc.rtx?.ssrc ? [enc.ssrc, enc.rtx.ssrc] : [enc.ssrc];
      if (ssrcs.length === 2) lines.push(`a=ssrc-group:FID ${ssrcs.join(' ')}`);
      for (const s of ssrcs) lines.push(`a=ssrc:${s} cname:${cname}`, `a=ssrc:${s} msid:${c.streamId} ${c.trackId}`);
    }
  }
  return lines.join('\r\n') + '\r\n';
}

/** What a werift peer with weriftPeerConfig() receives: Opus, VP8 (NACK, PLI, REMB), mid and abs-send-time. */
export const WERIFT_RTP_CAPABILITIES: types.RtpCapabilities = {
  codecs: [
    { kind: 'audio', mimeType: 'audio/opus', preferredPayloadType: 111, clockRate: 48_000, channels: 2, parameters: {}, rtcpFeedback: [] },
    {
      kind: 'video',
      mimeType: 'video/VP8',
      preferredPayloadType: 96,
      clockRate: 90_000,
      parameters: {},
      rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'goog-remb' }],
    },
  ],
  headerExtensions: (['audio', 'video'] as const).flatMap((kind) => [
    { kind, uri: 'urn:ietf:params:rtp-hdrext:sdes:mid' as const, preferredId: 1, direction: 'sendrecv' as const },
    { kind, uri: 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time' as const, preferredId: 2, direction: 'sendrecv' as const },
  ]),
};

/**
 * A sending werift peer's offer (sendonly m-lines, Opus 111 / VP8 96) answered for a mediasoup
 * WebRtcTransport (ICE-lite, setup:passive: the peer is the DTLS client), and the RTP parameters
 * to `produce` each m-line with. (mediasoup-client does the same for browsers.)
 */
export function publisherAnswer(
  t: Omit<ConsumerSdpInput, 'consumers'>,
  offer: string,
): { answer: string; dtlsParameters: types.DtlsParameters; produce: { kind: 'audio' | 'video'; rtpParameters: types.RtpParameters }[] } {
  const fp = t.dtlsParameters.fingerprints.find((f) => f.algorithm === 'sha-256') ?? t.dtlsParameters.fingerprints[0];
  if (!fp) throw new Error('transport has no DTLS fingerprint');
  const sections = offer.split(/\r?\n(?=m=)/).slice(1);
  const mids = sections.map((m) => /^a=mid:(\S+)/m.exec(m)?.[1] ?? '');
  const lines = [
    'v=0',
    `o=mediasoup-test ${Date.now()} 1 IN IP4 0.0.0.0`,
    's=-',
    't=0 0',
    'a=ice-lite',
    `a=group:BUNDLE ${mids.join(' ')}`,
    'a=msid-semantic: WMS *',
  ];
  const produce: { kind: 'audio' | 'video'; rtpParameters: types.RtpParameters }[] = [];
  const udp = t.iceCandidates.filter((c) => c.protocol === 'udp');
  sections.forEach((m, i) => {
    const kind = /^m=(audio|video)/.exec(m)?.[1] as 'audio' | 'video' | undefined;
    const ssrc = Number(/^a=ssrc:(\d+)/m.exec(m)?.[1]);
    if (!kind || !ssrc) throw new Error(`offer m-line ${i} has no kind or SSRC`);
    const codec = WERIFT_RTP_CAPABILITIES.codecs!.find((c) => c.kind === kind)!;
    const pt = codec.preferredPayloadType!;
    const exts = [...m.matchAll(/^a=extmap:(\d+) (\S+)/gm)]
      .filter(([, , uri]) => /sdes:mid|abs-send-time/.test(uri!))
      .map(([, id, uri]) => ({ id: Number(id), uri: uri as types.RtpHeaderExtensionUri }));
    const [, name] = codec.mimeType.split('/');
    lines.push(`m=${kind} ${udp[0]?.port ?? 9} UDP/TLS/RTP/SAVPF ${pt}`, 'c=IN IP4 127.0.0.1', `a=mid:${mids[i]}`, 'a=recvonly');
    lines.push(`a=ice-ufrag:${t.iceParameters.usernameFragment}`, `a=ice-pwd:${t.iceParameters.password}`);
    lines.push(`a=fingerprint:${fp.algorithm} ${fp.value.toUpperCase()}`, 'a=setup:passive');
    for (const cand of udp) lines.push(`a=candidate:${cand.foundation} 1 udp ${cand.priority} ${cand.address} ${cand.port} typ host`);
    lines.push('a=end-of-candidates', 'a=rtcp-mux', 'a=rtcp-rsize');
    lines.push(`a=rtpmap:${pt} ${name}/${codec.clockRate}${codec.channels && codec.channels > 1 ? `/${codec.channels}` : ''}`);
    for (const fb of codec.rtcpFeedback ?? []) lines.push(`a=rtcp-fb:${pt} ${fb.type}${fb.parameter ? ` ${fb.parameter}` : ''}`);
    for (const e of exts) lines.push(`a=extmap:${e.id} ${e.uri}`);
    produce.push({
      kind,
      rtpParameters: {
        mid: mids[i],
        codecs: [
          {
            mimeType: codec.mimeType,
            payloadType: pt,
            clockRate: codec.clockRate,
            channels: codec.channels,
            parameters: {},
            rtcpFeedback: codec.rtcpFeedback ?? [],
          },
        ],
        headerExtensions: exts,
        encodings: [{ ssrc }],
        rtcp: { cname: /^a=ssrc:\d+ cname:(\S+)/m.exec(m)?.[1] ?? 'werift', reducedSize: true },
      },
    });
  });
  const own = /^a=fingerprint:(\S+) (\S+)/m.exec(offer);
  if (!own) throw new Error('offer has no fingerprint');
  return {
    answer: lines.join('\r\n') + '\r\n',
    dtlsParameters: { role: 'client', fingerprints: [{ algorithm: own[1]!.toLowerCase() as types.FingerprintAlgorithm, value: own[2]!.toUpperCase() }] },
    produce,
  };
}

/** The receiver's DTLS parameters from its answer, for `transport.connect`: its fingerprint and its own role (active = client). */
export function answerDtls(answer: string): types.DtlsParameters {
  const fp = /^a=fingerprint:(\S+) (\S+)/m.exec(answer);
  if (!fp) throw new Error('answer has no fingerprint');
  const setup = /^a=setup:(\S+)/m.exec(answer)?.[1] ?? 'active';
  return {
    role: setup === 'passive' ? 'server' : 'client',
    fingerprints: [{ algorithm: fp[1]!.toLowerCase() as types.FingerprintAlgorithm, value: fp[2]!.toUpperCase() }],
  };
}
