import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { AVATAR_SIZE, avatarColour, avatarJpeg, initials } from './avatar.js';

const pixel = (img: { data: Uint8Array; width: number }, x: number, y: number) => [...img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 3)];
const near = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - b[i]!) < 24);

describe('avatar.jpg', () => {
  it('takes the initials of the first and last words, accents dropped', () => {
    expect(initials('Alice Smith')).toBe('AS');
    expect(initials('  émile   zola-durand ')).toBe('ED');
    expect(initials('Bob')).toBe('B');
    expect(initials('???')).toBe('?');
  });

  it('is a JPEG with the letters in white on the participant colour', () => {
    const buf = avatarJpeg('Ida', 'uuid-1');
    expect([...buf.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    const img = jpeg.decode(buf, { useTArray: true });
    expect(img.width).toBe(AVATAR_SIZE);
    expect(near(pixel(img, 2, 2), avatarColour('uuid-1'))).toBe(true);
    // "I": its middle column (the stem) is white at the centre of the picture, its sides are not.
    expect(near(pixel(img, 64, 64), [255, 255, 255])).toBe(true);
    expect(near(pixel(img, 50, 64), avatarColour('uuid-1'))).toBe(true);
  });

  it('gives different people different colours', () => {
    expect(avatarColour('a')).not.toEqual(avatarColour('b'));
  });
});
