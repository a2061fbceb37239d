import { strToU8, zipSync, type Zippable } from 'fflate';
import { BASE_AUDIO_FILES, BASE_SVG_FILES, PRESENCE_AVATAR, THEMECONFIG, WATERMARK } from './themeFiles.js';
import { rgbaPng, solidJpeg, tones, wav48kMono } from './media.js';

/**
 * The Base theme: ships with the product, cannot be changed, and is the final fallback for every
 * file and setting (guide: "Base theme"). Its themeconfig.json is the guide's Base file, key for
 * key and in the guide's order.
 */
export const BASE_THEME_CONFIG = {
  dtmf_conference_control_commands: { '*7': 'toggle_lock', '*5': 'toggle_guest_mute', '##': 'end_conference' },
  plus_n_indicator_text_color: '0xFFFFFFFF',
  recording_indicator_text: 'Recording',
  conference_locked_indicator_text: 'Conference locked',
  test_call_service_media_delay: 2,
  disable_streaming_indicator: false,
  disable_conference_locked_indicator: false,
  streaming_indicator_text: 'Streaming enabled',
  public_streaming_indicator_text: 'Public streaming enabled',
  enable_dtmf_conference_control: true,
  disable_watermark_icon: false,
  plus_n_indicator_bg_color: '0x323232',
  test_call_service_disconnect_timeout: 10,
  theme_version: 2,
  conference_unlocked_indicator_text: 'Conference unlocked',
  conference_locked_indicator_n_waiting_text: '{number_of_waiting_participants} waiting for host',
} as const;

/**
 * Audio: we have no recordings of the guide's spoken prompts, so each prompt is a short tone (the
 * words are in the guide's table). Entry and exit tones are empty files, as in the guide, which
 * disables them; "locked out" is three knocks. All are RIFF/WAVE PCM 16-bit mono 48 kHz.
 */
function audio(name: string): Uint8Array {
  if (name.startsWith('conf-participant_entry_tone') || name.startsWith('conf-participant_exit_tone')) return wav48kMono(new Int16Array(0));
  if (name.startsWith('conf-participant_locked_out')) {
    const knock = { hz: 180, ms: 60, level: 0.5 };
    const gap = { hz: 0, ms: 140 };
    return wav48kMono(tones([knock, gap, knock, gap, knock]));
  }
  // Prompts heard on first connecting get the guide's 2-second leading pause.
  const firstHeard = /getpin|waitforleader|waithostpin|placeintoconf|capacity_exceeded|2sd-number-pound|test_call_48|test_call_audio/.test(name);
  return wav48kMono(
    tones([
      { hz: 0, ms: firstHeard ? 2000 : 0 },
      { hz: 660, ms: 250 },
      { hz: 0, ms: 60 },
      { hz: 880, ms: 250 },
    ]),
  );
}

/** A simple white (`fill="#FFFFFF"`, as the guide's Base SVGs) placeholder glyph. */
function svg(name: string): Uint8Array {
  const small = name === 'icon_active_page.svg' || name === 'icon_inactive_page.svg' || name === 'icon_pin_entry_digit.svg';
  const fill = name === 'icon_inactive_page.svg' ? '#808080' : '#FFFFFF';
  const body = small
    ? `<circle cx="24" cy="24" r="20" fill="${fill}"/>`
    : `<circle cx="24" cy="24" r="21" fill="none" stroke="${fill}" stroke-width="3"/><rect x="21" y="12" width="6" height="24" rx="3" fill="${fill}"/>`;
  return strToU8(`<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="48" height="48" viewBox="0 0 48 48">${body}</svg>\n`);
}

/** White at 40 % transparency across the guide's 200×100 watermark area: a plain rounded bar. */
function watermark(): Uint8Array {
  return rgbaPng(200, 100, (x, y) => {
    const inside = y >= 40 && y < 60 && x >= 10 && x < 190;
    return inside ? [255, 255, 255, 153] : [0, 0, 0, 0];
  });
}

let cached: Uint8Array | null = null;

/**
 * The Base theme as a ZIP ("Download Base theme"). Built once, in memory. Backgrounds are solid
 * colours (1920×1080 RGB JPGs); the default background is the guide's dark grey `0x323232`, the Test
 * Call background black, as the guide describes it.
 */
export function basePackage(): Uint8Array {
  if (cached) return cached;
  const files: Zippable = {
    [THEMECONFIG]: strToU8(`${JSON.stringify(BASE_THEME_CONFIG, null, 2)}\n`),
    'background.jpg': solidJpeg(1920, 1080, [0x32, 0x32, 0x32]),
    'background_test_call.jpg': solidJpeg(1920, 1080, [0, 0, 0]),
    [PRESENCE_AVATAR]: solidJpeg(128, 128, [0x32, 0x32, 0x32]),
    [WATERMARK]: watermark(),
  };
  for (const name of BASE_AUDIO_FILES) files[name] = audio(name);
  for (const name of BASE_SVG_FILES) files[name] = svg(name);
  // A fixed timestamp keeps the download byte-for-byte stable across restarts.
  cached = zipSync(files, { level: 6, mtime: new Date('2024-01-01T00:00:00Z') });
  return cached;
}
