/**
 * Tiny, allocation-light RTP helpers (RFC 3550 §5.1, RFC 8285 header extensions). Every parser
 * here is safe on hostile input: it never throws and returns `undefined` for anything that is not
 * a well-formed RTP packet (wrong version, CSRC list or extension running past the end, padding
 * longer than the payload). Writers mutate a Buffer the caller owns.
 */

export interface RtpHeader {
  version: 2;
  padding: boolean;
  extension: boolean;
  csrcCount: number;
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  csrcs: number[];
  /** The extension block's "defined by profile" field (0xBEDE one-byte, 0x100x two-byte), if any. */
  extensionProfile?: number;
  /** Length of the extension data in bytes (without its 4-byte header). */
  extensionLength: number;
  /** Fixed header + CSRCs + extension: where the payload starts. */
  headerLength: number;
  /** Padding bytes at the end (the last byte's value when P is set). */
  paddingLength: number;
  /** Payload bytes between the header and the padding. */
  payloadLength: number;
}

export const RTP_FIXED_HEADER_LENGTH = 12;

/** Parses an RTP header; `undefined` if `buf` is not a well-formed RTP packet. Never throws. */
export function parseRtpHeader(buf: Uint8Array | undefined | null): RtpHeader | undefined {
  if (!buf || buf.length < RTP_FIXED_HEADER_LENGTH) return undefined;
  const b0 = buf[0]!;
  const b1 = buf[1]!;
  if (b0 >> 6 !== 2) return undefined;
  const padding = (b0 & 0x20) !== 0;
  const extension = (b0 & 0x10) !== 0;
  const csrcCount = b0 & 0x0f;
  let offset = RTP_FIXED_HEADER_LENGTH;
  if (offset + csrcCount * 4 > buf.length) return undefined;
  const csrcs: number[] = [];
  for (let i = 0; i < csrcCount; i++, offset += 4) csrcs.push(readU32(buf, offset));
  let extensionProfile: number | undefined;
  let extensionLength = 0;
  if (extension) {
    if (offset + 4 > buf.length) return undefined;
    extensionProfile = (buf[offset]! << 8) | buf[offset + 1]!;
    extensionLength = ((buf[offset + 2]! << 8) | buf[offset + 3]!) * 4;
    offset += 4;
    if (offset + extensionLength > buf.length) return undefined;
    offset += extensionLength;
  }
  let paddingLength = 0;
  if (padding) {
    if (buf.length <= offset) return undefined;
    paddingLength = buf[buf.length - 1]!;
    // RFC 3550: the last octet counts itself, so 0 is invalid; it may not eat into the header.
    if (paddingLength === 0 || offset + paddingLength > buf.length) return undefined;
  }
  return {
    version: 2,
    padding,
    extension,
    csrcCount,
    marker: (b1 & 0x80) !== 0,
    payloadType: b1 & 0x7f,
    sequenceNumber: (buf[2]! << 8) | buf[3]!,
    timestamp: readU32(buf, 4),
    ssrc: readU32(buf, 8),
    csrcs,
    extensionProfile,
    extensionLength,
    headerLength: offset,
    paddingLength,
    payloadLength: buf.length - offset - paddingLength,
  };
}

/** The payload (a view, no copy) of a well-formed RTP packet, else `undefined`. */
export function rtpPayload(buf: Buffer, header: RtpHeader | undefined = parseRtpHeader(buf)): Buffer | undefined {
  if (!header) return undefined;
  return buf.subarray(header.headerLength, header.headerLength + header.payloadLength);
}

/**
 * RFC 5761 §4 demultiplexing: RTCP packet types 192–223 (SR, RR, SDES, BYE, APP, RTPFB, PSFB, XR…)
 * occupy the second byte; RTP payload types 64–95 with the marker bit would collide and are
 * never used on a muxed port.
 */
export function isRtcp(buf: Uint8Array | undefined | null): boolean {
  if (!buf || buf.length < 4 || buf[0]! >> 6 !== 2) return false;
  const pt = buf[1]!;
  return pt >= 192 && pt <= 223;
}

