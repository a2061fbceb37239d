/**
 * Just enough RTCP (RFC 3550 §6, RFC 4585, RFC 5104) to walk a compound packet and find what a
 * single-stream leg must act on: keyframe requests — PLI (PSFB FMT 1) and FIR (PSFB FMT 4) — and,
 * optionally, REMB (PSFB FMT 15, draft-alvestrand-rmcat-remb) and generic NACK (RTPFB FMT 1).
 * Safe on garbage: parsing stops at the first malformed packet and returns what came before.
 */

export const RTCP_SR = 200;
export const RTCP_RR = 201;
export const RTCP_SDES = 202;
export const RTCP_BYE = 203;
export const RTCP_APP = 204;
export const RTCP_RTPFB = 205;
export const RTCP_PSFB = 206;
export const RTCP_XR = 207;

export const PSFB_PLI = 1;
export const PSFB_FIR = 4;
export const PSFB_AFB = 15;
export const RTPFB_NACK = 1;

/** One packet of a compound RTCP packet: its common header and where its body is. */
export interface RtcpPacketInfo {
  /** Packet type (200 SR … 206 PSFB …). */
  packetType: number;
  /** The 5-bit count field: report count, or the feedback message type (FMT) for 205/206. */
  count: number;
  padding: boolean;
  /** Offset of this packet in the compound buffer and its length in bytes (header included). */
  offset: number;
  length: number;
}

export type RtcpFeedback =
  | { type: 'pli'; senderSsrc: number; mediaSsrc: number }
  | { type: 'fir'; senderSsrc: number; mediaSsrc: number; sequenceNumber: number }
  | { type: 'remb'; senderSsrc: number; bitrate: number; ssrcs: number[] }
  | { type: 'nack'; senderSsrc: number; mediaSsrc: number; lost: number[] };

export type KeyframeRequest = Extract<RtcpFeedback, { type: 'pli' | 'fir' }>;

/** Splits a compound RTCP packet into its packets; stops at the first malformed one. Never throws. */
export function splitRtcp(buf: Uint8Array | undefined | null): RtcpPacketInfo[] {
  const out: RtcpPacketInfo[] = [];
  if (!buf) return out;
  let off = 0;
  while (off + 4 <= buf.length) {
    const b0 = buf[off]!;
    if (b0 >> 6 !== 2) break;
    const packetType = buf[off + 1]!;
    if (packetType < 192 || packetType > 223) break;
    const length = (((buf[off + 2]! << 8) | buf[off + 3]!) + 1) * 4;
    if (off + length > buf.length) break;
    out.push({ packetType, count: b0 & 0x1f, padding: (b0 & 0x20) !== 0, offset: off, length });
    off += length;
  }
  return out;
}

/** The feedback messages (PLI, FIR, REMB, NACK) in a compound RTCP packet. Never throws. */
export function parseRtcpFeedback(buf: Uint8Array | undefined | null): RtcpFeedback[] {
  const out: RtcpFeedback[] = [];
  if (!buf) return out;
  for (const p of splitRtcp(buf)) {
    if (p.packetType !== RTCP_PSFB && p.packetType !== RTCP_RTPFB) continue;
    // Common feedback header: 4 bytes + sender SSRC + media source SSRC.
    if (p.length < 12) continue;
    const end = p.offset + p.length - (p.padding ? Math.min(buf[p.offset + p.length - 1]!, p.length - 12) : 0);
    const senderSsrc = u32(buf, p.offset + 4);
    const mediaSsrc = u32(buf, p.offset + 8);
    let fci = p.offset + 12;
    if (p.packetType === RTCP_PSFB && p.count === PSFB_PLI) {
      out.push({ type: 'pli', senderSsrc, mediaSsrc });
    } else if (p.packetType === RTCP_PSFB && p.count === PSFB_FIR) {
      // FCI entries: SSRC (4) + Seq nr (1) + reserved (3); the header's media SSRC is unused (0).
      for (; fci + 8 <= end; fci += 8) out.push({ type: 'fir', senderSsrc, mediaSsrc: u32(buf, fci), sequenceNumber: buf[fci + 4]! });
    } else if (p.packetType === RTCP_PSFB && p.count === PSFB_AFB) {
      // 'R' 'E' 'M' 'B', Num SSRC (8), BR Exp (6), BR Mantissa (18), SSRC feedback × Num SSRC.
      if (fci + 8 > end || buf[fci] !== 0x52 || buf[fci + 1] !== 0x45 || buf[fci + 2] !== 0x4d || buf[fci + 3] !== 0x42) continue;
      const num = buf[fci + 4]!;
      const exp = buf[fci + 5]! >> 2;
      const mantissa = ((buf[fci + 5]! & 0x03) << 16) | (buf[fci + 6]! << 8) | buf[fci + 7]!;
      if (fci + 8 + num * 4 > end) continue;
      const ssrcs: number[] = [];
      for (let i = 0; i < num; i++) ssrcs.push(u32(buf, fci + 8 + i * 4));
      out.push({ type: 'remb', senderSsrc, bitrate: mantissa * 2 ** exp, ssrcs });
    } else if (p.packetType === RTCP_RTPFB && p.count === RTPFB_NACK) {
      // FCI entries: PID (16) + BLP (16).
      const lost: number[] = [];
      for (; fci + 4 <= end; fci += 4) {
        const pid = (buf[fci]! << 8) | buf[fci + 1]!;
        const blp = (buf[fci + 2]! << 8) | buf[fci + 3]!;
        lost.push(pid);
        for (let i = 0; i < 16; i++) if (blp & (1 << i)) lost.push((pid + i + 1) & 0xffff);
      }
      out.push({ type: 'nack', senderSsrc, mediaSsrc, lost });
    }
  }
  return out;
}

