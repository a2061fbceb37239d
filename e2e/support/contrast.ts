import type { Page } from '@playwright/test';

export interface LowContrast {
  text: string;
  ratio: number;
  color: string;
  background: string;
}

/**
 * WCAG contrast of the visible text on a page: for each element with its own text, its colour
 * against the first opaque background behind it (ancestors' background colours; text over video
 * or images is skipped, as its background is not a colour). Returns what falls below `min`.
 */
export async function lowContrastText(page: Page, min = 4.5): Promise<LowContrast[]> {
  return page.evaluate((minRatio) => {
    const parse = (c: string): [number, number, number, number] | null => {
      const m = /rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)/.exec(c);
      return m ? [Number(m[1]), Number(m[2]), Number(m[3]), m[4] === undefined ? 1 : Number(m[4])] : null;
    };
    const lum = ([r, g, b]: number[]) => {
      const f = (v: number) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * f(r!) + 0.7152 * f(g!) + 0.0722 * f(b!);
    };
    const blend = (top: number[], under: number[]) => {
      const a = top[3]!;
      return [0, 1, 2].map((i) => top[i]! * a + under[i]! * (1 - a));
    };
    const out: { text: string; ratio: number; color: string; background: string }[] = [];
    const all = document.querySelectorAll<HTMLElement>('body *');
    for (const el of all) {
      const own = [...el.childNodes]
        .filter((n) => n.nodeType === Node.TEXT_NODE)
        .map((n) => n.textContent ?? '')
        .join('')
        .trim();
      if (!own) continue;
      const style = getComputedStyle(el);
      const rect = el.getBoundingClientRect();
      if (style.visibility === 'hidden' || rect.width === 0 || rect.height === 0 || Number(style.opacity) === 0) continue;
      if ((el as HTMLButtonElement).disabled) continue; // WCAG exempts inactive controls
      // The backgrounds behind it, nearest first, until an opaque one.
      const layers: number[][] = [];
      let over = false;
      for (let n: HTMLElement | null = el; n; n = n.parentElement) {
        const s = getComputedStyle(n);
        if (n !== el && (n.querySelector(':scope > video, :scope > img') || s.backgroundImage !== 'none')) over = true;
        const bg = parse(s.backgroundColor);
        if (bg && bg[3] > 0) {
          layers.push(bg);
          if (bg[3] >= 1) break;
        }
      }
      if (over && !layers.some((l) => l[3]! >= 1)) continue;
      let bg = [255, 255, 255];
      for (const l of layers.reverse()) bg = blend(l, bg);
      const fg = parse(style.color);
      if (!fg) continue;
      let alpha = fg[3];
      for (let n: HTMLElement | null = el; n; n = n.parentElement) alpha *= Number(getComputedStyle(n).opacity);
      const text = blend([fg[0], fg[1], fg[2], alpha], bg);
      const [hi, lo] = [lum(text), lum(bg)].sort((a, b) => b - a) as [number, number];
      const ratio = (hi + 0.05) / (lo + 0.05);
      if (ratio < minRatio)
        out.push({ text: own.slice(0, 40), ratio: Math.round(ratio * 100) / 100, color: style.color, background: `rgb(${bg.map(Math.round).join(', ')})` });
    }
    return out;
  }, min);
}
