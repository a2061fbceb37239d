import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { RtpRewriter, isKeyframe } from './RtpRewriter.js';
import { buildRtpPacket, parseRtpHeader, rtpPayload, type RtpHeader } from './RtpPacket.js';

const VP8_KEY = Uint8Array.from([0x90, 0x80, 0xd4, 0x1c, 0xf0, 0x6d, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01, 0xaa]);
const VP8_DELTA = Uint8Array.from([0x90, 0x80, 0xd4, 0x1d, 0x31, 0x20, 0x00, 0xe4, 0xd0, 0xcf, 0xbb]);
const VP8_CONT = Uint8Array.from([0x80, 0x80, 0xd4, 0x1d, 0x11, 0x22]);

/** A source of VP8 packets: its own SSRC, sequence numbers and timestamps. */
class Source {
  constructor(
    readonly ssrc: number,
    public seq: number,
    public ts: number,
    readonly pt = 100,
  ) {}
  packet(payload: Uint8Array, opts: { marker?: boolean; tsStep?: number; seqStep?: number; extensions?: { id: number; data: Uint8Array }[] } = {}): Buffer {
    const p = buildRtpPacket({
      payloadType: this.pt,
      sequenceNumber: this.seq,
      timestamp: this.ts,
      ssrc: this.ssrc,
      marker: opts.marker,
      payload,
      extensions: opts.extensions,
    });
    this.seq = (this.seq + (opts.seqStep ?? 1)) & 0xffff;
    this.ts = (this.ts + (opts.tsStep ?? 3000)) >>> 0;
    return p;
  }
}

function video(now: { t: number }, extra: Partial<ConstructorParameters<typeof RtpRewriter>[0]> = {}) {
  return new RtpRewriter({
    ssrc: 0x11112222,
    payloadTypes: { 100: 96, 101: 96 },
    codecs: { 100: 'video/VP8', 101: 'video/VP8' },
    clockRate: 90_000,
    initialSequenceNumber: 1000,
    initialTimestamp: 50_000,
    now: () => now.t,
    ...extra,
  });
}

const hdr = (p: Buffer | undefined): RtpHeader => parseRtpHeader(p!)!;

