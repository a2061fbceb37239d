import { describe, expect, it } from 'vitest';
import { regexValidator } from '../config/field.js';
import { compilePythonRegex, expandReplacement, fullMatch, PythonRegexError, testRegex } from './pythonRegex.js';

/** The guide's IP address pattern, with `[0-9]` for the source's `(0-9)` typo. */
const OCTET = '([0-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5])';
const IP = `^(${OCTET}\\.){3}${OCTET}$`;
const IP_WITH_DOMAIN = `^((${OCTET}\\.){3}${OCTET})(@example\\.com)?$`;

describe('the guide’s pattern matching examples (digest 4 §5.2)', () => {
  it.each([
    // VMR naming patterns
    ['[a-z]+\\d@example\\.com', 'oslo1@example.com', true],
    ['[a-z]+\\d@example\\.com', 'newyork1@example.com', true],
    ['[a-z]+\\d@example\\.com', 'Oslo2@EXAMPLE.com', true],
    ['[a-z]+\\d@example\\.com', 'oslo12@example.com', false],
    ['[a-z]+\\d@example\\.com', 'oslo1@example.net', false],
    ['555\\d{3}@example\\.com', '555100@example.com', true],
    ['555\\d{3}@example\\.com', '555234@example.com', true],
    ['555\\d{3}@example\\.com', '5551000@example.com', false],
    ['555\\d{3}@example\\.com', '555x00@example.com', false],
    ['([a-z]+\\d|555\\d{3})@example\\.com', 'oslo1@example.com', true],
    ['([a-z]+\\d|555\\d{3})@example\\.com', '555234@example.com', true],
    ['([a-z]+\\d|555\\d{3})@example\\.com', '5552@example.com', false],
    // IP addresses
    [IP, '10.0.0.1', true],
    [IP, '192.168.255.254', true],
    [IP, '256.1.1.1', false],
    [IP, '10.0.0', false],
    [IP_WITH_DOMAIN, '10.44.99.2', true],
    [IP_WITH_DOMAIN, '10.44.99.2@example.com', true],
    [IP_WITH_DOMAIN, '10.44.99.2@example.net', false],
    // Syntax table
    ['abc', 'aBC', true],
    ['ab\\+', 'ab+', true],
    ['.*@example\\.(net|com)', 'alice@example.net', true],
    ['a.c', 'a$c', true],
    ['a\\d', 'a1', true],
    ['a\\d', 'aa', false],
    ['a\\D', 'ab', true],
    ['ab\\sd', 'ab d', true],
    ['ab\\Sd', 'abcd', true],
    ['\\w+', 'bob_jones', true],
    ['\\w+', 'bob.jones', false],
    ['[\\w.-]+', 'bob-jones', true],
    ['9[aeiou]', '9E', true],
    ['9[aeiou]', '9b', false],
    ['[0-9#*]', '#', true],
    ['[^0-9#*]', '5', false],
    ['ab*c', 'ac', true],
    ['ab+c', 'ac', false],
    ['ab?c', 'abbc', false],
    ['ab{2}c', 'abbc', true],
    ['ab{2,4}c', 'abbbbc', true],
    ['ab{2,4}c', 'abbbbbc', false],
    ['ab{2,}c', 'abbbbbc', true],
    ['a\\d{3}', 'a789', true],
    ['^meet\\.(.*)', 'meet.alice', true],
    ['.*\\.com$', 'alice@example.com', true],
    // Negative lookahead / lookbehind
    ['(?!.*@example\\.com$).*', 'alice@example.com', false],
    ['(?!.*@example\\.com$).*', 'alice@example.org', true],
    ['(?!meet).*', 'meet.alice', false],
    ['(?!meet).*', 'alice', true],
    ['meet(?!\\.).*', 'meetalice', true],
    ['meet(?!\\.).*', 'meet.alice', false],
    ['.*(?<!@)example\\.com.*', 'www.example.com', true],
    ['.*(?<!@)example\\.com.*', 'alice@example.com', false],
  ])('%s against %s → %s', (pattern, input, matches) => {
    expect(fullMatch(pattern, input) !== null).toBe(matches);
  });
});

