import { createHash, timingSafeEqual } from 'node:crypto';

/** PIN rules of the guide (digest 2, §20.2): digits, optional trailing `#`, 4-20 characters including `#`. */
export const PIN_MESSAGES = {
  format: 'PIN must be 4-20 digits long, including an optional trailing #.',
  sameAsHost: 'Guest PIN must be different from the Host PIN.',
  hashBoth: 'If either PIN ends in #, both PINs must end in #.',
  sameLength: 'Host and Guest PINs must have the same number of digits unless both end in #.',
  guestWithoutHost: 'A Guest PIN cannot be set without a Host PIN.',
  allowGuestsNeedsHost: 'A Host PIN must be set when Allow Guests is enabled.',
} as const;

export interface PinSettings {
  pin: string;
  guestPin: string;
  allowGuests: boolean;
}

export type PinField = 'pin' | 'guest_pin' | 'allow_guests';

/** Validates a service's PINs; returns field → messages (empty when valid). */
export function validatePins(s: PinSettings): Partial<Record<PinField, string[]>> {
  const errors: Partial<Record<PinField, string[]>> = {};
  const add = (f: PinField, m: string) => (errors[f] ??= []).push(m);
  const isValidPin = (p: string) => /^[0-9]+#?$/.test(p) && p.length >= 4 && p.length <= 20;
  if (s.pin !== '' && !isValidPin(s.pin)) add('pin', PIN_MESSAGES.format);
  if (s.guestPin !== '' && !isValidPin(s.guestPin)) add('guest_pin', PIN_MESSAGES.format);
  if (s.guestPin !== '' && s.pin === '') add('guest_pin', PIN_MESSAGES.guestWithoutHost);
  if (s.allowGuests && s.pin === '') add('pin', PIN_MESSAGES.allowGuestsNeedsHost);
  if (s.pin !== '' && s.guestPin !== '' && !errors.pin && !errors.guest_pin) {
    const hostHash = s.pin.endsWith('#');
    const guestHash = s.guestPin.endsWith('#');
    if (s.pin === s.guestPin) add('guest_pin', PIN_MESSAGES.sameAsHost);
    else if (hostHash !== guestHash) add('guest_pin', PIN_MESSAGES.hashBoth);
    else if (!hostHash && s.pin.length !== s.guestPin.length) add('guest_pin', PIN_MESSAGES.sameLength);
  }
  return errors;
}

/** Compares two PINs in constant time (hashing first so lengths do not leak). */
export function pinEquals(entered: string, configured: string): boolean {
  const a = createHash('sha256').update(entered).digest();
  const b = createHash('sha256').update(configured).digest();
  return timingSafeEqual(a, b);
}

/** A trailing `#` is optional for the caller (guide §20.3: optional for Infinity Connect clients). */
function matches(entered: string, configured: string): boolean {
  if (configured === '') return false;
  const bare = configured.endsWith('#') ? configured.slice(0, -1) : configured;
  const typed = entered.endsWith('#') ? entered.slice(0, -1) : entered;
  return pinEquals(typed, bare);
}

export type Role = 'HOST' | 'GUEST';
export type PinDecision =
  | { kind: 'admit'; role: Role }
  | { kind: 'pin_required'; hostPin: boolean; guestPin: boolean }
  | { kind: 'invalid_pin' };

/**
 * Decides the role for a join attempt (guide §20.1 matrix). `entered` is the PIN the caller gave,
 * or undefined / 'none' when none was given.
 */
export function decideRole(s: PinSettings, entered: string | undefined): PinDecision {
  if (s.pin === '') return { kind: 'admit', role: 'HOST' };
  const guestsPinless = s.allowGuests && s.guestPin === '';
  // The Pexip client sends `pin: none` to join as a Guest where Guests need no PIN.
  if (entered === 'none' && guestsPinless) return { kind: 'admit', role: 'GUEST' };
  const given = entered !== undefined && entered !== '' && entered !== 'none' ? entered : undefined;
  if (given === undefined) {
    return { kind: 'pin_required', hostPin: true, guestPin: s.allowGuests && s.guestPin !== '' };
  }
  // Evaluate both comparisons every time: constant work whichever PIN is tried.
  const isHost = matches(given, s.pin);
  const isGuest = s.allowGuests && s.guestPin !== '' && matches(given, s.guestPin);
  if (isHost) return { kind: 'admit', role: 'HOST' };
  if (isGuest) return { kind: 'admit', role: 'GUEST' };
  return { kind: 'invalid_pin' };
}
