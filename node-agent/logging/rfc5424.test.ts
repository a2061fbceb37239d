import { describe, expect, it } from 'vitest';
import { RFC5424 } from '../testing/syslogReceivers.js';
import { FACILITY, REDACTED, formatRfc5424, octetFrame, parseOctetFrames, parsePinoLine, severityOfPinoLevel, truncateUtf8 } from './rfc5424.js';

describe('RFC 5424 formatting', () => {
  it('writes PRI = facility × 8 + severity, a UTC timestamp and the header fields', () => {
    const line = formatRfc5424({
      facility: FACILITY.local2,
      severity: 6,
      time: Date.UTC(2024, 0, 2, 3, 4, 5, 678),
      hostname: 'node-1',
      appName: 'openmeet-node',
      procId: '42',
      msgId: 'conference',
      msg: 'INFO node.conference Message="hi"',
    });
    expect(line).toBe('<150>1 2024-01-02T03:04:05.678Z node-1 openmeet-node 42 conference - INFO node.conference Message="hi"');
    expect(RFC5424.test(line)).toBe(true);
  });

  it('replaces spaces and non-ASCII in header fields and writes - for an empty one', () => {
    const line = formatRfc5424({
      facility: FACILITY.local7,
      severity: 3,
      time: 0,
      hostname: 'my node é',
      appName: 'a'.repeat(60),
      procId: '1',
      msgId: '',
      msg: 'x',
    });
    const m = RFC5424.exec(line)!;
    expect(m[1]).toBe(String(23 * 8 + 3));
    expect(m[3]).toBe('my_node__');
    expect(m[4]).toHaveLength(48);
    expect(m[6]).toBe('-');
  });

  it('maps pino levels to syslog severities', () => {
    expect([10, 20, 30, 40, 50, 60].map(severityOfPinoLevel)).toEqual([7, 7, 6, 4, 3, 2]);
  });

  it('turns a pino line into the guide\'s "level name details" with secrets redacted', () => {
    const line = JSON.stringify({
      level: 40,
      time: 1,
      pid: 9,
      hostname: 'h',
      name: 'node',
      node: 'n1',
      part: 'client-api',
      alias: 'meet "x"',
      pin: '1234',
      nested: { password: 'pw', ok: 1 },
      msg: 'two\nlines',
    });
    const p = parsePinoLine(line)!;
    expect(p).toMatchObject({ level: 40, time: 1, module: 'node.client-api', part: 'client-api' });
    expect(p.text).toBe(
      `WARNING node.client-api Message="two\\nlines" alias="meet \\"x\\"" pin="${REDACTED}" nested="{\\"password\\":\\"${REDACTED}\\",\\"ok\\":1}"`,
    );
    expect(p.text).not.toContain('1234');
    expect(p.text).not.toContain('"pw');
    expect(parsePinoLine('not json')).toBeNull();
    expect(parsePinoLine('[1]')).toBeNull();
  });

  it('cuts UTF-8 on a character boundary', () => {
    expect(truncateUtf8('abc', 10).toString()).toBe('abc');
    const cut = truncateUtf8('aé', 2); // é is two octets: it does not fit, and is not split
    expect(cut.toString()).toBe('a');
    expect(truncateUtf8('€€€', 7).length).toBe(6);
  });

  it('frames with octet counting (RFC 6587) and parses frames back, across chunk boundaries', () => {
    const a = octetFrame(Buffer.from('<150>1 héllo'));
    expect(a.toString()).toBe(`${Buffer.byteLength('<150>1 héllo')} <150>1 héllo`);
    const b = octetFrame(Buffer.from('second message'));
    const all = Buffer.concat([a, b]);
    const first = parseOctetFrames(all.subarray(0, a.length + 5));
    expect(first.messages).toEqual(['<150>1 héllo']);
    const second = parseOctetFrames(Buffer.concat([first.rest, all.subarray(a.length + 5)]));
    expect(second.messages).toEqual(['second message']);
    expect(second.rest.length).toBe(0);
    expect(() => parseOctetFrames(Buffer.from('x <1>'))).toThrow();
  });
});
