import { parse as parseSdp, write as writeSdp, type MediaAttributes, type SessionDescription } from 'sdp-transform';
import { z } from 'zod';
import { answerDirection } from '../media/sdp/SdpAnswer.js';
import type { SdpDirection } from '../media/sdp/SdpOffer.js';

/**
 * SDP of SIP calls: plain RTP/AVP(F) offers, one audio and one video m-line taken, answered with
 * the ports of mediasoup plain transports. Audio: Opus, else G.722, else G.711 (µ-law, then A-law),
 * which the conference's mixer transcodes; telephone-event (RFC 4733 DTMF)
 * beside it. Video: VP8, else H.264.
 * SRTP by SDES (RFC 4568 a=crypto) per the service's media encryption setting.
 */

/** The guide's Media encryption: Best effort (SRTP when offered), Required, No encryption. */
export type MediaEncryption = 'besteffort' | 'on' | 'off';

/** The SRTP crypto suites mediasoup's plain transports take, in our order of preference. */
export const SRTP_SUITES = ['AEAD_AES_256_GCM', 'AEAD_AES_128_GCM', 'AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'] as const;
export type SrtpSuite = (typeof SRTP_SUITES)[number];

/** The peer's SDES key for one m-line: its crypto tag, suite and master key+salt (base64). */
export interface SipCrypto {
  tag: number;
  suite: SrtpSuite;
  keyBase64: string;
}

/** An offer we cannot answer: 488 Not Acceptable Here with this text in a Warning. */
export class SipSdpError extends Error {
  override readonly name = 'SipSdpError';
}

export type SipMediaKind = 'audio' | 'video';

export interface SipCodec {
  payloadType: number;
  /** mediasoup's mime type (audio/opus, video/VP8, video/H264). */
  mimeType: string;
  clockRate: number;
  channels?: number;
  /** The offer's fmtp for this payload type, as written. */
  fmtp?: string;
  rtcpFeedback: { type: string; parameter: string }[];
}

export interface SipMediaOffer {
  /** Index of the m-line in the offer. */
  index: number;
  kind: SipMediaKind;
  address: string;
  port: number;
  rtcpMux: boolean;
  direction: SdpDirection;
  codec: SipCodec;
  ssrc?: number;
  /** Set when the m-line is taken with SRTP: the peer's key. */
  crypto?: SipCrypto;
  /** RFC 4733 telephone-event (DTMF) on an audio m-line: the offer's payload type and clock. */
  telephoneEvent?: { payloadType: number; clockRate: number };
}

export interface SipOffer {
  sdp: SessionDescription;
  audio?: SipMediaOffer;
  video?: SipMediaOffer;
}

const MAX_SDP_BYTES = 16_384;
const rtpmapSchema = z.object({
  payload: z.number().int().min(0).max(127),
  codec: z.string().min(1),
  rate: z.number().int().positive().optional(),
  encoding: z.number().optional(),
});
const mediaSchema = z.object({
  type: z.string(),
  port: z.number().int().min(0).max(65535),
  protocol: z.string(),
  payloads: z.union([z.string(), z.number()]).optional(),
  rtp: z.array(rtpmapSchema).optional().default([]),
  fmtp: z
    .array(z.object({ payload: z.number(), config: z.string() }))
    .optional()
    .default([]),
  rtcpFb: z
    .array(z.object({ payload: z.union([z.number(), z.string()]), type: z.string(), subtype: z.string().optional() }))
    .optional()
    .default([]),
  connection: z.object({ ip: z.string().min(1) }).optional(),
  direction: z.enum(['sendrecv', 'sendonly', 'recvonly', 'inactive']).optional(),
  rtcpMux: z.string().optional(),
  ssrcs: z.array(z.object({ id: z.union([z.number(), z.string()]) })).optional(),
  crypto: z.array(z.object({ id: z.number(), suite: z.string(), config: z.string(), sessionConfig: z.string().optional() })).optional(),
});
const sessionSchema = z.object({
  version: z.literal(0),
  origin: z.object({}).passthrough(),
  connection: z.object({ ip: z.string().min(1) }).optional(),
  direction: z.enum(['sendrecv', 'sendonly', 'recvonly', 'inactive']).optional(),
  media: z.array(mediaSchema).min(1).max(8),
});

/** Static payload types a peer may list without an rtpmap (RFC 3551). */
const STATIC: Record<number, { codec: string; rate: number }> = {
  0: { codec: 'PCMU', rate: 8000 },
  8: { codec: 'PCMA', rate: 8000 },
  9: { codec: 'G722', rate: 8000 },
};

/** mediasoup's mime type of each codec we take. */
const MIME: Record<string, string> = { opus: 'audio/opus', g722: 'audio/G722', pcmu: 'audio/PCMU', pcma: 'audio/PCMA', vp8: 'video/VP8', h264: 'video/H264' };

/** Key lengths (master key + salt, bytes) of each suite, to refuse a key mediasoup would reject. */
const KEY_BYTES: Record<SrtpSuite, number> = { AEAD_AES_256_GCM: 44, AEAD_AES_128_GCM: 28, AES_CM_128_HMAC_SHA1_80: 30, AES_CM_128_HMAC_SHA1_32: 30 };

