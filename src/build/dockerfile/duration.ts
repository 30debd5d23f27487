/**
 * build/dockerfile/duration: Go's time.ParseDuration (`300ms`, `1h30m`,
 * `-1.5h`, `0`), which HEALTHCHECK's --interval/--timeout/--start-period/
 * --start-interval go through in BuildKit, with Go's error texts
 * (`time: unknown unit "x" in duration "5x"`). Pure; throws
 * InvalidArgumentErrors.
 */
import { InvalidArgumentError } from '../../errdefs/errors.js';
import { goTimeQuote } from './goText.js';

const unitNs: ReadonlyMap<string, bigint> = new Map([
  ['ns', 1n],
  ['us', 1_000n],
  ['µs', 1_000n], // U+00B5 micro sign
  ['μs', 1_000n], // U+03BC Greek mu
  ['ms', 1_000_000n],
  ['s', 1_000_000_000n],
  ['m', 60_000_000_000n],
  ['h', 3_600_000_000_000n],
]);

const limit = 1n << 63n;

/** time.ParseDuration, exact, in nanoseconds as a bigint. */
export function parseGoDuration(orig: string): bigint {
  const invalid = (): never => {
    throw new InvalidArgumentError(`time: invalid duration ${goTimeQuote(orig)}`);
  };
  let s = orig;
  let neg = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') invalid();
  let d = 0n;
  const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
  while (s !== '') {
    if (!(s[0] === '.' || isDigit(s[0]))) invalid();
    // [0-9]*
    let i = 0;
    let v = 0n;
    for (; i < s.length && isDigit(s[i]); i++) {
      if (v > limit / 10n) invalid();
      v = v * 10n + BigInt((s.charCodeAt(i) - 48) | 0);
      if (v > limit) invalid();
    }
    const pre = i > 0;
    s = s.slice(i);
    // (\.[0-9]*)?
    let post = false;
    let f = 0n;
    let scale = 1;
    if (s !== '' && s[0] === '.') {
      s = s.slice(1);
      let j = 0;
      let overflow = false;
      for (; j < s.length && isDigit(s[j]); j++) {
        if (overflow) continue;
        if (f > (limit - 1n) / 10n) {
          overflow = true;
          continue;
        }
        const y = f * 10n + BigInt(s.charCodeAt(j) - 48);
        if (y > limit) {
          overflow = true;
          continue;
        }
        f = y;
        scale *= 10;
      }
      post = j > 0;
      s = s.slice(j);
    }
    if (!pre && !post) invalid();
    // The unit runs to the next digit or '.'.
    let k = 0;
    while (k < s.length && !(s[k] === '.' || isDigit(s[k]))) k++;
    if (k === 0) throw new InvalidArgumentError(`time: missing unit in duration ${goTimeQuote(orig)}`);
    const u = s.slice(0, k);
    s = s.slice(k);
    const unit = unitNs.get(u);
    if (unit === undefined) throw new InvalidArgumentError(`time: unknown unit ${goTimeQuote(u)} in duration ${goTimeQuote(orig)}`);
    if (v > limit / unit) invalid();
    v *= unit;
    if (f > 0n) {
      // float64, as Go does, is nanosecond-accurate for fractions of hours.
      v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (v > limit) invalid();
    }
    d += v;
    if (d > limit) invalid();
  }
  if (neg) return -d;
  if (d > limit - 1n) invalid();
  return d;
}

/** time.ParseDuration in nanoseconds as a number (Docker's HealthConfig fields are int64 ns). */
export function parseDuration(s: string): number {
  return Number(parseGoDuration(s));
}