describe('RtpRewriter: one source', () => {
  it('rewrites SSRC, payload type, sequence numbers and timestamps from the initial values', () => {
    const now = { t: 0 };
    const rw = video(now);
    rw.switchTo('alice');
    const a = new Source(0xaaaa, 40_000, 123_456);
    const out = [a.packet(VP8_KEY, { tsStep: 0 }), a.packet(VP8_CONT, { marker: true }), a.packet(VP8_DELTA, { marker: true })].map((p) =>
      rw.rewrite('alice', p),
    );
    expect(out.map((p) => hdr(p).ssrc)).toEqual([0x11112222, 0x11112222, 0x11112222]);
    expect(out.map((p) => hdr(p).payloadType)).toEqual([96, 96, 96]);
    expect(out.map((p) => hdr(p).sequenceNumber)).toEqual([1000, 1001, 1002]);
    expect(out.map((p) => hdr(p).timestamp)).toEqual([50_000, 50_000, 53_000]);
    expect(out.map((p) => hdr(p).marker)).toEqual([false, true, true]);
    expect([...rtpPayload(out[0]!)!]).toEqual([...VP8_KEY]);
    expect(rw.stats.forwarded).toBe(3);
  });

  it('does not modify the input buffer and keeps header extensions and CSRCs', () => {
    const rw = video({ t: 0 });
    rw.switchTo('a');
    const ext = [{ id: 4, data: Uint8Array.from([1, 2, 3]) }];
    const input = buildRtpPacket({ payloadType: 100, sequenceNumber: 5, timestamp: 9, ssrc: 7, csrcs: [77], extensions: ext, payload: VP8_KEY });
    const copy = Buffer.from(input);
    const out = rw.rewrite('a', input)!;
    expect(input.equals(copy)).toBe(true);
    const h = hdr(out);
    expect(h.csrcs).toEqual([77]);
    expect(h.extensionProfile).toBe(0xbede);
    expect(out.subarray(12 + 4, h.headerLength).equals(input.subarray(12 + 4, h.headerLength))).toBe(true);
    expect(out.subarray(h.headerLength).equals(input.subarray(h.headerLength))).toBe(true);
  });

  it('keeps gaps (losses) inside a source and handles sequence number wrap', () => {
    const rw = video({ t: 0 });
    rw.switchTo('a');
    const a = new Source(1, 65534, 0);
    const seqs = [
      rw.rewrite('a', a.packet(VP8_KEY)),
      rw.rewrite('a', a.packet(VP8_DELTA, { seqStep: 3 })),
      rw.rewrite('a', a.packet(VP8_DELTA)),
      rw.rewrite('a', a.packet(VP8_DELTA)),
    ].map((p) => hdr(p).sequenceNumber);
    // input 65534, 65535, (0, 1 lost), 2, 3
    expect(seqs).toEqual([1000, 1001, 1004, 1005]);
  });

  it('passes reordered packets of the current source at their place, drops those from before the switch point', () => {
    const rw = video({ t: 0 });
    rw.switchTo('a');
    const a = new Source(1, 100, 0);
    const p100 = a.packet(VP8_DELTA);
    const p101 = a.packet(VP8_KEY); // the keyframe is 101
    const p102 = a.packet(VP8_DELTA);
    const p103 = a.packet(VP8_DELTA);
    expect(rw.rewrite('a', p100)).toBeUndefined(); // before the keyframe
    expect(hdr(rw.rewrite('a', p101)).sequenceNumber).toBe(1000);
    expect(hdr(rw.rewrite('a', p103)).sequenceNumber).toBe(1002);
    expect(hdr(rw.rewrite('a', p102)).sequenceNumber).toBe(1001); // late, still inside the source
    expect(rw.rewrite('a', p100)).toBeUndefined(); // older than the switch point
    expect(rw.stats.dropped.late).toBe(1);
    expect(rw.nextSequenceNumber).toBe(1003);
  });

  it('drops unmapped payload types and malformed packets, counting them', () => {
    const rw = video({ t: 0 });
    rw.switchTo('a');
    const a = new Source(1, 1, 0, 127);
    expect(rw.rewrite('a', a.packet(VP8_KEY))).toBeUndefined();
    expect(rw.rewrite('a', Buffer.from([0x80, 100, 0]))).toBeUndefined();
    expect(rw.rewrite('a', Buffer.alloc(0))).toBeUndefined();
    expect(rw.stats.dropped).toMatchObject({ unmappedPayloadType: 1, malformed: 2 });
  });

  it('ignores packets of sources that are not selected, and forwards nothing before switchTo', () => {
    const rw = video({ t: 0 });
    const a = new Source(1, 1, 0);
    expect(rw.rewrite('a', a.packet(VP8_KEY))).toBeUndefined();
    rw.switchTo('a');
    expect(rw.rewrite('b', new Source(2, 1, 0).packet(VP8_KEY))).toBeUndefined();
    expect(rw.stats.dropped.notSelected).toBe(2);
  });
});