/** The best a=crypto line we can use: one inline key, no MKI (mediasoup has none), no session parameters. */
function pickCrypto(lines: { id: number; suite: string; config: string; sessionConfig?: string | undefined }[]): SipCrypto | undefined {
  const usable = lines.flatMap((c): SipCrypto[] => {
    const suite = SRTP_SUITES.find((s) => s === c.suite.toUpperCase());
    const m = /^inline:([A-Za-z0-9+/=]+)(\|[^|\s]+)?(\|[^\s]+)?$/.exec(c.config.trim());
    // Session parameters (UNENCRYPTED_SRTP…), an MKI or several keys: mediasoup cannot follow them.
    if (!suite || !m || m[3] || m[2]?.includes(':') || c.sessionConfig || c.config.includes(';')) return [];
    if (Buffer.from(m[1]!, 'base64').length !== KEY_BYTES[suite]) return [];
    return [{ tag: c.id, suite, keyBase64: m[1]! }];
  });
  return usable.sort((a, b) => SRTP_SUITES.indexOf(a.suite) - SRTP_SUITES.indexOf(b.suite))[0];
}

/**
 * Parses and validates an offer and picks what we answer. Throws SipSdpError (→ 488).
 * Encryption: Best effort takes SRTP where a usable a=crypto is offered (RTP/SAVP, or RTP/AVP
 * with a=crypto as best-effort phones write it), else plain RTP; Required takes SRTP m-lines only;
 * No encryption takes plain RTP only (an RTP/SAVP m-line is declined, a=crypto on RTP/AVP ignored).
 */
export function parseSipOffer(text: string, encryption: MediaEncryption = 'besteffort'): SipOffer {
  if (Buffer.byteLength(text) > MAX_SDP_BYTES) throw new SipSdpError('SDP too large');
  if (!/^v=0\r?\n/.test(text)) throw new SipSdpError('Malformed SDP');
  let sdp: SessionDescription;
  try {
    sdp = parseSdp(text);
  } catch {
    throw new SipSdpError('Malformed SDP');
  }
  const checked = sessionSchema.safeParse(sdp);
  if (!checked.success)
    throw new SipSdpError(`Malformed SDP: ${checked.error.issues[0]?.path.join('.') ?? ''} ${checked.error.issues[0]?.message ?? ''}`.trim());
  const session = checked.data;
  const offer: SipOffer = { sdp };
  let sawPlain = false;
  let sawSrtp = false;
  session.media.forEach((m, index) => {
    if ((m.type !== 'audio' && m.type !== 'video') || m.port === 0 || offer[m.type]) return;
    const secure = /^RTP\/SAVPF?$/.test(m.protocol);
    if (!secure && !/^RTP\/AVPF?$/.test(m.protocol)) return;
    const crypto = encryption === 'off' ? undefined : pickCrypto(m.crypto ?? []);
    if (secure && (encryption === 'off' || !crypto)) {
      sawSrtp = true;
      return;
    }
    if (encryption === 'on' && !crypto) {
      sawPlain = true;
      return;
    }
    const address = m.connection?.ip ?? session.connection?.ip;
    if (!address) throw new SipSdpError('Malformed SDP: no connection address');
    const pts = String(m.payloads ?? '')
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
    const names = pts.map((pt) => {
      const map = m.rtp.find((r) => r.payload === pt);
      return { pt, codec: (map?.codec ?? STATIC[pt]?.codec ?? '').toLowerCase(), rate: map?.rate ?? STATIC[pt]?.rate ?? 0, channels: map?.encoding };
    });
    const fmtpOf = (pt: number) => m.fmtp.find((f) => f.payload === pt)?.config;
    let pick: (typeof names)[number] | undefined;
    if (m.type === 'audio') {
      pick =
        names.find((n) => n.codec === 'opus' && n.rate === 48_000) ??
        names.find((n) => n.codec === 'g722' && n.rate === 8_000) ??
        names.find((n) => n.codec === 'pcmu' && n.rate === 8_000) ??
        names.find((n) => n.codec === 'pcma' && n.rate === 8_000);
    } else {
      pick =
        names.find((n) => n.codec === 'vp8') ??
        names.find((n) => n.codec === 'h264' && /packetization-mode=1/.test(fmtpOf(n.pt) ?? '') && /profile-level-id=42/i.test(fmtpOf(n.pt) ?? ''));
    }
    if (!pick) return;
    const mimeType = MIME[pick.codec]!;
    // G.711 and G.722 count an 8000 Hz RTP clock, mono (RFC 3551).
    const clock8k = pick.codec === 'pcmu' || pick.codec === 'pcma' || pick.codec === 'g722';
    // DTMF: the telephone-event at the audio codec's clock (RFC 4733 §2.1), else 8 kHz, else 48 kHz.
    const events = m.type === 'audio' ? names.filter((n) => n.codec === 'telephone-event' && (n.rate === 8_000 || n.rate === 48_000)) : [];
    const event = events.find((n) => n.rate === (clock8k ? 8_000 : 48_000)) ?? events.find((n) => n.rate === 8_000) ?? events[0];
    const ssrc = m.ssrcs?.[0] ? Number(m.ssrcs[0].id) : undefined;
    offer[m.type] = {
      index,
      kind: m.type,
      address,
      port: m.port,
      rtcpMux: m.rtcpMux !== undefined,
      direction: m.direction ?? session.direction ?? 'sendrecv',
      codec: {
        payloadType: pick.pt,
        mimeType,
        clockRate: m.type === 'video' ? 90_000 : clock8k ? 8_000 : 48_000,
        ...(m.type === 'audio' && !clock8k ? { channels: 2 } : {}),
        ...(fmtpOf(pick.pt) !== undefined ? { fmtp: fmtpOf(pick.pt)! } : {}),
        rtcpFeedback: m.rtcpFb
          .filter((f) => String(f.payload) === '*' || Number(f.payload) === pick.pt)
          .map((f) => ({ type: f.type, parameter: f.subtype ?? '' })),
      },
      ...(ssrc !== undefined && Number.isInteger(ssrc) && ssrc > 0 ? { ssrc } : {}),
      ...(crypto ? { crypto } : {}),
      ...(event && event.pt !== pick.pt ? { telephoneEvent: { payloadType: event.pt, clockRate: event.rate } } : {}),
    };
  });
  if (!offer.audio && !offer.video) {
    if (sawPlain) throw new SipSdpError('Media encryption is required');
    if (sawSrtp) throw new SipSdpError(encryption === 'off' ? 'Media encryption is not allowed' : 'No usable SRTP crypto suite');
    throw new SipSdpError('No usable media (Opus, G.722 or G.711 audio, VP8/H.264 video over RTP/AVP)');
  }
  return offer;
}

