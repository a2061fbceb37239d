/**
 * SDP offers of single-stream call legs (a Pexip-style client: the Infinity web SDK, later SIP
 * phones over WebRTC) translated for mediasoup, which has no SDP.
 *
 *  parseOffer(sdp)                     → ParsedOffer: what each m-line says (codecs, extensions,
 *                                        SSRCs, simulcast, ICE, DTLS, BUNDLE), validated.
 *  negotiateOffer(offer, routerCaps)   → NegotiatedOffer: which m-lines we take and with which
 *                                        codec (only what the router supports), and for mediasoup:
 *                                        the remote's RtpCapabilities (for consume()), each sending
 *                                        m-line's RtpParameters (for produce()), the remote's
 *                                        DtlsParameters (for connect()) and our a=setup.
 *
 * mediasoup's semantics that shape this (node_modules/mediasoup/node/lib/ortc.js, 3.19):
 *  - Producer RtpParameters carry the REMOTE's payload types and header extension ids; the
 *    Producer maps them to the router's.
 *  - A Consumer sends with the ROUTER's payload types (getConsumerRtpParameters keeps the
 *    consumable codecs' PTs; the remote capabilities only filter codecs and RTCP feedback). An
 *    SDP answer must use the offer's PTs (RFC 3264 §6.1), so a consumer on a router whose PTs
 *    differ from the offer's sends PTs the remote does not expect: see `payloadTypeMatchesRouter`
 *    and legRouterMediaCodecs(). RTX the same way: RTX goes into the remote capabilities only
 *    when the router's RTX PT equals the offer's; otherwise the consumer NACK-retransmits on the
 *    media SSRC (RFC 4585 style; mediasoup does that when RTX is off but 'nack' is negotiated).
 *  - A Consumer keeps only the header extensions whose id AND uri equal between the router and
 *    the remote capabilities (consumer ids are the router's); the Producer accepts any ids. But
 *    the worker writes the router's extensions (MID at 1, abs-send-time at 4, transport-cc at 5 on
 *    video…) into every packet a Consumer sends, negotiated or not. Chromium demultiplexes what
 *    it receives by MID; its default offer has MID at 4, and once an answer rejects (port 0) a
 *    bundled video m-line it reads MID with its offer's ids and drops all the video mediasoup
 *    sends (measured, Chromium 156; audio passes, mediasoup puts nothing at 4 on audio). Hence
 *    unused audio/video m-lines are parked (a=inactive), not rejected. See `midCollision`.
 *  - WebRtcTransport.connect() takes the REMOTE's DTLS role: 'client' makes mediasoup the DTLS
 *    server (answer a=setup:passive), 'server' makes it the client (a=setup:active).
 */
import { parse as parseSdp, parseParams } from 'sdp-transform';
import type { MediaDescription } from 'sdp-transform';
import type { types } from 'mediasoup';

export type SdpErrorCode =
  | 'malformed'
  | 'no-media'
  | 'too-many-media'
  | 'duplicate-mid'
  | 'missing-mid'
  | 'no-bundle'
  | 'no-ice-credentials'
  | 'ice-lite-conflict'
  | 'no-fingerprint'
  | 'bad-setup'
  | 'no-usable-media'
  | 'payload-type-mismatch'
  | 'bad-answer-input';

