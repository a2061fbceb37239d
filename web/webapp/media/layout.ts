import { LAYOUT_SHORT, type LayoutShort, type StageEntry } from '../../../shared/client-api/media.js';
import type { VideoWant } from './types.js';

/**
 * The layouts the meeting client draws from the stage (guide §21.4): the guide's five, plus an
 * adaptive gallery. Pure functions: who goes where, what is hidden (last-N) and which simulcast
 * layer and priority each shown tile asks for.
 */
export type LayoutKind = LayoutShort | 'auto';

export const LAYOUTS: readonly { value: LayoutKind; label: string }[] = [
  { value: '1:0', label: 'Speaker only (1+0)' },
  { value: '4:0', label: '4 speakers (4+0)' },
  { value: '1:7', label: 'Speaker + 7 (1+7)' },
  { value: '1:21', label: 'Speaker + 21 (1+21)' },
  { value: '2:21', label: '2 speakers + 21 (2+21)' },
  { value: 'auto', label: 'Gallery' },
];

export const DEFAULT_LAYOUT: LayoutKind = '1:7';

/** Equal tiles at most in the gallery; more participants share a "+N" tile. */
export const GALLERY_MAX = 16;

const SHORTS = new Set<string>(Object.values(LAYOUT_SHORT));

/**
 * A layout from the token's `default_layout` (or a picker): the short forms (`1:7`), Pexip's
 * names (`one_main_seven_pips`), `auto`; anything else is null.
 */
export function parseLayout(value: unknown): LayoutKind | null {
  if (typeof value !== 'string') return null;
  const v = value.trim().toLowerCase();
  if (v === 'auto' || v === 'ac' || v === 'gallery') return 'auto';
  if (SHORTS.has(v)) return v as LayoutShort;
  if (Object.hasOwn(LAYOUT_SHORT, v)) return LAYOUT_SHORT[v as keyof typeof LAYOUT_SHORT];
  return null;
}

/** How many main tiles and thumbnails each layout has. */
export function capacity(layout: LayoutKind): { mains: number; thumbs: number } {
  switch (layout) {
    case '1:0':
      return { mains: 1, thumbs: 0 };
    case '4:0':
      return { mains: 4, thumbs: 0 };
    case '1:7':
      return { mains: 1, thumbs: 7 };
    case '1:21':
      return { mains: 1, thumbs: 21 };
    case '2:21':
      return { mains: 2, thumbs: 21 };
    case 'auto':
      return { mains: GALLERY_MAX, thumbs: 0 };
  }
}

const byIndex = (stage: readonly StageEntry[]) => [...stage].sort((a, b) => a.stage_index - b.stage_index);

/**
 * The active speaker: the first entry in stage order that is speaking now (vad > 0), else the
 * most recent speaker this client saw (`recent`), else the stage's first entry. Null when there
 * is none.
 */
export function activeSpeaker(stage: readonly StageEntry[], recent: readonly string[] = []): string | null {
  const sorted = byIndex(stage);
  const present = new Set(sorted.map((e) => e.participant_uuid));
  return sorted.find((e) => e.vad > 0)?.participant_uuid ?? recent.find((u) => present.has(u)) ?? sorted[0]?.participant_uuid ?? null;
}

/** How many recent speakers a client remembers. */
const RECENT_MAX = 64;

/**
 * The speakers this client has seen, most recent first, after a stage event: whoever speaks now
 * (the first in stage order) moves to the front. The node's stage order follows its dominant
 * speaker, which takes seconds to switch; voice activity moves a speaker into view at once.
 */
export function updateRecency(recent: readonly string[], stage: readonly StageEntry[]): string[] {
  const now = byIndex(stage).find((e) => e.vad > 0)?.participant_uuid;
  if (!now || recent[0] === now) return recent as string[];
  return [now, ...recent.filter((u) => u !== now)].slice(0, RECENT_MAX);
}

/**
 * Other participants by recency of speech: the speakers this client saw (`recent`), then stage
 * order (the node's most recent speaker first), then those neither names in their given (joining)
 * order. The viewer is left out: when they are the current speaker they see the previous one.
 */
export function speakerOrder(participants: readonly string[], stage: readonly StageEntry[], selfUuid: string, recent: readonly string[] = []): string[] {
  const eligible = new Set(participants.filter((p) => p !== selfUuid));
  const order: string[] = [];
  const add = (u: string) => {
    if (eligible.has(u) && !order.includes(u)) order.push(u);
  };
  recent.forEach(add);
  byIndex(stage).forEach((e) => add(e.participant_uuid));
  eligible.forEach(add);
  return order;
}

export interface TileSlot {
  uuid: string;
  area: 'main' | 'thumb';
  /** Simulcast layer for the tile's size: 2 big … 0 thumbnail. */
  spatialLayer: 0 | 1 | 2;
  /** 1–255: who gets bandwidth first (the main speaker highest). */
  priority: number;
}

