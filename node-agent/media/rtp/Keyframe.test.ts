import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { h264NalTypes, isKeyframe, parseVp8Descriptor, videoCodecName } from './Keyframe.js';
import { parseRtpHeader, rtpPayload } from './RtpPacket.js';

const fixtures = join(import.meta.dirname, 'fixtures');
function captured(name: string): { mimeType: string; payloadType: number; packets: Buffer[] } {
  const d = JSON.parse(readFileSync(join(fixtures, name), 'utf8')) as { mimeType: string; payloadType: number; packets: string[] };
  return { ...d, packets: d.packets.map((h) => Buffer.from(h, 'hex')) };
}

const b = (...bytes: number[]) => Uint8Array.from(bytes);
/** VP8 keyframe payload header: frame tag (P=0, show_frame) + start code + 640x480. */
const VP8_KEY_HEADER = [0xf0, 0x6d, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01];
/** VP8 interframe payload header (P=1). */
const VP8_DELTA_HEADER = [0x31, 0x20, 0x00, 0xe4, 0xd0, 0xcf];

describe('videoCodecName', () => {
  it('maps mimeTypes and names', () => {
    expect(videoCodecName('video/VP8')).toBe('vp8');
    expect(videoCodecName('H264')).toBe('h264');
    expect(videoCodecName('video/vp9')).toBe('vp9');
    expect(videoCodecName('audio/opus')).toBeUndefined();
    expect(videoCodecName('video/AV1')).toBeUndefined();
  });
});

describe('VP8 (RFC 7741)', () => {
  it('parses the payload descriptor with the extended bits', () => {
    // X=1 S=1 PID=0; I L T K all set; 15-bit picture id 0x541c; TL0PICIDX 7; TID 2 Y KEYIDX 5.
    const d = parseVp8Descriptor(b(0x90, 0xf0, 0xd4, 0x1c, 0x07, 0xa5))!;
    expect(d).toMatchObject({ length: 6, start: true, partitionId: 0, pictureId: 0x541c, tl0PicIdx: 7, tid: 2, layerSync: true, keyIdx: 5 });
    // 7-bit picture id, only T.
    expect(parseVp8Descriptor(b(0x90, 0xa0, 0x12, 0x40))).toMatchObject({ length: 4, pictureId: 0x12, tid: 1 });
    // No X: one byte.
    expect(parseVp8Descriptor(b(0x10))).toMatchObject({ length: 1, start: true });
    // Only K: still one TID/Y/KEYIDX byte.
    expect(parseVp8Descriptor(b(0x80, 0x10, 0x03))).toMatchObject({ length: 3, keyIdx: 3 });
  });

  it('finds keyframes whatever the descriptor length', () => {
    expect(isKeyframe('video/VP8', b(0x10, ...VP8_KEY_HEADER))).toBe(true); // minimal descriptor
    expect(isKeyframe('video/VP8', b(0x90, 0x80, 0xd4, 0x1c, ...VP8_KEY_HEADER))).toBe(true); // Chrome: I with M
    expect(isKeyframe('video/VP8', b(0x90, 0xe0, 0x54, 0x03, 0x20, ...VP8_KEY_HEADER))).toBe(true); // I(7) L T
    expect(isKeyframe('video/VP8', b(0x90, 0xf0, 0xd4, 0x1c, 0x07, 0xa5, ...VP8_KEY_HEADER))).toBe(true); // I(15) L T K
  });

  it('rejects interframes, later packets and other partitions', () => {
    expect(isKeyframe('vp8', b(0x90, 0x80, 0xd4, 0x1d, ...VP8_DELTA_HEADER))).toBe(false); // P=1
    expect(isKeyframe('vp8', b(0x80, 0x80, 0xd4, 0x1c, ...VP8_KEY_HEADER))).toBe(false); // S=0: continuation
    expect(isKeyframe('vp8', b(0x91, 0x80, 0xd4, 0x1c, ...VP8_KEY_HEADER))).toBe(false); // PID=1
    expect(isKeyframe('vp8', b(0x10, 0xf0, 0x6d, 0x00, 0x00, 0x00, 0x00))).toBe(false); // P=0 but no start code
  });

  it('is safe on truncated descriptors and headers', () => {
    const full = b(0x90, 0xf0, 0xd4, 0x1c, 0x07, 0xa5, ...VP8_KEY_HEADER);
    for (let n = 0; n < full.length; n++) {
      expect(() => isKeyframe('vp8', full.subarray(0, n))).not.toThrow();
      if (n < 6 + 6) expect(isKeyframe('vp8', full.subarray(0, n))).toBe(false);
    }
    expect(parseVp8Descriptor(b(0x80))).toBeUndefined(); // X without the extension byte
    expect(parseVp8Descriptor(b(0x80, 0x80, 0x80))).toBeUndefined(); // M bit without the second picture id byte
    expect(parseVp8Descriptor(b(0x80, 0x40))).toBeUndefined(); // L without TL0PICIDX
    expect(parseVp8Descriptor(b(0x80, 0x20))).toBeUndefined(); // T without its byte
    expect(isKeyframe('vp8', undefined)).toBe(false);
  });

  it('finds exactly the keyframes in packets Chromium sent', () => {
    const { mimeType, packets } = captured('chromium-156-vp8.rtp.json');
    const keys = packets.flatMap((p, i) => (isKeyframe(mimeType, rtpPayload(p)) ? [i] : []));
    // The first frame, and the one the keyframe request produced.
    expect(keys).toEqual([0, 81]);
    // Both start a new timestamp (a frame) and the frame before ended with the marker bit.
    const before = parseRtpHeader(packets[80]!)!;
    const key = parseRtpHeader(packets[81]!)!;
    expect(before.marker).toBe(true);
    expect(key.timestamp).not.toBe(before.timestamp);
  });
});

