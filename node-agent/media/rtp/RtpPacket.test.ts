import { describe, expect, it } from 'vitest';
import {
  buildRtpPacket,
  isRtcp,
  parseRtpHeader,
  rtpPayload,
  seqDiff,
  seqNewer,
  setMarker,
  setPayloadType,
  setSequenceNumber,
  setSsrc,
  setTimestamp,
  timestampNewer,
} from './RtpPacket.js';

describe('parseRtpHeader', () => {
  it('reads every field of a plain packet', () => {
    const pkt = buildRtpPacket({
      payloadType: 96,
      sequenceNumber: 65535,
      timestamp: 0xfffffff0,
      ssrc: 0xdeadbeef,
      marker: true,
      payload: Buffer.from([1, 2, 3]),
    });
    const h = parseRtpHeader(pkt)!;
    expect(h).toMatchObject({
      version: 2,
      padding: false,
      extension: false,
      csrcCount: 0,
      marker: true,
      payloadType: 96,
      sequenceNumber: 65535,
      timestamp: 0xfffffff0,
      ssrc: 0xdeadbeef,
      headerLength: 12,
      payloadLength: 3,
      paddingLength: 0,
      extensionLength: 0,
    });
    expect([...rtpPayload(pkt)!]).toEqual([1, 2, 3]);
  });

  it('handles CSRCs, a one-byte header extension and padding', () => {
    const pkt = buildRtpPacket({
      payloadType: 111,
      sequenceNumber: 7,
      timestamp: 960,
      ssrc: 1,
      csrcs: [10, 20],
      extensions: [
        { id: 1, data: Uint8Array.from([0x7f]) },
        { id: 4, data: Uint8Array.from([0x30]) },
      ],
      payload: Buffer.from('opus'),
      padding: 3,
    });
    const h = parseRtpHeader(pkt)!;
    expect(h.csrcs).toEqual([10, 20]);
    expect(h.extension).toBe(true);
    expect(h.extensionProfile).toBe(0xbede);
    expect(h.extensionLength).toBe(4);
    expect(h.headerLength).toBe(12 + 8 + 4 + 4);
    expect(h.paddingLength).toBe(3);
    expect(rtpPayload(pkt)!.toString()).toBe('opus');
  });

  it('accepts an empty payload (e.g. a padding-only probe)', () => {
    const pkt = buildRtpPacket({ payloadType: 96, sequenceNumber: 1, timestamp: 1, ssrc: 1, padding: 4 });
    const h = parseRtpHeader(pkt)!;
    expect(h.payloadLength).toBe(0);
    expect(h.paddingLength).toBe(4);
  });

  describe('malformed input never throws and gives undefined', () => {
    const good = buildRtpPacket({ payloadType: 96, sequenceNumber: 1, timestamp: 2, ssrc: 3, payload: Buffer.alloc(10) });
    const cases: [string, Uint8Array | undefined | null][] = [
      ['undefined', undefined],
      ['null', null],
      ['empty', Buffer.alloc(0)],
      ['shorter than the fixed header', good.subarray(0, 11)],
      ['version 0', Buffer.from([0x00, ...good.subarray(1)])],
      ['version 1', Buffer.from([0x40, ...good.subarray(1)])],
      ['version 3', Buffer.from([0xc0, ...good.subarray(1)])],
      ['CSRC count past the end', Buffer.from([0x8f, ...good.subarray(1, 12), 0, 0, 0, 1])],
      ['extension bit but no extension header', Buffer.from([0x90, ...good.subarray(1, 12), 0xbe])],
      ['extension length past the end', Buffer.from([0x90, ...good.subarray(1, 12), 0xbe, 0xde, 0x00, 0x05, 1, 2, 3, 4])],
      ['extension length 0xffff', Buffer.from([0x90, ...good.subarray(1, 12), 0xbe, 0xde, 0xff, 0xff])],
      ['padding bit with padding count 0', Buffer.from([0xa0, ...good.subarray(1, 12), 1, 2, 0])],
      ['padding count larger than the payload', Buffer.from([0xa0, ...good.subarray(1, 12), 1, 2, 9])],
      ['padding bit but nothing after the header', Buffer.from([0xa0, ...good.subarray(1, 12)])],
    ];
    for (const [name, buf] of cases) {
      it(name, () => {
        expect(parseRtpHeader(buf)).toBeUndefined();
        expect(rtpPayload(buf as Buffer)).toBeUndefined();
      });
    }

    it('random garbage', () => {
      let seed = 12345;
      const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
      for (let i = 0; i < 2000; i++) {
        const buf = Buffer.from(Array.from({ length: rnd() % 64 }, rnd));
        const h = parseRtpHeader(buf);
        if (h) {
          expect(h.headerLength + h.payloadLength + h.paddingLength).toBe(buf.length);
          expect(h.payloadLength).toBeGreaterThanOrEqual(0);
        }
      }
    });
  });
});

describe('writers', () => {
  it('change only their field', () => {
    const pkt = buildRtpPacket({ payloadType: 96, sequenceNumber: 1, timestamp: 2, ssrc: 3, marker: true, payload: Buffer.from([9]) });
    setPayloadType(pkt, 100);
    setSequenceNumber(pkt, 0x1_0005);
    setTimestamp(pkt, -1);
    setSsrc(pkt, 0xffffffff);
    expect(parseRtpHeader(pkt)).toMatchObject({ payloadType: 100, marker: true, sequenceNumber: 5, timestamp: 0xffffffff, ssrc: 0xffffffff });
    setMarker(pkt, false);
    expect(parseRtpHeader(pkt)).toMatchObject({ payloadType: 100, marker: false });
    expect(rtpPayload(pkt)![0]).toBe(9);
  });
});

describe('isRtcp (RFC 5761 demultiplexing)', () => {
  it('tells RTCP from RTP', () => {
    expect(isRtcp(Buffer.from([0x81, 200, 0, 6]))).toBe(true); // SR
    expect(isRtcp(Buffer.from([0x81, 206, 0, 2]))).toBe(true); // PSFB
    expect(isRtcp(buildRtpPacket({ payloadType: 96, sequenceNumber: 1, timestamp: 1, ssrc: 1, marker: true }))).toBe(false);
    expect(isRtcp(Buffer.from([0x81, 200]))).toBe(false);
    expect(isRtcp(undefined)).toBe(false);
  });
});

describe('serial number arithmetic', () => {
  it('wraps sequence numbers', () => {
    expect(seqNewer(0, 65535)).toBe(true);
    expect(seqNewer(65535, 0)).toBe(false);
    expect(seqNewer(5, 5)).toBe(false);
    expect(seqDiff(2, 65534)).toBe(4);
    expect(seqDiff(65534, 2)).toBe(-4);
    expect(timestampNewer(10, 0xfffffff0)).toBe(true);
    expect(timestampNewer(0xfffffff0, 10)).toBe(false);
  });
});
