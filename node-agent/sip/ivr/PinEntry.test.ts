import { describe, expect, it } from 'vitest';
import type { DtmfDigit } from '../dtmf/telephoneEvent.js';
import { fixedPinLength, PinEntry } from './PinEntry.js';

const keys = (entry: PinEntry, s: string) => [...s].map((k) => entry.press(k as DtmfDigit)).filter((p) => p !== undefined);

describe('PIN entry by keypad', () => {
  it("a PIN is tried on '#'; '#' alone asks to join without one", () => {
    const e = new PinEntry(undefined);
    expect(keys(e, '1234#')).toEqual(['1234']);
    expect(keys(e, '#')).toEqual(['']);
    expect(keys(e, '12#567890#')).toEqual(['12', '567890']);
  });

  it("PINs without a terminal '#' are tried at their length (guide: 'Invalid PIN' after that many digits)", () => {
    const e = new PinEntry(4);
    expect(keys(e, '12341111')).toEqual(['1234', '1111']);
    expect(keys(e, '12#')).toEqual(['12']);
  });

  it('the length applies only where Host and Guest PINs have the same length and no terminal #', () => {
    expect(fixedPinLength('1234', '')).toBe(4);
    expect(fixedPinLength('1234', '5678')).toBe(4);
    expect(fixedPinLength('1234', '567890')).toBeUndefined();
    expect(fixedPinLength('1234#', '5678#')).toBeUndefined();
    expect(fixedPinLength('', '')).toBeUndefined();
  });

  it('keeps at most 20 digits', () => {
    const e = new PinEntry(undefined);
    expect(keys(e, `${'9'.repeat(40)}#`)).toEqual(['9'.repeat(20)]);
  });
});
