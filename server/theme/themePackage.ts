import { stat } from 'node:fs/promises';
import yauzl from 'yauzl';
import { imageSize } from 'image-size';
import { MAX_THEME_PACKAGE_BYTES, THEME_MESSAGES } from '../../shared/theme/theme.schema.js';
import { AppError } from '../errors/AppError.js';
import { BACKGROUND_PATTERN, BASE_BACKGROUNDS, BASE_SVG_FILES, ICON_PATTERN, kindOf, THEMECONFIG, type ThemeFileKind } from './themeFiles.js';
import { referencedFiles, themeConfigSchema } from './themeconfig.js';

/** Unpacked size limit, so a small "ZIP bomb" cannot exhaust memory (the guide sets none). */
export const MAX_THEME_UNPACKED_BYTES = 200 * 1024 * 1024;

export interface ThemeContents {
  /** The theme's file names, sorted. */
  files: string[];
  /** The parsed themeconfig.json; `{}` when the ZIP has none (a legacy theme). */
  config: Record<string, unknown>;
}

/** An entry unpacking past MAX_THEME_FILE_BYTES. */
class TooLarge extends Error {}

const fail = (...messages: string[]): never => {
  throw AppError.validation({ package: messages });
};

/** Files macOS Finder adds to ZIPs; they are not theme files and are skipped, not refused. */
const isArchiveClutter = (path: string) => path.startsWith('__MACOSX/') || path.split('/').pop() === '.DS_Store';

/**
 * Reads a WAV's RIFF header and says whether it is the guide's format: "RIFF (little-endian) data,
 * WAVE audio, Microsoft PCM, 16 bit, mono 48000 Hz". A zero-byte file is accepted: the Base theme
 * disables entry and exit tones by shipping empty files.
 */
export function isThemeWav(data: Uint8Array): boolean {
  if (data.length === 0) return true;
  if (data.length < 12) return false;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const tag = (at: number) => String.fromCharCode(data[at]!, data[at + 1]!, data[at + 2]!, data[at + 3]!);
  if (tag(0) !== 'RIFF' || tag(8) !== 'WAVE') return false;
  let fmtOk: boolean | null = null;
  let hasData = false;
  // Chunks follow the 12-byte header: 4-byte id, 4-byte little-endian size, data padded to even.
  for (let at = 12; at + 8 <= data.length;) {
    const id = tag(at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > data.length) return false;
      const format = view.getUint16(body, true);
      const channels = view.getUint16(body + 2, true);
      const rate = view.getUint32(body + 4, true);
      const byteRate = view.getUint32(body + 8, true);
      const blockAlign = view.getUint16(body + 12, true);
      const bits = view.getUint16(body + 14, true);
      fmtOk = format === 1 && channels === 1 && rate === 48_000 && bits === 16 && blockAlign === 2 && byteRate === 96_000;
    } else if (id === 'data') {
      // The format chunk must come first, and the samples must be whole and present.
      if (fmtOk === null || size % 2 !== 0 || body + size > data.length) return false;
      hasData = true;
    }
    at = body + size + (size % 2);
  }
  return fmtOk === true && hasData;
}

/** Colour components in a JPEG's start-of-frame segment (3 = RGB/YCbCr; 1 = greyscale; 4 = CMYK). */
function jpegComponents(data: Uint8Array): number | null {
  for (let at = 2; at + 4 <= data.length;) {
    if (data[at] !== 0xff) return null;
    const marker = data[at + 1]!;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    const length = (data[at + 2]! << 8) | data[at + 3]!;
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) return at + 9 < data.length ? data[at + 9]! : null;
    if (marker === 0xda || marker === 0xd9) return null; // scan data before any frame header
    at += 2 + length;
  }
  return null;
}

function imageOf(data: Uint8Array): { type: string; width: number; height: number } | null {
  try {
    const r = imageSize(data);
    return r.type && r.width && r.height ? { type: r.type, width: r.width, height: r.height } : null;
  } catch {
    return null;
  }
}

/** A JPG "RGB mode only", of the given size when one is required. */
function isRgbJpeg(data: Uint8Array, size?: { width: number; height: number }): boolean {
  const img = imageOf(data);
  if (!img || img.type !== 'jpg' || jpegComponents(data) !== 3) return false;
  return !size || (img.width === size.width && img.height === size.height);
}

function isSvg(data: Uint8Array): boolean {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(data);
    return /<svg[\s/>]/.test(text);
  } catch {
    return false;
  }
}

/**
 * themeconfig.json: a UTF-8 JSON dictionary with the documented types. A byte-order mark is
 * refused, as the guide warns against editors (Notepad) that write one.
 */
