import type { types } from 'mediasoup';
import { z } from 'zod';

/*
 * The shapes of the mediasoup objects a client sends (DTLS parameters on connect, RTP parameters on
 * produce), parsed at the node's boundary so they reach mediasoup with its own types; and of those
 * the node sends (ICE parameters and candidates), which test clients parse on their side. Objects are
 * loose: fields mediasoup may add later pass through unchanged, as before; mediasoup still checks
 * the values themselves (codecs against the router, fingerprints on the handshake).
 */

const params = z.record(z.string(), z.unknown());

const dtlsParameters = z.looseObject({
  role: z.enum(['auto', 'client', 'server']).optional(),
  fingerprints: z.array(z.looseObject({ algorithm: z.enum(['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512']), value: z.string() })),
}) satisfies z.ZodType<types.DtlsParameters>;

const rtpParameters = z.looseObject({
  mid: z.string().optional(),
  codecs: z.array(
    z.looseObject({
      mimeType: z.string(),
      payloadType: z.number(),
      clockRate: z.number(),
      channels: z.number().optional(),
      parameters: params.optional(),
      rtcpFeedback: z.array(z.looseObject({ type: z.string(), parameter: z.string().optional() })).optional(),
    }),
  ),
  headerExtensions: z
    .array(
      z.looseObject({
        // mediasoup checks only that the URI is a string (it ignores extensions it does not know).
        uri: z.custom<types.RtpHeaderExtensionUri>((v) => typeof v === 'string', 'uri must be a string'),
        id: z.number(),
        encrypt: z.boolean().optional(),
        parameters: params.optional(),
      }),
    )
    .optional(),
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
  rtcp: z.looseObject({ cname: z.string().optional(), reducedSize: z.boolean().optional() }).optional(),
}) satisfies z.ZodType<types.RtpParameters>;

export const iceParameters = z.looseObject({
  usernameFragment: z.string(),
  password: z.string(),
  iceLite: z.boolean().optional(),
}) satisfies z.ZodType<types.IceParameters>;

export const iceCandidate = z.looseObject({
  foundation: z.string(),
  priority: z.number(),
  ip: z.string(),
  address: z.string(),
  protocol: z.enum(['udp', 'tcp']),
  port: z.number(),
  type: z.literal('host'),
  tcpType: z.literal('passive').optional(),
}) satisfies z.ZodType<types.IceCandidate>;

export { dtlsParameters, rtpParameters };

/** The client's DTLS parameters, or an error naming what is wrong. */
export function parseDtlsParameters(value: unknown): z.ZodSafeParseResult<types.DtlsParameters> {
  return dtlsParameters.safeParse(value);
}

/** The client's RTP parameters for a stream it sends, or an error naming what is wrong. */
export function parseRtpParameters(value: unknown): z.ZodSafeParseResult<types.RtpParameters> {
  return rtpParameters.safeParse(value);
}
