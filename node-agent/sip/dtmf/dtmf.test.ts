import { describe, expect, it } from 'vitest';
import { writeRtp } from '../../media/audio/rtpPacket.js';
import { infoDigit } from './sipInfoDtmf.js';
import { TelephoneEventDecoder } from './telephoneEvent.js';

/** One RFC 4733 packet: event code, end bit, duration, at RTP timestamp `ts`. */
const event = (code: number, ts: number, seq: number, end = false, duration = 160) =>
  writeRtp(101, seq === 0, seq, ts, 0x1234, Buffer.from([code, (end ? 0x80 : 0) | 10, duration >> 8, duration & 0xff]));

describe('RFC 4733 telephone-events', () => {
  it('reports each key once: updates and the three end packets of one event (same timestamp) are one press', () => {
    const d = new TelephoneEventDecoder();
    const got: (string | undefined)[] = [];
    let seq = 0;
    for (const [code, ts] of [
      [10, 8000],
      [7, 16000],
      [7, 24000],
      [11, 32000],
    ] as const) {
      got.push(d.push(event(code, ts, seq++)));
      got.push(d.push(event(code, ts, seq++, false, 320)));
      for (let i = 0; i < 3; i++) got.push(d.push(event(code, ts, seq++, true, 480)));
    }
    expect(got.filter(Boolean).join('')).toBe('*77#');
  });

  it('maps codes 0-15 to 0-9 * # A-D and ignores tones (16+), short and malformed packets', () => {
    const d = new TelephoneEventDecoder();
    const keys = Array.from({ length: 16 }, (_, code) => d.push(event(code, 1000 * (code + 1), code))).join('');
    expect(keys).toBe('0123456789*#ABCD');
    expect(d.push(event(16, 99_000, 20))).toBeUndefined();
    expect(d.push(writeRtp(101, false, 21, 100_000, 1, Buffer.from([5, 0])))).toBeUndefined();
    expect(d.push(Buffer.from('not rtp at all'))).toBeUndefined();
    expect(d.push(Buffer.alloc(0))).toBeUndefined();
  });
});

describe('DTMF by SIP INFO', () => {
  it('reads application/dtmf-relay (Signal=, with 10/11 for * and #) and application/dtmf', () => {
    expect(infoDigit('application/dtmf-relay', Buffer.from('Signal=5\r\nDuration=160\r\n'))).toBe('5');
    expect(infoDigit('Application/DTMF-Relay; charset=utf-8', Buffer.from('Signal= *\r\nDuration= 250'))).toBe('*');
    expect(infoDigit('application/dtmf-relay', Buffer.from('Signal=11\r\nDuration=160'))).toBe('#');
    expect(infoDigit('application/dtmf-relay', Buffer.from('signal=a\r\n'))).toBe('A');
    expect(infoDigit('application/dtmf', Buffer.from('7'))).toBe('7');
    expect(infoDigit('application/dtmf', Buffer.from('#\r\n'))).toBe('#');
  });

  it('ignores other bodies and content types', () => {
    expect(infoDigit('application/dtmf-relay', Buffer.from('Duration=160'))).toBeUndefined();
    expect(infoDigit('application/dtmf-relay', Buffer.from('Signal=12'))).toBeUndefined();
    expect(infoDigit('application/dtmf', Buffer.from('77'))).toBeUndefined();
    expect(infoDigit('application/media_control+xml', Buffer.from('<media_control/>'))).toBeUndefined();
    expect(infoDigit('application/dtmf', Buffer.alloc(5000, 0x37))).toBeUndefined();
    expect(infoDigit('', Buffer.alloc(0))).toBeUndefined();
  });
});