describe('RtpRewriter: switching', () => {
  it('waits for a keyframe of the new source, asks for one, and splices without a sequence gap', () => {
    const now = { t: 1000 };
    const wanted: string[] = [];
    const rw = video(now, { onKeyframeNeeded: (s) => wanted.push(s) });
    rw.switchTo('alice');
    expect(rw.wantsKeyframe).toBe(true);
    const a = new Source(0xa, 500, 1_000_000);
    const b = new Source(0xb, 9000, 7_777_777);

    rw.rewrite('alice', a.packet(VP8_KEY, { marker: true }));
    expect(rw.wantsKeyframe).toBe(false);
    let last: RtpHeader | undefined;
    for (let i = 0; i < 5; i++) {
      now.t += 33;
      last = hdr(rw.rewrite('alice', a.packet(VP8_DELTA, { marker: true })));
    }
    expect(last!.sequenceNumber).toBe(1005);
    expect(last!.timestamp).toBe(50_000 + 5 * 3000);

    expect(rw.switchTo('bob')).toBe(true);
    expect(rw.switchTo('bob')).toBe(false);
    expect(rw.wantsKeyframe).toBe(true);
    expect(wanted).toEqual(['alice', 'bob']);
    // Alice keeps sending: not forwarded any more. Bob's inter frames: dropped until his keyframe.
    now.t += 33;
    expect(rw.rewrite('alice', a.packet(VP8_DELTA))).toBeUndefined();
    expect(rw.rewrite('bob', b.packet(VP8_DELTA))).toBeUndefined();
    expect(rw.rewrite('bob', b.packet(VP8_CONT))).toBeUndefined();
    expect(rw.stats.dropped.waitingForKeyframe).toBe(2);
    now.t += 200; // the keyframe comes 233 ms after Alice's last packet
    const k = hdr(rw.rewrite('bob', b.packet(VP8_KEY, { tsStep: 0 })));
    const k2 = hdr(rw.rewrite('bob', b.packet(VP8_CONT, { marker: true })));
    expect(rw.wantsKeyframe).toBe(false);
    expect(k.sequenceNumber).toBe(1006); // no gap
    expect(k2.sequenceNumber).toBe(1007);
    expect(k.timestamp).toBe(50_000 + 5 * 3000 + Math.round(0.233 * 90_000)); // + wall time since the last packet
    expect(k2.timestamp).toBe(k.timestamp); // same frame
    expect(k.ssrc).toBe(0x11112222);
    expect(rw.source).toBe('bob');
    expect(rw.stats.switches).toBe(2);
  });

  it('switches back and forth with continuous output, sequence wrap included', () => {
    const now = { t: 0 };
    const rw = video(now, { initialSequenceNumber: 65530 });
    const a = new Source(0xa, 10, 0);
    const b = new Source(0xb, 60_000, 0);
    const outSeqs: number[] = [];
    const outTs: number[] = [];
    const feed = (key: string, s: Source, payload: Uint8Array) => {
      now.t += 33;
      const p = rw.rewrite(key, s.packet(payload, { marker: true }));
      if (p) {
        outSeqs.push(hdr(p).sequenceNumber);
        outTs.push(hdr(p).timestamp);
      }
    };
    for (let round = 0; round < 4; round++) {
      const [key, src] = round % 2 === 0 ? ['a', a] : ['b', b];
      rw.switchTo(key);
      feed(key, src, VP8_DELTA); // dropped: not a keyframe
      feed(key, src, VP8_KEY);
      for (let i = 0; i < 3; i++) feed(key, src, VP8_DELTA);
    }
    expect(outSeqs).toHaveLength(16);
    for (let i = 1; i < outSeqs.length; i++) expect(outSeqs[i]).toBe((outSeqs[i - 1]! + 1) & 0xffff);
    for (let i = 1; i < outTs.length; i++) {
      const step = (outTs[i]! - outTs[i - 1]!) >>> 0;
      expect(step).toBeGreaterThan(0);
      expect(step).toBeLessThan(10_000);
    }
  });

  it('uses the minimum step when no time passed, and caps huge pauses', () => {
    const now = { t: 0 };
    const rw = video(now, { maxTimestampStep: 90_000 });
    rw.switchTo('a');
    const a = new Source(1, 1, 0);
    const b = new Source(2, 1, 0);
    const t0 = hdr(rw.rewrite('a', a.packet(VP8_KEY))).timestamp;
    rw.switchTo('b');
    const t1 = hdr(rw.rewrite('b', b.packet(VP8_KEY))).timestamp;
    expect(t1 - t0).toBe(3000); // one 30 fps frame
    rw.switchTo('a');
    now.t += 3_600_000; // an hour later
    const t2 = hdr(rw.rewrite('a', a.packet(VP8_KEY))).timestamp;
    expect((t2 - t1) >>> 0).toBe(90_000);
  });

  it('re-splices when the same source changes SSRC (its sender restarted) and waits for its keyframe', () => {
    const now = { t: 0 };
    const wanted = vi.fn();
    const rw = video(now, { onKeyframeNeeded: wanted });
    rw.switchTo('a');
    const a1 = new Source(1, 100, 0);
    rw.rewrite('a', a1.packet(VP8_KEY));
    rw.rewrite('a', a1.packet(VP8_DELTA));
    const a2 = new Source(2, 7, 555);
    expect(rw.rewrite('a', a2.packet(VP8_DELTA))).toBeUndefined();
    expect(rw.wantsKeyframe).toBe(true);
    expect(wanted).toHaveBeenCalledTimes(2);
    expect(hdr(rw.rewrite('a', a2.packet(VP8_KEY))).sequenceNumber).toBe(1002);
  });

  it('switchTo(undefined) stops output; the next source continues the numbering', () => {
    const rw = video({ t: 0 });
    rw.switchTo('a');
    const a = new Source(1, 1, 0);
    rw.rewrite('a', a.packet(VP8_KEY));
    rw.switchTo(undefined);
    expect(rw.wantsKeyframe).toBe(false);
    expect(rw.rewrite('a', a.packet(VP8_KEY))).toBeUndefined();
    rw.switchTo('a');
    expect(hdr(rw.rewrite('a', a.packet(VP8_KEY))).sequenceNumber).toBe(1001);
  });

  it('maps each input payload type through the table (e.g. two routers numbering VP8 differently)', () => {
    const rw = new RtpRewriter({
      ssrc: 5,
      payloadTypes: new Map([
        [101, 96],
        [120, 96],
      ]),
      codecs: new Map([
        [101, 'video/VP8'],
        [120, 'video/VP8'],
      ]),
      clockRate: 90_000,
    });
    rw.switchTo('a');
    expect(hdr(rw.rewrite('a', new Source(1, 1, 0, 101).packet(VP8_KEY))).payloadType).toBe(96);
    rw.switchTo('b');
    expect(hdr(rw.rewrite('b', new Source(2, 1, 0, 120).packet(VP8_KEY))).payloadType).toBe(96);
  });

  it('a payload type without a known codec starts a source at once (cannot be inspected)', () => {
    const rw = new RtpRewriter({ ssrc: 5, payloadTypes: { 100: 96, 102: 97 }, codecs: { 100: 'video/VP8' }, clockRate: 90_000, waitForKeyframe: true });
    rw.switchTo('a');
    expect(rw.rewrite('a', new Source(1, 1, 0, 102).packet(Uint8Array.from([1, 2, 3])))).toBeDefined();
  });
});

