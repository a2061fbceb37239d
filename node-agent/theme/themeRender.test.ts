import { strToU8, unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { basePackage } from '../../server/theme/baseTheme.js';
import { argb, parseThemeConfig, renderTheme } from './themeRender.js';

const WHITE = 0xffffffff;
const base = parseThemeConfig(unzipSync(basePackage())['themeconfig.json']);
const cfg = (c: object) => parseThemeConfig(strToU8(JSON.stringify(c)));
const texts = (screen: { elements: { type: string; text?: string }[] }) => screen.elements.filter((e) => e.type === 'text').map((e) => e.text);

describe('renderTheme', () => {
  it('gives the Base theme every catalog screen and the five direct_media screens in the contract shape', () => {
    const r = renderTheme([base], 'Room');
    for (const key of [
      'direct_media_welcome',
      'direct_media_waiting_for_host',
      'direct_media_other_participants_audio_only',
      'direct_media_escalate',
      'direct_media_deescalate',
    ]) {
      expect(r[key]!.layout_type).toBe('direct_media');
      expect(r[key]!.background).toEqual({ path: 'background.jpg' });
      expect(r[key]!.elements).toEqual([{ type: 'text', color: WHITE, text: expect.any(String) }]);
    }
    expect(r.direct_media_waiting_for_host!.elements[0]).toEqual({ type: 'text', color: WHITE, text: 'Waiting for the host...' });
    expect(r.waiting_for_host).toEqual({
      layout_type: 'vertical',
      background: { path: 'background.jpg' },
      elements: [
        { type: 'icon', path: 'icon_waiting_for_host.svg', offset_x: 0, offset_y: 300, width: 1920, height: 300 },
        expect.objectContaining({ type: 'text', color: WHITE, text: 'Waiting for the host...', font_size: 66, align: 'center', offset_y: 50 }),
      ],
    });
    expect(texts(r.timeout!)).toEqual(['Time exceeded']);
    expect(texts(r.virtual_reception_welcome!)).toEqual(['Enter conference ID']);
    expect(r.test_call_complete!.layout_type).toBe('free_form');
    expect(r.test_call_complete!.background).toEqual({ path: 'background_test_call.jpg' });
    expect(r.test_call_complete!.elements.filter((e) => e.type === 'icon').map((e) => (e as { path: string }).path)).toEqual([
      'icon_test_call_complete.svg',
      'icon_inactive_page.svg',
      'icon_inactive_page.svg',
      'icon_active_page.svg',
    ]);
    // The video placeholders default to a solid #323232, not background.jpg.
    expect(r.no_incoming_video!.background).toEqual({ color: 0xff323232 });
    expect(r.pin_entry!.elements[1]).toMatchObject({ type: 'pin_digits', path: 'icon_pin_entry_digit.svg', digit_width: 42 });
  });

  it('resolves labels and screens service theme → default theme → Base, key by key', () => {
    const service = cfg({
      theme_version: 2,
      splash_screens: {
        labels: { waiting_for_host: 'Hold on, {conference_name}' },
        screens: { waiting_for_host: { background: { path: 'background_wait.jpg' } } },
      },
    });
    const deflt = cfg({ theme_version: 2, text_color: '0xFF0000', splash_screens: { labels: { waiting_for_host: 'default text', welcome: 'Hello' } } });
    const r = renderTheme([service, deflt, base], 'Board room');
    expect(texts(r.waiting_for_host!)).toEqual(['Hold on, Board room']);
    expect(r.waiting_for_host!.background).toEqual({ path: 'background_wait.jpg' });
    // Only the background was overridden: the default icon stays.
    expect(r.waiting_for_host!.elements[0]).toMatchObject({ type: 'icon', path: 'icon_waiting_for_host.svg' });
    expect(texts(r.welcome!)).toEqual(['Hello']);
    expect(r.welcome!.elements[1]).toMatchObject({ color: 0xffff0000 });
    expect(r.direct_media_waiting_for_host).toEqual({
      layout_type: 'direct_media',
      background: { path: 'background_wait.jpg' },
      elements: [{ type: 'text', color: 0xffff0000, text: 'Hold on, Board room' }],
    });
  });

  it('lets given elements replace the defaults entirely, and custom labels be used', () => {
    const t = cfg({
      theme_version: 2,
      splash_screens: {
        labels: { my_label: '¡Hola!' },
        screens: {
          welcome: {
            layout_type: 'free_form',
            background: { color: '0x80102030' },
            elements: [{ type: 'text', label: 'my_label', color: '0x80FFFFFF', offset_x: 10 }, { type: 'bogus' }],
          },
          direct_media_escalate: { elements: [{ type: 'text', text: 'Please wait' }] },
        },
      },
    });
    const r = renderTheme([t, base], 'x');
    expect(r.welcome).toEqual({
      layout_type: 'free_form',
      background: { color: 0x80102030 },
      elements: [expect.objectContaining({ type: 'text', text: '¡Hola!', color: 0x80ffffff, offset_x: 10 })],
    });
    expect(r.direct_media_welcome!.elements).toEqual([{ type: 'text', color: 0x80ffffff, text: '¡Hola!' }]);
    expect(r.direct_media_escalate!.elements).toEqual([{ type: 'text', color: WHITE, text: 'Please wait' }]);
  });

  it('treats an unreadable themeconfig.json as empty rather than failing', () => {
    expect(parseThemeConfig(strToU8('{not json'))).toEqual({});
    expect(parseThemeConfig(strToU8(JSON.stringify({ text_color: 'red', splash_screens: { labels: 5 } })))).toEqual({ splash_screens: {} });
    expect(argb('0x323232')).toBe(0xff323232);
  });
});