/** Header fields a writer may change in place (the buffer must already hold a valid header). */
export function setPayloadType(buf: Buffer, payloadType: number): void {
  buf[1] = (buf[1]! & 0x80) | (payloadType & 0x7f);
}
export function setMarker(buf: Buffer, marker: boolean): void {
  buf[1] = marker ? buf[1]! | 0x80 : buf[1]! & 0x7f;
}
export function setSequenceNumber(buf: Buffer, seq: number): void {
  buf.writeUInt16BE(seq & 0xffff, 2);
}
export function setTimestamp(buf: Buffer, timestamp: number): void {
  buf.writeUInt32BE(timestamp >>> 0, 4);
}
export function setSsrc(buf: Buffer, ssrc: number): void {
  buf.writeUInt32BE(ssrc >>> 0, 8);
}

export interface BuildRtpOptions {
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  marker?: boolean;
  csrcs?: number[];
  /** One-byte (RFC 8285 §4.2) header extension elements: id 1–14, data 1–16 bytes. */
  extensions?: { id: number; data: Uint8Array }[];
  payload?: Uint8Array;
  /** Number of padding bytes to append (1–255). */
  padding?: number;
}

/** Builds an RTP packet (for tests and synthetic streams). */
export function buildRtpPacket(o: BuildRtpOptions): Buffer {
  const csrcs = o.csrcs ?? [];
  if (csrcs.length > 15) throw new RangeError('at most 15 CSRCs');
  let ext: Buffer | undefined;
  if (o.extensions && o.extensions.length > 0) {
    const parts: number[] = [];
    for (const e of o.extensions) {
      if (e.id < 1 || e.id > 14 || e.data.length < 1 || e.data.length > 16) throw new RangeError('invalid one-byte header extension');
      parts.push((e.id << 4) | (e.data.length - 1), ...e.data);
    }
    while (parts.length % 4 !== 0) parts.push(0);
    ext = Buffer.alloc(4 + parts.length);
    ext.writeUInt16BE(0xbede, 0);
    ext.writeUInt16BE(parts.length / 4, 2);
    Buffer.from(parts).copy(ext, 4);
  }
  const payload = o.payload ?? new Uint8Array(0);
  const pad = o.padding ?? 0;
  if (pad < 0 || pad > 255) throw new RangeError('padding must be 0–255');
  const buf = Buffer.alloc(RTP_FIXED_HEADER_LENGTH + csrcs.length * 4 + (ext?.length ?? 0) + payload.length + pad);
  buf[0] = 0x80 | (pad > 0 ? 0x20 : 0) | (ext ? 0x10 : 0) | csrcs.length;
  buf[1] = ((o.marker ? 1 : 0) << 7) | (o.payloadType & 0x7f);
  buf.writeUInt16BE(o.sequenceNumber & 0xffff, 2);
  buf.writeUInt32BE(o.timestamp >>> 0, 4);
  buf.writeUInt32BE(o.ssrc >>> 0, 8);
  let offset = RTP_FIXED_HEADER_LENGTH;
  for (const c of csrcs) {
    buf.writeUInt32BE(c >>> 0, offset);
    offset += 4;
  }
  if (ext) offset += ext.copy(buf, offset);
  Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).copy(buf, offset);
  if (pad > 0) buf[buf.length - 1] = pad;
  return buf;
}

/** Serial-number arithmetic (RFC 1982) for 16-bit sequence numbers: is `a` newer than `b`? */
export function seqNewer(a: number, b: number): boolean {
  const d = (a - b) & 0xffff;
  return d !== 0 && d < 0x8000;
}

/** Signed distance a − b of two 16-bit sequence numbers, in (−32768, 32768]. */
export function seqDiff(a: number, b: number): number {
  const d = (a - b) & 0xffff;
  return d > 0x8000 ? d - 0x10000 : d;
}

/** Serial-number comparison for 32-bit RTP timestamps: is `a` later than `b`? */
export function timestampNewer(a: number, b: number): boolean {
  const d = (a - b) >>> 0;
  return d !== 0 && d < 0x8000_0000;
}

function readU32(buf: Uint8Array, offset: number): number {
  return ((buf[offset]! << 24) | (buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!) >>> 0;
}
