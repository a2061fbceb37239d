/**
 * The guide's regular expressions (digest 4, §5): case-insensitive, Perl/Python-style patterns,
 * as used by Call Routing Rules, provisioning and the Regex Tester. The reference product runs
 * Python's `re`; we translate that syntax to a JavaScript RegExp (`iu` flags) so the same
 * patterns, replace strings and error cases behave alike in the browser, server and node agent.
 */
import { setRegexValidator } from '../config/field.js';

/** A pattern or replace string that Python's `re` would refuse. The message is shown to the administrator. */
export class PythonRegexError extends Error {
  constructor(
    message: string,
    /** Offset in the pattern (or replace string) where the problem was found, if known. */
    readonly position?: number,
  ) {
    super(message);
    this.name = 'PythonRegexError';
  }
}

export interface TranslatedRegex {
  /** JavaScript source, unanchored. */
  source: string;
  /** Always `i` and `u`; `s`/`m` when the pattern starts with `(?s)`/`(?m)`. */
  flags: string;
  /** Number of capturing groups (named ones included, numbered left to right as in Python). */
  groupCount: number;
  /** Group number → name, for `(?P<name>...)`. */
  groupNames: Map<number, string>;
}

const PREFIX = 'Invalid regular expression: ';
const fail = (message: string, position?: number): never => {
  throw new PythonRegexError(`${PREFIX}${message}${position === undefined ? '' : ` at position ${position}`}`, position);
};

const ASCII_LETTER = /[A-Za-z]/;
const DIGIT = /[0-9]/;
const OCT = /[0-7]/;
const HEX = /[0-9A-Fa-f]/;
const IDENTIFIER = /^[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}]*$/u;
/** Characters that may be identity-escaped in a `u`-mode JS pattern outside a class. */
const JS_SYNTAX = new Set('^$\\.*+?()[]{}|/');
/** ... and inside a class (`-` too). */
const JS_CLASS_SYNTAX = new Set('^$\\.*+?()[]{}|/-');
/** Python's simple character escapes (outside and inside classes). */
const CHAR_ESCAPES: Record<string, string> = { n: '\\n', t: '\\t', r: '\\r', f: '\\f', v: '\\v', a: '\\x07' };

const codePointEscape = (cp: number) => `\\u{${cp.toString(16)}}`;

class RestartVerbose extends Error {}

type State = 'none' | 'anchor' | 'atom' | 'quantified' | 'lazy';

