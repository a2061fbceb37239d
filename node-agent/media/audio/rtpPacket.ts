import { buildRtpPacket, parseRtpHeader } from '../rtp/RtpPacket.js';

/**
 * The mixer's view of RTP, over the node's one RTP parser (rtp/RtpPacket.ts). Reading never
 * throws: anything that is not a plausible RTP packet with a payload yields null.
 */

export interface RtpView {
  payloadType: number;
  marker: boolean;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  /** A view into the packet (not a copy). */
  payload: Buffer;
}

export function parseRtp(buf: Buffer): RtpView | null {
  if (!Buffer.isBuffer(buf)) return null;
  const h = parseRtpHeader(buf);
  // RFC 5761: 64-95 would collide with RTCP packet types (200-204 with the marker bit).
  if (!h || (h.payloadType >= 64 && h.payloadType <= 95) || h.payloadLength <= 0) return null;
  return {
    payloadType: h.payloadType,
    marker: h.marker,
    sequenceNumber: h.sequenceNumber,
    timestamp: h.timestamp,
    ssrc: h.ssrc,
    payload: buf.subarray(h.headerLength, h.headerLength + h.payloadLength),
  };
}

/** A new RTP packet: version 2, no padding, extension or CSRCs. */
export function writeRtp(payloadType: number, marker: boolean, sequenceNumber: number, timestamp: number, ssrc: number, payload: Uint8Array): Buffer {
  return buildRtpPacket({ payloadType, marker, sequenceNumber, timestamp, ssrc, payload });
}
