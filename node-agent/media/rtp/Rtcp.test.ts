import { describe, expect, it } from 'vitest';
import { buildFir, buildPli, buildRemb, findKeyframeRequests, parseRtcpFeedback, splitRtcp } from './Rtcp.js';

/** A receiver report with one report block, as browsers put first in every compound packet. */
function receiverReport(senderSsrc: number, sourceSsrc: number): Buffer {
  const b = Buffer.alloc(32);
  b[0] = 0x81;
  b[1] = 201;
  b.writeUInt16BE(7, 2);
  b.writeUInt32BE(senderSsrc, 4);
  b.writeUInt32BE(sourceSsrc, 8);
  return b;
}

function sdesCname(ssrc: number, cname: string): Buffer {
  const items = Buffer.concat([Buffer.from([1, cname.length]), Buffer.from(cname), Buffer.from([0])]);
  const padded = Buffer.concat([items, Buffer.alloc((4 - (items.length % 4)) % 4)]);
  const b = Buffer.alloc(8 + padded.length);
  b[0] = 0x81;
  b[1] = 202;
  b.writeUInt16BE(b.length / 4 - 1, 2);
  b.writeUInt32BE(ssrc, 4);
  padded.copy(b, 8);
  return b;
}

function nack(senderSsrc: number, mediaSsrc: number, pid: number, blp: number): Buffer {
  const b = Buffer.alloc(16);
  b[0] = 0x81;
  b[1] = 205;
  b.writeUInt16BE(3, 2);
  b.writeUInt32BE(senderSsrc, 4);
  b.writeUInt32BE(mediaSsrc, 8);
  b.writeUInt16BE(pid, 12);
  b.writeUInt16BE(blp, 14);
  return b;
}

describe('splitRtcp', () => {
  it('walks a compound packet', () => {
    const compound = Buffer.concat([receiverReport(1, 2), sdesCname(1, 'abcd'), buildPli(1, 2)]);
    const parts = splitRtcp(compound);
    expect(parts.map((p) => [p.packetType, p.count, p.offset, p.length])).toEqual([
      [201, 1, 0, 32],
      [202, 1, 32, 16],
      [206, 1, 48, 12],
    ]);
  });

  it('stops at the first malformed packet and keeps what came before', () => {
    const pli = buildPli(1, 2);
    const badVersion = Buffer.from(buildPli(3, 4));
    badVersion[0] = 0x41;
    expect(splitRtcp(Buffer.concat([pli, badVersion, pli]))).toHaveLength(1);
    const overlong = Buffer.from(buildPli(3, 4));
    overlong.writeUInt16BE(50, 2);
    expect(splitRtcp(Buffer.concat([pli, overlong]))).toHaveLength(1);
    const notRtcp = Buffer.from(buildPli(3, 4));
    notRtcp[1] = 96; // an RTP payload type
    expect(splitRtcp(Buffer.concat([pli, notRtcp]))).toHaveLength(1);
    expect(splitRtcp(Buffer.concat([pli, Buffer.from([0x81, 206])]))).toHaveLength(1); // trailing bytes
  });

  it('never throws on garbage', () => {
    expect(splitRtcp(undefined)).toEqual([]);
    expect(splitRtcp(null)).toEqual([]);
    expect(splitRtcp(Buffer.alloc(0))).toEqual([]);
    let seed = 99;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let i = 0; i < 3000; i++) {
      const buf = Buffer.from(Array.from({ length: rnd() % 80 }, rnd));
      if (i % 3 === 0 && buf.length > 1) {
        buf[0] = 0x80 | (buf[0]! & 0x3f);
        buf[1] = 192 + (buf[1]! % 32);
      }
      expect(() => parseRtcpFeedback(buf)).not.toThrow();
      for (const p of splitRtcp(buf)) expect(p.offset + p.length).toBeLessThanOrEqual(buf.length);
    }
  });
});

describe('keyframe requests', () => {
  it('finds a PLI in a browser-style compound packet', () => {
    const compound = Buffer.concat([receiverReport(0x1111, 0x2222), sdesCname(0x1111, 'cname'), buildPli(0x1111, 0x2222)]);
    expect(findKeyframeRequests(compound)).toEqual([{ type: 'pli', senderSsrc: 0x1111, mediaSsrc: 0x2222 }]);
  });

  it('finds FIR entries (one per FCI) with their sequence numbers', () => {
    const fir = buildFir(0x1111, 0xabcdef01, 7);
    expect(findKeyframeRequests(fir)).toEqual([{ type: 'fir', senderSsrc: 0x1111, mediaSsrc: 0xabcdef01, sequenceNumber: 7 }]);
    // Two FCI entries in one FIR.
    const two = Buffer.alloc(28);
    two[0] = 0x84;
    two[1] = 206;
    two.writeUInt16BE(6, 2);
    two.writeUInt32BE(5, 4);
    two.writeUInt32BE(10, 12);
    two[16] = 1;
    two.writeUInt32BE(20, 20);
    two[24] = 2;
    expect(findKeyframeRequests(two).map((f) => f.mediaSsrc)).toEqual([10, 20]);
  });

  it('filters by media SSRC', () => {
    const compound = Buffer.concat([buildPli(1, 100), buildPli(1, 200), buildFir(1, 200, 3)]);
    expect(findKeyframeRequests(compound, 200).map((f) => f.type)).toEqual(['pli', 'fir']);
    expect(findKeyframeRequests(compound, 300)).toEqual([]);
  });

  it('ignores truncated feedback and other feedback types', () => {
    const shortPli = Buffer.from([0x81, 206, 0, 1, 0, 0, 0, 1]); // 8 bytes: no media SSRC
    expect(findKeyframeRequests(shortPli)).toEqual([]);
    expect(findKeyframeRequests(nack(1, 2, 100, 0))).toEqual([]);
    const sli = Buffer.from(buildPli(1, 2));
    sli[0] = 0x82; // FMT 2: SLI
    expect(findKeyframeRequests(sli)).toEqual([]);
    const firNoFci = Buffer.from(buildFir(1, 2, 0).subarray(0, 12));
    firNoFci.writeUInt16BE(2, 2);
    expect(findKeyframeRequests(firNoFci)).toEqual([]);
  });
});

describe('REMB and NACK', () => {
  it('round-trips REMB bitrates', () => {
    for (const bitrate of [0, 1000, 300_000, 2_500_000, 123_456_789]) {
      const [f] = parseRtcpFeedback(buildRemb(9, bitrate, [1, 2]));
      expect(f?.type).toBe('remb');
      if (f?.type !== 'remb') return;
      expect(f.ssrcs).toEqual([1, 2]);
      // The 18-bit mantissa loses the low bits of big values.
      expect(Math.abs(f.bitrate - bitrate) / Math.max(1, bitrate)).toBeLessThan(1e-5);
    }
  });

  it('ignores REMB with a wrong identifier or an SSRC count past the end', () => {
    const remb = buildRemb(9, 1000, [1]);
    const wrongId = Buffer.from(remb);
    wrongId.write('XXXX', 12, 'latin1');
    expect(parseRtcpFeedback(wrongId)).toEqual([]);
    const overCount = Buffer.from(remb);
    overCount[16] = 9;
    expect(parseRtcpFeedback(overCount)).toEqual([]);
  });

  it('expands NACK bitmasks', () => {
    const [f] = parseRtcpFeedback(nack(1, 2, 65534, 0b101));
    expect(f).toEqual({ type: 'nack', senderSsrc: 1, mediaSsrc: 2, lost: [65534, 65535, 1] });
  });
});