export interface LayoutInput {
  layout: LayoutKind;
  selfUuid: string;
  /** Participants who may have a tile (not the viewer), in joining order. */
  participants: readonly string[];
  stage: readonly StageEntry[];
  /** Speakers this client saw, most recent first (updateRecency). */
  recent?: readonly string[];
  /** A presentation is shown: everyone moves to a strip beside it. */
  presentation?: boolean;
  /** A Virtual Auditorium's Host view (guide §21.5): these Hosts come first, each group by recency. */
  hostsFirst?: ReadonlySet<string>;
  /** Spotlit participants, earliest spotlit first: they lead the stage whoever speaks. */
  spotlight?: readonly string[];
}

export interface LayoutResult {
  layout: LayoutKind;
  mains: TileSlot[];
  thumbs: TileSlot[];
  /** Participants with no tile: a "+N" tile (1+7, 1+21, 2+21, gallery, beside a presentation) or the count icon (1+0, 4+0). */
  overflow: number;
  /** Whether the overflow takes a thumbnail's place ("+N") rather than a count icon. */
  overflowTile: boolean;
  /** Participants whose video is not shown: pause it (last-N). */
  hidden: string[];
  /** The active speaker (may be the viewer). */
  activeSpeaker: string | null;
  /** Everyone speaking now. */
  speaking: string[];
}

const MAIN_PRIORITY = 220;
const SECOND_PRIORITY = 160;
const THUMB_PRIORITY = 60;

/** Up to `cap` of `order`; past it the last place becomes "+N" when `replaceLast`, else a count icon. */
function fill(order: readonly string[], cap: number, replaceLast: boolean): { shown: string[]; overflow: number } {
  if (order.length <= cap) return { shown: [...order], overflow: 0 };
  const n = replaceLast ? Math.max(cap - 1, 0) : cap;
  return { shown: order.slice(0, n), overflow: order.length - n };
}

export function computeLayout(input: LayoutInput): LayoutResult {
  const recent = input.recent ?? [];
  const bySpeech = speakerOrder(input.participants, input.stage, input.selfUuid, recent);
  const spot = (input.spotlight ?? []).filter((u) => bySpeech.includes(u));
  const byRecency = spot.length ? [...spot, ...bySpeech.filter((u) => !spot.includes(u))] : bySpeech;
  const hosts = input.hostsFirst;
  const order = hosts ? [...byRecency.filter((u) => hosts.has(u)), ...byRecency.filter((u) => !hosts.has(u))] : byRecency;
  const cap = capacity(input.layout);
  const speaking = byIndex(input.stage)
    .filter((e) => e.vad > 0)
    .map((e) => e.participant_uuid);
  const base = { layout: input.layout, activeSpeaker: activeSpeaker(input.stage, recent), speaking };
  const slot = (uuid: string, area: TileSlot['area'], spatialLayer: TileSlot['spatialLayer'], priority: number): TileSlot => ({
    uuid,
    area,
    spatialLayer,
    priority,
  });
  const hiddenOf = (shown: readonly string[]) => order.filter((p) => !shown.includes(p));

  if (input.presentation) {
    // People beside the presentation: as many as the layout has places (the speaker alone in 1+0).
    const places = input.layout === 'auto' ? 8 : cap.mains + cap.thumbs;
    const { shown, overflow } = fill(order, places, places > 4);
    return {
      ...base,
      mains: [],
      thumbs: shown.map((u, i) => slot(u, 'thumb', i === 0 && shown.length <= 2 ? 1 : 0, i === 0 ? SECOND_PRIORITY : THUMB_PRIORITY)),
      overflow,
      overflowTile: places > 4,
      hidden: hiddenOf(shown),
    };
  }

  if (input.layout === 'auto') {
    const { shown, overflow } = fill(order, GALLERY_MAX, true);
    const layer: TileSlot['spatialLayer'] = shown.length <= 1 ? 2 : shown.length <= 4 ? 1 : 0;
    return {
      ...base,
      mains: shown.map((u, i) => slot(u, 'main', layer, i === 0 ? MAIN_PRIORITY : SECOND_PRIORITY)),
      thumbs: [],
      overflow,
      overflowTile: true,
      hidden: hiddenOf(shown),
    };
  }

  const mainIds = order.slice(0, cap.mains);
  const rest = order.slice(cap.mains);
  const mainLayer: TileSlot['spatialLayer'] = input.layout === '1:0' || input.layout === '1:7' || (input.layout === '4:0' && mainIds.length === 1) ? 2 : 1;
  const mains = mainIds.map((u, i) => slot(u, 'main', mainLayer, i === 0 ? MAIN_PRIORITY : SECOND_PRIORITY));
  if (cap.thumbs === 0) {
    return { ...base, mains, thumbs: [], overflow: rest.length, overflowTile: false, hidden: rest };
  }
  const { shown, overflow } = fill(rest, cap.thumbs, true);
  return {
    ...base,
    mains,
    thumbs: shown.map((u) => slot(u, 'thumb', 0, THUMB_PRIORITY)),
    overflow,
    overflowTile: true,
    hidden: hiddenOf([...mainIds, ...shown]),
  };
}