export interface SipAnswerMedia {
  address: string;
  port: number;
  /** Whether we send on this m-line. */
  send: boolean;
  /** Our RTCP port when RTCP is not muxed (a=rtcp, RFC 3605). */
  rtcpPort?: number;
  /** Our SDES key (the plain transport's srtpParameters) when the m-line is taken with SRTP. */
  srtp?: { suite: SrtpSuite; keyBase64: string };
}

/** The answer: each offered m-line in order, taken ones with our plain transport's address and port. */
export function buildSipAnswer(
  offer: SipOffer,
  local: { address: string; sessionId: string; version: number; audio?: SipAnswerMedia; video?: SipAnswerMedia },
): string {
  const firstAddress = local.audio?.address ?? local.video?.address ?? local.address;
  const media = offer.sdp.media.map((m, index): MediaAttributes & SessionDescription['media'][number] => {
    const taken = [offer.audio, offer.video].find((o) => o?.index === index);
    const ours = taken ? local[taken.kind] : undefined;
    const firstPt = String(m.payloads ?? '').split(/\s+/)[0] ?? '0';
    if (!taken || !ours) return { type: m.type, port: 0, protocol: m.protocol, payloads: firstPt, rtp: [], fmtp: [] };
    const c = taken.codec;
    const te = taken.telephoneEvent;
    return {
      type: m.type,
      port: ours.port,
      protocol: m.protocol,
      payloads: te ? `${c.payloadType} ${te.payloadType}` : String(c.payloadType),
      connection: { version: 4, ip: ours.address },
      rtp: [
        { payload: c.payloadType, codec: c.mimeType.split('/')[1]!, rate: c.clockRate, ...(c.channels ? { encoding: c.channels } : {}) },
        ...(te ? [{ payload: te.payloadType, codec: 'telephone-event', rate: te.clockRate }] : []),
      ],
      fmtp: [...(c.fmtp !== undefined ? [{ payload: c.payloadType, config: c.fmtp }] : []), ...(te ? [{ payload: te.payloadType, config: '0-15' }] : [])],
      rtcpFb: c.rtcpFeedback
        .filter((f) => (f.type === 'nack' && (f.parameter === '' || f.parameter === 'pli')) || (f.type === 'ccm' && f.parameter === 'fir'))
        .map((f) => ({ payload: String(c.payloadType), type: f.type, ...(f.parameter ? { subtype: f.parameter } : {}) })),
      direction: answerDirection(taken.direction, ours.send, true),
      ...(taken.rtcpMux ? { rtcpMux: 'rtcp-mux' } : ours.rtcpPort ? { rtcp: { port: ours.rtcpPort } } : {}),
      // The answer's a=crypto carries the offer's tag and suite with our own key (RFC 4568 §7.1.2).
      ...(taken.crypto && ours.srtp ? { crypto: [{ id: taken.crypto.tag, suite: ours.srtp.suite, config: `inline:${ours.srtp.keyBase64}` }] } : {}),
    };
  });
  return writeSdp({
    version: 0,
    origin: { username: 'openmeet', sessionId: local.sessionId, sessionVersion: local.version, netType: 'IN', ipVer: 4, address: firstAddress },
    name: '-',
    timing: { start: 0, stop: 0 },
    connection: { version: 4, ip: firstAddress },
    media,
  });
}
