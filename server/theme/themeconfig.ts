import { z } from 'zod';

/**
 * The shape of `themeconfig.json` (guide-digest-3 §1.5–§1.11, consolidated in §1.16). Keys the guide
 * does not name are allowed (newer or advanced settings); the named ones must have the documented
 * types. DTMF command edits are not checked: the guide says a bad edit disables DTMF commands
 * rather than failing the upload.
 */
const color = z.string().regex(/^0x([0-9A-Fa-f]{6}|[0-9A-Fa-f]{8})$/);
const px = z.number().finite();

const iconElement = z.looseObject({
  type: z.literal('icon'),
  path: z.string(),
  width: px.optional(),
  height: px.optional(),
  offset_x: px.optional(),
  offset_y: px.optional(),
});
const textElement = z.looseObject({
  type: z.literal('text'),
  label: z.string().optional(),
  text: z.string().optional(),
  offset_x: px.optional(),
  offset_y: px.optional(),
  width: px.optional(),
  height: px.optional(),
  color: color.optional(),
  font_size: px.optional(),
  font: z.enum(['Noto Sans', 'Roboto', 'Roboto Condensed', 'GT Pressura', 'GT Pressura Light']).optional(),
  letter_spacing: px.optional(),
  line_spacing: px.optional(),
  align: z.enum(['center', 'left', 'right']).optional(),
});
const pinDigitsElement = z.looseObject({
  type: z.literal('pin_digits'),
  path: z.string().optional(),
  digit_width: px.optional(),
  digit_height: px.optional(),
  digit_spacing: px.optional(),
  offset_x: px.optional(),
  offset_y: px.optional(),
  width: px.optional(),
  height: px.optional(),
  line_spacing: px.optional(),
});

const screenSchema = z.looseObject({
  layout_type: z.enum(['vertical', 'free_form']).optional(),
  background: z.union([z.strictObject({ path: z.string() }), z.strictObject({ color })]).optional(),
  elements: z.array(z.discriminatedUnion('type', [iconElement, textElement, pinDigitsElement])).optional(),
  helper_lines: z.looseObject({ horizontal: z.array(px).optional(), vertical: z.array(px).optional() }).optional(),
});

export const themeConfigSchema = z.looseObject({
  theme_version: z.union([z.literal(1), z.literal(2)]).optional(),
  dtmf_conference_control_commands: z.record(z.string(), z.unknown()).optional(),
  enable_dtmf_conference_control: z.boolean().optional(),
  plus_n_indicator_text_color: color.optional(),
  plus_n_indicator_bg_color: color.optional(),
  recording_indicator_text: z.string().optional(),
  conference_locked_indicator_text: z.string().max(20).optional(),
  conference_unlocked_indicator_text: z.string().optional(),
  conference_locked_indicator_n_waiting_text: z.string().optional(),
  disable_conference_locked_indicator: z.boolean().optional(),
  streaming_indicator_text: z.string().optional(),
  public_streaming_indicator_text: z.string().optional(),
  disable_streaming_indicator: z.boolean().optional(),
  disable_watermark_icon: z.boolean().optional(),
  test_call_service_media_delay: z.number().int().min(0).optional(),
  test_call_service_disconnect_timeout: z.number().int().min(0).optional(),
  enable_solo_streaming_loopback: z.boolean().optional(),
  text_color: color.optional(),
  splash_screens: z
    .looseObject({
      labels: z.record(z.string(), z.string()).optional(),
      screens: z.record(z.string(), screenSchema).optional(),
    })
    .optional(),
});
export type ThemeConfig = z.output<typeof themeConfigSchema>;

/** Image files a config refers to: per-screen backgrounds and icon/pin-digit SVGs. */
export function referencedFiles(config: ThemeConfig): { backgrounds: string[]; icons: string[] } {
  const backgrounds: string[] = [];
  const icons: string[] = [];
  for (const screen of Object.values(config.splash_screens?.screens ?? {})) {
    if (screen.background && 'path' in screen.background) backgrounds.push(screen.background.path);
    for (const el of screen.elements ?? []) {
      if ((el.type === 'icon' || el.type === 'pin_digits') && typeof el.path === 'string') icons.push(el.path);
    }
  }
  return { backgrounds, icons };
}
