import { z } from 'zod';
import {
  CONFERENCE_NAME_SCREENS,
  DEFAULT_LABELS,
  DEFAULT_SCREENS,
  DIRECT_MEDIA_SCREENS,
  ICON_DEFAULTS,
  PIN_DIGITS_DEFAULTS,
  TEXT_DEFAULTS,
  WHITE,
} from './splashDefaults.js';

/**
 * What the node reads from a theme's themeconfig.json. The management server validated the
 * package on upload; here each part falls back to "not set" instead of failing, so one odd key
 * never costs a meeting its splash screens.
 */
const color = z.string().regex(/^0x([0-9A-Fa-f]{6}|[0-9A-Fa-f]{8})$/);
const num = z.number().finite();
const elementSchema = z.looseObject({
  type: z.enum(['icon', 'text', 'pin_digits']),
  path: z.string().optional().catch(undefined),
  label: z.string().optional().catch(undefined),
  text: z.string().optional().catch(undefined),
  color: color.optional().catch(undefined),
  offset_x: num.optional().catch(undefined),
  offset_y: num.optional().catch(undefined),
  width: num.optional().catch(undefined),
  height: num.optional().catch(undefined),
  font_size: num.optional().catch(undefined),
  font: z.string().optional().catch(undefined),
  letter_spacing: num.optional().catch(undefined),
  line_spacing: num.optional().catch(undefined),
  align: z.enum(['center', 'left', 'right']).optional().catch(undefined),
  digit_width: num.optional().catch(undefined),
  digit_height: num.optional().catch(undefined),
  digit_spacing: num.optional().catch(undefined),
});
type Element = z.output<typeof elementSchema>;
const screenSchema = z.object({
  layout_type: z.enum(['vertical', 'free_form']).optional().catch(undefined),
  background: z
    .union([z.object({ path: z.string() }), z.object({ color })])
    .optional()
    .catch(undefined),
  // Elements of unknown type are dropped, not the whole screen.
  elements: z
    .array(z.unknown())
    .transform((els) =>
      els.flatMap((e) => {
        const p = elementSchema.safeParse(e);
        return p.success ? [p.data] : [];
      }),
    )
    .optional()
    .catch(undefined),
});
type Screen = z.output<typeof screenSchema>;

export const nodeThemeConfigSchema = z.object({
  theme_version: z.number().optional().catch(undefined),
  // The Host keypad controls (dtmfControls.ts): an unreadable value counts as one that disables them.
  enable_dtmf_conference_control: z.boolean().optional().catch(false),
  dtmf_conference_control_commands: z.record(z.string(), z.unknown()).optional().catch({}),
  text_color: color.optional().catch(undefined),
  splash_screens: z
    .object({
      labels: z.record(z.string(), z.string()).optional().catch(undefined),
      screens: z
        .record(z.string(), z.unknown())
        .transform((r) => {
          const out: Record<string, Screen> = {};
          for (const [k, v] of Object.entries(r)) {
            const p = screenSchema.safeParse(v);
            if (p.success) out[k] = p.data;
          }
          return out;
        })
        .optional()
        .catch(undefined),
    })
    .optional()
    .catch(undefined),
});
export type NodeThemeConfig = z.output<typeof nodeThemeConfigSchema>;

/** Parses themeconfig.json bytes; a missing or unreadable file is an empty config (a legacy theme). */
export function parseThemeConfig(data: Uint8Array | undefined): NodeThemeConfig {
  if (!data) return {};
  try {
    const parsed = nodeThemeConfigSchema.safeParse(JSON.parse(new TextDecoder().decode(data)));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

/** `0xRRGGBB` (opaque) or `0xAARRGGBB` as the ARGB number the client API carries. */
export function argb(value: string): number {
  const hex = value.slice(2);
  return hex.length === 6 ? 0xff000000 + parseInt(hex, 16) : parseInt(hex, 16);
}

export type ThemeTextElement = {
  type: 'text';
  /** ARGB, e.g. 4294967295 = opaque white. */
  color: number;
  text: string;
} & Partial<Record<'offset_x' | 'offset_y' | 'width' | 'height' | 'font_size' | 'letter_spacing' | 'line_spacing', number>> & { font?: string; align?: string };
export type ThemeIconElement = { type: 'icon'; path: string; offset_x: number; offset_y: number; width: number; height: number };
export type ThemePinDigitsElement = { type: 'pin_digits'; path: string } & Record<Exclude<keyof typeof PIN_DIGITS_DEFAULTS, 'path'>, number>;
export type ThemeBackground = { path: string } | { color: number };
export interface ThemeScreen {
  layout_type: 'vertical' | 'free_form' | 'direct_media';
  background: ThemeBackground;
  elements: (ThemeTextElement | ThemeIconElement | ThemePinDigitsElement)[];
}

/**
 * Merges theme configs, most specific first (service theme, default theme, Base), over the
 * built-in defaults: labels key by key; screens key by key and, within a screen, property by
 * property (a theme that sets only a background keeps the default elements; §1.9 says a given
 * `elements` replaces them entirely).
 */
export function mergeConfigs(layers: NodeThemeConfig[]): { labels: Record<string, string>; screens: Record<string, Screen>; textColor: string | undefined } {
  const fromBase = [...layers].reverse();
  const labels: Record<string, string> = { ...DEFAULT_LABELS };
  const screens: Record<string, Screen> = {};
  for (const [k, s] of Object.entries(DEFAULT_SCREENS)) screens[k] = { ...s, elements: s.elements as Element[] };
  let textColor: string | undefined;
  for (const c of fromBase) {
    Object.assign(labels, c.splash_screens?.labels ?? {});
    for (const [k, s] of Object.entries(c.splash_screens?.screens ?? {})) {
      const defined = Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined));
      screens[k] = { ...screens[k], ...defined };
    }
    textColor = c.text_color ?? textColor;
  }
  return { labels, screens, textColor };
}

