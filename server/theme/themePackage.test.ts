import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, unzipSync, zipSync, type Zippable } from 'fflate';
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors/AppError.js';
import { basePackage, BASE_THEME_CONFIG } from './baseTheme.js';
import { rgbaPng, solidJpeg, tones, wav48kMono } from './media.js';
import { isThemeWav, MAX_THEME_FILE_BYTES, validateThemePackage } from './themePackage.js';

const CONFIG = strToU8(JSON.stringify({ theme_version: 2, disable_watermark_icon: true }));
const GOOD_WAV = wav48kMono(tones([{ hz: 440, ms: 100 }]));

/** A WAV with the given format fields (PCM data of 100 samples). */
function wav({ format = 1, channels = 1, rate = 48_000, bits = 16 } = {}): Uint8Array {
  const blockAlign = (channels * bits) / 8;
  const dataLen = 100 * blockAlign;
  const out = new Uint8Array(44 + dataLen);
  const v = new DataView(out.buffer);
  out.set(strToU8('RIFF'), 0);
  v.setUint32(4, 36 + dataLen, true);
  out.set(strToU8('WAVEfmt '), 8);
  v.setUint32(16, 16, true);
  v.setUint16(20, format, true);
  v.setUint16(22, channels, true);
  v.setUint32(24, rate, true);
  v.setUint32(28, rate * blockAlign, true);
  v.setUint16(32, blockAlign, true);
  v.setUint16(34, bits, true);
  out.set(strToU8('data'), 36);
  v.setUint32(40, dataLen, true);
  return out;
}

/** The package's error messages, or [] when it is accepted. */
async function errorsOf(files: Zippable | Uint8Array): Promise<string[]> {
  try {
    await validateThemePackage(files instanceof Uint8Array ? files : zipSync(files));
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return (err as AppError).fields?.package ?? [];
  }
}