/** An offer we cannot answer, or answer inputs that would produce a broken answer. */
export class SdpError extends Error {
  override readonly name = 'SdpError';
  constructor(
    readonly code: SdpErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export type SdpDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
export type MediaKind = 'audio' | 'video';
/** main: the first audio / video m-line; presentation: a=content:slides; extra: any further audio/video. */
export type MediaRole = 'main' | 'presentation' | 'extra' | 'application' | 'unsupported';

export const MAX_MEDIA_SECTIONS = 8;

export interface OfferCodec {
  payloadType: number;
  /** `${kind}/${encoding name as offered}`, e.g. 'video/VP8', 'audio/opus'. */
  mimeType: string;
  /** The encoding name as offered (echoed in the answer's a=rtpmap). */
  name: string;
  clockRate: number;
  /** Audio channels (1 when the rtpmap has none); undefined for video. */
  channels?: number;
  /** a=fmtp parameters (numbers where numeric; 'profile-level-id' is always a string). */
  parameters: Record<string, string | number>;
  /** The raw a=fmtp value, echoed in the answer. */
  fmtp?: string;
  rtcpFeedback: types.RtcpFeedback[];
}

export interface OfferRtx {
  payloadType: number;
  /** The associated media payload type. */
  apt: number;
  clockRate: number;
  fmtp?: string;
}

export interface OfferHeaderExtension {
  id: number;
  uri: string;
  direction?: string;
}

export interface OfferSsrc {
  ssrc: number;
  cname?: string;
  msid?: string;
}

export interface OfferMedia {
  index: number;
  mid?: string;
  /** The m= media type ('audio', 'video', 'application', …). */
  type: string;
  kind?: MediaKind;
  port: number;
  protocol: string;
  /** The m= line's format list as offered. */
  formats: string;
  direction: SdpDirection;
  /** a=content (RFC 4796): 'slides' marks the presentation m-line. */
  content?: string;
  role: MediaRole;
  /** Port 0 without a=bundle-only: the offerer itself disabled it. */
  disabled: boolean;
  bundleOnly: boolean;
  /** In the (first) BUNDLE group. */
  bundled: boolean;
  /** Media codecs in offer (preference) order, RTX excluded. */
  codecs: OfferCodec[];
  rtx: OfferRtx[];
  headerExtensions: OfferHeaderExtension[];
  ssrcs: OfferSsrc[];
  ssrcGroups: { semantics: string; ssrcs: number[] }[];
  msid?: { streamId: string; trackId?: string };
  rids: { id: string; direction: 'send' | 'recv'; params?: string }[];
  /** a=simulcast: the rids of each layer (first alternative, '~' paused marker dropped). */
  simulcast?: { send: string[]; recv: string[] };
  iceUfrag?: string;
  icePwd?: string;
  fingerprints: types.DtlsFingerprint[];
  setup?: string;
  rtcpMux: boolean;
  rtcpRsize: boolean;
  extmapAllowMixed: boolean;
}

export interface ParsedOffer {
  sdp: string;
  media: OfferMedia[];
  /** Mids of the first a=group:BUNDLE, in order (the first is the tag). */
  bundle: string[];
  /** The transport's ICE credentials (the BUNDLE tag's, else the session's). */
  iceParameters: { usernameFragment: string; password: string };
  /** The remote's DTLS certificate fingerprints (all of them, in offer order). */
  fingerprints: types.DtlsFingerprint[];
  /** The offer's a=setup (RFC 4145 default 'active' when absent). */
  setup: 'actpass' | 'active' | 'passive';
  iceLite: boolean;
  extmapAllowMixed: boolean;
  warnings: string[];
}

const FINGERPRINT_ALGORITHMS = new Set<types.FingerprintAlgorithm>(['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512']);
/** RTP over DTLS-SRTP profiles (RFC 5764, RFC 8843); plain RTP/AVP(F) and SDES-only SRTP are not for us. */
const DTLS_SRTP_PROTOCOL = /^(UDP\/TLS\/RTP\/SAVPF?|TCP\/DTLS\/RTP\/SAVPF?|UDP\/TLS\/RTP\/SAVP|RTP\/SAVPF)$/i;

/**
 * Parses and checks an SDP offer. Throws SdpError when it cannot be answered at all: not SDP, no
 * m-line, more than 8, duplicate mids, several media m-lines without BUNDLE, a bundled m-line
 * without a mid, no ICE credentials, no usable DTLS fingerprint, a bad a=setup, ICE-lite on both sides.
 */
export function parseOffer(sdp: string): ParsedOffer {
  if (typeof sdp !== 'string' || !/^\s*v=0/.test(sdp)) throw new SdpError('malformed', 'Not an SDP offer (no v=0 line)');
  let session: ReturnType<typeof parseSdp>;
  try {
    session = parseSdp(sdp);
  } catch (err) {
    throw new SdpError('malformed', `SDP could not be parsed: ${(err as Error).message}`);
  }
  const warnings: string[] = [];
  const rawSections = splitSections(sdp);
  const mediaIn = session.media ?? [];
  if (mediaIn.length === 0) throw new SdpError('no-media', 'SDP offer has no media (m=) line');
  if (mediaIn.length > MAX_MEDIA_SECTIONS)
    throw new SdpError('too-many-media', `SDP offer has ${mediaIn.length} media sections; at most ${MAX_MEDIA_SECTIONS} are accepted`);

  const bundleGroups = (session.groups ?? []).filter((g) => String(g.type).toUpperCase() === 'BUNDLE');
  if (bundleGroups.length > 1) warnings.push('several BUNDLE groups: only the first is used, the other m-lines are rejected');
  const bundle = bundleGroups[0] ? String(bundleGroups[0].mids).split(/\s+/).filter(Boolean) : [];
  const sessionFingerprints = fingerprintsOf(rawSections[0] ?? []);
  const sessionDirection = (session as { direction?: SdpDirection }).direction;

  const media: OfferMedia[] = mediaIn.map((m, index) => parseMedia(m, index, rawSections[index + 1] ?? [], bundle, sessionDirection, warnings));

  const mids = new Set<string>();
  for (const m of media) {
    if (m.mid === undefined) continue;
    if (mids.has(m.mid)) throw new SdpError('duplicate-mid', `SDP offer uses mid "${m.mid}" twice`);
    mids.add(m.mid);
  }
  for (const mid of bundle) if (!mids.has(mid)) warnings.push(`BUNDLE group names mid "${mid}" which no m-line has`);
  assignRoles(media);

  const live = media.filter((m) => !m.disabled);
  if (live.length === 0) throw new SdpError('no-usable-media', 'Every m-line of the SDP offer is disabled (port 0)');
  if (bundle.length === 0 && live.length > 1) {
    throw new SdpError('no-bundle', 'SDP offer has several media sections but no a=group:BUNDLE; only bundled offers are supported (one transport per call)');
  }
  if (bundle.length > 0) {
    const missing = live.find((m) => m.mid === undefined);
    if (missing) throw new SdpError('missing-mid', `m-line ${missing.index} (${missing.type}) has no a=mid in a bundled offer`);
  }

  // The transport's parameters come from the BUNDLE tag (the first mid of the group), else the
  // single live m-line, each falling back to the session level.
  const tag = (bundle.length > 0 ? media.find((m) => m.mid === bundle[0] && !m.disabled) : undefined) ?? live[0]!;
  const usernameFragment = tag.iceUfrag ?? str(session.iceUfrag);
  const password = tag.icePwd ?? str(session.icePwd);
  if (!usernameFragment || !password) throw new SdpError('no-ice-credentials', 'SDP offer has no ICE credentials (a=ice-ufrag / a=ice-pwd)');
  for (const m of live) {
    if (m.bundled && m !== tag && ((m.iceUfrag && m.iceUfrag !== usernameFragment) || (m.icePwd && m.icePwd !== password))) {
      warnings.push(`m-line ${m.index} has other ICE credentials than the BUNDLE tag; the tag's are used`);
    }
  }
  const iceLite = session.icelite === 'ice-lite';
  if (iceLite) throw new SdpError('ice-lite-conflict', 'The offerer is ICE-lite and so is mediasoup: nobody would run connectivity checks');

  const fingerprints = tag.fingerprints.length > 0 ? tag.fingerprints : sessionFingerprints;
  if (fingerprints.length === 0) throw new SdpError('no-fingerprint', 'SDP offer has no usable DTLS fingerprint (a=fingerprint with sha-1/224/256/384/512)');

  const rawSetup = (tag.setup ?? str(session.setup))?.toLowerCase();
  let setup: ParsedOffer['setup'];
  if (rawSetup === undefined) {
    setup = 'active';
    warnings.push('no a=setup in the offer: RFC 4145 default "active" assumed');
  } else if (rawSetup === 'actpass' || rawSetup === 'active' || rawSetup === 'passive') {
    setup = rawSetup;
  } else {
    throw new SdpError('bad-setup', `SDP offer has a=setup:${rawSetup}; expected actpass, active or passive`);
  }

  // BUNDLE requires one extension id per URI across the group (RFC 8843 §9.1); mediasoup keeps
  // one MID/RID/abs-send-time/transport-cc id per transport (the last Producer's).
  const extIds = new Map<string, number>();
  for (const m of live) {
    for (const e of m.headerExtensions) {
      const seen = extIds.get(e.uri);
      if (seen === undefined) extIds.set(e.uri, e.id);
      else if (seen !== e.id) warnings.push(`header extension ${e.uri} has id ${seen} and ${e.id} in different m-lines; mediasoup routes by SSRC then`);
    }
  }

  return {
    sdp,
    media,
    bundle,
    iceParameters: { usernameFragment, password },
    fingerprints,
    setup,
    iceLite,
    extmapAllowMixed: session.extmapAllowMixed === 'extmap-allow-mixed',
    warnings,
  };
}

function parseMedia(
  m: MediaDescription,
  index: number,
  raw: string[],
  bundle: string[],
  sessionDirection: SdpDirection | undefined,
  warnings: string[],
): OfferMedia {
  const type = String(m.type);
  const kind: MediaKind | undefined = type === 'audio' || type === 'video' ? type : undefined;
  const mid = m.mid === undefined ? undefined : String(m.mid);
  const bundleOnly = m.bundleOnly === 'bundle-only';
  const formats = m.payloads === undefined ? '' : String(m.payloads);

  const fbByPt = new Map<string, types.RtcpFeedback[]>();
  for (const fb of m.rtcpFb ?? []) {
    const key = String(fb.payload);
    const list = fbByPt.get(key) ?? [];
    if (!list.some((x) => x.type === fb.type && (x.parameter ?? '') === (fb.subtype ?? ''))) {
      list.push(fb.subtype ? { type: fb.type, parameter: fb.subtype } : { type: fb.type });
    }
    fbByPt.set(key, list);
  }
  const fmtpByPt = new Map<number, string>();
  for (const f of m.fmtp ?? []) fmtpByPt.set(Number(f.payload), String(f.config));

  const codecs: OfferCodec[] = [];
  const rtx: OfferRtx[] = [];
  const order = formats.split(/\s+/).filter(Boolean).map(Number);
  const rtpmaps = [...(m.rtp ?? [])].sort((a, b) => rank(order, a.payload) - rank(order, b.payload));
  for (const r of rtpmaps) {
    if (!kind) break;
    const pt = Number(r.payload);
    const name = String(r.codec);
    const clockRate = Number(r.rate);
    if (!Number.isInteger(pt) || pt < 0 || pt > 127 || !Number.isFinite(clockRate) || clockRate <= 0) {
      warnings.push(`m-line ${index}: ignoring a=rtpmap:${r.payload} ${r.codec}/${r.rate}`);
      continue;
    }
    const fmtp = fmtpByPt.get(pt);
    const parameters = fmtp === undefined ? {} : normalizeParams(parseParams(fmtp));
    if (name.toLowerCase() === 'rtx') {
      const apt = parameters.apt;
      if (typeof apt === 'number') rtx.push({ payloadType: pt, apt, clockRate, fmtp });
      else warnings.push(`m-line ${index}: RTX payload type ${pt} has no apt`);
      continue;
    }
    codecs.push({
      payloadType: pt,
      mimeType: `${kind}/${name}`,
      name,
      clockRate,
      channels: kind === 'audio' ? (r.encoding === undefined ? 1 : Number(r.encoding)) : undefined,
      parameters,
      fmtp,
      rtcpFeedback: [...(fbByPt.get(String(pt)) ?? []), ...(fbByPt.get('*') ?? [])],
    });
  }

  const ssrcs = new Map<number, OfferSsrc>();
  for (const s of m.ssrcs ?? []) {
    const ssrc = Number(s.id) >>> 0;
    const entry = ssrcs.get(ssrc) ?? { ssrc };
    if (s.attribute === 'cname' && s.value) entry.cname = String(s.value);
    if (s.attribute === 'msid' && s.value) entry.msid = String(s.value);
    ssrcs.set(ssrc, entry);
  }
  const ssrcGroups = (m.ssrcGroups ?? []).map((g) => ({
    semantics: String(g.semantics).toUpperCase(),
    ssrcs: String(g.ssrcs)
      .split(/\s+/)
      .filter(Boolean)
      .map((x) => Number(x) >>> 0),
  }));

  const msidAttr = m.msid?.[0];
  const msid = msidAttr ? { streamId: String(msidAttr.id), trackId: msidAttr.appdata === undefined ? undefined : String(msidAttr.appdata) } : undefined;

  const rids = (m.rids ?? [])
    .filter((r) => r.direction === 'send' || r.direction === 'recv')
    .map((r) => ({ id: String(r.id), direction: r.direction as 'send' | 'recv', params: r.params }));

  return {
    index,
    mid,
    type,
    kind,
    port: Number(m.port),
    protocol: String(m.protocol),
    formats,
    direction: m.direction ?? sessionDirection ?? 'sendrecv',
    content: str((m as { content?: unknown }).content),
    role: 'unsupported',
    disabled: Number(m.port) === 0 && !bundleOnly,
    bundleOnly,
    bundled: mid !== undefined && bundle.includes(mid),
    codecs,
    rtx,
    headerExtensions: (m.ext ?? []).map((e) => ({ id: Number(e.value), uri: String(e.uri), direction: e.direction })),
    ssrcs: [...ssrcs.values()],
    ssrcGroups,
    msid,
    rids,
    simulcast: parseSimulcast(m),
    iceUfrag: str(m.iceUfrag),
    icePwd: str(m.icePwd),
    fingerprints: fingerprintsOf(raw),
    setup: str(m.setup),
    rtcpMux: m.rtcpMux === 'rtcp-mux',
    rtcpRsize: m.rtcpRsize === 'rtcp-rsize',
    extmapAllowMixed: m.extmapAllowMixed === 'extmap-allow-mixed',
  };
}

function assignRoles(media: OfferMedia[]): void {
  let audioMain = false;
  let videoMain = false;
  let slides = false;
  for (const m of media) {
    if (m.type === 'application') m.role = 'application';
    else if (!m.kind || !DTLS_SRTP_PROTOCOL.test(m.protocol)) m.role = 'unsupported';
    else if (m.disabled) m.role = 'extra';
    else if (m.content?.toLowerCase() === 'slides') {
      m.role = m.kind === 'video' && !slides ? 'presentation' : 'extra';
      if (m.kind === 'video') slides = true;
    } else if (m.kind === 'audio' && !audioMain) {
      m.role = 'main';
      audioMain = true;
    } else if (m.kind === 'video' && !videoMain) {
      m.role = 'main';
      videoMain = true;
    } else m.role = 'extra';
  }
}

function parseSimulcast(m: MediaDescription): OfferMedia['simulcast'] {
  const layers = (list: string | undefined) =>
    (list ?? '')
      .split(';')
      .map((alt) => alt.split(',')[0]!.trim().replace(/^~/, ''))
      .filter(Boolean);
  if (m.simulcast) {
    const out = { send: [] as string[], recv: [] as string[] };
    out[m.simulcast.dir1] = layers(m.simulcast.list1);
    if (m.simulcast.dir2) out[m.simulcast.dir2] = layers(m.simulcast.list2);
    return out;
  }
  if (m.simulcast_03) {
    // draft-03 (old Firefox): "a=simulcast: send rid=a;b;c recv rid=…"
    const v = m.simulcast_03.value;
    const send = /send\s+rid=(\S+)/.exec(v)?.[1];
    const recv = /recv\s+rid=(\S+)/.exec(v)?.[1];
    return { send: layers(send), recv: layers(recv) };
  }
  return undefined;
}

/** sdp-transform turns numeric-looking values into numbers; H.264's profile-level-id must stay hex text. */
function normalizeParams(p: Record<string, string | number | undefined>): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(p)) {
    if (v === undefined) out[k] = '';
    else if (k === 'profile-level-id') out[k] = typeof v === 'number' ? String(v).padStart(6, '0') : v;
    else out[k] = v;
  }
  return out;
}