function translate(pattern: string, verboseFromStart: boolean): TranslatedRegex {
  const verbose = verboseFromStart;
  let dotAll = false;
  let multiline = false;
  let out = '';
  let i = 0;
  let state: State = 'none';
  let groupCount = 0;
  const groupNames = new Map<number, string>();
  const namesDefined = new Set<string>();
  /** Open groups: start position and the capture number (0 for non-capturing). */
  const open: { pos: number; group: number }[] = [];
  const openGroups = () => new Set(open.map((g) => g.group));

  const readHex = (start: number, count: number, escape: string): number => {
    const digits = pattern.slice(start, start + count);
    if (digits.length < count || ![...digits].every((d) => HEX.test(d))) fail(`incomplete escape \\${escape}${digits}`, start - 2);
    return Number.parseInt(digits, 16);
  };

  /** An escape valid both outside and inside a class that stands for one character; returns JS text and length consumed, or null. */
  const charEscape = (at: number, inClass: boolean): { js: string; len: number } | null => {
    const c = pattern[at + 1]!;
    if (c in CHAR_ESCAPES) return { js: CHAR_ESCAPES[c]!, len: 2 };
    if (c === 'x') return { js: codePointEscape(readHex(at + 2, 2, 'x')), len: 4 };
    if (c === 'u') return { js: codePointEscape(readHex(at + 2, 4, 'u')), len: 6 };
    if (c === 'U') {
      const cp = readHex(at + 2, 8, 'U');
      if (cp > 0x10ffff) fail(`bad escape \\U${pattern.slice(at + 2, at + 10)}`, at);
      return { js: codePointEscape(cp), len: 10 };
    }
    if (c === '0' || (inClass && OCT.test(c))) {
      // Octal: `\0`, `\0o`, `\0oo`; in a class also `\o`, `\oo`, `\ooo`.
      let j = at + 2;
      while (j < at + 4 && j < pattern.length && OCT.test(pattern[j]!)) j++;
      const value = Number.parseInt(pattern.slice(at + 1, j), 8);
      if (value > 0o377) fail(`octal escape value \\${pattern.slice(at + 1, j)} outside of range 0-0o377`, at);
      return { js: codePointEscape(value), len: j - at };
    }
    if (c === 'N') fail('bad escape \\N (named characters are not supported)', at);
    return null;
  };

  const quantifier = (text: string, at: number) => {
    if (state === 'none' || state === 'anchor') fail('nothing to repeat', at);
    if (state === 'quantified' || state === 'lazy') fail('multiple repeat', at);
    out += text;
    state = 'quantified';
  };

  const parseClass = () => {
    const start = i;
    out += '[';
    i++;
    if (pattern[i] === '^') {
      out += '^';
      i++;
    }
    // A `]` first in the set is a literal in Python; JS would read `[]` as the empty set.
    if (pattern[i] === ']') {
      out += '\\]';
      i++;
    }
    for (;;) {
      if (i >= pattern.length) fail('unterminated character set', start);
      const c = pattern[i]!;
      if (c === ']') {
        out += ']';
        i++;
        return;
      }
      if (c === '\\') {
        if (i + 1 >= pattern.length) fail('bad escape (end of pattern)', i);
        const e = pattern[i + 1]!;
        const simple = charEscape(i, true);
        if (simple) {
          out += simple.js;
          i += simple.len;
        } else if ('dDsSwW'.includes(e)) {
          out += `\\${e}`;
          i += 2;
        } else if (e === 'b') {
          out += '\\x08';
          i += 2;
        } else if (ASCII_LETTER.test(e) || DIGIT.test(e)) {
          fail(`bad escape \\${e}`, i);
        } else {
          out += JS_CLASS_SYNTAX.has(e) ? `\\${e}` : e;
          i += 2;
        }
        continue;
      }
      // A `[` inside a set is a literal in Python; escape it so JS agrees.
      out += c === '[' ? '\\[' : c;
      i++;
    }
  };

  const parseGroupName = (from: number, terminator: string): { name: string; end: number } => {
    const end = pattern.indexOf(terminator, from);
    if (end < 0) fail(`missing ${terminator}, unterminated name`, from);
    const name = pattern.slice(from, end);
    if (name === '') fail('missing group name', from);
    if (!IDENTIFIER.test(name)) fail(`bad character in group name '${name}'`, from);
    return { name, end };
  };

  const openCapture = (name: string | undefined, at: number, text: string) => {
    groupCount++;
    if (name !== undefined) {
      if (namesDefined.has(name))
        fail(`redefinition of group name '${name}' as group ${groupCount}; was group ${[...groupNames].find(([, n]) => n === name)![0]}`, at);
      namesDefined.add(name);
      groupNames.set(groupCount, name);
    }
    open.push({ pos: at, group: groupCount });
    out += text;
    state = 'none';
  };

  const parseGroup = () => {
    const at = i;
    if (pattern[i + 1] !== '?') {
      i++;
      openCapture(undefined, at, '(');
      return;
    }
    const c = pattern[i + 2];
    if (c === 'P') {
      const d = pattern[i + 3];
      if (d === '<') {
        const { name, end } = parseGroupName(i + 4, '>');
        i = end + 1;
        openCapture(name, at, `(?<${name}>`);
      } else if (d === '=') {
        const { name, end } = parseGroupName(i + 4, ')');
        if (!namesDefined.has(name)) fail(`unknown group name '${name}'`, i + 4);
        const num = [...groupNames].find(([, n]) => n === name)![0];
        if (openGroups().has(num)) fail('cannot refer to an open group', at);
        out += `\\k<${name}>`;
        i = end + 1;
        state = 'atom';
      } else {
        fail(d === undefined ? 'unexpected end of pattern' : `unknown extension ?P${d}`, i + 1);
      }
      return;
    }
    if (c === ':' || c === '=' || c === '!') {
      open.push({ pos: at, group: 0 });
      out += `(?${c}`;
      i += 3;
      state = 'none';
      return;
    }
    if (c === '<') {
      const d = pattern[i + 3];
      if (d === '=' || d === '!') {
        open.push({ pos: at, group: 0 });
        out += `(?<${d}`;
        i += 4;
        state = 'none';
        return;
      }
      // `(?<name>...)`: not Python, but unambiguous, so accepted as a named group.
      const { name, end } = parseGroupName(i + 3, '>');
      i = end + 1;
      openCapture(name, at, `(?<${name}>`);
      return;
    }
    if (c === '#') {
      const end = pattern.indexOf(')', i);
      if (end < 0) fail('missing ), unterminated comment', at);
      i = end + 1;
      return;
    }
    if (c !== undefined && /[aiLmsux-]/.test(c)) {
      let j = i + 2;
      let on = '';
      let off = '';
      let negative = false;
      while (j < pattern.length && /[aiLmsux-]/.test(pattern[j]!)) {
        if (pattern[j] === '-') {
          if (negative) fail('bad inline flags: flag not turned off', j);
          negative = true;
        } else if (negative) off += pattern[j];
        else on += pattern[j];
        j++;
      }
      if (on.includes('L')) fail("bad inline flags: cannot use 'L' flag with a str pattern", j);
      if (on.includes('a') && on.includes('u')) fail("bad inline flags: flags 'a', 'u' and 'L' are incompatible", j);
      const end = pattern[j];
      if (end === ')') {
        if (negative) fail('missing :', j);
        // Global flags. Python applied them to the whole pattern wherever they stood (3.11+ insists
        // on the start); applying them globally keeps older rules working.
        if (on.includes('x') && !verbose) throw new RestartVerbose();
        if (on.includes('s')) dotAll = true;
        if (on.includes('m')) multiline = true;
        i = j + 1;
        return;
      }
      if (end === ':') {
        // Scoped flags: matching is always case-insensitive, so only `i` (and the no-op `a`/`u`) can be honoured.
        if (/[msx]/.test(on + off) || off.includes('i')) fail(`unsupported inline flag group (?${pattern.slice(i + 2, j)}:...)`, at);
        open.push({ pos: at, group: 0 });
        out += '(?:';
        i = j + 1;
        state = 'none';
        return;
      }
      fail(end === undefined ? 'missing -, : or )' : `unknown flag`, j);
    }
    if (c === '(') fail('conditional groups (?(...)...) are not supported', at);
    if (c === '>') fail('atomic groups (?>...) are not supported', at);
    fail(c === undefined ? 'unexpected end of pattern' : `unknown extension ?${c}`, i + 1);
  };

  const parseEscape = () => {
    const at = i;
    if (i + 1 >= pattern.length) fail('bad escape (end of pattern)', at);
    const c = pattern[i + 1]!;
    if (c === 'A') {
      out += '(?<![\\s\\S])';
      i += 2;
      state = 'anchor';
      return;
    }
    if (c === 'Z') {
      out += '(?![\\s\\S])';
      i += 2;
      state = 'anchor';
      return;
    }
    if (c === 'b' || c === 'B') {
      out += `\\${c}`;
      i += 2;
      state = 'anchor';
      return;
    }
    if ('dDsSwW'.includes(c)) {
      out += `\\${c}`;
      i += 2;
      state = 'atom';
      return;
    }
    const simple = charEscape(i, false);
    if (simple) {
      out += simple.js;
      i += simple.len;
      state = 'atom';
      return;
    }
    if (DIGIT.test(c)) {
      // `\ooo` (three octal digits) is a character; otherwise `\1`..`\99` is a back reference.
      const d2 = pattern[i + 2];
      const d3 = pattern[i + 3];
      if (OCT.test(c) && d2 !== undefined && OCT.test(d2) && d3 !== undefined && OCT.test(d3)) {
        const value = Number.parseInt(c + d2 + d3, 8);
        if (value > 0o377) fail(`octal escape value \\${c}${d2}${d3} outside of range 0-0o377`, at);
        out += codePointEscape(value);
        i += 4;
        state = 'atom';
        return;
      }
      const digits = d2 !== undefined && DIGIT.test(d2) ? c + d2 : c;
      const ref = Number(digits);
      if (ref > groupCount) fail(`invalid group reference ${ref}`, at + 1);
      if (openGroups().has(ref)) fail('cannot refer to an open group', at);
      // Wrapped, so a following literal digit is not read as part of the reference.
      out += `(?:\\${ref})`;
      i += 1 + digits.length;
      state = 'atom';
      return;
    }
    if (ASCII_LETTER.test(c)) fail(`bad escape \\${c}`, at);
    out += JS_SYNTAX.has(c) ? `\\${c}` : c;
    i += 2;
    state = 'atom';
  };

  while (i < pattern.length) {
    const c = pattern[i]!;
    if (verbose && /\s/.test(c)) {
      i++;
      continue;
    }
    if (verbose && c === '#') {
      while (i < pattern.length && pattern[i] !== '\n') i++;
      continue;
    }
    switch (c) {
      case '\\':
        parseEscape();
        break;
      case '[':
        parseClass();
        state = 'atom';
        break;
      case '(':
        parseGroup();
        break;
      case ')': {
        const g = open.pop();
        if (!g) fail('unbalanced parenthesis', i);
        out += ')';
        i++;
        state = 'atom';
        break;
      }
      case '*':
      case '+':
      case '?': {
        // `state` is also set inside the helper closures, which TypeScript's narrowing cannot see.
        const now = state as State;
        if (c === '?' && now === 'quantified') {
          out += '?';
          state = 'lazy';
        } else if (c === '+' && now === 'quantified') {
          fail('possessive quantifiers are not supported', i);
        } else quantifier(c, i);
        i++;
        break;
      }
      case '{': {
        // Python: `{n}`, `{n,}`, `{,m}`, `{n,m}` repeat; anything else is a literal `{`.
        const m = /^\{(\d*)(?:(,)(\d*))?\}/.exec(pattern.slice(i));
        if (!m || pattern[i + 1] === '}') {
          out += '\\{';
          i++;
          state = 'atom';
          break;
        }
        const lo = m[1] ? Number(m[1]) : 0;
        const hi = m[2] ? (m[3] ? Number(m[3]) : undefined) : lo;
        if (hi !== undefined && hi < lo) fail('min repeat greater than max repeat', i + 1);
        quantifier(m[2] ? `{${lo},${hi ?? ''}}` : `{${lo}}`, i);
        i += m[0].length;
        break;
      }
      case '}':
      case ']':
        out += `\\${c}`;
        i++;
        state = 'atom';
        break;
      case '|':
        out += '|';
        i++;
        state = 'none';
        break;
      case '^':
      case '$':
        out += c;
        i++;
        state = 'anchor';
        break;
      default: {
        // Copy a whole code point (a surrogate pair is one literal).
        const cp = pattern.codePointAt(i)!;
        const ch = String.fromCodePoint(cp);
        out += ch;
        i += ch.length;
        state = 'atom';
      }
    }
  }
  if (open.length > 0) fail('missing ), unterminated subpattern', open[open.length - 1]!.pos);
  return { source: out, flags: `iu${dotAll ? 's' : ''}${multiline ? 'm' : ''}`, groupCount, groupNames };
}

