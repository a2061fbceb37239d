/**
 * Keyframe detection on RTP payloads (the bytes after the RTP header), for switching a
 * single-stream leg to a new source only where the receiver can start decoding. Safe on garbage:
 * anything truncated or malformed is "not a keyframe".
 */

export type VideoCodecName = 'vp8' | 'vp9' | 'h264';

/** Maps a mimeType ('video/VP8') or a bare name ('H264') to a codec we can inspect. */
export function videoCodecName(mimeTypeOrName: string): VideoCodecName | undefined {
  const n = mimeTypeOrName.toLowerCase().replace(/^video\//, '');
  return n === 'vp8' || n === 'vp9' || n === 'h264' ? n : undefined;
}

/**
 * Whether this RTP payload starts a keyframe of `codec` (a mimeType like 'video/VP8' or a bare
 * name). Unknown codecs (audio…) → false.
 *  - VP8: the first packet of partition 0 (S=1, PID=0) whose VP8 payload header has P=0 and the
 *    keyframe start code 9d 01 2a.
 *  - VP9: a start-of-frame packet (B=1) that is not inter-predicted (P=0), spatial layer 0.
 *  - H.264: an IDR slice (NAL 5) or an SPS (NAL 7, which precedes the IDR and must reach the
 *    decoder too) as a single NAL unit, inside a STAP-A/STAP-B, or as the first fragment of a
 *    FU-A/FU-B.
 */
export function isKeyframe(codec: string, payload: Uint8Array | undefined | null): boolean {
  if (!payload || payload.length === 0) return false;
  switch (videoCodecName(codec)) {
    case 'vp8':
      return isVp8Keyframe(payload);
    case 'vp9':
      return isVp9Keyframe(payload);
    case 'h264':
      return isH264Keyframe(payload);
    default:
      return false;
  }
}

export interface Vp8Descriptor {
  /** Bytes taken by the payload descriptor (where the VP8 payload starts). */
  length: number;
  /** S: start of a VP8 partition. */
  start: boolean;
  /** N: non-reference frame. */
  nonReference: boolean;
  /** PID: partition index. */
  partitionId: number;
  pictureId?: number;
  tl0PicIdx?: number;
  tid?: number;
  layerSync?: boolean;
  keyIdx?: number;
}

/** Parses the VP8 payload descriptor (RFC 7741 §4.2); `undefined` if truncated. */
export function parseVp8Descriptor(p: Uint8Array): Vp8Descriptor | undefined {
  if (p.length < 1) return undefined;
  const b0 = p[0]!;
  const d: Vp8Descriptor = {
    length: 1,
    start: (b0 & 0x10) !== 0,
    nonReference: (b0 & 0x20) !== 0,
    partitionId: b0 & 0x07,
  };
  if ((b0 & 0x80) === 0) return d; // X=0: no extension byte
  if (p.length < 2) return undefined;
  const x = p[1]!;
  let off = 2;
  if (x & 0x80) {
    // I: PictureID, 7 or (M=1) 15 bits.
    if (p.length < off + 1) return undefined;
    if (p[off]! & 0x80) {
      if (p.length < off + 2) return undefined;
      d.pictureId = ((p[off]! & 0x7f) << 8) | p[off + 1]!;
      off += 2;
    } else {
      d.pictureId = p[off]! & 0x7f;
      off += 1;
    }
  }
  if (x & 0x40) {
    // L: TL0PICIDX.
    if (p.length < off + 1) return undefined;
    d.tl0PicIdx = p[off]!;
    off += 1;
  }
  if (x & 0x30) {
    // T and/or K: one byte TID(2) Y(1) KEYIDX(5).
    if (p.length < off + 1) return undefined;
    const b = p[off]!;
    if (x & 0x20) {
      d.tid = b >> 6;
      d.layerSync = (b & 0x20) !== 0;
    }
    if (x & 0x10) d.keyIdx = b & 0x1f;
    off += 1;
  }
  d.length = off;
  return d;
}

function isVp8Keyframe(p: Uint8Array): boolean {
  const d = parseVp8Descriptor(p);
  if (!d || !d.start || d.partitionId !== 0) return false;
  // VP8 payload header (RFC 7741 §4.3): 3-byte frame tag, P bit (bit 0) 0 = key frame; a key
  // frame's header continues with the start code 0x9d 0x01 0x2a (RFC 6386 §9.1).
  const o = d.length;
  if (p.length < o + 6) return false;
  if ((p[o]! & 0x01) !== 0) return false;
  return p[o + 3] === 0x9d && p[o + 4] === 0x01 && p[o + 5] === 0x2a;
}

function isVp9Keyframe(p: Uint8Array): boolean {
  // RFC 9628 §4.2: I P L F B E V Z
  const b0 = p[0]!;
  const pictureIdPresent = (b0 & 0x80) !== 0;
  const interPicture = (b0 & 0x40) !== 0;
  const layerIndices = (b0 & 0x20) !== 0;
  const startOfFrame = (b0 & 0x08) !== 0;
  if (interPicture || !startOfFrame) return false;
  let off = 1;
  if (pictureIdPresent) {
    if (p.length < off + 1) return false;
    off += p[off]! & 0x80 ? 2 : 1;
  }
  if (layerIndices) {
    if (p.length < off + 1) return false;
    const sid = (p[off]! >> 1) & 0x07;
    if (sid !== 0) return false;
  }
  return p.length > off;
}

const NAL_IDR = 5;
const NAL_SPS = 7;
const NAL_STAP_A = 24;
const NAL_STAP_B = 25;
const NAL_FU_A = 28;
const NAL_FU_B = 29;

/**
 * The H.264 NAL unit types an RTP payload carries (RFC 6184): the single NAL's type, every
 * aggregated NAL of a STAP-A/B, or for a FU-A/B the fragmented NAL's type — only on its first
 * fragment (S bit), since later fragments do not start anything. Truncated input → what could be read.
 */
export function h264NalTypes(p: Uint8Array): number[] {
  if (p.length < 1) return [];
  const type = p[0]! & 0x1f;
  if (type >= 1 && type <= 23) return [type];
  if (type === NAL_STAP_A || type === NAL_STAP_B) {
    const out: number[] = [];
    let off = type === NAL_STAP_B ? 3 : 1; // STAP-B has a 16-bit DON first
    while (off + 2 < p.length) {
      const size = (p[off]! << 8) | p[off + 1]!;
      off += 2;
      if (size === 0 || off + size > p.length) break;
      out.push(p[off]! & 0x1f);
      off += size;
    }
    return out;
  }
  if (type === NAL_FU_A || type === NAL_FU_B) {
    if (p.length < 2) return [];
    const fu = p[1]!;
    return fu & 0x80 ? [fu & 0x1f] : [];
  }
  return [];
}

function isH264Keyframe(p: Uint8Array): boolean {
  return h264NalTypes(p).some((t) => t === NAL_IDR || t === NAL_SPS);
}