/** The raw attribute lines of each section: [session, m-line 0, m-line 1, …]. */
function splitSections(sdp: string): string[][] {
  const sections: string[][] = [[]];
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) sections.push([]);
    sections[sections.length - 1]!.push(line.trim());
  }
  return sections;
}

/** Every a=fingerprint of a section (sdp-transform keeps only the last one). */
function fingerprintsOf(lines: string[]): types.DtlsFingerprint[] {
  const out: types.DtlsFingerprint[] = [];
  for (const line of lines) {
    const match = /^a=fingerprint:\s*(\S+)\s+([0-9A-Fa-f:]+)\s*$/.exec(line);
    if (!match) continue;
    const algorithm = match[1]!.toLowerCase() as types.FingerprintAlgorithm;
    if (!FINGERPRINT_ALGORITHMS.has(algorithm)) continue;
    out.push({ algorithm, value: match[2]!.toUpperCase() });
  }
  return out;
}

/** sdp-transform turns numeric-looking values (a=mid:0, a=ice-ufrag:1234) into numbers. */
function str(v: unknown): string | undefined {
  return v === undefined || v === null ? undefined : String(v);
}

function rank(order: number[], pt: number): number {
  const i = order.indexOf(Number(pt));
  return i === -1 ? order.length : i;
}

