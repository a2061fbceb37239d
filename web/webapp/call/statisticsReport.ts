import type { CallStatistics } from '../../../shared/client-api/conference.js';
import type { ClientApi } from '../client/ClientApi.js';
import type { MediaSession } from '../media/MediaSession.js';

/** How often this client tells the node what only it knows (the node measures every 5 s). */
export const REPORT_INTERVAL_MS = 5_000;

/** The fields of WebRTC stats entries read here (RTCStatsReport values). */
export interface RtcStat {
  id?: string;
  type: string;
  kind?: string;
  mediaSourceId?: string;
  trackIdentifier?: string;
  frameWidth?: number;
  frameHeight?: number;
  framesPerSecond?: number;
}

/**
 * What this browser sends and receives, as resolution and frame rate per stream type, in the
 * client API's `statistics` shape (tx_ what it sends, rx_ what it receives): the node measures
 * bitrates and loss itself but cannot see inside the video. Simulcast sends several layers: the
 * largest is reported. `typeOfTrack` tells camera from presentation by track id.
 */
export function resolutionReport(stats: Iterable<RtcStat>, typeOfTrack: (trackId: string) => 'video' | 'presentation' | undefined): CallStatistics {
  const all = [...stats];
  // outbound-rtp → its media-source → the local track it sends.
  const sources = new Map(all.filter((s) => s.type === 'media-source' && s.id && s.trackIdentifier).map((s) => [s.id!, s.trackIdentifier!]));
  const best: Partial<Record<'video' | 'presentation', { tx?: RtcStat; rx?: RtcStat }>> = {};
  const bigger = (a: RtcStat | undefined, b: RtcStat) =>
    !a || (b.frameWidth ?? 0) * (b.frameHeight ?? 0) > (a.frameWidth ?? 0) * (a.frameHeight ?? 0) ? b : a;
  for (const s of all) {
    if (s.kind !== 'video' || !s.frameWidth || !s.frameHeight) continue;
    if (s.type === 'outbound-rtp') {
      const track = s.mediaSourceId ? sources.get(s.mediaSourceId) : undefined;
      const type = track ? typeOfTrack(track) : undefined;
      if (type) best[type] = { ...best[type], tx: bigger(best[type]?.tx, s) };
    } else if (s.type === 'inbound-rtp' && s.trackIdentifier) {
      const type = typeOfTrack(s.trackIdentifier);
      if (type) best[type] = { ...best[type], rx: bigger(best[type]?.rx, s) };
    }
  }
  const out: CallStatistics = {};
  for (const type of ['video', 'presentation'] as const) {
    const b = best[type];
    if (!b) continue;
    out[type] = {
      ...(b.tx
        ? { tx_resolution: `${b.tx.frameWidth}x${b.tx.frameHeight}`, ...(b.tx.framesPerSecond !== undefined ? { tx_fps: b.tx.framesPerSecond } : {}) }
        : {}),
      ...(b.rx
        ? { rx_resolution: `${b.rx.frameWidth}x${b.rx.frameHeight}`, ...(b.rx.framesPerSecond !== undefined ? { rx_fps: b.rx.framesPerSecond } : {}) }
        : {}),
    };
  }
  return out;
}

/** Reports this client's resolutions to the node every few seconds until the returned stop is called. */
export function startStatisticsReport(media: MediaSession, api: ClientApi, selfUuid: string): () => void {
  const typeOfTrack = (id: string): 'video' | 'presentation' | undefined => {
    if (media.localState().screen?.id === id) return 'presentation';
    if (media.localStream.getVideoTracks().some((t) => t.id === id)) return 'video';
    const remote = media.remoteTracks().find((r) => r.track.id === id && r.kind === 'video');
    return remote ? (remote.source === 'screen' ? 'presentation' : 'video') : undefined;
  };
  const timer = setInterval(() => {
    void media
      .getStats()
      .then((report) => {
        const body = resolutionReport([...report.values()] as RtcStat[], typeOfTrack);
        return Object.keys(body).length > 0 ? api.participantPost(selfUuid, 'statistics', body) : undefined;
      })
      // Best effort: a missed report only leaves the node's last figures in place.
      .catch(() => undefined);
  }, REPORT_INTERVAL_MS);
  return () => clearInterval(timer);
}