describe('validateThemePackage', () => {
  it('accepts a good package and returns its files and parsed themeconfig.json', async () => {
    const zip = zipSync({
      'themeconfig.json': CONFIG,
      'conf-getpin_48kHz_mono.wav': GOOD_WAV,
      'conf-participant_entry_tone_48kHz_mono.wav': new Uint8Array(0),
      'background.jpg': solidJpeg(1920, 1080, [0, 0, 128]),
      'background_pin_entry.jpg': solidJpeg(1920, 1080, [0, 0, 0]),
      'icon_my_logo.svg': strToU8('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#FFFFFF"/></svg>'),
      'watermark_icon.png': rgbaPng(200, 100, () => [255, 255, 255, 100]),
      'presence_avatar_image.jpg': solidJpeg(128, 128, [255, 0, 0]),
    });
    expect(await validateThemePackage(zip)).toEqual({
      files: [
        'background.jpg',
        'background_pin_entry.jpg',
        'conf-getpin_48kHz_mono.wav',
        'conf-participant_entry_tone_48kHz_mono.wav',
        'icon_my_logo.svg',
        'presence_avatar_image.jpg',
        'themeconfig.json',
        'watermark_icon.png',
      ],
      config: { theme_version: 2, disable_watermark_icon: true },
    });
  });

  it('accepts a legacy theme without themeconfig.json, and ignores folders and macOS clutter', async () => {
    const zip = zipSync({ 'conf-getpin_48kHz_mono.wav': GOOD_WAV, '__MACOSX/': {}, '__MACOSX/._x': strToU8('x'), '.DS_Store': strToU8('x') });
    expect(await validateThemePackage(zip)).toEqual({ files: ['conf-getpin_48kHz_mono.wav'], config: {} });
  });

  it('ships a Base theme that passes its own validation', async () => {
    const { files, config } = await validateThemePackage(basePackage());
    expect(config).toEqual(BASE_THEME_CONFIG);
    expect(files).toContain('themeconfig.json');
    expect(files).toContain('background.jpg');
    expect(files).toContain('conf-participant_is_in_lobby_48kHz_mono.wav');
    // Entry and exit tones are disabled by empty files, as in the guide.
    const entry = unzipSync(basePackage())['conf-participant_entry_tone_48kHz_mono.wav']!;
    expect(entry.length).toBe(44);
    expect(isThemeWav(entry)).toBe(true);
  });

  it('refuses a file that is not a ZIP', async () => {
    expect(await errorsOf(strToU8('this is not a zip file'))).toEqual(['The uploaded file is not a valid ZIP file.']);
    expect(await errorsOf(new Uint8Array(0))).toEqual(['The uploaded file is not a valid ZIP file.']);
  });

  it('refuses an empty ZIP', async () => {
    expect(await errorsOf({})).toEqual(['The theme ZIP file contains no files.']);
  });

  it.each([
    ['a trailing comma', '{"theme_version": 2, "recording_indicator_text": "Rec",}'],
    ['a missing comma', '{"theme_version": 2 "recording_indicator_text": "Rec"}'],
    ['a JSON array', '[1, 2]'],
    ['a JSON string', '"theme"'],
    ['a wrong type', '{"theme_version": 2, "disable_watermark_icon": "yes"}'],
    ['a bad colour', '{"theme_version": 2, "text_color": "#FF0000"}'],
    ['a locked text over 20 characters', '{"conference_locked_indicator_text": "This conference is locked"}'],
    ['a theme version other than 1 or 2', '{"theme_version": 3}'],
    ['a background not named background*.jpg', '{"splash_screens": {"screens": {"welcome": {"background": {"path": "bg.jpg"}}}}}'],
    ['a background missing from the ZIP', '{"splash_screens": {"screens": {"welcome": {"background": {"path": "background_x.jpg"}}}}}'],
    ['an icon missing from the ZIP', '{"splash_screens": {"screens": {"welcome": {"elements": [{"type": "icon", "path": "icon_new.svg"}]}}}}'],
    ['an unknown element type', '{"splash_screens": {"screens": {"welcome": {"elements": [{"type": "video"}]}}}}'],
  ])('refuses a themeconfig.json with %s', async (_why, json) => {
    expect(await errorsOf({ 'themeconfig.json': strToU8(json) })).toEqual(['Invalid file in theme: themeconfig.json']);
  });

  it('refuses a themeconfig.json that is not UTF-8 or starts with a byte-order mark', async () => {
    expect(await errorsOf({ 'themeconfig.json': Uint8Array.from([0x7b, 0x22, 0xe9, 0x22, 0x3a, 0x31, 0x7d]) })).toEqual([
      'Invalid file in theme: themeconfig.json',
    ]);
    expect(await errorsOf({ 'themeconfig.json': Uint8Array.from([0xef, 0xbb, 0xbf, ...CONFIG]) })).toEqual(['Invalid file in theme: themeconfig.json']);
  });

  it('accepts a config whose references resolve to Base files or files in the ZIP', async () => {
    const config = {
      theme_version: 2,
      splash_screens: {
        labels: { welcome: '¡Hola!' },
        screens: {
          welcome: {
            background: { path: 'background_welcome.jpg' },
            elements: [
              { type: 'icon', path: 'icon_new.svg', height: 300 },
              { type: 'text', label: 'welcome', align: 'left' },
            ],
          },
          pin_entry: { background: { color: '0x323232' }, elements: [{ type: 'pin_digits', path: 'icon_pin_entry_digit.svg' }] },
        },
      },
    };
    const files = {
      'themeconfig.json': strToU8(JSON.stringify(config)),
      'background_welcome.jpg': solidJpeg(1920, 1080, [1, 2, 3]),
      'icon_new.svg': strToU8('<svg xmlns="http://www.w3.org/2000/svg"/>'),
    };
    expect(await errorsOf(files)).toEqual([]);
  });

  it.each([
    ['stereo', wav({ channels: 2 })],
    ['44.1 kHz', wav({ rate: 44_100 })],
    ['8 bit', wav({ bits: 8 })],
    ['24 bit', wav({ bits: 24 })],
    ['IEEE float', wav({ format: 3, bits: 32 })],
    ['not RIFF', strToU8('ID3 this is an mp3')],
    ['truncated', GOOD_WAV.subarray(0, 60)],
    ['without a data chunk', GOOD_WAV.subarray(0, 36)],
  ])('refuses a WAV that is %s', async (_why, data) => {
    expect(await errorsOf({ 'conf-getpin_48kHz_mono.wav': data })).toEqual(['Invalid file in theme: conf-getpin_48kHz_mono.wav']);
  });

  it('refuses a WAV that does not replace a Base audio file', async () => {
    expect(await errorsOf({ 'my-prompt_48kHz_mono.wav': GOOD_WAV })).toEqual(['Invalid file in theme: my-prompt_48kHz_mono.wav']);
  });

  it('refuses backgrounds that are not 1920×1080 RGB JPGs', async () => {
    expect(await errorsOf({ 'background.jpg': solidJpeg(1280, 720, [0, 0, 0]) })).toEqual(['Invalid file in theme: background.jpg']);
    expect(await errorsOf({ 'background.jpg': rgbaPng(1920, 1080, () => [0, 0, 0, 255]) })).toEqual(['Invalid file in theme: background.jpg']);
    // A greyscale JPEG (one component) is not "RGB mode".
    const grey = solidJpeg(1920, 1080, [0, 0, 0]);
    const sof = grey.findIndex((b, i) => b === 0xff && grey[i + 1] === 0xc0);
    grey[sof + 9] = 1;
    expect(await errorsOf({ 'background_test_call.jpg': grey })).toEqual(['Invalid file in theme: background_test_call.jpg']);
  });

  it('refuses unknown names, files in folders, bad SVGs and a non-PNG watermark, naming each', async () => {
    const errors = await errorsOf({
      'readme.txt': strToU8('hello'),
      'theme/themeconfig.json': CONFIG,
      'icon_bad.svg': strToU8('not an svg'),
      'icon-dash.svg': strToU8('<svg/>'),
      'watermark_icon.png': solidJpeg(200, 100, [0, 0, 0]),
      'themeconfig.json': CONFIG,
    });
    expect(errors).toEqual([
      'Invalid file in theme: icon-dash.svg',
      'Invalid file in theme: icon_bad.svg',
      'Invalid file in theme: readme.txt',
      'Invalid file in theme: theme/themeconfig.json',
      'Invalid file in theme: watermark_icon.png',
    ]);
  });
});

