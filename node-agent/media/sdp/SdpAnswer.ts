/**
 * The SDP answer of a single-stream call leg on mediasoup: one WebRtcTransport (ICE-lite,
 * DTLS-SRTP, rtcp-mux, everything BUNDLEd), one m-line per offered m-line in the same order.
 * Accepted m-lines carry the negotiated codec with the OFFER's payload types, its RTCP feedback
 * and fmtp, the header extensions both sides use (offer ids), and — where we send — the
 * Consumer's SSRC (and RTX SSRC) with cname and msid. Parked m-lines (unused audio/video, see
 * NegotiateOptions.unusedMedia) are the same but a=inactive without SSRCs. Everything else is
 * rejected the RFC 3264 §6 way: port 0, a=inactive, same media type, kept mid, left out of
 * the BUNDLE group.
 */
import { write as writeSdp } from 'sdp-transform';
import type { MediaAttributes, MediaDescription, SessionDescription } from 'sdp-transform';
import type { types } from 'mediasoup';
import { SdpError, isRtx, type NegotiatedMedia, type NegotiatedOffer, type SdpDirection } from './SdpOffer.js';

export interface AnswerMediaOptions {
  /** Reject this m-line although negotiation accepted it (port 0). */
  reject?: boolean;
  /** Whether we take what the remote sends here (a Producer exists). Default true. */
  recv?: boolean;
  /**
   * What we send on this m-line: the Consumer's rtpParameters (its payload types must be the
   * offer's, its mid the m-line's). Undefined: we send nothing.
   */
  send?: types.RtpParameters;
  /** a=msid of what we send (default: options.streamId and `${kind}-${mid}`). */
  streamId?: string;
  trackId?: string;
}

export interface AnswerOptions {
  /** The WebRtcTransport's ICE parameters, candidates and (local) DTLS parameters. */
  iceParameters: types.IceParameters;
  iceCandidates: types.IceCandidate[];
  dtlsParameters: types.DtlsParameters;
  /**
   * Per m-line, keyed by mid (or `#${index}` for an m-line without mid). An accepted m-line
   * without an entry receives if the remote sends and sends nothing.
   */
  media?: Record<string, AnswerMediaOptions>;
  /** Which of our fingerprints to announce (default sha-256; Chrome and SIP phones take one line). */
  fingerprintAlgorithm?: types.FingerprintAlgorithm;
  /** MediaStream id of what we send (default 'openmeet'). */
  streamId?: string;
  /** o= line session id and version (bump the version on re-answers). */
  sessionId?: string;
  sessionVersion?: number;
}

/**
 * The SDP answer for a negotiated offer. Throws SdpError('bad-answer-input') on impossible inputs
 * (no candidates, no fingerprint) and SdpError('payload-type-mismatch') when a Consumer's
 * payload types are not the offer's ones for the negotiated codec (mediasoup consumers send the
 * router's payload types; see SdpOffer.ts).
 */
export function buildAnswer(neg: NegotiatedOffer, opts: AnswerOptions): string {
  const candidates = opts.iceCandidates ?? [];
  if (candidates.length === 0) throw new SdpError('bad-answer-input', 'The answer needs at least one ICE candidate');
  if (!opts.iceParameters?.usernameFragment || !opts.iceParameters.password) throw new SdpError('bad-answer-input', 'The answer needs ICE credentials');
  const fps = opts.dtlsParameters?.fingerprints ?? [];
  const fingerprint = fps.find((f) => f.algorithm === (opts.fingerprintAlgorithm ?? 'sha-256')) ?? fps[0];
  if (!fingerprint) throw new SdpError('bad-answer-input', 'The answer needs a DTLS fingerprint');
  const streamId = opts.streamId ?? 'openmeet';

  const def = candidates.find((c) => c.protocol === 'udp' && !addressOf(c).includes(':')) ?? candidates.find((c) => c.protocol === 'udp') ?? candidates[0]!;
  const defAddress = addressOf(def);
  const connection = { version: defAddress.includes(':') ? 6 : 4, ip: defAddress };

  const accepted: string[] = [];
  const media: MediaDescription[] = neg.media.map((m) => {
    const o = opts.media?.[m.mid ?? `#${m.index}`] ?? {};
    if (!m.accepted || o.reject) return rejected(m);
    const section = acceptedSection(m, o, neg, opts, fingerprint, streamId, connection, def.port);
    if (m.mid !== undefined && m.offer.bundled) accepted.push(m.mid);
    return section;
  });

  const session: SessionDescription = {
    version: 0,
    origin: {
      username: '-',
      sessionId: opts.sessionId ?? String(Date.now()) + String(Math.floor(Math.random() * 1e6)).padStart(6, '0'),
      sessionVersion: opts.sessionVersion ?? 1,
      netType: 'IN',
      ipVer: 4,
      address: '127.0.0.1',
    },
    name: '-',
    timing: { start: 0, stop: 0 },
    icelite: 'ice-lite',
    msidSemantic: { semantic: 'WMS', token: '*' },
    media,
  };
  // RFC 8843: the answerer's BUNDLE group lists the accepted m-lines, the offer's tag first if accepted.
  if (neg.offer.bundle.length > 0 && accepted.length > 0) {
    const ordered = neg.offer.bundle.filter((mid) => accepted.includes(mid));
    session.groups = [{ type: 'BUNDLE', mids: ordered.join(' ') }];
  }
  if (neg.offer.extmapAllowMixed) session.extmapAllowMixed = 'extmap-allow-mixed';
  return writeSdp(session);
}

