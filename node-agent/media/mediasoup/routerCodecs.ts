import type { types } from 'mediasoup';

/**
 * What every conference router offers: Opus, VP8 and H.264 (Constrained Baseline, as room systems
 * send), with the payload types Chrome offers for them. mediasoup consumers send the router's
 * payload types, and a single-stream leg's SDP answer must use the offer's: with Chrome's numbers
 * here, Chrome-based clients (the Pexip web SDK) get exactly what their offer asked for.
 */
export const ROUTER_MEDIA_CODECS: types.RouterRtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', preferredPayloadType: 111, clockRate: 48_000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', preferredPayloadType: 96, clockRate: 90_000, parameters: { 'x-google-start-bitrate': 600 } },
  {
    kind: 'video',
    mimeType: 'video/H264',
    preferredPayloadType: 108,
    clockRate: 90_000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
  },
  // G.722 and G.711 for SIP phones without Opus (the mixer transcodes); last, so WebRTC clients keep Opus.
  { kind: 'audio', mimeType: 'audio/G722', preferredPayloadType: 9, clockRate: 8_000 },
  { kind: 'audio', mimeType: 'audio/PCMU', preferredPayloadType: 0, clockRate: 8_000 },
  { kind: 'audio', mimeType: 'audio/PCMA', preferredPayloadType: 8, clockRate: 8_000 },
];
