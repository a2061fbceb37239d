import { zlibSync } from 'fflate';

/**
 * Tiny encoders for the Base theme's generated assets, so the product ships a complete, valid theme
 * without image or audio libraries: WAV (PCM), solid-colour baseline JPEG, and RGBA PNG.
 */

/** A RIFF/WAVE file, Microsoft PCM, 16 bit, mono 48000 Hz: the format the guide requires. */
export function wav48kMono(samples: Int16Array): Uint8Array {
  const out = new Uint8Array(44 + samples.length * 2);
  const v = new DataView(out.buffer);
  const ascii = (at: number, s: string) => [...s].forEach((c, i) => (out[at + i] = c.charCodeAt(0)));
  ascii(0, 'RIFF');
  v.setUint32(4, 36 + samples.length * 2, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true); // PCM
  v.setUint16(22, 1, true); // mono
  v.setUint32(24, 48_000, true);
  v.setUint32(28, 96_000, true); // byte rate
  v.setUint16(32, 2, true); // block align
  v.setUint16(34, 16, true); // bits per sample
  ascii(36, 'data');
  v.setUint32(40, samples.length * 2, true);
  samples.forEach((s, i) => v.setInt16(44 + i * 2, s, true));
  return out;
}

/** Sine tones and silences, in order, as 48 kHz samples (frequency 0 = silence); 5 ms fades avoid clicks. */
export function tones(parts: { hz: number; ms: number; level?: number }[]): Int16Array {
  const total = parts.reduce((n, p) => n + Math.round((p.ms * 48_000) / 1000), 0);
  const out = new Int16Array(total);
  let at = 0;
  for (const p of parts) {
    const n = Math.round((p.ms * 48_000) / 1000);
    const fade = Math.min(240, n / 2);
    for (let i = 0; i < n && p.hz > 0; i++) {
      const env = Math.min(1, i / fade, (n - 1 - i) / fade);
      out[at + i] = Math.round(Math.sin((2 * Math.PI * p.hz * i) / 48_000) * env * (p.level ?? 0.25) * 32_767);
    }
    at += n;
  }
  return out;
}

/**
 * A baseline JPEG of one solid colour, 3 components (YCbCr, i.e. "RGB mode"), no subsampling. With a
 * solid colour every 8×8 block has only a DC coefficient, and after the first block per component
 * every DC difference is 0, so the entropy-coded data is a handful of bits per block.
 */
export function solidJpeg(width: number, height: number, rgb: [number, number, number]): Uint8Array {
  const [r, g, b] = rgb;
  const ycc = [0.299 * r + 0.587 * g + 0.114 * b, 128 - 0.168736 * r - 0.331264 * g + 0.5 * b, 128 + 0.5 * r - 0.418688 * g - 0.081312 * b];
  // DC = 8 × (value − 128); with quantiser 8 the coded DC is the level-shifted value itself.
  const dc = ycc.map((c) => Math.max(-128, Math.min(127, Math.round(c - 128))));
  const category = (x: number) => (x === 0 ? 0 : Math.floor(Math.log2(Math.abs(x))) + 1);
  const dcSymbols = [...new Set([0, ...dc.map(category)])].sort((a, b) => a - b);

  const bytes: number[] = [];
  const segment = (marker: number, body: number[]) => bytes.push(0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body);
  bytes.push(0xff, 0xd8);
  segment(0xe0, [0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]); // JFIF
  segment(0xdb, [0x00, ...new Array<number>(64).fill(8)]);
  segment(0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0]);
  // DC table: every symbol gets a 3-bit code (000, 001, ...); AC table: only end-of-block, code "0".
  const dcCounts = new Array<number>(16).fill(0);
  dcCounts[2] = dcSymbols.length;
  segment(0xc4, [0x00, ...dcCounts, ...dcSymbols]);
  const acCounts = new Array<number>(16).fill(0);
  acCounts[0] = 1;
  segment(0xc4, [0x10, ...acCounts, 0x00]);
  segment(0xda, [3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0]);

  let acc = 0;
  let nbits = 0;
  const put = (value: number, n: number) => {
    for (let i = n - 1; i >= 0; i--) {
      acc = (acc << 1) | ((value >> i) & 1);
      if (++nbits === 8) {
        bytes.push(acc);
        if (acc === 0xff) bytes.push(0); // byte stuffing
        acc = 0;
        nbits = 0;
      }
    }
  };
  const blocks = Math.ceil(width / 8) * Math.ceil(height / 8);
  for (let mcu = 0; mcu < blocks; mcu++) {
    for (let c = 0; c < 3; c++) {
      const diff = mcu === 0 ? dc[c]! : 0;
      const cat = category(diff);
      put(dcSymbols.indexOf(cat), 3);
      if (cat) put(diff > 0 ? diff : diff + (1 << cat) - 1, cat);
      put(0, 1); // end of block
    }
  }
  if (nbits) put(0x7f, 8 - nbits); // pad the last byte with 1-bits
  bytes.push(0xff, 0xd9);
  return Uint8Array.from(bytes);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** An 8-bit RGBA PNG (with transparency) from a pixel function. */
export function rgbaPng(width: number, height: number, pixel: (x: number, y: number) => [number, number, number, number]): Uint8Array {
  const raw = new Uint8Array(height * (1 + width * 4));
  for (let y = 0; y < height; y++) {
    const row = y * (1 + width * 4); // filter byte 0 (none) then the pixels
    for (let x = 0; x < width; x++) raw.set(pixel(x, y), row + 1 + x * 4);
  }
  const chunk = (type: string, body: Uint8Array) => {
    const out = new Uint8Array(12 + body.length);
    const v = new DataView(out.buffer);
    v.setUint32(0, body.length);
    for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
    out.set(body, 8);
    v.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)));
    return out;
  };
  const ihdr = new Uint8Array(13);
  const h = new DataView(ihdr.buffer);
  h.setUint32(0, width);
  h.setUint32(4, height);
  ihdr.set([8, 6, 0, 0, 0], 8); // 8-bit, RGBA, deflate, no filter, no interlace
  const parts = [
    Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlibSync(raw)),
    chunk('IEND', new Uint8Array()),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
