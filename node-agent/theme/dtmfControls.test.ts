import { describe, expect, it } from 'vitest';
import { DEFAULT_DTMF_COMMANDS, dtmfControls } from './dtmfControls.js';
import { parseThemeConfig } from './themeRender.js';

const layer = (config: object) => parseThemeConfig(new TextEncoder().encode(JSON.stringify(config)));

describe('DTMF conference controls from the theme', () => {
  it('defaults to *7, *5, ## when no layer sets them', () => {
    expect(dtmfControls([])).toEqual(DEFAULT_DTMF_COMMANDS);
    expect(dtmfControls([layer({ theme_version: 2 })])).toEqual(DEFAULT_DTMF_COMMANDS);
  });

  it('takes the most specific layer that sets each of enable_dtmf_conference_control and the commands', () => {
    const custom = layer({ dtmf_conference_control_commands: { '*9': 'toggle_lock', '*8': 'toggle_guest_mute', '#9': 'end_conference' } });
    const base = layer({ enable_dtmf_conference_control: true, dtmf_conference_control_commands: { '*7': 'toggle_lock' } });
    expect(dtmfControls([custom, base])).toEqual({ '*9': 'toggle_lock', '*8': 'toggle_guest_mute', '#9': 'end_conference' });
    expect(dtmfControls([layer({ enable_dtmf_conference_control: false }), custom, base])).toBeNull();
    expect(dtmfControls([layer({ enable_dtmf_conference_control: true }), layer({ enable_dtmf_conference_control: false })])).toEqual(DEFAULT_DTMF_COMMANDS);
  });

  it("disables them when the commands break the guide's rules: two DTMF digits, known controls, all different", () => {
    for (const commands of [
      { '*77': 'toggle_lock' },
      { '*x': 'toggle_lock' },
      { '*7': 'toggle_lock', '*8': 'toggle_lock' },
      { '*7': 'lock_everything' },
      { '*7': 3 },
      {},
      'not an object',
    ])
      expect(dtmfControls([layer({ dtmf_conference_control_commands: commands })]), JSON.stringify(commands)).toBeNull();
    expect(dtmfControls([layer({ enable_dtmf_conference_control: 'yes' })])).toBeNull();
  });
});
