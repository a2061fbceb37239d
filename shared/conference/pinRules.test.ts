import { describe, expect, it } from 'vitest';
import { PIN_MESSAGES, validatePins } from './pin.js';
import { decideRole, pinEquals } from './pinCheck.js';

const v = (pin: string, guestPin = '', allowGuests = false) => validatePins({ pin, guestPin, allowGuests });

describe('validatePins (guide §20.2)', () => {
  it('accepts the valid shapes', () => {
    expect(v('')).toEqual({});
    expect(v('1234')).toEqual({});
    expect(v('12345678901234567890')).toEqual({});
    expect(v('1234#')).toEqual({});
    expect(v('1234', '5678', true)).toEqual({});
    expect(v('1234#', '567890#', true)).toEqual({});
    expect(v('1234', '', true)).toEqual({});
  });
  it('rejects bad characters and lengths', () => {
    expect(v('123')).toEqual({ pin: [PIN_MESSAGES.format] });
    expect(v('123456789012345678901')).toEqual({ pin: [PIN_MESSAGES.format] });
    expect(v('12a4')).toEqual({ pin: [PIN_MESSAGES.format] });
    expect(v('12#4')).toEqual({ pin: [PIN_MESSAGES.format] });
    expect(v('123#')).toEqual({}); // 4 characters including '#'
    expect(v('12#')).toEqual({ pin: [PIN_MESSAGES.format] });
    expect(v('1234', '56x8', true)).toEqual({ guest_pin: [PIN_MESSAGES.format] });
  });
  it('applies the Host/Guest rules', () => {
    expect(v('1234', '1234', true)).toEqual({ guest_pin: [PIN_MESSAGES.sameAsHost] });
    expect(v('1234#', '5678', true)).toEqual({ guest_pin: [PIN_MESSAGES.hashBoth] });
    expect(v('1234', '5678#', true)).toEqual({ guest_pin: [PIN_MESSAGES.hashBoth] });
    expect(v('1234', '56789', true)).toEqual({ guest_pin: [PIN_MESSAGES.sameLength] });
    expect(v('', '5678', true).guest_pin).toContain(PIN_MESSAGES.guestWithoutHost);
    expect(v('', '', true)).toEqual({ pin: [PIN_MESSAGES.allowGuestsNeedsHost] });
  });
});

describe('decideRole (guide §20.1 matrix)', () => {
  const s = (pin: string, guestPin = '', allowGuests = false) => ({ pin, guestPin, allowGuests });
  it('no PIN: everyone is a Host', () => {
    expect(decideRole(s(''), undefined)).toEqual({ kind: 'admit', role: 'HOST' });
    expect(decideRole(s(''), 'none')).toEqual({ kind: 'admit', role: 'HOST' });
  });
  it('Host PIN only, no Guests: the PIN is required and makes a Host', () => {
    expect(decideRole(s('1234'), undefined)).toEqual({ kind: 'pin_required', hostPin: true, guestPin: false });
    expect(decideRole(s('1234'), '1234')).toEqual({ kind: 'admit', role: 'HOST' });
    expect(decideRole(s('1234'), '4321')).toEqual({ kind: 'invalid_pin' });
    expect(decideRole(s('1234'), 'none')).toEqual({ kind: 'pin_required', hostPin: true, guestPin: false });
  });
  it('Host PIN, Guests allowed without a PIN: `none` joins as Guest', () => {
    expect(decideRole(s('1234', '', true), undefined)).toEqual({ kind: 'pin_required', hostPin: true, guestPin: false });
    expect(decideRole(s('1234', '', true), 'none')).toEqual({ kind: 'admit', role: 'GUEST' });
    expect(decideRole(s('1234', '', true), '1234')).toEqual({ kind: 'admit', role: 'HOST' });
    expect(decideRole(s('1234', '', true), '9999')).toEqual({ kind: 'invalid_pin' });
  });
  it('Host and Guest PINs: the role follows the PIN', () => {
    const svc = s('1234', '5678', true);
    expect(decideRole(svc, undefined)).toEqual({ kind: 'pin_required', hostPin: true, guestPin: true });
    expect(decideRole(svc, '1234')).toEqual({ kind: 'admit', role: 'HOST' });
    expect(decideRole(svc, '5678')).toEqual({ kind: 'admit', role: 'GUEST' });
    expect(decideRole(svc, 'none')).toEqual({ kind: 'pin_required', hostPin: true, guestPin: true });
    expect(decideRole(svc, '0000')).toEqual({ kind: 'invalid_pin' });
  });
  it('a Guest PIN is ignored when Guests are not allowed', () => {
    expect(decideRole(s('1234', '5678', false), '5678')).toEqual({ kind: 'invalid_pin' });
  });
  it('the trailing # is optional for the caller', () => {
    expect(decideRole(s('1234#', '5678#', true), '1234')).toEqual({ kind: 'admit', role: 'HOST' });
    expect(decideRole(s('1234#', '5678#', true), '5678#')).toEqual({ kind: 'admit', role: 'GUEST' });
    expect(decideRole(s('1234'), '1234#')).toEqual({ kind: 'admit', role: 'HOST' });
  });
  it('pinEquals compares whole values', () => {
    expect(pinEquals('1234', '1234')).toBe(true);
    expect(pinEquals('1234', '12345')).toBe(false);
    expect(pinEquals('', '1234')).toBe(false);
  });
});