describe('RtpRewriter: audio', () => {
  it('needs no keyframe and advances timestamps by 20 ms at least', () => {
    const now = { t: 0 };
    const rw = new RtpRewriter({ ssrc: 9, payloadTypes: { 100: 111 }, clockRate: 48_000, initialSequenceNumber: 0, initialTimestamp: 0, now: () => now.t });
    rw.switchTo('a');
    expect(rw.wantsKeyframe).toBe(false);
    const a = new Source(1, 10, 1000);
    const b = new Source(2, 20, 99_999);
    const opus = Uint8Array.from([0x78, 0x01]);
    const o1 = hdr(rw.rewrite('a', a.packet(opus, { tsStep: 960 })));
    now.t += 20;
    const o2 = hdr(rw.rewrite('a', a.packet(opus, { tsStep: 960 })));
    rw.switchTo('b');
    expect(rw.wantsKeyframe).toBe(false);
    now.t += 5;
    const o3 = hdr(rw.rewrite('b', b.packet(opus, { tsStep: 960 })));
    expect([o1.sequenceNumber, o2.sequenceNumber, o3.sequenceNumber]).toEqual([0, 1, 2]);
    expect([o1.timestamp, o2.timestamp, o3.timestamp]).toEqual([0, 960, 960 + 960]);
    expect(o3.payloadType).toBe(111);
  });
});

describe('RtpRewriter on packets Chromium sent', () => {
  const load = (name: string) =>
    JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8')) as { mimeType: string; payloadType: number; packets: string[] };

  it('switches from the VP8 stream to the H.264 stream at the IDR and to VP8 again at its keyframe', () => {
    const vp8 = load('chromium-156-vp8.rtp.json');
    const h264 = load('chromium-156-h264.rtp.json');
    const now = { t: 0 };
    // Both streams carry router payload type 101: the source key, not the payload type, tells them apart.
    const rw = new RtpRewriter({ ssrc: 42, payloadTypes: { 101: 96 }, codecs: { 101: vp8.mimeType }, clockRate: 90_000, now: () => now.t });
    rw.switchTo('vp8');
    const out: Buffer[] = [];
    for (const h of vp8.packets.slice(0, 40)) {
      now.t += 10;
      const p = rw.rewrite('vp8', Buffer.from(h, 'hex'));
      if (p) out.push(p);
    }
    expect(out).toHaveLength(40); // starts at its first keyframe
    // To VP8 packets from the middle of the capture: the next keyframe is index 81.
    const rw2 = new RtpRewriter({ ssrc: 42, payloadTypes: { 101: 96 }, codecs: { 101: vp8.mimeType }, clockRate: 90_000, now: () => now.t });
    rw2.switchTo('vp8');
    const got = vp8.packets.slice(41).map((h) => rw2.rewrite('vp8', Buffer.from(h, 'hex')));
    const firstForwarded = got.findIndex((p) => p !== undefined) + 41;
    expect(firstForwarded).toBe(81);
    expect(isKeyframe('video/VP8', rtpPayload(got[firstForwarded - 41]!))).toBe(true);
    // H.264: starts at the SPS/PPS STAP-A (index 0) so the decoder gets the parameter sets too.
    const rw3 = new RtpRewriter({ ssrc: 42, payloadTypes: { 101: 102 }, codecs: { 101: h264.mimeType }, clockRate: 90_000 });
    rw3.switchTo('h264');
    const g3 = h264.packets.slice(2).map((h) => rw3.rewrite('h264', Buffer.from(h, 'hex')));
    expect(g3.findIndex((p) => p !== undefined) + 2).toBe(59);
  });
});
