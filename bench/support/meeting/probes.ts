import type { Page } from 'playwright-core';

/**
 * What the meeting benchmark reads from a meeting client page (web/webapp via `window.meeting`):
 * the video tiles shown and the counters of both media transports' getStats().
 */
export interface InboundVideo {
  /** The sender (participant uuid) of this consumer's track; null when the track is not known. */
  uuid: string | null;
  framesDecoded: number;
  frameHeight: number;
  /** ms (stats clock). */
  ts: number;
}

export interface OutboundVideo {
  rid: string;
  framesEncoded: number;
  frameHeight: number;
  qualityLimitationReason: string;
  ts: number;
}

export interface PageVideoStats {
  self: string;
  layout: string;
  /** Tiles of other participants shown on the page. */
  tiles: { uuid: string; video: boolean }[];
  inbound: InboundVideo[];
  outbound: OutboundVideo[];
}

/** One page's tiles and video counters; null when it is not in a call. */
export async function videoStats(page: Page): Promise<PageVideoStats | null> {
  return page.evaluate(async () => {
    const m = window.meeting;
    if (!m) return null;
    const owner = new Map(
      m.media
        .remoteTracks()
        .filter((t) => t.kind === 'video' && t.source === 'camera')
        .map((t) => [t.track.id, t.participant_uuid] as const),
    );
    const tiles = [...document.querySelectorAll<HTMLElement>('[data-testid="participant-tile"]')].map((el) => ({
      uuid: el.dataset.participantUuid ?? '',
      video: el.dataset.video === 'on',
    }));
    const inbound: { uuid: string | null; framesDecoded: number; frameHeight: number; ts: number }[] = [];
    const outbound: { rid: string; framesEncoded: number; frameHeight: number; qualityLimitationReason: string; ts: number }[] = [];
    type Stat = {
      type: string;
      kind?: string;
      trackIdentifier?: string;
      framesDecoded?: number;
      framesEncoded?: number;
      frameHeight?: number;
      rid?: string;
      qualityLimitationReason?: string;
      timestamp: number;
    };
    (await m.pc.getStats()).forEach((r: Stat) => {
      if (r.type === 'inbound-rtp' && r.kind === 'video')
        inbound.push({
          uuid: (r.trackIdentifier && owner.get(r.trackIdentifier)) || null,
          framesDecoded: r.framesDecoded ?? 0,
          frameHeight: r.frameHeight ?? 0,
          ts: r.timestamp,
        });
      if (r.type === 'outbound-rtp' && r.kind === 'video')
        outbound.push({
          rid: r.rid ?? '',
          framesEncoded: r.framesEncoded ?? 0,
          frameHeight: r.frameHeight ?? 0,
          qualityLimitationReason: r.qualityLimitationReason ?? '',
          ts: r.timestamp,
        });
    });
    const stage = document.querySelector<HTMLElement>('[data-testid="media-stage"]');
    return { self: m.token.participant_uuid, layout: stage?.dataset.layout ?? '', tiles, inbound, outbound };
  });
}

/**
 * Presses the join form's Join button and resolves with the ms until the first remote video
 * frame is decoded (inbound-rtp video framesDecoded > 0, getStats polled every 10 ms), all
 * measured inside the page.
 */
export async function clickJoinAndTimeFirstFrame(page: Page, timeoutMs: number): Promise<number> {
  return page.evaluate(async (limit) => {
    const button = document.querySelector<HTMLButtonElement>('main.join button[type=submit]');
    if (!button) throw new Error('no Join button');
    const t0 = performance.now();
    button.click();
    for (;;) {
      const pc = window.meeting?.pc;
      if (pc) {
        let frames = 0;
        (await pc.getStats()).forEach((r: { type: string; kind?: string; framesDecoded?: number }) => {
          if (r.type === 'inbound-rtp' && r.kind === 'video') frames += r.framesDecoded ?? 0;
        });
        if (frames > 0) return performance.now() - t0;
      }
      if (performance.now() - t0 > limit) throw new Error(`no remote frame within ${limit} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }, timeoutMs);
}