describe('validateThemePackage on a spooled file', () => {
  it('reads the same verdicts from a file as from bytes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'theme-file-'));
    try {
      const good = join(dir, 'good.zip');
      await writeFile(good, basePackage());
      expect((await validateThemePackage(good)).files.length).toBeGreaterThan(30);
      const bad = join(dir, 'bad.zip');
      await writeFile(bad, zipSync({ 'readme.txt': strToU8('x') }));
      await expect(validateThemePackage(bad)).rejects.toMatchObject({ fields: { package: ['Invalid file in theme: readme.txt'] } });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('holds one file at a time and refuses a file that unpacks past its limit, naming it', async () => {
    // Zeros compress to almost nothing: a small ZIP whose one file unpacks to more than the limit.
    const big = new Uint8Array(MAX_THEME_FILE_BYTES + 2);
    big.set(GOOD_WAV.subarray(0, 44));
    expect(await errorsOf({ 'conf-getpin_48kHz_mono.wav': big, 'icon_ok.svg': strToU8('<svg/>') })).toEqual([
      'Invalid file in theme: conf-getpin_48kHz_mono.wav',
    ]);
  });

  it('refuses an entry whose data is longer than its directory says', async () => {
    const zip = zipSync({ 'icon_ok.svg': [strToU8('<svg>' + ' '.repeat(100) + '</svg>'), { level: 0 }] });
    // Lower the declared unpacked size in the central directory (and the local header) to 10 bytes.
    const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
    view.setUint32(22, 10, true);
    const cd = zip.findIndex((b, i) => b === 0x50 && zip[i + 1] === 0x4b && zip[i + 2] === 0x01 && zip[i + 3] === 0x02);
    view.setUint32(cd + 24, 10, true);
    expect(await errorsOf(zip)).toEqual(['The uploaded file is not a valid ZIP file.']);
  });
});

describe('generated media', () => {
  it('writes WAVs the validator accepts', async () => {
    expect(isThemeWav(GOOD_WAV)).toBe(true);
    expect(isThemeWav(wav())).toBe(true);
    expect(GOOD_WAV.length).toBe(44 + 4800 * 2);
  });
});
