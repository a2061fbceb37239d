import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { frameLength, MAX_MESSAGE_BYTES, parseSipMessage, SipParseError, serializeSipMessage, TOO_LARGE, UNFRAMEABLE, uriUser } from './SipMessage.js';

const valid = (body = '') =>
  `INVITE sip:meet.alice@example.com SIP/2.0\r\nv: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1, SIP/2.0/TCP proxy;branch=z9hG4bK2\r\nFrom: "A, B" <sip:a@b>;tag=1\r\nt: <sip:meet.alice@example.com>\r\ni: abc\r\nCSeq: 7 INVITE\r\nSubject: folded\r\n line\r\nl: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

describe('SIP message parser', () => {
  it('reads compact and folded headers, Via lists and the body by Content-Length', () => {
    const m = parseSipMessage(Buffer.from(valid('v=0\r\n') + 'trailing'));
    expect(m).toMatchObject({ kind: 'request', method: 'INVITE', uri: 'sip:meet.alice@example.com' });
    expect(m.headers.get('via')).toHaveLength(2);
    expect(m.headers.get('from')).toEqual(['"A, B" <sip:a@b>;tag=1']);
    expect(m.headers.get('subject')).toEqual(['folded line']);
    expect(m.body.toString()).toBe('v=0\r\n');
    expect(uriUser(m.kind === 'request' ? m.uri : '')).toBe('meet.alice');
  });

  it('refuses what is wrong with 400 (or 413), keeping the headers of a request to answer it', () => {
    const bad = (s: string) => {
      try {
        parseSipMessage(Buffer.from(s));
      } catch (e) {
        return e as SipParseError;
      }
      throw new Error('parsed');
    };
    expect(bad(valid().replace('CSeq: 7 INVITE', 'CSeq: 7 BYE'))).toMatchObject({ status: 400, message: 'CSeq method does not match' });
    expect(bad(valid().replace('l: 0', 'l: 10'))).toMatchObject({ status: 400, message: 'Content-Length larger than the message' });
    expect(bad(valid().replace('i: abc\r\n', ''))).toMatchObject({ status: 400, partial: { method: 'INVITE' } });
    expect(bad('INVITE sip:x SIP/3.0\r\n\r\n')).toMatchObject({ status: 400, partial: undefined });
    expect(bad('x'.repeat(MAX_MESSAGE_BYTES + 1))).toMatchObject({ status: 413 });
  });

  it('serializes what it parses back to an equal message', () => {
    const m = parseSipMessage(Buffer.from(valid('hello')));
    const again = parseSipMessage(serializeSipMessage(m));
    expect(again).toEqual(m);
  });

  it('frames a TCP stream by Content-Length', () => {
    const one = Buffer.from(valid('abc'));
    expect(frameLength(Buffer.concat([one, one]))).toBe(one.length);
    expect(frameLength(one.subarray(0, one.length - 1))).toBe(0);
    expect(frameLength(Buffer.from('OPTIONS sip:x SIP/2.0\r\nVia: x\r\n\r\n'))).toBe(UNFRAMEABLE);
    expect(frameLength(Buffer.from('OPTIONS sip:x SIP/2.0\r\nl: 70000\r\n\r\n'))).toBe(TOO_LARGE);
  });

  it('never throws anything but SipParseError, whatever the bytes (fuzz)', () => {
    const lines = fc.array(
      fc.oneof(
        fc.string(),
        fc.constantFrom(
          'Via: SIP/2.0/UDP h;branch=z9hG4bKx',
          'CSeq: 1 INVITE',
          'Call-ID: 1',
          'From: <sip:a@b>',
          'To: <sip:c@d>',
          'Content-Length: 3',
          'l: 99999999',
          ' folded',
          ':',
        ),
      ),
      { maxLength: 12 },
    );
    fc.assert(
      fc.property(
        fc.constantFrom('INVITE sip:a@b SIP/2.0', 'SIP/2.0 200 OK', 'BYE x SIP/2.0', ''),
        lines,
        fc.uint8Array({ maxLength: 40 }),
        (start, hs, tail) => {
          const buf = Buffer.concat([Buffer.from([start, ...hs].join('\r\n') + '\r\n\r\n'), Buffer.from(tail)]);
          try {
            const m = parseSipMessage(buf);
            // Whatever parses serializes and parses again the same.
            expect(parseSipMessage(serializeSipMessage(m))).toEqual(m);
          } catch (e) {
            if (!(e instanceof SipParseError)) throw e;
          }
          const n = frameLength(buf);
          expect(n === -1 || n === -2 || (n >= 0 && n <= buf.length)).toBe(true);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