/* ───────────────────────────── negotiation against the router ───────────────────────────── */

/** Header extensions we let through (answer + Producer), when the router knows them for the kind. */
const USABLE_EXTENSIONS: readonly types.RtpHeaderExtensionUri[] = [
  'urn:ietf:params:rtp-hdrext:sdes:mid',
  'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'urn:3gpp:video-orientation',
  'urn:ietf:params:rtp-hdrext:toffset',
  'http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time',
  'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay',
];
/** Only with simulcast (the remote sends rids). */
const SIMULCAST_EXTENSIONS: readonly types.RtpHeaderExtensionUri[] = [
  'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
  'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id',
];
/** The extensions mediasoup routes incoming packets by when there is no SSRC to go by. */
const ROUTING_EXTENSIONS: readonly types.RtpHeaderExtensionUri[] = [
  'urn:ietf:params:rtp-hdrext:sdes:mid',
  'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
  'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id',
];

/**
 * The header extensions mediasoup writes into the packets a Consumer sends, at the ROUTER's ids,
 * whatever the Consumer negotiated (3.19 worker: Producer::MangleRtpPacket rewrites every
 * incoming packet's extensions to the router's ids — MID always, abs-send-time and transport-cc
 * always on video, the others when the producer's packets had them — and Router.cpp stamps the
 * consumer's mid). Per kind, as MangleRtpPacket has them.
 */
