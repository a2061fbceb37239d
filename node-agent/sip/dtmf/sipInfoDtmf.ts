import { isDtmfDigit, type DtmfDigit } from './telephoneEvent.js';

/** Longest INFO body we read for a digit: both formats are a few bytes. */
const MAX_BODY = 1024;

/**
 * The key pressed in a SIP INFO (what phones send instead of RFC 4733 when told to):
 * `application/dtmf-relay` (`Signal=5\r\nDuration=160`) or `application/dtmf` (the digit alone).
 * `Signal=10`/`11` are '*' and '#' as some phones write them. Anything else: undefined.
 */
export function infoDigit(contentType: string, body: Buffer): DtmfDigit | undefined {
  if (body.length > MAX_BODY) return undefined;
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  const text = body.toString('utf8');
  let raw: string | undefined;
  if (type === 'application/dtmf-relay') raw = /^\s*signal\s*=\s*(\S+)\s*$/im.exec(text)?.[1];
  else if (type === 'application/dtmf') raw = text.trim();
  if (raw === undefined) return undefined;
  if (raw === '10') return '*';
  if (raw === '11') return '#';
  const digit = raw.toUpperCase();
  return isDtmfDigit(digit) ? digit : undefined;
}
