/**
 * The files a theme may hold (guide: "Customizing with themes", audio/configuration/image files).
 * A theme ZIP holds only overrides: audio must replace a Base file of the same name; backgrounds
 * and icons may be new files following the guide's name patterns.
 */

/** The Base theme's audio prompts (guide: "Default audio files"). */
export const BASE_AUDIO_FILES = [
  '2sd-invalid-number-three-times-disconnect_48kHz_mono.wav',
  '2sd-not-entered-valid-number-disconnect-call_48kHz_mono.wav',
  '2sd-number-not-valid-try-again_48kHz_mono.wav',
  '2sd-number-pound-key_48kHz_mono.wav',
  '2sd-please-hold-connect-you_48kHz_mono.wav',
  'conf-call-will-be-disconnected_48kHz_mono.wav',
  'conf-capacity_exceeded_48kHz_mono.wav',
  'conf-getpin_48kHz_mono.wav',
  'conf-getpin_pound-key_48kHz_mono.wav',
  'conf-insufficient_licenses_48kHz_mono.wav',
  'conf-invalid_license_48kHz_mono.wav',
  'conf-invalidpin_48kHz_mono.wav',
  'conf-leaderhasleft_48kHz_mono.wav',
  'conf-participant_entry_tone_48kHz_mono.wav',
  'conf-participant_exit_tone_48kHz_mono.wav',
  'conf-participant_is_in_lobby_48kHz_mono.wav',
  'conf-participant_locked_out_48kHz_mono.wav',
  'conf-placeintoconf_48kHz_mono.wav',
  'conf-public_streaming_started_48kHz_mono.wav',
  'conf-public_streaming_stopped_48kHz_mono.wav',
  'conf-recording_started_48kHz_mono.wav',
  'conf-recording_stopped_48kHz_mono.wav',
  'conf-streaming_started_48kHz_mono.wav',
  'conf-streaming_stopped_48kHz_mono.wav',
  'conf-test_call_48kHz_mono.wav',
  'conf-test_call_audio_only_48kHz_mono.wav',
  'conf-test_call_disconnect_48kHz_mono.wav',
  'conf-waitforleader_48kHz_mono.wav',
  'conf-waithostpin_48kHz_mono.wav',
  'conf-waithostpin_pound-key_48kHz_mono.wav',
  'conf-you_are_the_only_participant_48kHz_mono.wav',
] as const;

/** Splash-screen and indicator SVGs of the Base theme (guide: "SVG overlay files", indicators). */
export const BASE_SVG_FILES = [
  'icon_active_page.svg',
  'icon_inactive_page.svg',
  'icon_connecting.svg',
  'icon_error.svg',
  'icon_error_insufficient_video_licenses.svg',
  'icon_is_in_lobby.svg',
  'icon_other_participants_audio_only.svg',
  'icon_pin_entry.svg',
  'icon_pin_entry_digit.svg',
  'icon_pin_invalid.svg',
  'icon_streaming_screen.svg',
  'icon_timeout.svg',
  'icon_virtual_reception_conference_id_entry.svg',
  'icon_virtual_reception_conference_id_invalid.svg',
  'icon_virtual_reception_connecting.svg',
  'icon_virtual_reception_welcome.svg',
  'icon_waiting_for_host.svg',
  'icon_welcome.svg',
  'icon_test_call_complete.svg',
  'icon_test_call_welcome.svg',
  'icon_audio.svg',
  'icon_conference_locked.svg',
  'icon_conference_unlocked.svg',
  'icon_no_presentation.svg',
  'icon_no_video.svg',
  'icon_recording.svg',
  'icon_streaming.svg',
  'icon_public_streaming.svg',
] as const;

export const BASE_BACKGROUNDS = ['background.jpg', 'background_test_call.jpg'] as const;
export const PRESENCE_AVATAR = 'presence_avatar_image.jpg';
export const WATERMARK = 'watermark_icon.png';
export const THEMECONFIG = 'themeconfig.json';

/** `background*.jpg`: the guide says the filename must begin with "background". */
export const BACKGROUND_PATTERN = /^background[A-Za-z0-9_.-]*\.jpg$/;
/** The guide's pattern "icon_[A-Za-z0-9_].svg", read as one or more of those characters. */
export const ICON_PATTERN = /^icon_[A-Za-z0-9_]+\.svg$/;

export type ThemeFileKind = 'config' | 'audio' | 'background' | 'avatar' | 'icon' | 'watermark';

/** What a top-level file name is in a theme, or null when no theme file may have that name. */
export function kindOf(name: string): ThemeFileKind | null {
  if (name === THEMECONFIG) return 'config';
  if ((BASE_AUDIO_FILES as readonly string[]).includes(name)) return 'audio';
  if (name === PRESENCE_AVATAR) return 'avatar';
  if (name === WATERMARK) return 'watermark';
  if (BACKGROUND_PATTERN.test(name)) return 'background';
  if (ICON_PATTERN.test(name)) return 'icon';
  return null;
}