const pick = <T extends object, K extends string>(o: T, keys: readonly K[]) =>
  Object.fromEntries(keys.flatMap((k) => ((o as Record<string, unknown>)[k] !== undefined ? [[k, (o as Record<string, unknown>)[k]]] : [])));

/**
 * The client API's theme resource (`GET …/theme/`): every splash screen by key, plus the five
 * `direct_media_*` screens the contract requires. Labels are resolved to their text;
 * `{conference_name}` is filled in where the guide allows it.
 */
export function renderTheme(layers: NodeThemeConfig[], conferenceName: string): Record<string, ThemeScreen> {
  const { labels, screens, textColor } = mergeConfigs(layers);
  const defaultColor = textColor ? argb(textColor) : WHITE;
  const textOf = (el: Element, key: string): string => {
    // A `text` naming a label key is read as that label (the guide's one ambiguous example).
    const raw = (el.label !== undefined ? labels[el.label] : undefined) ?? (el.text !== undefined ? (labels[el.text] ?? el.text) : '');
    return CONFERENCE_NAME_SCREENS.has(key) ? raw.replaceAll('{conference_name}', conferenceName) : raw;
  };
  const background = (s: Screen | undefined): ThemeBackground => {
    const b = s?.background;
    if (b && 'color' in b) return { color: argb(b.color) };
    return { path: b?.path ?? 'background.jpg' };
  };
  const element = (el: Element, key: string): ThemeScreen['elements'][number] => {
    if (el.type === 'text') {
      const layout = {
        ...TEXT_DEFAULTS,
        ...pick(el, ['offset_x', 'offset_y', 'width', 'height', 'font_size', 'font', 'letter_spacing', 'line_spacing', 'align'] as const),
      };
      return { type: 'text', color: el.color ? argb(el.color) : defaultColor, text: textOf(el, key), ...layout };
    }
    if (el.type === 'icon') return { type: 'icon', ...ICON_DEFAULTS, ...pick(el, ['offset_x', 'offset_y', 'width', 'height'] as const), path: el.path ?? '' };
    return { type: 'pin_digits', ...PIN_DIGITS_DEFAULTS, ...pick(el, Object.keys(PIN_DIGITS_DEFAULTS)) } as ThemePinDigitsElement;
  };

  const out: Record<string, ThemeScreen> = {};
  for (const [key, s] of Object.entries(screens)) {
    out[key] = {
      layout_type: s.layout_type ?? 'vertical',
      background: background(s),
      elements: (s.elements ?? []).filter((e) => e.type !== 'icon' || e.path).map((e) => element(e, key)),
    };
  }
  // Direct media: the contract's shape exactly ({type, color, text} texts only), taken from the
  // theme's own direct_media_* screen when it defines one, else from the matching catalog screen.
  for (const [key, { source, label }] of Object.entries(DIRECT_MEDIA_SCREENS)) {
    const own = screens[key];
    const src = source ? screens[source] : undefined;
    const els = own?.elements ?? src?.elements ?? [{ type: 'text' as const, label }];
    const texts = els
      .filter((e) => e.type === 'text')
      .map((e) => ({ type: 'text' as const, color: e.color ? argb(e.color) : defaultColor, text: textOf(e, key) }));
    out[key] = { layout_type: 'direct_media', background: background(own?.background ? own : src), elements: texts };
  }
  return out;
}
