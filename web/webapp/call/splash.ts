import type { Theme, ThemeScreen } from '../client/ClientApi.js';

/**
 * Built-in English labels for the splash screens the node announces (SSE `splash_screen`), used
 * when the conference's theme has no text for that screen (admin guide, themes §1.7–1.8).
 */
export const BUILT_IN_SPLASH: Record<string, string> = {
  welcome: 'Welcome',
  connecting: 'Connecting…',
  waiting_for_host: 'Waiting for the host…',
  other_participants_audio_only: 'The other participants are audio only',
  timeout: 'Time exceeded',
  inlobby_status_unknown: 'Call connecting',
  inlobby: 'Welcome to the lobby,\nyour meeting host will admit you soon',
  pin_welcome: 'Please enter PIN',
  pin_correct: 'Welcome',
  pin_invalid: 'Invalid PIN\nPlease try again',
  virtual_reception_welcome: 'Enter the conference number followed by #',
  virtual_reception_conference_id_entry: '{conference_id}',
  virtual_reception_conference_id_invalid: 'That number is not valid. Please try again.',
  virtual_reception_connecting: 'Connecting you to {conference_name}…',
  no_presentation: 'Waiting for presentation…',
  streaming_in_progress: 'Your video is being streamed',
  stream_waiting: 'Streaming will begin shortly…',
  error_capacity_exceeded: 'Capacity exceeded',
  error_insufficient_licenses: 'Insufficient licenses',
  error_insufficient_video_licenses: 'Insufficient video licenses\nYou can still share content and audio',
  error_invalid_license: 'Invalid license',
  test_call_welcome: "Live Test\nLet's test your video and audio. Count out loud from one to three…",
  test_call_in_progress: 'You will see and hear yourself with a two second delay',
  test_call_complete: 'If you have technical issues, check your settings or contact your administrator',
};

/** Label keys (themeconfig `labels`) → the built-in string, for theme elements that name a label. */
const BUILT_IN_LABELS: Record<string, string> = {
  enter_conference_id: BUILT_IN_SPLASH.virtual_reception_welcome!,
  conference_id_entry: '{conference_id}',
  conference_id_invalid: BUILT_IN_SPLASH.virtual_reception_conference_id_invalid!,
  virtual_reception_connecting: BUILT_IN_SPLASH.virtual_reception_connecting!,
  please_enter_pin: 'Please enter PIN',
  invalid_pin: 'Invalid PIN\nPlease try again',
  test_call_welcome_header: 'Live Test',
  test_call_welcome_text: "Let's test your video and audio. Count out loud from one to three…",
  capacity_exceeded: 'Capacity exceeded',
  insufficient_licenses: 'Insufficient licenses',
  insufficient_video_licenses: BUILT_IN_SPLASH.error_insufficient_video_licenses!,
  invalid_license: 'Invalid license',
  ...BUILT_IN_SPLASH,
};

export interface SplashLine {
  text: string;
  color?: string;
}

/** A theme element placed on the 1920×1080 splash canvas (guide themes §1.10–1.11). */
export interface PlacedElement {
  kind: 'text' | 'icon';
  x: number;
  y: number;
  width: number;
  height: number;
  text?: string;
  color?: string;
  fontSize?: number;
  align?: 'left' | 'center' | 'right';
  path?: string;
}

export interface SplashView {
  key: string;
  /** Without a theme screen: lines of text, centred. */
  lines: SplashLine[];
  /** With a theme screen: its text and icon elements, placed as the theme lays them out. */
  placed?: PlacedElement[];
  /** Path of the background image within the theme (…/theme/<path>), when the theme gives one. */
  background?: string;
  backgroundColor?: string;
}

export const CANVAS = { width: 1920, height: 1080 } as const;

/** `0xRRGGBB` / `0xAARRGGBB` (number or string) → a CSS colour; anything else → undefined. */
export function themeColor(value: unknown): string | undefined {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^(0x|#)?[0-9a-f]{6}([0-9a-f]{2})?$/i.test(value)) n = parseInt(value.replace(/^(0x|#)/i, ''), 16);
  else return undefined;
  if (!Number.isFinite(n) || n < 0 || n > 0xffffffff) return undefined;
  const hex = (v: number) => v.toString(16).padStart(2, '0');
  if (n > 0xffffff) {
    const a = (n >>> 24) & 0xff;
    return `rgba(${(n >> 16) & 0xff}, ${(n >> 8) & 0xff}, ${n & 0xff}, ${(a / 255).toFixed(3)})`;
  }
  return `#${hex((n >> 16) & 0xff)}${hex((n >> 8) & 0xff)}${hex(n & 0xff)}`;
}

function fill(text: string, vars: Record<string, string>): string {
  return text.replace(/\{(conference_name|conference_id)\}/g, (_, k: string) => vars[k] ?? '');
}

const num = (v: unknown, fallback: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);

type RawElement = NonNullable<ThemeScreen['elements']>[number] & Record<string, unknown>;

/**
 * Lays out a theme screen: `vertical` stacks elements top to bottom (each `offset_y` below the
 * previous one, centred plus `offset_x`); `free_form` places them at their offsets.
 */
function place(screen: ThemeScreen, vars: Record<string, string>): PlacedElement[] {
  const out: PlacedElement[] = [];
  const free = screen.layout_type === 'free_form';
  let bottom = 0;
  for (const el of (Array.isArray(screen.elements) ? screen.elements : []) as RawElement[]) {
    if (!el || (el.type !== 'text' && el.type !== 'icon')) continue;
    const isText = el.type === 'text';
    const width = Math.max(0, num(el.width, CANVAS.width));
    const height = Math.max(0, num(el.height, isText ? 200 : 300));
    const offX = num(el.offset_x, 0);
    const offY = num(el.offset_y, isText ? 50 : 0);
    const x = free ? offX : (CANVAS.width - width) / 2 + offX;
    const y = free ? offY : bottom + offY;
    bottom = y + height;
    if (isText) {
      const raw = typeof el.text === 'string' ? el.text : typeof el.label === 'string' ? BUILT_IN_LABELS[el.label] : undefined;
      if (raw === undefined) continue;
      const align = el.align === 'left' || el.align === 'right' ? el.align : 'center';
      out.push({ kind: 'text', x, y, width, height, text: fill(raw, vars), color: themeColor(el.color), fontSize: num(el.font_size, 66), align });
    } else if (typeof el.path === 'string' && el.path) {
      out.push({ kind: 'icon', x, y, width, height, path: el.path });
    }
  }
  return out;
}

/** What to show for `key`: the theme's screen when it defines one with text, else the built-in label. */
export function splashView(key: string, theme: Theme | null, vars: Record<string, string>): SplashView | null {
  const screen: ThemeScreen | undefined = theme?.[key] && typeof theme[key] === 'object' ? theme[key] : undefined;
  const view: SplashView = { key, lines: [] };
  const placed = screen ? place(screen, vars) : [];
  if (placed.some((e) => e.kind === 'text' && e.text?.trim())) {
    view.placed = placed;
  } else {
    const builtIn = BUILT_IN_SPLASH[key];
    if (builtIn === undefined) return null;
    const text = fill(builtIn, vars).trim();
    if (text) view.lines.push({ text });
  }
  const bg = screen?.background;
  if (bg && typeof bg.path === 'string' && bg.path) view.background = bg.path;
  else if (bg && bg.color !== undefined) view.backgroundColor = themeColor(bg.color);
  return view;
}
