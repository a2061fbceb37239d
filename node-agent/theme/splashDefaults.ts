/**
 * The built-in splash-screen labels and screens (guide-digest-3 §1.7–§1.11). The guide says these
 * defaults are used but are *not* in the Base theme's downloadable themeconfig.json, so they live
 * here, under every theme layer (Base, default theme, service theme), rather than in the Base ZIP.
 */

/** §1.8 default label strings, verbatim (including the guide's "[sic]" doubling). */
export const DEFAULT_LABELS: Record<string, string> = {
  welcome: 'Welcome',
  connecting: 'Connecting',
  timeout: 'Time exceeded',
  waiting_for_host: 'Waiting for the host...',
  other_participants_audio_only: 'The other participants\n are audio only only',
  please_enter_pin: 'Please enter PIN',
  pin_correct: 'Welcome',
  invalid_pin: 'Invalid PIN\nPlease try again',
  enter_conference_id: 'Enter conference ID',
  conference_id_entry: '{conference_id}',
  conference_id_invalid: 'Conference ID invalid',
  virtual_reception_connecting: '{conference_name}',
  no_presentation: 'Waiting for presentation...',
  streaming_in_progress: 'Your video is\nbeing streamed',
  stream_waiting: 'Streaming will begin shortly...',
  inlobby_status_unknown: 'Call connecting',
  inlobby: 'Welcome to the lobby,\nyour meeting host will admit you soon',
  capacity_exceeded: 'Capacity\nexceeded',
  insufficient_licenses: 'Insufficient licenses',
  insufficient_video_licenses: 'Insufficient video licenses\nYou can still share content and audio',
  invalid_license: 'Invalid license',
  test_call_welcome_header: 'Live Test',
  test_call_welcome_text: "Let's test your video and\naudio. Count out loud\nfrom one to three...",
  test_call_in_progress: 'You will see and hear yourself with a two second delay',
  test_call_complete: 'If you have technical issues,\ncheck your settings or\ncontact your administrator',
  // Not in the guide: the client API's direct-media screens (client-api-v2 §9) need wording for
  // switching between a direct (two-party) call and a transcoded conference; themes may override.
  direct_media_escalate: 'Connecting to the conference...',
  direct_media_deescalate: 'Switching to a direct call...',
};

export interface DefaultElement {
  type: 'icon' | 'text' | 'pin_digits';
  path?: string;
  label?: string;
  offset_x?: number;
  offset_y?: number;
  width?: number;
  height?: number;
  font_size?: number;
  align?: 'center' | 'left' | 'right';
}
export interface DefaultScreen {
  layout_type: 'vertical' | 'free_form';
  background: { path: string } | { color: string };
  elements: DefaultElement[];
}

const BG = { path: 'background.jpg' };
const TEST_BG = { path: 'background_test_call.jpg' };
/** An icon 300 px high, 300 px from the top, and its label 50 px below it (§1.10 defaults). */
const vertical = (icon: string, label?: string): DefaultScreen => ({
  layout_type: 'vertical',
  background: BG,
  elements: [{ type: 'icon', path: icon, height: 300, offset_y: 300 }, ...(label ? [{ type: 'text' as const, label, offset_y: 50 }] : [])],
});
/** The Test Call progress dots: three 16×16 icons at y 985, x 872/952/1032 (§1.11). */
const dots = (active: 0 | 1 | 2): DefaultElement[] =>
  [872, 952, 1032].map((x, i) => ({
    type: 'icon',
    path: i === active ? 'icon_active_page.svg' : 'icon_inactive_page.svg',
    offset_x: x,
    offset_y: 985,
    width: 16,
    height: 16,
  }));