/** The layout as camera wants per participant: shown tiles with layer and priority, hidden ones paused. */
export function videoPlan(result: LayoutResult): Map<string, VideoWant> {
  const plan = new Map<string, VideoWant>();
  for (const s of [...result.mains, ...result.thumbs]) plan.set(s.uuid, { paused: false, spatialLayer: s.spatialLayer, priority: s.priority });
  for (const u of result.hidden) plan.set(u, { paused: true });
  return plan;
}

/**
 * Where each tile sits on a CSS grid: the number of columns and, per tile, its column/row span.
 * `narrow` (a phone) packs thumbnails four to a row.
 */
export interface GridPlacement {
  columns: number;
  /** CSS grid-template-rows. */
  rows: string;
  tiles: { uuid: string | null; column: string; row: string }[];
}

export function gridPlacement(result: LayoutResult, narrow: boolean): GridPlacement {
  const tiles: GridPlacement['tiles'] = [];
  const mains = result.mains.map((m) => m.uuid);
  const thumbs: (string | null)[] = result.thumbs.map((t) => t.uuid);
  if (result.overflow > 0 && result.overflowTile) thumbs.push(null); // the "+N" tile

  if (result.layout === 'auto') {
    const all: (string | null)[] = [...mains, ...thumbs];
    const n = Math.max(all.length, 1);
    const columns = narrow ? (n <= 1 ? 1 : 2) : Math.ceil(Math.sqrt(n));
    const rowCount = Math.ceil(n / columns);
    all.forEach((uuid) => tiles.push({ uuid, column: 'auto', row: 'auto' }));
    return { columns, rows: `repeat(${rowCount}, minmax(0, 1fr))`, tiles };
  }

  if (result.layout === '4:0' || result.layout === '1:0') {
    const n = mains.length;
    if (n <= 1) {
      mains.forEach((uuid) => tiles.push({ uuid, column: '1 / -1', row: '1' }));
      return { columns: 1, rows: 'minmax(0, 1fr)', tiles };
    }
    if (n === 2) {
      if (narrow) {
        mains.forEach((uuid, i) => tiles.push({ uuid, column: '1', row: String(i + 1) }));
        return { columns: 1, rows: 'repeat(2, minmax(0, 1fr))', tiles };
      }
      mains.forEach((uuid, i) => tiles.push({ uuid, column: String(i + 1), row: '1' }));
      return { columns: 2, rows: 'minmax(0, 1fr)', tiles };
    }
    if (n === 3) {
      // One top centre, two below.
      tiles.push({ uuid: mains[0]!, column: '2 / span 2', row: '1' });
      tiles.push({ uuid: mains[1]!, column: '1 / span 2', row: '2' });
      tiles.push({ uuid: mains[2]!, column: '3 / span 2', row: '2' });
      return { columns: 4, rows: 'repeat(2, minmax(0, 1fr))', tiles };
    }
    mains.forEach((uuid, i) => tiles.push({ uuid, column: String((i % 2) + 1), row: String(Math.floor(i / 2) + 1) }));
    return { columns: 2, rows: 'repeat(2, minmax(0, 1fr))', tiles };
  }

  // 1+7, 1+21, 2+21: mains on top, thumbnails in rows below.
  const perRow = narrow ? 4 : 7;
  const unit = result.layout === '2:21' ? 2 : 1; // 2+21 uses a doubled grid so two mains split it evenly
  const columns = perRow * unit;
  const thumbRows = Math.ceil(thumbs.length / perRow);
  if (result.layout === '2:21') {
    if (mains.length === 1) tiles.push({ uuid: mains[0]!, column: '1 / -1', row: '1' });
    else mains.forEach((uuid, i) => tiles.push({ uuid, column: `${i * perRow + 1} / span ${perRow}`, row: '1' }));
  } else if (result.layout === '1:21' && !narrow) {
    mains.forEach((uuid) => tiles.push({ uuid, column: '2 / span 5', row: '1' }));
  } else {
    mains.forEach((uuid) => tiles.push({ uuid, column: '1 / -1', row: '1' }));
  }
  // One row of thumbnails sits centred under the main tile(s).
  const offset = thumbs.length < perRow ? Math.floor((perRow - thumbs.length) / 2) : 0;
  thumbs.forEach((uuid, i) => {
    const col = ((i % perRow) + offset) * unit + 1;
    tiles.push({ uuid, column: unit === 1 ? String(col) : `${col} / span ${unit}`, row: String(Math.floor(i / perRow) + 2) });
  });
  const mainRow = mains.length ? 'minmax(0, 1fr)' : '0';
  return { columns, rows: thumbRows ? `${mainRow} repeat(${thumbRows}, auto)` : mainRow, tiles };
}