/**
 * The answer's direction for an m-line: we send only where the offer lets the remote receive,
 * and receive only where it lets the remote send (RFC 3264 §6.1).
 */
export function answerDirection(offered: SdpDirection, weSend: boolean, weReceive: boolean): SdpDirection {
  const send = weSend && (offered === 'sendrecv' || offered === 'recvonly');
  const recv = weReceive && (offered === 'sendrecv' || offered === 'sendonly');
  return send && recv ? 'sendrecv' : send ? 'sendonly' : recv ? 'recvonly' : 'inactive';
}

function acceptedSection(
  m: NegotiatedMedia,
  o: AnswerMediaOptions,
  neg: NegotiatedOffer,
  opts: AnswerOptions,
  fingerprint: types.DtlsFingerprint,
  defaultStreamId: string,
  connection: { version: number; ip: string },
  port: number,
): MediaDescription {
  const codec = m.codec!;
  // A parked m-line (SdpOffer: unused but kept alive) carries nothing either way.
  const send = o.send && m.remoteReceives && !m.parked ? o.send : undefined;
  if (send) checkSendParameters(m, send);
  const direction = m.parked ? 'inactive' : answerDirection(m.offer.direction, send !== undefined, o.recv ?? true);

  const rtp: MediaAttributes['rtp'] = [];
  const fmtp: MediaAttributes['fmtp'] = [];
  const rtcpFb: NonNullable<MediaAttributes['rtcpFb']> = [];
  rtp.push({
    payload: codec.payloadType,
    codec: codec.name,
    rate: codec.clockRate,
    ...(m.kind === 'audio' && (codec.channels ?? 1) > 1 ? { encoding: codec.channels } : {}),
  });
  if (codec.fmtp !== undefined && codec.fmtp !== '') fmtp.push({ payload: codec.payloadType, config: codec.fmtp });
  for (const fb of m.rtcpFeedback) rtcpFb.push({ payload: codec.payloadType, type: fb.type, ...(fb.parameter ? { subtype: fb.parameter } : {}) });
  if (m.rtx) {
    rtp.push({ payload: m.rtx.payloadType, codec: 'rtx', rate: m.rtx.clockRate });
    fmtp.push({ payload: m.rtx.payloadType, config: m.rtx.fmtp ?? `apt=${codec.payloadType}` });
  }

  const section: MediaDescription = {
    type: m.offer.type,
    port,
    protocol: m.offer.protocol,
    payloads: m.payloadTypes.join(' '),
    connection,
    rtp,
    fmtp,
    rtcpFb,
    ext: m.headerExtensions.map((e) => ({ value: e.id, uri: e.uri })),
    direction,
    iceUfrag: opts.iceParameters.usernameFragment,
    icePwd: opts.iceParameters.password,
    fingerprint: { type: fingerprint.algorithm, hash: fingerprint.value },
    setup: neg.localSetup,
    candidates: opts.iceCandidates.map((c) => ({
      foundation: c.foundation,
      component: 1,
      transport: c.protocol,
      priority: c.priority,
      ip: addressOf(c),
      port: c.port,
      type: c.type,
      ...(c.protocol === 'tcp' ? { tcptype: c.tcpType ?? 'passive' } : {}),
    })),
    endOfCandidates: 'end-of-candidates',
  };
  if (m.mid !== undefined) section.mid = m.mid;
  if (m.offer.rtcpMux) section.rtcpMux = 'rtcp-mux';
  if (m.offer.rtcpRsize) section.rtcpRsize = 'rtcp-rsize';
  if (m.offer.extmapAllowMixed) section.extmapAllowMixed = 'extmap-allow-mixed';
  if (m.offer.content) (section as MediaDescription & { content?: string }).content = m.offer.content;

  // Simulcast the remote sends: we receive those rids (RFC 8853 answer).
  const sendRids = m.offer.simulcast?.send.length ? m.offer.simulcast.send : m.offer.rids.filter((r) => r.direction === 'send').map((r) => r.id);
  if (sendRids.length > 0 && (direction === 'recvonly' || direction === 'sendrecv')) {
    section.rids = sendRids.map((id) => ({ id, direction: 'recv' }));
    if (m.offer.simulcast?.send.length) section.simulcast = { dir1: 'recv', list1: sendRids.join(';') };
  }

  if (send) {
    const enc = send.encodings?.[0];
    const ssrc = enc?.ssrc;
    if (ssrc === undefined) throw new SdpError('bad-answer-input', `m-line ${m.index}: the send rtpParameters have no SSRC`);
    const rtxSsrc = m.rtx && send.codecs.some((c) => isRtx(c.mimeType)) ? enc?.rtx?.ssrc : undefined;
    const cname = send.rtcp?.cname ?? defaultStreamId;
    const sid = o.streamId ?? defaultStreamId;
    const tid = o.trackId ?? `${m.kind}-${m.mid ?? m.index}`;
    section.msid = [{ id: sid, appdata: tid }];
    section.ssrcs = [];
    for (const s of rtxSsrc === undefined ? [ssrc] : [ssrc, rtxSsrc]) {
      section.ssrcs.push({ id: s, attribute: 'cname', value: cname }, { id: s, attribute: 'msid', value: `${sid} ${tid}` });
    }
    if (rtxSsrc !== undefined) section.ssrcGroups = [{ semantics: 'FID', ssrcs: `${ssrc} ${rtxSsrc}` }];
  }
  return section;
}