/** Translates a Python-style pattern; throws `PythonRegexError` when Python would refuse it. */
export function translatePythonRegex(pattern: string): TranslatedRegex {
  try {
    return translate(pattern, false);
  } catch (e) {
    if (e instanceof RestartVerbose) return translate(pattern, true);
    throw e;
  }
}

function build(source: string, flags: string): RegExp {
  try {
    return new RegExp(source, flags);
  } catch (e) {
    // JS messages name our translated source (`/.../iu: Unterminated group`); keep only the reason.
    const reason = e instanceof Error ? e.message.replace(/^Invalid regular expression: \/[\s\S]*\/[a-z]*: /, '') : String(e);
    throw new PythonRegexError(`${PREFIX}${reason.charAt(0).toLowerCase()}${reason.slice(1)}`);
  }
}

const cache = new Map<string, { search: RegExp; full: RegExp; info: TranslatedRegex }>();
const CACHE_LIMIT = 1_000;

function compiled(pattern: string) {
  let hit = cache.get(pattern);
  if (!hit) {
    const info = translatePythonRegex(pattern);
    const search = build(info.source, info.flags);
    // Full match: anchored to the whole input (with `(?m)`, `^`/`$` would only anchor a line).
    const full = info.flags.includes('m') ? build(`(?<![\\s\\S])(?:${info.source})(?![\\s\\S])`, info.flags) : build(`^(?:${info.source})$`, info.flags);
    hit = { search, full, info };
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
    cache.set(pattern, hit);
  }
  return hit;
}

