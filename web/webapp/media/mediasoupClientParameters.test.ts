import type * as mediasoupTypes from 'mediasoup';
import { ortc } from 'mediasoup-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { execFileSync } from 'node:child_process';
import { dtlsParameters, iceCandidate, iceParameters, rtpCapabilities, rtpParameters } from './mediasoupClientParameters.js';

// Our worker build, as the node finds it (asked of the script: web/ imports nothing outside web/ and shared/).
// mediasoup reads MEDIASOUP_WORKER_BIN once, when loaded, so it is loaded after.
process.env.MEDIASOUP_WORKER_BIN ??= execFileSync(process.execPath, ['scripts/mediasoup-worker.mjs', '--quiet'], { encoding: 'utf8' }).trim();
const mediasoup = await import('mediasoup');

// What the node sends comes from a real mediasoup router and transport, through JSON as on the wire.
let worker: mediasoupTypes.types.Worker;
let router: mediasoupTypes.types.Router;
let transport: mediasoupTypes.types.WebRtcTransport;
const wire = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

beforeAll(async () => {
  worker = await mediasoup.createWorker({ logLevel: 'error' });
  router = await worker.createRouter({
    mediaCodecs: [
      { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
      { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
    ],
  });
  transport = await router.createWebRtcTransport({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }] });
});

afterAll(() => worker?.close());

describe('the node’s mediasoup objects, parsed in the meeting client', () => {
  it('accepts a router’s RTP capabilities unchanged, and mediasoup-client takes them', () => {
    const caps = rtpCapabilities.parse(wire(router.rtpCapabilities));
    expect(caps).toEqual(wire(router.rtpCapabilities));
    expect(() => ortc.validateAndNormalizeRtpCapabilities(caps)).not.toThrow();
    expect(caps.codecs?.map((c) => c.mimeType)).toEqual(expect.arrayContaining(['audio/opus', 'video/VP8']));
  });

  it('accepts a transport’s ICE and DTLS parameters and candidates unchanged', () => {
    expect(iceParameters.parse(wire(transport.iceParameters))).toEqual(wire(transport.iceParameters));
    expect(z.array(iceCandidate).parse(wire(transport.iceCandidates))).toEqual(wire(transport.iceCandidates));
    expect(dtlsParameters.parse(wire(transport.dtlsParameters))).toEqual(wire(transport.dtlsParameters));
  });

  it('accepts a consumer’s RTP parameters, keeping fields it does not list', () => {
    const sent = {
      codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }],
      encodings: [{ ssrc: 1234 }],
      rtcp: { cname: 'x' },
      future: 1,
    };
    const parsed = rtpParameters.parse(sent);
    expect(parsed).toEqual(sent);
    expect(() => ortc.validateAndNormalizeRtpParameters(parsed)).not.toThrow();
  });

  it('refuses malformed objects, naming the field', () => {
    const dtls = dtlsParameters.safeParse({ role: 'auto' });
    expect(dtls.success).toBe(false);
    expect(dtls.error?.issues[0]?.path).toEqual(['fingerprints']);
    const candidate = iceCandidate.safeParse({ ...(wire(transport.iceCandidates[0]) as object), protocol: 'sctp' });
    expect(candidate.error?.issues[0]?.path).toEqual(['protocol']);
    expect(rtpParameters.safeParse({ codecs: [{ mimeType: 'audio/opus', payloadType: '100', clockRate: 48000 }] }).error?.issues[0]?.path).toEqual([
      'codecs',
      0,
      'payloadType',
    ]);
    expect(rtpCapabilities.safeParse({ codecs: 'opus' }).success).toBe(false);
    expect(iceParameters.safeParse(null).success).toBe(false);
  });
});
