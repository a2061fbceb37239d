import { secretEquals } from '../security/secretEquals.js';
import type { PinSettings } from './pin.js';

/** Compares two PINs in constant time. */
export const pinEquals = (entered: string, configured: string): boolean => secretEquals(entered, configured);

/** A trailing `#` is optional for the caller (guide §20.3: optional for Infinity Connect clients). */
function matches(entered: string, configured: string): boolean {
  if (configured === '') return false;
  const bare = configured.endsWith('#') ? configured.slice(0, -1) : configured;
  const typed = entered.endsWith('#') ? entered.slice(0, -1) : entered;
  return pinEquals(typed, bare);
}

export type Role = 'HOST' | 'GUEST';
export type PinDecision = { kind: 'admit'; role: Role } | { kind: 'pin_required'; hostPin: boolean; guestPin: boolean } | { kind: 'invalid_pin' };

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