describe('the guide’s search and replace examples', () => {
  it.each([
    [IP_WITH_DOMAIN, '\\1', '10.44.99.2@example.com', '10.44.99.2'],
    [IP_WITH_DOMAIN, '\\1', '10.44.99.2', '10.44.99.2'],
    ['(.+)(@example\\.net$)', '\\1@example.com', 'alice@example.net', 'alice@example.com'],
    ['(.+)(@example\\.(com|net|co\\.uk)$)', '\\1@example.com', 'bob@example.co.uk', 'bob@example.com'],
    ['(.+)(@example\\.(com|net|co\\.uk)$)', '\\1@example.com', 'bob@example.net', 'bob@example.com'],
    ['9([0-9]+)', '\\1', '90123456789', '0123456789'],
  ])('%s / %s: %s → %s', (regex, replace, input, result) => {
    expect(testRegex({ input, regex, replace })).toMatchObject({ result, status: 'successful' });
  });

  it('leaves a fully matched input unchanged when the replace string is blank', () => {
    expect(testRegex({ input: 'Alice@Example.net', regex: '(.+)(@example\\.net$)', replace: '' })).toEqual({
      result: 'Alice@Example.net',
      status: 'successful',
      groups: [
        { index: 1, value: 'Alice' },
        { index: 2, value: '@Example.net' },
      ],
    });
  });

  it('does not strip a leading 9 from an alias that only partly matches', () => {
    expect(testRegex({ input: '9123abc', regex: '9([0-9]+)', replace: '\\1' })).toEqual({
      result: null,
      status: 'partial',
      groups: [{ index: 1, value: '123' }],
    });
    expect(testRegex({ input: '8123', regex: '9([0-9]+)', replace: '\\1' })).toEqual({ result: null, status: 'failed', groups: [] });
  });
});

describe('Python syntax', () => {
  it('translates named groups and their back references', () => {
    const r = testRegex({ input: 'Alice.Jones@example.com', regex: '(?P<user>[a-z.]+)@(?P<domain>.+)', replace: '\\g<domain>/\\g<user>/\\g<1>' });
    expect(r).toEqual({
      result: 'example.com/Alice.Jones/Alice.Jones',
      status: 'successful',
      groups: [
        { index: 1, name: 'user', value: 'Alice.Jones' },
        { index: 2, name: 'domain', value: 'example.com' },
      ],
    });
    expect(fullMatch('(?P<x>ab)-(?P=x)', 'ab-AB')).not.toBeNull();
    expect(fullMatch('(?P<x>ab)-(?P=x)', 'ab-ac')).toBeNull();
  });

  it('supports \\A, \\Z, inline flags, comments, {,n} and literal braces', () => {
    expect(fullMatch('\\Ameet\\Z', 'MEET')).not.toBeNull();
    expect(fullMatch('(?i)MEET', 'meet')).not.toBeNull();
    expect(fullMatch('(?s)a.b', 'a\nb')).not.toBeNull();
    expect(fullMatch('a.b', 'a\nb')).toBeNull();
    expect(fullMatch('(?x) 555 \\d{3}  # room number', '555123')).not.toBeNull();
    expect(fullMatch('a(?#note)b', 'ab')).not.toBeNull();
    expect(fullMatch('a{,2}', 'aa')).not.toBeNull();
    expect(fullMatch('a{,2}', 'aaa')).toBeNull();
    expect(fullMatch('a{2', 'a{2')).not.toBeNull();
    expect(fullMatch('[]a]+', ']a]')).not.toBeNull();
    expect(fullMatch('\\x41\\101', 'aa')).not.toBeNull();
    expect(fullMatch('\\@\\-\\#', '@-#')).not.toBeNull();
  });

  it('is case-insensitive for non-ASCII letters and back references', () => {
    expect(fullMatch('é+', 'ÉéÉ')).not.toBeNull();
    expect(fullMatch('(a)\\1', 'aA')).not.toBeNull();
  });

  it('reads \\10 as group 10 and \\1 followed by a digit literal correctly', () => {
    expect(fullMatch('(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)\\10', 'abcdefghijj')).not.toBeNull();
    expect(testRegex({ input: 'x', regex: '(x)', replace: '\\g<1>0' }).result).toBe('x0');
  });

  it('has an unmatched group expand to nothing, and keeps unknown non-letter escapes', () => {
    expect(testRegex({ input: 'b', regex: '(a)|(b)', replace: '[\\1][\\2]' }).result).toBe('[][b]');
    expect(testRegex({ input: 'b', regex: 'b', replace: '\\@\\\\x' }).result).toBe('\\@\\x');
  });

  it('compiles to a case-insensitive unicode RegExp', () => {
    const re = compilePythonRegex('(?P<n>meet)\\.\\w+');
    expect(re.flags).toContain('i');
    expect(re.flags).toContain('u');
    expect(re.exec('x MEET.alice')?.groups?.n).toBe('MEET');
  });

  it('expandReplacement leaves the input unchanged for a blank replace string', () => {
    const m = fullMatch('(.+)@(.+)', 'a@b')!;
    expect(expandReplacement('', m)).toBe('a@b');
    expect(expandReplacement('\\2@\\1', m)).toBe('b@a');
  });
});