const WIRE_EXTENSIONS: Record<MediaKind, readonly types.RtpHeaderExtensionUri[]> = {
  audio: [
    'urn:ietf:params:rtp-hdrext:sdes:mid',
    'http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time',
    'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay',
    'urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  ],
  video: [
    'urn:ietf:params:rtp-hdrext:sdes:mid',
    'http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time',
    'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay',
    'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
    'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
    'urn:3gpp:video-orientation',
    'https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension',
    'urn:ietf:params:rtp-hdrext:toffset',
  ],
};

/**
 * id → uri of the header extensions on mediasoup's outgoing packets (the router's ids), for one
 * kind or for both together.
 */
export function mediasoupWireExtensionIds(routerCaps: types.RtpCapabilities, kind?: MediaKind): Map<number, string> {
  const uris = new Set<string>(kind ? WIRE_EXTENSIONS[kind] : [...WIRE_EXTENSIONS.audio, ...WIRE_EXTENSIONS.video]);
  const out = new Map<number, string>();
  for (const e of routerCaps.headerExtensions ?? []) if (uris.has(e.uri) && (!kind || e.kind === kind)) out.set(e.preferredId, e.uri);
  return out;
}

/** RTCP feedback mediasoup acts on. */
const USABLE_FEEDBACK = new Set(['nack', 'nack pli', 'ccm fir', 'goog-remb', 'transport-cc']);

export interface NegotiateOptions {
  /**
   * Codec preference per kind, as lowercase or any-case mimeTypes ('video/VP8', 'video/H264').
   * Listed codecs win in this order; the rest follow in the offer's order. Default: the offer's order.
   * (A single-stream leg can only receive what the other participants send: prefer their codec.)
   */
  codecPreference?: { audio?: string[]; video?: string[] };
  /** Take the presentation (a=content:slides) m-line too (default false: parked, see `unusedMedia`). */
  acceptPresentation?: boolean;
  /**
   * Audio/video m-lines we do not use (a presentation not taken, a second video…): 'inactive'
   * (default) keeps them in the answer with a port, the negotiated codec and a=inactive
   * ("parked"); 'reject' answers port 0 (RFC 3264 §6). Rejecting a bundled video m-line makes
   * Chromium drop the video mediasoup sends (measured, Chromium 156 + stock 3.19 worker: after a
   * port-0 m-line it reads mediasoup's abs-send-time at id 4 as its own offer's MID), and parking
   * also keeps the transceiver usable for a later renegotiation. M-lines without a usable codec,
   * data channels and unsupported transports are always rejected.
   */
  unusedMedia?: 'inactive' | 'reject';
  /**
   * Our a=setup when the offer says actpass. Default 'passive' (mediasoup is the DTLS server and
   * the browser the client, as with mediasoup-client).
   */
  setupOnActpass?: 'active' | 'passive';
  /**
   * Keep ssrc-audio-level although its offered id is one mediasoup's outgoing packets use for
   * another extension (Chrome offers it at id 1, mediasoup's MID id). Default true: the router's
   * AudioLevelObserver / ActiveSpeakerObserver need the levels the remote sends; the price is that
   * the remote reads our packets' MID bytes as a (meaningless) audio level, which only shows in its
   * getSynchronizationSources(). Every other colliding extension is left out of the answer.
   */
  audioLevelDespiteCollision?: boolean;
  /**
   * What to do with an offered extension whose id mediasoup's outgoing packets use for another
   * extension: 'drop' (default) leaves it out of the answer — right for endpoints that parse with
   * the negotiated ids; except what routes an SSRC-less sender (MID, RID) — or 'keep' it (when the
   * worker strips the extensions a Consumer did not negotiate, collisions cannot happen).
   */
  wireCollisions?: 'drop' | 'keep';
}

export interface NegotiatedMedia {
  index: number;
  mid?: string;
  kind?: MediaKind;
  role: MediaRole;
  offer: OfferMedia;
  /** Whether the answer takes this m-line (else: port 0). */
  accepted: boolean;
  /**
   * Accepted only to be kept alive: answered a=inactive with the negotiated codec, no media
   * either way (no producer parameters, not in the top-level capabilities).
   */
  parked: boolean;
  /** Why the m-line is rejected or parked. */
  rejectReason?: string;
  /** The chosen codec, with the offer's payload type. */
  codec?: OfferCodec;
  /** The chosen codec's RTX, with the offer's payload type (when offered and the router has RTX for it). */
  rtx?: OfferRtx;
  /** The router's codec it matched, its router payload type and router RTX payload type. */
  routerCodec?: types.RtpCodecCapability;
  routerRtxPayloadType?: number;
  /**
   * Whether a Consumer on this router sends the offer's payload type for the codec (and RTX).
   * When false the answer cannot describe what the consumer sends: create the leg's router with
   * legRouterMediaCodecs() (and pipe to the conference router), or do not send on this m-line.
   */
  payloadTypeMatchesRouter: boolean;
  rtxMatchesRouter: boolean;
  /**
   * Set when the offer's MID extension id is one mediasoup's outgoing packets of this kind use for
   * another extension (the value: that extension's uri); Chromium's default offer (MID at 4 =
   * mediasoup's abs-send-time on video) has it. A receiver that reads MID with the offer's ids
   * then sees an unknown MID and drops every packet we send on this m-line (RFC 8843 §9.2).
   * Measured with Chromium 156 and the stock 3.19 worker: it does so once the answer rejects
   * (port 0) a bundled video m-line; with every audio/video m-line accepted or parked it uses
   * the answer's ids and the video arrives. A worker that strips the extensions a Consumer did
   * not negotiate removes the risk altogether.
   */
  midCollision?: string;
  /** The answer's format list (offer payload types). */
  payloadTypes: number[];
  /** RTCP feedback of the chosen codec that both sides use. */
  rtcpFeedback: types.RtcpFeedback[];
  /** Header extensions both sides use (offer ids). */
  headerExtensions: { id: number; uri: types.RtpHeaderExtensionUri }[];
  /** The offer lets the remote send / receive on this m-line. */
  remoteSends: boolean;
  remoteReceives: boolean;
  /** The remote's capabilities for this m-line: pass to transport.consume() (with `mid`). */
  rtpCapabilities: types.RtpCapabilities;
  /** For transport.produce() when the remote sends. */
  producerRtpParameters?: types.RtpParameters;
}

export interface NegotiatedOffer {
  offer: ParsedOffer;
  media: NegotiatedMedia[];
  /** Union of the accepted m-lines' capabilities (router.canConsume / transport.consume). */
  rtpCapabilities: types.RtpCapabilities;
  /** The remote's DTLS parameters for webRtcTransport.connect(): role is the REMOTE's role. */
  dtlsParameters: types.DtlsParameters;
  /** Our a=setup in the answer (the complement of the remote's role). */
  localSetup: 'active' | 'passive';
  warnings: string[];
}

/**
 * Decides what to take from the offer given the router's capabilities (router.rtpCapabilities):
 * the main audio and main video m-lines (and the presentation one when asked), each with the
 * first codec the router supports (offer order, or `codecPreference`). Throws SdpError
 * 'no-usable-media' when neither the main audio nor the main video has a usable codec.
 */
export function negotiateOffer(offer: ParsedOffer, routerCaps: types.RtpCapabilities, opts: NegotiateOptions = {}): NegotiatedOffer {
  const warnings = [...offer.warnings];
  const media = offer.media.map((m) => negotiateMedia(m, offer, routerCaps, opts, warnings));
  if (!media.some((m) => m.accepted && !m.parked && m.role === 'main')) {
    const reasons = media
      .filter((m) => m.role === 'main' || m.role === 'presentation')
      .map((m) => `${m.kind ?? m.offer.type} m-line ${m.index}: ${m.rejectReason ?? 'not accepted'}`);
    throw new SdpError('no-usable-media', `SDP offer has no usable audio or video m-line${reasons.length ? ` (${reasons.join('; ')})` : ''}`);
  }
  const { dtlsParameters, localSetup } = remoteDtlsParameters(offer, opts.setupOnActpass);
  return { offer, media, rtpCapabilities: mergeCapabilities(media.filter((m) => m.accepted && !m.parked)), dtlsParameters, localSetup, warnings };
}

/** The remote's capabilities of the accepted m-lines (for router.canConsume / transport.consume). */
export function remoteRtpCapabilities(offer: ParsedOffer, routerCaps: types.RtpCapabilities, opts?: NegotiateOptions): types.RtpCapabilities {
  return negotiateOffer(offer, routerCaps, opts).rtpCapabilities;
}

/** The Producer RtpParameters of the m-line `mid` (undefined: not accepted or the remote does not send there). */
export function producerRtpParameters(
  offer: ParsedOffer,
  mid: string,
  routerCaps: types.RtpCapabilities,
  opts?: NegotiateOptions,
): types.RtpParameters | undefined {
  return negotiateOffer(offer, routerCaps, opts).media.find((m) => m.mid === mid)?.producerRtpParameters;
}

/**
 * The remote's DTLS parameters for webRtcTransport.connect() and our a=setup. mediasoup's
 * connect() wants the REMOTE's role and takes the other one itself:
 *   offer actpass → we answer passive (default) and the remote is 'client' (or active / 'server');
 *   offer active  → we answer passive, remote 'client';
 *   offer passive → we answer active, remote 'server'.
 */
export function remoteDtlsParameters(
  offer: ParsedOffer,
  setupOnActpass: 'active' | 'passive' = 'passive',
): { dtlsParameters: types.DtlsParameters; localSetup: 'active' | 'passive' } {
  const localSetup = offer.setup === 'actpass' ? setupOnActpass : offer.setup === 'active' ? 'passive' : 'active';
  return {
    dtlsParameters: { role: localSetup === 'passive' ? 'client' : 'server', fingerprints: offer.fingerprints.map((f) => ({ ...f })) },
    localSetup,
  };
}

/**
 * Media codecs for a per-leg router (worker.createRouter({ mediaCodecs })) whose payload types are
 * the offer's, so that its Consumers send what the answer announces. RTX payload types cannot be
 * chosen in mediasoup (it takes the first free dynamic one): check `rtxMatchesRouter` after
 * negotiating again against that router; without a match RTX is left out (NACK still works).
 */
export function legRouterMediaCodecs(neg: NegotiatedOffer): types.RouterRtpCodecCapability[] {
  // Replays mediasoup's payload type allocation (ortc.generateRouterRtpCapabilities): each
  // codec's preferred PT leaves the dynamic pool, and every video codec then takes the first
  // free dynamic PT for its RTX. A codec whose PT an earlier RTX took would make createRouter
  // throw ('duplicated codec.preferredPayloadType'): it is left out.
  const dynamic = [...Array.from({ length: 28 }, (_, i) => 100 + i), 96, 97, 98, 99];
  const used = new Set<number>();
  const out: types.RouterRtpCodecCapability[] = [];
  const order = [...neg.media].sort((a, b) => roleRank(a) - roleRank(b) || a.index - b.index);
  for (const m of order) {
    if (!m.accepted || m.parked || !m.codec || !m.routerCodec) continue;
    const rc = m.routerCodec;
    const pt = m.codec.payloadType;
    if (out.some((c) => c.preferredPayloadType === pt) || used.has(pt)) continue;
    used.add(pt);
    const i = dynamic.indexOf(pt);
    if (i !== -1) dynamic.splice(i, 1);
    if (rc.kind === 'video') {
      const rtxPt = dynamic.shift();
      if (rtxPt === undefined) break;
      used.add(rtxPt);
    }
    out.push({
      kind: rc.kind,
      mimeType: rc.mimeType,
      clockRate: rc.clockRate,
      ...(rc.channels !== undefined ? { channels: rc.channels } : {}),
      parameters: { ...(rc.parameters ?? {}) },
      preferredPayloadType: pt,
    });
  }
  return out;
}

function roleRank(m: NegotiatedMedia): number {
  return m.role === 'main' ? (m.kind === 'audio' ? 0 : 1) : 2;
}

function negotiateMedia(m: OfferMedia, offer: ParsedOffer, routerCaps: types.RtpCapabilities, opts: NegotiateOptions, warnings: string[]): NegotiatedMedia {
  const base: NegotiatedMedia = {
    index: m.index,
    mid: m.mid,
    kind: m.kind,
    role: m.role,
    offer: m,
    accepted: false,
    parked: false,
    payloadTypeMatchesRouter: false,
    rtxMatchesRouter: false,
    payloadTypes: [],
    rtcpFeedback: [],
    headerExtensions: [],
    remoteSends: false,
    remoteReceives: false,
    rtpCapabilities: { codecs: [], headerExtensions: [] },
  };
  const reject = (reason: string): NegotiatedMedia => ({ ...base, rejectReason: reason });
  if (m.disabled) return reject('disabled by the offerer (port 0)');
  if (m.role === 'application') return reject('data channels are not supported');
  if (m.role === 'unsupported') return reject(m.kind ? `transport ${m.protocol} is not DTLS-SRTP` : `media type ${m.type} is not supported`);
  if (offer.bundle.length > 0 && !m.bundled) return reject('not in the BUNDLE group');
  let parkReason: string | undefined;
  if (m.role === 'extra') parkReason = `only one ${m.kind} m-line is used`;
  if (m.role === 'presentation' && !opts.acceptPresentation) parkReason = 'presentation is not taken on this leg';
  if (parkReason !== undefined && (opts.unusedMedia ?? 'inactive') === 'reject') return reject(parkReason);
  const kind = m.kind!;

  const routerCodecs = (routerCaps.codecs ?? []).filter((c) => c.kind === kind && !isRtx(c.mimeType));
  const pref = (opts.codecPreference?.[kind] ?? []).map((x) => x.toLowerCase());
  const prefRank = (c: OfferCodec) => {
    const i = pref.indexOf(c.mimeType.toLowerCase());
    return i === -1 ? pref.length : i;
  };
  const candidates = m.codecs
    .map((c, i) => ({ c, i, rc: routerCodecs.find((rc) => codecsMatch(c, rc)) }))
    .filter((x): x is { c: OfferCodec; i: number; rc: types.RtpCodecCapability } => x.rc !== undefined)
    .sort((a, b) => prefRank(a.c) - prefRank(b.c) || a.i - b.i);
  const chosen = candidates[0];
  if (!chosen) {
    const offered = m.codecs.map((c) => `${c.name}/${c.clockRate}`).join(', ') || 'none';
    return reject(`no codec the router supports (offered: ${offered})`);
  }
  const codec = chosen.c;
  const routerCodec = chosen.rc;
  const routerRtx = (routerCaps.codecs ?? []).find((c) => isRtx(c.mimeType) && c.parameters?.apt === routerCodec.preferredPayloadType);
  const rtx = routerRtx ? m.rtx.find((r) => r.apt === codec.payloadType && r.clockRate === codec.clockRate) : undefined;
  const payloadTypeMatchesRouter = routerCodec.preferredPayloadType === codec.payloadType;
  const rtxMatchesRouter = rtx !== undefined && routerRtx?.preferredPayloadType === rtx.payloadType;

  const routerFb = new Set((routerCodec.rtcpFeedback ?? []).map(fbKey));
  const rtcpFeedback = codec.rtcpFeedback.filter((fb) => USABLE_FEEDBACK.has(fbKey(fb)) && routerFb.has(fbKey(fb))).map((fb) => ({ ...fb }));

  const hasRids = m.rids.some((r) => r.direction === 'send');
  const needsRoutingExtensions = m.ssrcs.length === 0 && (m.direction === 'sendrecv' || m.direction === 'sendonly');
  const usable = new Set<string>([...USABLE_EXTENSIONS, ...(hasRids ? SIMULCAST_EXTENSIONS : [])]);
  const routerExts = new Set((routerCaps.headerExtensions ?? []).filter((e) => e.kind === kind).map((e) => e.uri as string));
  // An offered id that mediasoup's outgoing packets use for another extension would make the
  // remote misread them (a MID it does not know makes Chrome drop the packet, RFC 8843): such
  // extensions stay out of the answer, so the remote neither sends nor parses them.
  const wire = mediasoupWireExtensionIds(routerCaps);
  const offeredMid = m.headerExtensions.find((e) => e.uri === 'urn:ietf:params:rtp-hdrext:sdes:mid');
  const wireOfKind = offeredMid ? mediasoupWireExtensionIds(routerCaps, kind).get(offeredMid.id) : undefined;
  const midCollision = wireOfKind !== undefined && wireOfKind !== offeredMid?.uri ? wireOfKind : undefined;
  const headerExtensions: NegotiatedMedia['headerExtensions'] = [];
  const dropped: string[] = [];
  for (const e of m.headerExtensions) {
    if (!usable.has(e.uri) || !routerExts.has(e.uri) || e.id < 1 || e.id > 255) continue;
    const onWire = wire.get(e.id);
    if (onWire !== undefined && onWire !== e.uri && (opts.wireCollisions ?? 'drop') === 'drop') {
      const keep =
        (e.uri === 'urn:ietf:params:rtp-hdrext:ssrc-audio-level' && (opts.audioLevelDespiteCollision ?? true)) ||
        // What routes the remote's packets to its Producer when it announces no SSRC.
        (needsRoutingExtensions && (ROUTING_EXTENSIONS as readonly string[]).includes(e.uri));
      if (!keep) {
        dropped.push(`${e.uri} (id ${e.id} is mediasoup's ${onWire})`);
        continue;
      }
    }
    if (headerExtensions.some((x) => x.id === e.id || x.uri === e.uri)) continue;
    headerExtensions.push({ id: e.id, uri: e.uri as types.RtpHeaderExtensionUri });
  }

  if (parkReason !== undefined) {
    return {
      ...base,
      accepted: true,
      parked: true,
      rejectReason: parkReason,
      codec,
      rtx,
      routerCodec,
      routerRtxPayloadType: routerRtx?.preferredPayloadType,
      payloadTypes: rtx ? [codec.payloadType, rtx.payloadType] : [codec.payloadType],
      rtcpFeedback,
      headerExtensions,
    };
  }
  if (dropped.length > 0) warnings.push(`m-line ${m.index} (${kind}): header extensions left out: ${dropped.join(', ')}`);
  if (midCollision && (m.direction === 'sendrecv' || m.direction === 'recvonly')) {
    warnings.push(
      `m-line ${m.index} (${kind}): the offer puts MID at id ${offeredMid!.id}, where mediasoup writes ${midCollision} into every ${kind} packet it sends: a receiver reading MID with its offer's ids drops them (Chromium does after a port-0 video m-line in the answer)`,
    );
  }

  const remoteSends = m.direction === 'sendrecv' || m.direction === 'sendonly';
  const remoteReceives = m.direction === 'sendrecv' || m.direction === 'recvonly';
  if (!m.rtcpMux) warnings.push(`m-line ${m.index} (${kind}) does not offer rtcp-mux; mediasoup only does rtcp-mux`);

  const capCodec: types.RtpCodecCapability = {
    kind,
    mimeType: codec.mimeType,
    preferredPayloadType: codec.payloadType,
    clockRate: codec.clockRate,
    ...(kind === 'audio' ? { channels: codec.channels ?? 1 } : {}),
    parameters: { ...codec.parameters },
    rtcpFeedback: rtcpFeedback.map((fb) => ({ ...fb })),
  };
  const capCodecs: types.RtpCodecCapability[] = [capCodec];
  if (rtx && rtxMatchesRouter) {
    capCodecs.push({
      kind,
      mimeType: `${kind}/rtx`,
      preferredPayloadType: rtx.payloadType,
      clockRate: rtx.clockRate,
      parameters: { apt: codec.payloadType },
      rtcpFeedback: [],
    });
  }
  const rtpCapabilities: types.RtpCapabilities = {
    codecs: capCodecs,
    headerExtensions: headerExtensions.map((e) => ({ kind, uri: e.uri, preferredId: e.id, preferredEncrypt: false, direction: 'sendrecv' })),
  };

  let producerParameters: types.RtpParameters | undefined;
  if (remoteSends) {
    const codecs: types.RtpCodecParameters[] = [
      {
        mimeType: codec.mimeType,
        payloadType: codec.payloadType,
        clockRate: codec.clockRate,
        ...(kind === 'audio' ? { channels: codec.channels ?? 1 } : {}),
        parameters: { ...codec.parameters },
        rtcpFeedback: rtcpFeedback.map((fb) => ({ ...fb })),
      },
    ];
    if (rtx)
      codecs.push({
        mimeType: `${kind}/rtx`,
        payloadType: rtx.payloadType,
        clockRate: rtx.clockRate,
        parameters: { apt: codec.payloadType },
        rtcpFeedback: [],
      });
    const encodings = sendEncodings(m, rtx !== undefined, warnings);
    const hasMidExt = headerExtensions.some((e) => e.uri === 'urn:ietf:params:rtp-hdrext:sdes:mid');
    const hasRidExt = headerExtensions.some((e) => e.uri === 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id');
    if (encodings.every((e) => e.ssrc === undefined) && !hasMidExt && !(hasRidExt && encodings.some((e) => e.rid !== undefined))) {
      warnings.push(`m-line ${m.index} (${kind}) announces no SSRC and no usable MID/RID extension: mediasoup cannot tell its packets apart`);
    }
    const cname = m.ssrcs.find((s) => s.cname)?.cname;
    producerParameters = {
      ...(m.mid !== undefined ? { mid: m.mid } : {}),
      codecs,
      headerExtensions: headerExtensions.map((e) => ({ uri: e.uri, id: e.id })),
      encodings,
      rtcp: { ...(cname ? { cname } : {}), reducedSize: m.rtcpRsize },
    };
  }

  return {
    ...base,
    accepted: true,
    codec,
    rtx,
    routerCodec,
    routerRtxPayloadType: routerRtx?.preferredPayloadType,
    payloadTypeMatchesRouter,
    rtxMatchesRouter,
    payloadTypes: rtx ? [codec.payloadType, rtx.payloadType] : [codec.payloadType],
    rtcpFeedback,
    headerExtensions,
    remoteSends,
    remoteReceives,
    midCollision,
    rtpCapabilities,
    producerRtpParameters: producerParameters,
  };
}

/** The remote's send encodings: rids (simulcast), SSRCs (SIM / FID groups) or one SSRC. */
function sendEncodings(m: OfferMedia, withRtx: boolean, warnings: string[]): types.RtpEncodingParameters[] {
  const sendRids = m.simulcast?.send.length ? m.simulcast.send : m.rids.filter((r) => r.direction === 'send').map((r) => r.id);
  if (sendRids.length > 0) return sendRids.map((rid) => ({ rid }));
  const fid = new Map<number, number>();
  for (const g of m.ssrcGroups) if (g.semantics === 'FID' && g.ssrcs.length >= 2) fid.set(g.ssrcs[0]!, g.ssrcs[1]!);
  const withRtxSsrc = (ssrc: number): types.RtpEncodingParameters => {
    const r = fid.get(ssrc);
    return withRtx && r !== undefined ? { ssrc, rtx: { ssrc: r } } : { ssrc };
  };
  const sim = m.ssrcGroups.find((g) => g.semantics === 'SIM');
  if (sim && sim.ssrcs.length > 0) return sim.ssrcs.map(withRtxSsrc);
  const secondary = new Set<number>();
  for (const g of m.ssrcGroups) if (g.semantics !== 'SIM') g.ssrcs.slice(1).forEach((s) => secondary.add(s));
  const primaries = m.ssrcs.map((s) => s.ssrc).filter((s) => !secondary.has(s));
  if (primaries.length > 1) warnings.push(`m-line ${m.index} announces ${primaries.length} media SSRCs without simulcast; the first is used`);
  const first = primaries[0];
  return first === undefined ? [{}] : [withRtxSsrc(first)];
}

function mergeCapabilities(media: NegotiatedMedia[]): types.RtpCapabilities {
  const codecs: types.RtpCodecCapability[] = [];
  const headerExtensions: types.RtpHeaderExtension[] = [];
  for (const m of media) {
    for (const c of m.rtpCapabilities.codecs ?? []) {
      if (!codecs.some((x) => x.kind === c.kind && x.preferredPayloadType === c.preferredPayloadType)) codecs.push(c);
    }
    for (const e of m.rtpCapabilities.headerExtensions ?? []) {
      if (!headerExtensions.some((x) => x.kind === e.kind && x.uri === e.uri)) headerExtensions.push(e);
    }
  }
  return { codecs, headerExtensions };
}

export function isRtx(mimeType: string): boolean {
  return /\/rtx$/i.test(mimeType);
}

function fbKey(fb: types.RtcpFeedback): string {
  return fb.parameter ? `${fb.type} ${fb.parameter}` : fb.type;
}

/**
 * mediasoup's strict codec match (ortc.js matchCodecs): mimeType, clock rate, channels, and per
 * codec: H.264 packetization-mode and profile (not level), VP9 profile-id, multiopus streams.
 */
export function codecsMatch(offer: OfferCodec, router: types.RtpCodecCapability): boolean {
  const mime = offer.mimeType.toLowerCase();
  if (mime !== router.mimeType.toLowerCase() || offer.clockRate !== router.clockRate) return false;
  const kind = mime.startsWith('audio/') ? 'audio' : 'video';
  const channels = (c: number | undefined) => (kind === 'audio' ? (c ?? 1) : undefined);
  if (channels(offer.channels) !== channels(router.channels)) return false;
  const a = offer.parameters;
  const b = (router.parameters ?? {}) as Record<string, unknown>;
  switch (mime) {
    case 'video/h264': {
      if (Number(a['packetization-mode'] ?? 0) !== Number(b['packetization-mode'] ?? 0)) return false;
      const pa = h264Profile(a['profile-level-id']);
      const pb = h264Profile(b['profile-level-id']);
      return pa !== undefined && pa === pb;
    }
    case 'video/vp9':
      return Number(a['profile-id'] ?? 0) === Number(b['profile-id'] ?? 0);
    case 'audio/multiopus':
      return a['num_streams'] === b['num_streams'] && a['coupled_streams'] === b['coupled_streams'];
    default:
      return true;
  }
}

type H264Profile = 'ConstrainedBaseline' | 'Baseline' | 'Main' | 'ConstrainedHigh' | 'High' | 'PredictiveHigh444';
/** RFC 6184 profile_idc / profile_iop patterns ('x' = don't care), as h264-profile-level-id has them. */
const H264_PROFILE_PATTERNS: [number, string, H264Profile][] = [
  [0x42, 'x1xx0000', 'ConstrainedBaseline'],
  [0x4d, '1xxx0000', 'ConstrainedBaseline'],
  [0x58, '11xx0000', 'ConstrainedBaseline'],
  [0x42, 'x0xx0000', 'Baseline'],
  [0x58, '10xx0000', 'Baseline'],
  [0x4d, '0x0x0000', 'Main'],
  [0x64, '00000000', 'High'],
  [0x64, '00001100', 'ConstrainedHigh'],
  [0xf4, '00000000', 'PredictiveHigh444'],
];
const H264_LEVELS = new Set([10, 11, 12, 13, 20, 21, 22, 30, 31, 32, 40, 41, 42, 50, 51, 52]);

/** The H.264 profile of a profile-level-id (default 42e01f: Constrained Baseline 3.1); undefined if invalid. */
export function h264Profile(profileLevelId: unknown): H264Profile | undefined {
  const s = profileLevelId === undefined || profileLevelId === '' ? '42e01f' : String(profileLevelId).padStart(6, '0');
  if (!/^[0-9a-fA-F]{6}$/.test(s)) return undefined;
  const n = parseInt(s, 16);
  const idc = (n >> 16) & 0xff;
  const iop = (n >> 8) & 0xff;
  const level = n & 0xff;
  if (!H264_LEVELS.has(level)) return undefined;
  for (const [pidc, pattern, profile] of H264_PROFILE_PATTERNS) {
    if (pidc !== idc) continue;
    let mask = 0;
    let value = 0;
    for (let i = 0; i < 8; i++) {
      const bit = 1 << (7 - i);
      if (pattern[i] !== 'x') mask |= bit;
      if (pattern[i] === '1') value |= bit;
    }
    if ((iop & mask) === value) return profile;
  }
  return undefined;
}