/** The pattern as a (case-insensitive, unanchored) JS RegExp. Throws `PythonRegexError`. */
export function compilePythonRegex(pattern: string): RegExp {
  const { search } = compiled(pattern);
  return new RegExp(search.source, search.flags);
}

/** Throws `PythonRegexError` if the pattern is invalid; returns its group count and names. */
export function checkPythonRegex(pattern: string): TranslatedRegex {
  return compiled(pattern).info;
}

/** The match only if the pattern matches the ENTIRE input (the guide: a partial match is a non-match). */
export function fullMatch(pattern: string, input: string): RegExpExecArray | null {
  return compiled(pattern).full.exec(input);
}

/** The first match anywhere in the input (Python's `re.search`). */
export function searchMatch(pattern: string, input: string): RegExpExecArray | null {
  return compiled(pattern).search.exec(input);
}

type TemplatePart = string | { group: number } | { name: string };

/**
 * Parses a replace string as Python's `re.sub` does: `\1`..`\99`, `\g<1>`, `\g<name>`, `\n`-style
 * escapes, `\\`; an unknown escape of an ASCII letter is an error, any other unknown escape is kept.
 */
function parseTemplate(replace: string, groupCount: number, names: ReadonlySet<string>): TemplatePart[] {
  const bad = (message: string, position: number): never => {
    throw new PythonRegexError(`Invalid replace string: ${message} at position ${position}`, position);
  };
  const parts: TemplatePart[] = [];
  let literal = '';
  const flush = () => {
    if (literal) parts.push(literal);
    literal = '';
  };
  const group = (n: number, at: number) => {
    if (n > groupCount) bad(`invalid group reference ${n}`, at);
    flush();
    parts.push({ group: n });
  };
  const escapes: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };
  let i = 0;
  while (i < replace.length) {
    const c = replace[i]!;
    if (c !== '\\') {
      literal += c;
      i++;
      continue;
    }
    const e = replace[i + 1];
    if (e === undefined) bad('bad escape (end of pattern)', i);
    else if (e === 'g') {
      if (replace[i + 2] !== '<') bad('missing <', i + 2);
      const end = replace.indexOf('>', i + 3);
      if (end < 0) bad('missing >, unterminated name', i + 3);
      const name = replace.slice(i + 3, end);
      if (name === '') bad('missing group name', i + 3);
      if (/^\d+$/.test(name)) group(Number(name), i + 3);
      else if (!IDENTIFIER.test(name)) bad(`bad character in group name '${name}'`, i + 3);
      else if (!names.has(name)) throw new PythonRegexError(`Invalid replace string: unknown group name '${name}'`);
      else {
        flush();
        parts.push({ name });
      }
      i = end + 1;
    } else if (e === '0') {
      let j = i + 2;
      while (j < i + 4 && j < replace.length && OCT.test(replace[j]!)) j++;
      literal += String.fromCharCode(Number.parseInt(replace.slice(i + 1, j), 8));
      i = j;
    } else if (DIGIT.test(e)) {
      const d2 = replace[i + 2];
      const d3 = replace[i + 3];
      if (OCT.test(e) && d2 !== undefined && OCT.test(d2) && d3 !== undefined && OCT.test(d3)) {
        const value = Number.parseInt(e + d2 + d3, 8);
        if (value > 0o377) bad(`octal escape value \\${e}${d2}${d3} outside of range 0-0o377`, i);
        literal += String.fromCharCode(value);
        i += 4;
      } else {
        const digits = d2 !== undefined && DIGIT.test(d2) ? e + d2 : e;
        group(Number(digits), i + 1);
        i += 1 + digits.length;
      }
    } else if (e in escapes) {
      literal += escapes[e];
      i += 2;
    } else if (ASCII_LETTER.test(e)) {
      bad(`bad escape \\${e}`, i);
    } else {
      literal += `\\${e}`;
      i += 2;
    }
  }
  flush();
  return parts;
}

