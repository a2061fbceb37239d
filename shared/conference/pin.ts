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
