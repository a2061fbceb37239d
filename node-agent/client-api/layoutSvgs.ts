import { LAYOUT_SHORT, type LayoutShort } from '../../shared/client-api/media.js';
import type { LayoutSvgs } from '../../shared/client-api/conference.js';

/**
 * GET `layout_svgs` (client-api-v2 §6): each layout the node offers drawn as a small 16:9 SVG, so a
 * client can show a picker. Main speakers are the large cells across the top; thumbnails (pips)
 * sit in rows of 7 along the bottom, as the guide's layout pictures show.
 */
const W = 160;
const H = 90;
const GAP = 2;

interface Cell {
  x: number;
  y: number;
  w: number;
  h: number;
  main: boolean;
}

function cells(layout: LayoutShort): Cell[] {
  const [mains, pips] = layout.split(':').map(Number) as [number, number];
  const pipRows = Math.ceil(pips / 7);
  const pipH = pips > 0 ? (H - GAP * (pipRows + 1)) / (pipRows + 4) : 0;
  const mainArea = H - pipRows * (pipH + GAP);
  const out: Cell[] = [];
  // Four mains are a 2×2 grid; one or two sit side by side.
  const cols = mains === 4 ? 2 : mains;
  const rows = Math.ceil(mains / cols);
  const mw = (W - GAP * (cols + 1)) / cols;
  const mh = (mainArea - GAP * (rows + 1)) / rows;
  for (let i = 0; i < mains; i++) out.push({ x: GAP + (i % cols) * (mw + GAP), y: GAP + Math.floor(i / cols) * (mh + GAP), w: mw, h: mh, main: true });
  const pw = (W - GAP * 8) / 7;
  for (let i = 0; i < pips; i++) {
    const row = Math.floor(i / 7);
    out.push({ x: GAP + (i % 7) * (pw + GAP), y: mainArea + row * (pipH + GAP), w: pw, h: pipH, main: false });
  }
  return out;
}

const round = (n: number) => Math.round(n * 10) / 10;

export function layoutSvg(layout: LayoutShort): string {
  const rects = cells(layout)
    .map((c) => `<rect x="${round(c.x)}" y="${round(c.y)}" width="${round(c.w)}" height="${round(c.h)}" rx="1.5" fill="${c.main ? '#5b6b7f' : '#8fa0b3'}"/>`)
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${layout}"><rect width="${W}" height="${H}" fill="#1d2733"/>${rects}</svg>`;
}

export function layoutSvgs(): LayoutSvgs {
  return Object.fromEntries(Object.values(LAYOUT_SHORT).map((l) => [l, layoutSvg(l)])) as LayoutSvgs;
}