describe('H.264 (RFC 6184)', () => {
  it('reads NAL unit types of single NALs, STAP-A/B and FU-A/B', () => {
    expect(h264NalTypes(b(0x65, 0x88))).toEqual([5]); // IDR slice
    expect(h264NalTypes(b(0x41, 0x9a))).toEqual([1]); // non-IDR slice
    // STAP-A: SPS (3 bytes) + PPS (2 bytes)
    expect(h264NalTypes(b(0x78, 0x00, 0x03, 0x67, 0x42, 0xc0, 0x00, 0x02, 0x68, 0xce))).toEqual([7, 8]);
    // STAP-B: DON first
    expect(h264NalTypes(b(0x79, 0x00, 0x01, 0x00, 0x02, 0x65, 0x88))).toEqual([5]);
    // FU-A start of an IDR, middle, end
    expect(h264NalTypes(b(0x7c, 0x85, 0xb8))).toEqual([5]);
    expect(h264NalTypes(b(0x7c, 0x05, 0xff))).toEqual([]);
    expect(h264NalTypes(b(0x7c, 0x45, 0xba))).toEqual([]);
    // FU-B start
    expect(h264NalTypes(b(0x7d, 0x85, 0x00, 0x01))).toEqual([5]);
  });

  it('keyframes: IDR or SPS as single NAL, in STAP-A, or first FU-A fragment', () => {
    expect(isKeyframe('video/H264', b(0x65, 0x88, 0x84))).toBe(true);
    expect(isKeyframe('video/H264', b(0x67, 0x42, 0xc0, 0x1f))).toBe(true); // SPS: starts the keyframe
    expect(isKeyframe('video/H264', b(0x78, 0x00, 0x02, 0x68, 0xce, 0x00, 0x02, 0x65, 0x88))).toBe(true); // PPS + IDR
    expect(isKeyframe('video/H264', b(0x7c, 0x85, 0xb8, 0x00))).toBe(true);
    expect(isKeyframe('video/H264', b(0x7c, 0x05, 0xff))).toBe(false); // IDR continuation
    expect(isKeyframe('video/H264', b(0x61, 0xe0, 0x00))).toBe(false);
    expect(isKeyframe('video/H264', b(0x7c, 0x81, 0xe0))).toBe(false); // FU-A start of a non-IDR slice
    expect(isKeyframe('video/H264', b(0x68, 0xce))).toBe(false); // PPS alone
  });

  it('is safe on truncated and lying aggregation packets', () => {
    expect(h264NalTypes(b())).toEqual([]);
    expect(h264NalTypes(b(0x7c))).toEqual([]); // FU-A without FU header
    expect(h264NalTypes(b(0x78, 0x00))).toEqual([]); // STAP-A without a NAL
    expect(h264NalTypes(b(0x78, 0x00, 0x09, 0x65))).toEqual([]); // size past the end
    expect(h264NalTypes(b(0x78, 0x00, 0x00, 0x65))).toEqual([]); // zero size
    expect(h264NalTypes(b(0x78, 0x00, 0x01, 0x41, 0xff, 0xff, 0x65))).toEqual([1]); // second size past the end
    expect(h264NalTypes(b(0x00))).toEqual([]); // NAL type 0
    expect(h264NalTypes(b(0x7e, 0x85))).toEqual([]); // type 30: reserved
  });

  it('finds the keyframes in packets Chromium sent (SPS/PPS STAP-A, then IDR FU-A)', () => {
    const { mimeType, packets } = captured('chromium-156-h264.rtp.json');
    const keys = packets.flatMap((p, i) => (isKeyframe(mimeType, rtpPayload(p)) ? [i] : []));
    expect(keys).toEqual([0, 1, 59, 60]);
    expect(h264NalTypes(rtpPayload(packets[0]!)!)).toEqual([7, 8]);
    expect(h264NalTypes(rtpPayload(packets[1]!)!)).toEqual([5]);
  });
});

describe('VP9 (RFC 9628)', () => {
  it('keyframe: B=1, P=0, spatial layer 0', () => {
    expect(isKeyframe('video/VP9', b(0x88, 0x12, 0x00))).toBe(true); // I, B; 7-bit picture id
    expect(isKeyframe('video/VP9', b(0xa8, 0x92, 0x34, 0x00, 0x00))).toBe(true); // I(15) L: SID 0
    expect(isKeyframe('video/VP9', b(0xa8, 0x12, 0x02, 0x00))).toBe(false); // SID 1
    expect(isKeyframe('video/VP9', b(0xc8, 0x12, 0x00))).toBe(false); // P=1
    expect(isKeyframe('video/VP9', b(0x80, 0x12, 0x00))).toBe(false); // not the start of a frame
    expect(isKeyframe('video/VP9', b(0x88))).toBe(false); // truncated picture id
    expect(isKeyframe('video/VP9', b(0xa8, 0x92))).toBe(false);
  });
});

describe('other codecs', () => {
  it('are never keyframes', () => {
    expect(isKeyframe('audio/opus', b(0x10, ...VP8_KEY_HEADER))).toBe(false);
    expect(isKeyframe('video/AV1', b(0x65))).toBe(false);
  });
});