/** §1.7 splash screen catalog: key → default layout, background, icon and label. */
export const DEFAULT_SCREENS: Record<string, DefaultScreen> = {
  welcome: vertical('icon_welcome.svg', 'welcome'),
  connecting: vertical('icon_connecting.svg', 'connecting'),
  waiting_for_host: vertical('icon_waiting_for_host.svg', 'waiting_for_host'),
  inlobby_status_unknown: vertical('icon_connecting.svg', 'inlobby_status_unknown'),
  inlobby: vertical('icon_is_in_lobby.svg', 'inlobby'),
  other_participants_audio_only: vertical('icon_other_participants_audio_only.svg', 'other_participants_audio_only'),
  pin_welcome: vertical('icon_pin_entry.svg', 'please_enter_pin'),
  pin_entry: {
    layout_type: 'vertical',
    background: BG,
    elements: [
      { type: 'icon', path: 'icon_pin_entry.svg', height: 300, offset_y: 300 },
      { type: 'pin_digits', path: 'icon_pin_entry_digit.svg', offset_y: 50 },
    ],
  },
  pin_correct: vertical('icon_welcome.svg', 'pin_correct'),
  pin_invalid: vertical('icon_pin_invalid.svg', 'invalid_pin'),
  virtual_reception_welcome: vertical('icon_virtual_reception_welcome.svg', 'enter_conference_id'),
  virtual_reception_conference_id_entry: vertical('icon_virtual_reception_conference_id_entry.svg', 'conference_id_entry'),
  virtual_reception_conference_id_invalid: vertical('icon_virtual_reception_conference_id_invalid.svg', 'conference_id_invalid'),
  virtual_reception_connecting: vertical('icon_virtual_reception_connecting.svg', 'virtual_reception_connecting'),
  timeout: vertical('icon_timeout.svg', 'timeout'),
  // The video placeholders default to a solid #323232 background, not background.jpg (§1.6).
  no_incoming_video: { ...vertical('icon_no_video.svg'), background: { color: '0x323232' } },
  no_main_video: { ...vertical('icon_no_video.svg'), background: { color: '0x323232' } },
  streaming_in_progress: vertical('icon_streaming_screen.svg', 'streaming_in_progress'),
  // The guide's catalog names icon_stream_screen.svg [sic]; the SVG table (and the Base ZIP) has this one.
  stream_waiting: vertical('icon_streaming_screen.svg', 'stream_waiting'),
  no_presentation: vertical('icon_no_presentation.svg', 'no_presentation'),
  error_capacity_exceeded: vertical('icon_error.svg', 'capacity_exceeded'),
  error_insufficient_licenses: vertical('icon_error.svg', 'insufficient_licenses'),
  error_insufficient_video_licenses: vertical('icon_error_insufficient_video_licenses.svg', 'insufficient_video_licenses'),
  error_invalid_license: vertical('icon_error.svg', 'invalid_license'),
  test_call_welcome: {
    layout_type: 'free_form',
    background: TEST_BG,
    elements: [
      { type: 'text', label: 'test_call_welcome_header', offset_x: 308, offset_y: 250, width: 900, height: 110, align: 'left', font_size: 80 },
      { type: 'text', label: 'test_call_welcome_text', offset_x: 308, offset_y: 380, width: 900, height: 300, align: 'left', font_size: 50 },
      { type: 'icon', path: 'icon_test_call_welcome.svg', offset_x: 1259, offset_y: 305, width: 380, height: 386 },
      ...dots(0),
    ],
  },
  test_call_in_progress: {
    layout_type: 'free_form',
    background: TEST_BG,
    elements: [{ type: 'text', label: 'test_call_in_progress', offset_x: 0, offset_y: 880, width: 1920, height: 80, font_size: 40 }, ...dots(1)],
  },
  // §1.11 gives this screen's values verbatim.
  test_call_complete: {
    layout_type: 'free_form',
    background: TEST_BG,
    elements: [
      { type: 'text', label: 'test_call_complete', offset_x: 308, offset_y: 361, width: 900, height: 300, align: 'left', font_size: 50 },
      { type: 'icon', path: 'icon_test_call_complete.svg', offset_x: 1259, offset_y: 305, width: 380, height: 386 },
      ...dots(2),
    ],
  },
};

/**
 * The five screens the client API's theme resource must always carry (client-api-v2 §9), each with
 * the catalog screen whose background and text it shows unless a theme defines it itself.
 */
export const DIRECT_MEDIA_SCREENS: Record<string, { source: string | null; label: string }> = {
  direct_media_welcome: { source: 'welcome', label: 'welcome' },
  direct_media_waiting_for_host: { source: 'waiting_for_host', label: 'waiting_for_host' },
  direct_media_other_participants_audio_only: { source: 'other_participants_audio_only', label: 'other_participants_audio_only' },
  direct_media_escalate: { source: null, label: 'direct_media_escalate' },
  direct_media_deescalate: { source: null, label: 'direct_media_deescalate' },
};

/** Screens whose labels may use `{conference_name}` (§1.8). */
export const CONFERENCE_NAME_SCREENS = new Set(['welcome', 'waiting_for_host', 'direct_media_welcome', 'direct_media_waiting_for_host']);

/** §1.10 element defaults, filled into what the client receives so it need not know them. */
export const TEXT_DEFAULTS = {
  offset_x: 0,
  offset_y: 50,
  width: 1920,
  height: 200,
  font_size: 66,
  font: 'GT Pressura Light',
  letter_spacing: 0,
  line_spacing: -13,
  align: 'center',
} as const;
export const ICON_DEFAULTS = { offset_x: 0, offset_y: 0, width: 1920, height: 300 } as const;
export const PIN_DIGITS_DEFAULTS = {
  path: 'icon_pin_entry_digit.svg',
  digit_width: 42,
  digit_height: 42,
  digit_spacing: 10,
  offset_x: 0,
  offset_y: 50,
  width: 1920,
  height: 200,
  line_spacing: 25,
} as const;
/** ARGB opaque white: the default text colour (§1.10). */
export const WHITE = 0xffffffff;
