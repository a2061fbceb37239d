/**
 * Minimal RTP (RFC 3550) reading and writing for the audio mixer: kept here, dependency-free, so
 * the mixer stays self-contained. Reading never throws: anything that is not a plausible RTP
 * packet yields null.
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
  if (!Buffer.isBuffer(buf) || buf.length < 12) return null;
  const b0 = buf[0]!;
  if (b0 >> 6 !== 2) return null;
  const b1 = buf[1]!;
  const payloadType = b1 & 0x7f;
  // RFC 5761: 64-95 would collide with RTCP packet types (200-204 with the marker bit).
  if (payloadType >= 64 && payloadType <= 95) return null;
  let offset = 12 + (b0 & 0x0f) * 4;
  if (b0 & 0x10) {
    if (buf.length < offset + 4) return null;
    offset += 4 + buf.readUInt16BE(offset + 2) * 4;
  }
  let end = buf.length;
  if (b0 & 0x20) {
    const pad = buf[end - 1]!;
    if (pad === 0) return null;
    end -= pad;
  }
  if (end <= offset) return null;
  return {
    payloadType,
    marker: (b1 & 0x80) !== 0,
    sequenceNumber: buf.readUInt16BE(2),
    timestamp: buf.readUInt32BE(4),
    ssrc: buf.readUInt32BE(8),
    payload: buf.subarray(offset, end),
  };
}

/** A new RTP packet: version 2, no padding, extension or CSRCs. */
export function writeRtp(
  payloadType: number,
  marker: boolean,
  sequenceNumber: number,
  timestamp: number,
  ssrc: number,
  payload: Uint8Array,
): Buffer {
  const out = Buffer.allocUnsafe(12 + payload.length);
  out[0] = 0x80;
  out[1] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
  out.writeUInt16BE(sequenceNumber & 0xffff, 2);
  out.writeUInt32BE(timestamp >>> 0, 4);
  out.writeUInt32BE(ssrc >>> 0, 8);
  out.set(payload, 12);
  return out;
}