/** Throws `PythonRegexError` if `replace` is not a valid replace string for `pattern`. */
export function checkReplacement(pattern: string, replace: string): void {
  const info = checkPythonRegex(pattern);
  parseTemplate(replace, info.groupCount, new Set(info.groupNames.values()));
}

/**
 * The replace string with its group references filled in from `match` (an unmatched group gives
 * ""). A blank replace string leaves the input unchanged.
 */
export function expandReplacement(replace: string, match: RegExpExecArray): string {
  if (replace === '') return match.input;
  const parts = parseTemplate(replace, match.length - 1, new Set(Object.keys(match.groups ?? {})));
  return parts.map((p) => (typeof p === 'string' ? p : 'group' in p ? (match[p.group] ?? '') : (match.groups?.[p.name] ?? ''))).join('');
}

export interface RegexTestGroup {
  index: number;
  name?: string;
  value: string | null;
}

export interface RegexTestResult {
  /** The transformed Input; null unless the pattern matched the whole Input. */
  result: string | null;
  status: 'successful' | 'partial' | 'failed';
  /** Match groups (1..n) of the full match, or of the first partial match. */
  groups: RegexTestGroup[];
  /** Why the pattern or replace string was refused. */
  error?: string;
  /** Which of the two was refused. */
  errorField?: 'regex' | 'replace';
}

