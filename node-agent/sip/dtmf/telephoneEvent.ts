import { parseRtpHeader, rtpPayload } from '../../media/rtp/RtpPacket.js';

/** A DTMF key: 0-9, *, #, A-D. */
export type DtmfDigit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | '*' | '#' | 'A' | 'B' | 'C' | 'D';

/** RFC 4733 §3.2 event codes 0–15 in order (10 is '*', 11 '#'); other events are tones, not keys. */
const DIGITS = '0123456789*#ABCD';

export function eventDigit(code: number): DtmfDigit | undefined {
  return code >= 0 && code < DIGITS.length ? (DIGITS[code] as DtmfDigit) : undefined;
}

export function isDtmfDigit(s: string): s is DtmfDigit {
  return s.length === 1 && DIGITS.includes(s);
}

/**
 * RFC 4733 telephone-event packets of one stream turned into key presses. An event is sent as
 * several packets with the same RTP timestamp (updates, then the end bit three times): a digit is
 * reported once, on the first packet of a new timestamp. Never throws; other packets are ignored.
 */
export class TelephoneEventDecoder {
  private lastTimestamp: number | undefined;

  /** The digit a new event starts, else undefined (an update, a repeat, another event, a bad packet). */
  push(rtp: Buffer): DtmfDigit | undefined {
    const header = parseRtpHeader(rtp);
    const payload = header && rtpPayload(rtp, header);
    // One 4-byte event block at least: event, E|R|volume, duration.
    if (!header || !payload || payload.length < 4) return undefined;
    if (header.timestamp === this.lastTimestamp) return undefined;
    this.lastTimestamp = header.timestamp;
    return eventDigit(payload[0]!);
  }
}