function parseThemeConfig(data: Uint8Array): Record<string, unknown> | null {
  try {
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(data);
    const parsed = themeConfigSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

function fileIsValid(kind: ThemeFileKind, data: Uint8Array): boolean {
  switch (kind) {
    case 'audio':
      return isThemeWav(data);
    case 'background':
      return isRgbJpeg(data, { width: 1920, height: 1080 });
    case 'avatar':
      // "should be 128 x 128 pixels": a recommendation, so only the format is enforced.
      return isRgbJpeg(data);
    case 'icon':
      return isSvg(data);
    case 'watermark':
      return imageOf(data)?.type === 'png';
    case 'config':
      return parseThemeConfig(data) !== null;
  }
}

/** The config's background and icon references must be Base files or files in this ZIP. */
function referencesResolve(config: Record<string, unknown>, files: Set<string>): boolean {
  const { backgrounds, icons } = referencedFiles(themeConfigSchema.parse(config));
  const known = (name: string, base: readonly string[]) => base.includes(name) || files.has(name);
  return (
    backgrounds.every((b) => BACKGROUND_PATTERN.test(b) && known(b, BASE_BACKGROUNDS)) && icons.every((i) => ICON_PATTERN.test(i) && known(i, BASE_SVG_FILES))
  );
}

/** What one theme file may unpack to: validation holds one file at a time, never the whole package. */
export const MAX_THEME_FILE_BYTES = 16 * 1024 * 1024;

type Zip = yauzl.ZipFile;
const openZip = (source: string | Uint8Array): Promise<Zip> =>
  new Promise((resolve, reject) => {
    // Names are decoded here, not by yauzl, so a path-traversal name is reported as a bad file
    // rather than failing the whole archive.
    const options = { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true };
    const done = (err: Error | null, zip?: Zip) => (err || !zip ? reject(err ?? new Error('no zip')) : resolve(zip));
    if (typeof source === 'string') yauzl.open(source, options, done);
    else yauzl.fromBuffer(Buffer.from(source.buffer, source.byteOffset, source.byteLength), options, done);
  });

/** The archive's entries, from its central directory (nothing is unpacked). */
const entriesOf = (zip: Zip): Promise<yauzl.Entry[]> =>
  new Promise((resolve, reject) => {
    const out: yauzl.Entry[] = [];
    zip.on('entry', (e: yauzl.Entry) => {
      out.push(e);
      zip.readEntry();
    });
    zip.once('end', () => resolve(out));
    zip.once('error', reject);
    zip.readEntry();
  });

/** One entry unpacked, at most `limit` bytes (yauzl checks the length against the directory). */
const readEntry = (zip: Zip, entry: yauzl.Entry): Promise<Uint8Array> =>
  new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err || !stream) return reject(err ?? new Error('no stream'));
      const parts: Buffer[] = [];
      let size = 0;
      stream.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_THEME_FILE_BYTES) stream.destroy(new TooLarge());
        else parts.push(c);
      });
      stream.once('error', reject);
      stream.once('end', () => resolve(Buffer.concat(parts)));
    });
  });

/** The entry's name as stored (bit 11: UTF-8), without yauzl's path checks. */
const nameOf = (e: yauzl.Entry): string => e.fileNameRaw.toString(e.generalPurposeBitFlag & 0x800 ? 'utf8' : 'latin1');

/**
 * Checks a theme ZIP (a spooled upload's path, or bytes) as the guide describes and returns its
 * file list and parsed themeconfig.json. Files are unpacked one at a time, each at most
 * MAX_THEME_FILE_BYTES, so a package is never held whole in memory. Every bad file is reported as
 * "Invalid file in theme: <name>" under the `package` field. Files must sit at the top level of
 * the ZIP: theme files are matched by name.
 */
export async function validateThemePackage(source: string | Uint8Array): Promise<ThemeContents> {
  const size = typeof source === 'string' ? (await stat(source)).size : source.length;
  if (size > MAX_THEME_PACKAGE_BYTES) {
    fail(`The theme ZIP file must be no larger than ${MAX_THEME_PACKAGE_BYTES / 1024 / 1024} MB.`);
  }
  let zip: Zip;
  let entries: yauzl.Entry[];
  try {
    zip = await openZip(source);
    entries = await entriesOf(zip);
  } catch {
    return fail(THEME_MESSAGES.notZip);
  }
  try {
    const files = entries
      .map((e) => ({ name: nameOf(e), entry: e }))
      .filter((f) => !f.name.endsWith('/') && !isArchiveClutter(f.name))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const unpacked = files.reduce((n, f) => n + f.entry.uncompressedSize, 0);
    if (unpacked > MAX_THEME_UNPACKED_BYTES) fail(`The theme must unpack to no more than ${MAX_THEME_UNPACKED_BYTES / 1024 / 1024} MB.`);
    const names = [...new Set(files.map((f) => f.name))].sort();
    if (names.length === 0) fail('The theme ZIP file contains no files.');

    const invalid: string[] = [];
    let config: Record<string, unknown> = {};
    for (const { name, entry } of files) {
      const kind = name.includes('/') ? null : kindOf(name);
      if (!kind || entry.uncompressedSize > MAX_THEME_FILE_BYTES) {
        invalid.push(name);
        continue;
      }
      let data: Uint8Array;
      try {
        data = await readEntry(zip, entry);
      } catch (err) {
        if (err instanceof TooLarge) {
          invalid.push(name);
          continue;
        }
        return fail(THEME_MESSAGES.notZip);
      }
      if (!fileIsValid(kind, data)) invalid.push(name);
      else if (kind === 'config') config = parseThemeConfig(data)!;
    }
    if (names.includes(THEMECONFIG) && !invalid.includes(THEMECONFIG) && !referencesResolve(config, new Set(names))) invalid.push(THEMECONFIG);
    if (invalid.length) fail(...[...new Set(invalid)].map(THEME_MESSAGES.invalidFile));
    return { files: names, config };
  } finally {
    zip.close();
  }
}

/** The theme version a config selects: 2 only with `"theme_version": 2`, otherwise legacy (1). */
export const themeVersionOf = (config: Record<string, unknown>): 1 | 2 => (config.theme_version === 2 ? 2 : 1);
