/**
 * reference/match: shell-pattern matching of references, for
 * `GET /images/json?filters={"reference":["busy*"]}`. A port of Go's path.Match
 * (same syntax, same errors, including reporting a malformed pattern even
 * after a mismatch) and of distribution/reference's FamiliarMatch. Matching is
 * by code point; it never compiles patterns to RegExp (no injection, no
 * backtracking blow-up).
 */
import { fail } from './errors.js';
import { familiarName, familiarString } from './normalize.js';
import { isNamed, type AnyReference } from './reference.js';

type Chars = readonly string[];

/**
 * Go path.Match: does the whole of `name` match `pattern`? `*` matches any run
 * of non-'/' characters, `?` one non-'/' character, `[...]`/`[^...]` a class
 * with ranges, `\` escapes. Throws 'bad-pattern' for a malformed pattern.
 */
export function pathMatch(pattern: string, name: string): boolean {
  let pat: Chars = Array.from(pattern);
  let s: Chars = Array.from(name);
  outer: while (pat.length > 0) {
    const { star, chunk, rest } = scanChunk(pat);
    pat = rest;
    if (star && chunk.length === 0) {
      // A trailing star matches the rest unless it crosses a '/'.
      return !s.includes('/');
    }
    const here = matchChunk(chunk, s);
    // The last chunk must consume all of the name; an earlier one need not.
    if (here !== undefined && (here.length === 0 || pat.length > 0)) {
      s = here;
      continue;
    }
    if (star) {
      // Let the star swallow i+1 characters, never a '/'.
      for (let i = 0; i < s.length && s[i] !== '/'; i++) {
        const t = matchChunk(chunk, s.slice(i + 1));
        if (t !== undefined) {
          if (pat.length === 0 && t.length > 0) continue;
          s = t;
          continue outer;
        }
      }
    }
    // No match; still report a syntax error further on in the pattern.
    while (pat.length > 0) {
      const next = scanChunk(pat);
      pat = next.rest;
      matchChunk(next.chunk, []);
    }
    return false;
  }
  return s.length === 0;
}

/** The next run of non-star pattern, with whether stars preceded it. */
function scanChunk(pattern: Chars): { star: boolean; chunk: Chars; rest: Chars } {
  let i = 0;
  let star = false;
  while (i < pattern.length && pattern[i] === '*') {
    i++;
    star = true;
  }
  const start = i;
  let inRange = false;
  for (; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      // Error checking is matchChunk's job.
      if (i + 1 < pattern.length) i++;
    } else if (c === '[') {
      inRange = true;
    } else if (c === ']') {
      inRange = false;
    } else if (c === '*' && !inRange) {
      break;
    }
  }
  return { star, chunk: pattern.slice(start, i), rest: pattern.slice(i) };
}

/**
 * Match a star-free chunk at the start of `s`: the rest of `s`, or undefined
 * on mismatch. After a mismatch it keeps walking the chunk to find syntax
 * errors, as Go does.
 */
function matchChunk(chunk: Chars, s: Chars): Chars | undefined {
  let failed = false;
  let ci = 0;
  let si = 0;
  while (ci < chunk.length) {
    if (!failed && si >= s.length) failed = true;
    const c = chunk[ci];
    if (c === '[') {
      const r = failed ? undefined : s[si++];
      ci++;
      let negated = false;
      if (chunk[ci] === '^') {
        negated = true;
        ci++;
      }
      let matched = false;
      let ranges = 0;
      for (;;) {
        if (chunk[ci] === ']' && ranges > 0) {
          ci++;
          break;
        }
        const lo = getEsc(chunk, ci);
        ci = lo.next;
        let hi = lo.char;
        if (chunk[ci] === '-') {
          const h = getEsc(chunk, ci + 1);
          ci = h.next;
          hi = h.char;
        }
        if (r !== undefined && cp(lo.char) <= cp(r) && cp(r) <= cp(hi)) matched = true;
        ranges++;
      }
      if (matched === negated) failed = true;
    } else if (c === '?') {
      if (!failed) {
        if (s[si] === '/') failed = true;
        si++;
      }
      ci++;
    } else {
      if (c === '\\') {
        ci++;
        if (ci >= chunk.length) fail('bad-pattern');
      }
      if (!failed) {
        if (chunk[ci] !== s[si]) failed = true;
        si++;
      }
      ci++;
    }
  }
  return failed ? undefined : s.slice(si);
}

/** A possibly escaped character inside a class; a class must not end here. */
function getEsc(chunk: Chars, at: number): { char: string; next: number } {
  let i = at;
  const first = chunk[i];
  if (first === undefined || first === '-' || first === ']') fail('bad-pattern');
  if (first === '\\') {
    i++;
    if (i >= chunk.length) fail('bad-pattern');
  }
  const char = chunk[i] ?? '';
  i++;
  if (i >= chunk.length) fail('bad-pattern');
  return { char, next: i };
}

const cp = (c: string): number => c.codePointAt(0) ?? 0;

/**
 * FamiliarMatch: match the familiar string ('busybox:latest'), and for named
 * references also the familiar name ('busybox'), so "busy*" finds tagged images.
 */
export function familiarMatch(pattern: string, r: AnyReference): boolean {
  if (pathMatch(pattern, familiarString(r))) return true;
  if (!isNamed(r)) return false;
  try {
    return pathMatch(pattern, familiarName(r));
  } catch {
    // Upstream ignores the second match's error; the first already reported it.
    return false;
  }
}
