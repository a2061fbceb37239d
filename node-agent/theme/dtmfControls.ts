import type { NodeThemeConfig } from './themeRender.js';

/** The conference controls a Host can key (guide: themeconfig.json `dtmf_conference_control_commands`). */
export type DtmfCommand = 'toggle_lock' | 'toggle_guest_mute' | 'end_conference';

/** The defaults: `*7` lock/unlock, `*5` mute/unmute all Guests, `##` end the conference. */
export const DEFAULT_DTMF_COMMANDS: Readonly<Record<string, DtmfCommand>> = Object.freeze({
  '*7': 'toggle_lock',
  '*5': 'toggle_guest_mute',
  '##': 'end_conference',
});

const COMMANDS = new Set<string>(['toggle_lock', 'toggle_guest_mute', 'end_conference']);

/**
 * A service's DTMF controls from its theme layers (most specific first; each setting from the first
 * layer that has it): null when `enable_dtmf_conference_control` is false, or when the commands
 * break the guide's rules (two DTMF digits each, known controls, all different), which "will
 * disable DTMF commands".
 */
export function dtmfControls(layers: readonly NodeThemeConfig[]): Record<string, DtmfCommand> | null {
  const enabled = layers.find((l) => l.enable_dtmf_conference_control !== undefined)?.enable_dtmf_conference_control ?? true;
  if (!enabled) return null;
  const commands = layers.find((l) => l.dtmf_conference_control_commands !== undefined)?.dtmf_conference_control_commands;
  if (!commands) return { ...DEFAULT_DTMF_COMMANDS };
  const entries = Object.entries(commands);
  const valid =
    entries.length > 0 &&
    entries.every(([digits, command]) => /^[0-9*#]{2}$/.test(digits) && typeof command === 'string' && COMMANDS.has(command)) &&
    new Set(entries.map(([, c]) => c)).size === entries.length;
  return valid ? (Object.fromEntries(entries) as Record<string, DtmfCommand>) : null;
}
