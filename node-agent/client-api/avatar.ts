import { createHash } from 'node:crypto';
import jpeg from 'jpeg-js';

/**
 * Participant `avatar.jpg` (client-api-v2 §7): a JPEG with the participant's initials on a colour
 * of their own, since the node has no pictures of people. Drawn with a 5×7 bitmap font (A–Z, 0–9)
 * and encoded with jpeg-js (pure JavaScript).
 */
const GLYPHS: Record<string, string> = {
  A: '01110100011000111111100011000110001',
  B: '11110100011000111110100011000111110',
  C: '01110100011000010000100001000101110',
  D: '11110100011000110001100011000111110',
  E: '11111100001000011110100001000011111',
  F: '11111100001000011110100001000010000',
  G: '01110100011000010111100011000101111',
  H: '10001100011000111111100011000110001',
  I: '01110001000010000100001000010001110',
  J: '00111000100001000010000101001001100',
  K: '10001100101010011000101001001010001',
  L: '10000100001000010000100001000011111',
  M: '10001110111010110101100011000110001',
  N: '10001100011100110101100111000110001',
  O: '01110100011000110001100011000101110',
  P: '11110100011000111110100001000010000',
  Q: '01110100011000110001101011001001101',
  R: '11110100011000111110101001001010001',
  S: '01111100001000001110000010000111110',
  T: '11111001000010000100001000010000100',
  U: '10001100011000110001100011000101110',
  V: '10001100011000110001100010101000100',
  W: '10001100011000110101101011010101010',
  X: '10001100010101000100010101000110001',
  Y: '10001100010101000100001000010000100',
  Z: '11111000010001000100010001000011111',
  '0': '01110100011001110101110011000101110',
  '1': '00100011000010000100001000010001110',
  '2': '01110100010000100010001000100011111',
  '3': '11111000100010000010000011000101110',
  '4': '00010001100101010010111110001000010',
  '5': '11111100001111000001000011000101110',
  '6': '00110010001000011110100011000101110',
  '7': '11111000010001000100010000100001000',
  '8': '01110100011000101110100011000101110',
  '9': '01110100011000101111000010001001100',
  '?': '01110100010000100010001000000000100',
};

export const AVATAR_SIZE = 128;
const SCALE = 6;

/** Up to two initials: the first letters of the first and last words, accents dropped. */
export function initials(displayName: string): string {
  const words = displayName
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .filter(Boolean);
  if (words.length === 0) return '?';
  return words.length === 1 ? words[0]![0]! : words[0]![0]! + words[words.length - 1]![0]!;
}

/** A darkish colour from the participant's id, so white letters read well on it. */
export function avatarColour(seed: string): [number, number, number] {
  const h = createHash('sha256').update(seed).digest();
  return [40 + (h[0]! % 110), 40 + (h[1]! % 110), 40 + (h[2]! % 110)];
}

export function avatarJpeg(displayName: string, seed: string): Buffer {
  const size = AVATAR_SIZE;
  const data = Buffer.alloc(size * size * 4);
  const [r, g, b] = avatarColour(seed);
  for (let i = 0; i < size * size; i++) data.set([r, g, b, 255], i * 4);
  const text = initials(displayName);
  const glyphW = 5 * SCALE;
  const gap = SCALE * 2;
  const width = text.length * glyphW + (text.length - 1) * gap;
  const x0 = Math.floor((size - width) / 2);
  const y0 = Math.floor((size - 7 * SCALE) / 2);
  [...text].forEach((ch, k) => {
    const glyph = GLYPHS[ch] ?? GLYPHS['?']!;
    for (let row = 0; row < 7; row++) {
      for (let col = 0; col < 5; col++) {
        if (glyph[row * 5 + col] !== '1') continue;
        for (let dy = 0; dy < SCALE; dy++) {
          for (let dx = 0; dx < SCALE; dx++) {
            const x = x0 + k * (glyphW + gap) + col * SCALE + dx;
            const y = y0 + row * SCALE + dy;
            data.set([255, 255, 255, 255], (y * size + x) * 4);
          }
        }
      }
    }
  });
  return jpeg.encode({ data, width: size, height: size }, 90).data;
}
