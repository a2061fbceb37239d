import type { DtmfDigit } from '../dtmf/telephoneEvent.js';

/** Attempts a keypad caller has at a PIN (guide "Incorrect PINs": three, then the call is disconnected). */
export const PIN_ATTEMPTS = 3;
/** Longest entry kept (the guide's PINs have at most 20 characters). */
const MAX_DIGITS = 20;

/**
 * The keys of a caller at the PIN entry screen, turned into PINs to try. A PIN ends with '#'.
 * Where the room's PINs have no terminal '#', the entry is also tried as soon as it has as many
 * digits as the PIN (guide "Using # at the end of a PIN"); '#' alone (nothing keyed) asks to join
 * without a PIN, which admits a Guest where Guests need none.
 */
export class PinEntry {
  private digits = '';

  constructor(
    /** Length of the room's PINs when they do not end in '#' (Host and Guest PINs then have the same length). */
    private readonly fixedLength: number | undefined,
  ) {}

  /** The PIN to try now ('' for '#' alone), else undefined. */
  press(key: DtmfDigit): string | undefined {
    if (key === '#') return this.take();
    if (this.digits.length < MAX_DIGITS) this.digits += key;
    if (this.fixedLength !== undefined && this.digits.length >= this.fixedLength) return this.take();
    return undefined;
  }

  private take(): string {
    const pin = this.digits;
    this.digits = '';
    return pin;
  }
}

/** The length a PIN entry is complete at: the room's PIN length when its PINs have no terminal '#'. */
export function fixedPinLength(hostPin: string, guestPin: string): number | undefined {
  if (hostPin === '' || hostPin.endsWith('#')) return undefined;
  if (guestPin !== '' && guestPin.length !== hostPin.length) return undefined;
  return hostPin.length;
}