describe('bad patterns and replace strings', () => {
  it.each([
    ['(', 'Invalid regular expression: missing ), unterminated subpattern at position 0'],
    [')', 'Invalid regular expression: unbalanced parenthesis at position 0'],
    ['[abc', 'Invalid regular expression: unterminated character set at position 0'],
    ['*a', 'Invalid regular expression: nothing to repeat at position 0'],
    ['a**', 'Invalid regular expression: multiple repeat at position 2'],
    ['\\q', 'Invalid regular expression: bad escape \\q at position 0'],
    ['(a)\\2', 'Invalid regular expression: invalid group reference 2 at position 4'],
    ['(?P<n>a)(?P=m)', "Invalid regular expression: unknown group name 'm' at position 12"],
    ['(?P<1x>a)', "Invalid regular expression: bad character in group name '1x' at position 4"],
    ['a{3,2}', 'Invalid regular expression: min repeat greater than max repeat at position 2'],
    ['\\', 'Invalid regular expression: bad escape (end of pattern) at position 0'],
  ])('%s → %s', (pattern, message) => {
    expect(() => fullMatch(pattern, 'x')).toThrow(PythonRegexError);
    expect(() => fullMatch(pattern, 'x')).toThrow(message);
    expect(testRegex({ input: 'x', regex: pattern, replace: '' })).toEqual({ result: null, status: 'failed', groups: [], error: message, errorField: 'regex' });
  });

  it('reports errors JavaScript finds, without the translated source', () => {
    const err = (() => {
      try {
        compilePythonRegex('[z-a]');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(PythonRegexError);
    expect((err as Error).message).toMatch(/^Invalid regular expression: range out of order/);
    expect((err as Error).message).not.toContain('/');
  });

  it('refuses a replace string that refers to a missing group, or a bad escape', () => {
    expect(testRegex({ input: 'a', regex: '(a)', replace: '\\2' })).toMatchObject({
      error: 'Invalid replace string: invalid group reference 2 at position 1',
      errorField: 'replace',
    });
    expect(testRegex({ input: 'a', regex: '(a)', replace: '\\g<nope>' })).toMatchObject({
      error: "Invalid replace string: unknown group name 'nope'",
      errorField: 'replace',
    });
    expect(testRegex({ input: 'a', regex: '(a)', replace: '\\q' })).toMatchObject({
      error: 'Invalid replace string: bad escape \\q at position 0',
      errorField: 'replace',
    });
  });

  it('is the regex check used by configuration fields', () => {
    expect(regexValidator('.+@example\\.com')).toBeNull();
    expect(regexValidator('(?P<n>a)')).toBeNull();
    expect(regexValidator('(')).toBe('missing ), unterminated subpattern at position 0');
  });
});
