/**
 * build/dockerfile/goText: the few Go standard-library text rules BuildKit's
 * Dockerfile frontend leans on (unicode.IsSpace, strings.TrimSpace,
 * strconv.Quote, time's duration quoting, strconv.ParseInt, the levenshtein
 * "did you mean" search), so the parser splits and words its errors exactly as
 * BuildKit does. Pure functions; never throws engine errors itself.
 */

/** Go's unicode.IsSpace: JavaScript's `\s` minus U+FEFF plus U+0085 (NEL). */
export function isGoSpace(ch: string): boolean {
  switch (ch) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case '\u0085':
    case '\u00a0':
      return true;
  }
  if (ch.length === 0 || ch.charCodeAt(0) < 0x100) return false;
  return ch !== '\ufeff' && /^\s$/u.test(ch);
}

/** Go's strings.TrimLeftFunc(s, unicode.IsSpace). */
export function goTrimLeft(s: string): string {
  let i = 0;
  while (i < s.length && isGoSpace(s[i] ?? '')) i++;
  return s.slice(i);
}

/** Go's strings.TrimRightFunc(s, unicode.IsSpace). */
export function goTrimRight(s: string): string {
  let j = s.length;
  while (j > 0 && isGoSpace(s[j - 1] ?? '')) j--;
  return s.slice(0, j);
}

/** Go's strings.TrimSpace. */
export function goTrimSpace(s: string): string {
  return goTrimRight(goTrimLeft(s));
}

/** Go's unicode.IsLetter. */
export function isGoLetter(ch: string): boolean {
  return /^\p{L}$/u.test(ch);
}

/** Go's unicode.IsDigit (any decimal digit, not only ASCII). */
export function isGoDigit(ch: string): boolean {
  return /^\p{Nd}$/u.test(ch);
}

/** strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
function isGoPrint(ch: string): boolean {
  return ch === ' ' || /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch);
}

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

/** Go's strconv.Quote (and the `%q` / `%#v` verbs on strings). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === '"' || ch === '\\') {
      out += '\\' + ch;
    } else if (isGoPrint(ch)) {
      out += ch;
    } else {
      switch (ch) {
        case '\x07':
          out += '\\a';
          break;
        case '\b':
          out += '\\b';
          break;
        case '\f':
          out += '\\f';
          break;
        case '\n':
          out += '\\n';
          break;
        case '\r':
          out += '\\r';
          break;
        case '\t':
          out += '\\t';
          break;
        case '\v':
          out += '\\v';
          break;
        default:
          if (cp < 0x20 || cp === 0x7f) out += '\\x' + hex(cp, 2);
          else if (cp < 0x10000) out += '\\u' + hex(cp, 4);
          else out += '\\U' + hex(cp, 8);
      }
    }
  }
  return out + '"';
}

/** The quoting time.ParseDuration uses in its errors: non-ASCII and control bytes as `\xNN`. */
export function goTimeQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp >= 0x80 || cp < 0x20) {
      for (const b of Buffer.from(ch, 'utf8')) out += '\\x' + hex(b, 2);
    } else {
      if (ch === '"' || ch === '\\') out += '\\';
      out += ch;
    }
  }
  return out + '"';
}

/**
 * strconv.ParseInt(s, 10, bitSize): an optional sign and ASCII digits, range
 * checked; throws Go's `strconv.ParseInt: parsing "x": invalid syntax` text.
 */
export function goParseInt(s: string, bitSize: 32 | 64): number {
  const fail = (why: string): never => {
    throw new Error(`strconv.ParseInt: parsing ${goQuote(s)}: ${why}`);
  };
  if (!/^[+-]?[0-9]+$/.test(s)) fail('invalid syntax');
  const v = BigInt(s);
  const max = (1n << BigInt(bitSize - 1)) - 1n;
  if (v > max || v < -max - 1n) fail('value out of range');
  return Number(v);
}

/**
 * strconv.ParseUint(s, base, bitSize) for bases 8 and 10 (underscores are not
 * allowed with an explicit base); throws Go's error text.
 */
export function goParseUint(s: string, base: 8 | 10, bitSize: 32 | 64): number {
  const fail = (why: string): never => {
    throw new Error(`strconv.ParseUint: parsing ${goQuote(s)}: ${why}`);
  };
  const digits = base === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  if (!digits.test(s)) fail('invalid syntax');
  let v = 0n;
  for (const c of s) v = v * BigInt(base) + BigInt(c.charCodeAt(0) - 48);
  if (v > (1n << BigInt(bitSize)) - 1n) fail('value out of range');
  return Number(v);
}

/** strconv.ParseBool. */
export function goParseBool(s: string): boolean | undefined {
  switch (s) {
    case '1':
    case 't':
    case 'T':
    case 'TRUE':
    case 'true':
    case 'True':
      return true;
    case '0':
    case 'f':
    case 'F':
    case 'FALSE':
    case 'false':
    case 'False':
      return false;
  }
  return undefined;
}

/** Levenshtein distance over code points, unit costs (agext/levenshtein's defaults). */
function levenshtein(a: string, b: string): number {
  const s = Array.from(a);
  const t = Array.from(b);
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const cur = [i];
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[t.length] ?? 0;
}

function matchCase(val: string, orig: string): string {
  if (orig === orig.toLowerCase()) return val.toLowerCase();
  if (orig === orig.toUpperCase()) return val.toUpperCase();
  return val;
}

/**
 * BuildKit's util/suggest.WrapError: append ` (did you mean X?)` when one of
 * `options` is within edit distance 2 of `val` (and none equals it). Options
 * are tried in the given order; the first of equally close ones wins.
 */
export function withSuggestion(message: string, val: string, options: readonly string[], caseSensitive: boolean): string {
  const v = caseSensitive ? val : val.toLowerCase();
  let match = '';
  let minDist = 3;
  for (const option of options) {
    const opt = caseSensitive ? option : option.toLowerCase();
    if (v === opt) return message;
    const dist = levenshtein(v, opt);
    if (dist < minDist) {
      match = caseSensitive ? opt : matchCase(opt, val);
      minDist = dist;
    }
  }
  return match === '' ? message : `${message} (did you mean ${match}?)`;
}
