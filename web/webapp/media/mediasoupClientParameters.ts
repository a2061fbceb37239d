import type { types as ms } from 'mediasoup-client';
import { z } from 'zod';

/*
 * The mediasoup objects the node sends (router RTP capabilities, a consumer's RTP parameters, a
 * transport's ICE and DTLS parameters), parsed on arrival so they reach mediasoup-client with its own
 * types. The same shapes as the node's (node-agent/media/mediasoup/mediasoupParameters.ts), typed
 * against mediasoup-client. Objects are loose: fields a newer node adds pass through unchanged;
 * mediasoup-client still checks the values themselves (device.load, consume).
 */

const params = z.record(z.string(), z.unknown());
const kind = z.enum(['audio', 'video']);
const rtcpFeedback = z.looseObject({ type: z.string(), parameter: z.string().optional() });
// mediasoup-client ignores header extensions it does not know: any string is let through.
const uri = z.custom<ms.RtpHeaderExtensionUri>((v) => typeof v === 'string', 'uri must be a string');

export const rtpCapabilities = z.looseObject({
  codecs: z
    .array(
      z.looseObject({
        kind,
        mimeType: z.string(),
        preferredPayloadType: z.number(),
        clockRate: z.number(),
        channels: z.number().optional(),
        parameters: params.optional(),
        rtcpFeedback: z.array(rtcpFeedback).optional(),
      }),
    )
    .optional(),
  headerExtensions: z
    .array(
      z.looseObject({
        kind,
        uri,
        preferredId: z.number(),
        preferredEncrypt: z.boolean().optional(),
        direction: z.enum(['sendrecv', 'sendonly', 'recvonly', 'inactive']).optional(),
      }),
    )
    .optional(),
}) satisfies z.ZodType<ms.RtpCapabilities>;

export const rtpParameters = z.looseObject({
  mid: z.string().optional(),
  codecs: z.array(
    z.looseObject({
      mimeType: z.string(),
      payloadType: z.number(),
      clockRate: z.number(),
      channels: z.number().optional(),
      parameters: params.optional(),
      rtcpFeedback: z.array(rtcpFeedback).optional(),
    }),
  ),
  headerExtensions: z.array(z.looseObject({ uri, id: z.number(), encrypt: z.boolean().optional(), parameters: params.optional() })).optional(),
  encodings: z
    .array(
      z.looseObject({
        ssrc: z.number().optional(),
        rid: z.string().optional(),
        codecPayloadType: z.number().optional(),
        rtx: z.looseObject({ ssrc: z.number() }).optional(),
        dtx: z.boolean().optional(),
        scalabilityMode: z.string().optional(),
        maxBitrate: z.number().optional(),
      }),
    )
    .optional(),
  rtcp: z.looseObject({ cname: z.string().optional(), reducedSize: z.boolean().optional(), mux: z.boolean().optional() }).optional(),
  msid: z.string().optional(),
}) satisfies z.ZodType<ms.RtpParameters>;

export const iceParameters = z.looseObject({
  usernameFragment: z.string(),
  password: z.string(),
  iceLite: z.boolean().optional(),
}) satisfies z.ZodType<ms.IceParameters>;

export const iceCandidate = z.looseObject({
  foundation: z.string(),
  priority: z.number(),
  address: z.string(),
  ip: z.string(),
  protocol: z.enum(['udp', 'tcp']),
  port: z.number(),
  type: z.enum(['host', 'srflx', 'prflx', 'relay']),
  tcpType: z.enum(['active', 'passive', 'so']).optional(),
}) satisfies z.ZodType<ms.IceCandidate>;

export const dtlsParameters = z.looseObject({
  role: z.enum(['auto', 'client', 'server']).optional(),
  fingerprints: z.array(z.looseObject({ algorithm: z.enum(['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512']), value: z.string() })),
}) satisfies z.ZodType<ms.DtlsParameters>;