/** The keyframe requests (PLI and FIR) in a compound RTCP packet, optionally only for `mediaSsrc`. */
export function findKeyframeRequests(buf: Uint8Array | undefined | null, mediaSsrc?: number): KeyframeRequest[] {
  return parseRtcpFeedback(buf).filter(
    (f): f is KeyframeRequest => (f.type === 'pli' || f.type === 'fir') && (mediaSsrc === undefined || f.mediaSsrc === mediaSsrc >>> 0),
  );
}

/** A PLI (RFC 4585 §6.3.1) from `senderSsrc` about `mediaSsrc`. */
export function buildPli(senderSsrc: number, mediaSsrc: number): Buffer {
  const b = Buffer.alloc(12);
  b[0] = 0x80 | PSFB_PLI;
  b[1] = RTCP_PSFB;
  b.writeUInt16BE(2, 2);
  b.writeUInt32BE(senderSsrc >>> 0, 4);
  b.writeUInt32BE(mediaSsrc >>> 0, 8);
  return b;
}

/** A FIR (RFC 5104 §4.3.1) from `senderSsrc` asking `mediaSsrc` for a keyframe; `seq` increments per new request. */
export function buildFir(senderSsrc: number, mediaSsrc: number, seq: number): Buffer {
  const b = Buffer.alloc(20);
  b[0] = 0x80 | PSFB_FIR;
  b[1] = RTCP_PSFB;
  b.writeUInt16BE(4, 2);
  b.writeUInt32BE(senderSsrc >>> 0, 4);
  b.writeUInt32BE(0, 8);
  b.writeUInt32BE(mediaSsrc >>> 0, 12);
  b[16] = seq & 0xff;
  return b;
}

/** A REMB message (bitrate in bps) from `senderSsrc` about `ssrcs`. */
export function buildRemb(senderSsrc: number, bitrate: number, ssrcs: number[]): Buffer {
  if (ssrcs.length > 255) throw new RangeError('at most 255 SSRCs');
  let exp = 0;
  let mantissa = Math.max(0, Math.floor(bitrate));
  while (mantissa > 0x3ffff) {
    mantissa = Math.floor(mantissa / 2);
    exp++;
  }
  const b = Buffer.alloc(20 + ssrcs.length * 4);
  b[0] = 0x80 | PSFB_AFB;
  b[1] = RTCP_PSFB;
  b.writeUInt16BE(b.length / 4 - 1, 2);
  b.writeUInt32BE(senderSsrc >>> 0, 4);
  b.writeUInt32BE(0, 8);
  b.write('REMB', 12, 'latin1');
  b[16] = ssrcs.length;
  b[17] = (exp << 2) | (mantissa >> 16);
  b.writeUInt16BE(mantissa & 0xffff, 18);
  ssrcs.forEach((s, i) => b.writeUInt32BE(s >>> 0, 20 + i * 4));
  return b;
}

function u32(buf: Uint8Array, off: number): number {
  return ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
}
