/**
 * Test helper: mediasoup's own ORTC logic (node_modules/mediasoup/node/lib/ortc.js, pure JS, no
 * worker) to check that what SdpOffer produces is what router.createRouter / transport.produce /
 * transport.consume accept, and what a Consumer's rtpParameters then look like.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { types } from 'mediasoup';

const require = createRequire(import.meta.url);
// The package's exports hide node/lib/ortc.js: resolve the entry point and go next to it.
const mediasoupLib = dirname(require.resolve('mediasoup'));

interface Ortc {
  generateRouterRtpCapabilities(mediaCodecs: types.RouterRtpCodecCapability[]): types.RtpCapabilities;
  validateRtpParameters(params: types.RtpParameters): void;
  validateRtpCapabilities(caps: types.RtpCapabilities): void;
  getProducerRtpParametersMapping(params: types.RtpParameters, caps: types.RtpCapabilities): unknown;
  getConsumableRtpParameters(kind: string, params: types.RtpParameters, caps: types.RtpCapabilities, mapping: unknown): types.RtpParameters;
  canConsume(consumable: types.RtpParameters, caps: types.RtpCapabilities): boolean;
  getConsumerRtpParameters(o: {
    consumableRtpParameters: types.RtpParameters;
    remoteRtpCapabilities: types.RtpCapabilities;
    pipe: boolean;
    enableRtx: boolean;
  }): types.RtpParameters;
}

export const ortc = require(join(mediasoupLib, 'ortc.js')) as Ortc;

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

/** The conference router's codecs (as node-agent/media/mediasoup/routerCodecs.ts has them). */
export const CONFERENCE_CODECS: types.RouterRtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48_000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90_000, parameters: { 'x-google-start-bitrate': 600 } },
  {
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90_000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
  },
];

export function routerCaps(codecs: types.RouterRtpCodecCapability[] = CONFERENCE_CODECS): types.RtpCapabilities {
  return ortc.generateRouterRtpCapabilities(clone(codecs));
}

/** What transport.produce() does with the parameters before asking the worker (throws like it). */
export function produce(kind: 'audio' | 'video', params: types.RtpParameters, caps: types.RtpCapabilities): types.RtpParameters {
  const p = clone(params);
  ortc.validateRtpParameters(p);
  const mapping = ortc.getProducerRtpParametersMapping(p, caps);
  return ortc.getConsumableRtpParameters(kind, p, caps, mapping);
}

/** What transport.consume({ producerId, rtpCapabilities, mid }) gives as consumer.rtpParameters. */
export function consume(consumable: types.RtpParameters, remoteCaps: types.RtpCapabilities, mid: string | undefined, enableRtx = true): types.RtpParameters {
  const caps = clone(remoteCaps);
  ortc.validateRtpCapabilities(caps);
  if (!ortc.canConsume(consumable, caps)) throw new Error('cannot consume');
  const params = ortc.getConsumerRtpParameters({ consumableRtpParameters: clone(consumable), remoteRtpCapabilities: caps, pipe: false, enableRtx });
  if (mid !== undefined) params.mid = mid;
  return params;
}

const fixturesDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
export function fixture(name: string): string {
  return readFileSync(join(fixturesDir, name), 'utf8');
}
