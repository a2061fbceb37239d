import type { types as ms } from 'mediasoup-client';

/** Simulcast layers of a camera: ¼, ½ and full size (spatial layers 0, 1, 2). */
export const CAMERA_SIMULCAST: ms.RtpEncodingParameters[] = [
  { scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { scaleResolutionDownBy: 1, maxBitrate: 1_200_000 },
];

/** One layer for a camera too small to split (its smallest layer would be under 160×90). */
export const CAMERA_SINGLE: ms.RtpEncodingParameters[] = [{ maxBitrate: 800_000 }];

/** A presentation: one sharp layer (the node forwards it as it comes). */
export const SCREEN_ENCODINGS: ms.RtpEncodingParameters[] = [{ maxBitrate: 1_500_000, maxFramerate: 15 }];

/**
 * The encodings for a camera track of this size: three simulcast layers from 640×360 (either
 * orientation) up, else one.
 */
export function cameraEncodings(settings: Pick<MediaTrackSettings, 'width' | 'height'>): ms.RtpEncodingParameters[] {
  const w = settings.width ?? 0;
  const h = settings.height ?? 0;
  const big = Math.max(w, h) >= 640 && Math.min(w, h) >= 360;
  return (big ? CAMERA_SIMULCAST : CAMERA_SINGLE).map((e) => ({ ...e }));
}