/** A consumer must send exactly what the answer announces on this m-line. */
function checkSendParameters(m: NegotiatedMedia, send: types.RtpParameters): void {
  const codec = m.codec!;
  const where = `m-line ${m.index} (${m.kind}${m.mid !== undefined ? `, mid ${m.mid}` : ''})`;
  if (m.mid !== undefined && send.mid !== undefined && send.mid !== m.mid) {
    throw new SdpError('bad-answer-input', `${where}: the consumer's mid is "${send.mid}"; create it with consume({ mid: '${m.mid}' })`);
  }
  const media = send.codecs.filter((c) => !isRtx(c.mimeType));
  if (media.length === 0) throw new SdpError('bad-answer-input', `${where}: the send rtpParameters have no media codec`);
  for (const c of media) {
    if (c.mimeType.toLowerCase() !== codec.mimeType.toLowerCase() || c.clockRate !== codec.clockRate) {
      throw new SdpError(
        'payload-type-mismatch',
        `${where}: the consumer sends ${c.mimeType}/${c.clockRate} but the answer negotiated ${codec.mimeType}/${codec.clockRate}`,
      );
    }
    if (c.payloadType !== codec.payloadType) {
      throw new SdpError(
        'payload-type-mismatch',
        `${where}: the consumer sends ${c.mimeType} with payload type ${c.payloadType} (the router's), the offer uses ${codec.payloadType}; use a router created with legRouterMediaCodecs()`,
      );
    }
  }
  for (const c of send.codecs.filter((x) => isRtx(x.mimeType))) {
    if (!m.rtx || c.payloadType !== m.rtx.payloadType) {
      throw new SdpError(
        'payload-type-mismatch',
        `${where}: the consumer sends RTX with payload type ${c.payloadType}, the offer's RTX is ${m.rtx?.payloadType ?? 'absent'}; consume with the m-line's rtpCapabilities (RTX left out) or enableRtx: false`,
      );
    }
  }
}

function rejected(m: NegotiatedMedia): MediaDescription {
  const first = m.offer.formats.split(/\s+/).find(Boolean) ?? (m.offer.type === 'application' ? 'webrtc-datachannel' : '0');
  const section: MediaDescription = {
    type: m.offer.type,
    port: 0,
    protocol: m.offer.protocol,
    payloads: first,
    connection: { version: 4, ip: '0.0.0.0' },
    rtp: [],
    fmtp: [],
    direction: 'inactive',
  };
  if (m.mid !== undefined) section.mid = m.mid;
  return section;
}

function addressOf(c: types.IceCandidate): string {
  return c.address ?? c.ip;
}