/** The Regex Tester (Utilities > Regular Expression Tester, digest 4 §5.1). */
export function testRegex({ input, regex, replace = '' }: { input: string; regex: string; replace?: string }): RegexTestResult {
  let info: TranslatedRegex;
  try {
    info = checkPythonRegex(regex);
  } catch (e) {
    if (e instanceof PythonRegexError) return { result: null, status: 'failed', groups: [], error: e.message, errorField: 'regex' };
    throw e;
  }
  try {
    parseTemplate(replace, info.groupCount, new Set(info.groupNames.values()));
  } catch (e) {
    if (e instanceof PythonRegexError) return { result: null, status: 'failed', groups: [], error: e.message, errorField: 'replace' };
    throw e;
  }
  const groupsOf = (m: RegExpExecArray): RegexTestGroup[] =>
    Array.from({ length: info.groupCount }, (_, k) => {
      const index = k + 1;
      const name = info.groupNames.get(index);
      return { index, ...(name ? { name } : {}), value: m[index] ?? null };
    });
  const full = fullMatch(regex, input);
  if (full) return { result: expandReplacement(replace, full), status: 'successful', groups: groupsOf(full) };
  const partial = searchMatch(regex, input);
  if (partial) return { result: null, status: 'partial', groups: groupsOf(partial) };
  return { result: null, status: 'failed', groups: [] };
}

// Configuration fields with `format: 'regex'` (Call Routing Rules, ...) are checked with this syntax.
setRegexValidator((pattern) => {
  try {
    checkPythonRegex(pattern);
    return null;
  } catch (e) {
    if (e instanceof PythonRegexError) return e.message.slice(PREFIX.length);
    throw e;
  }
});
