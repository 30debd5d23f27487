/**
 * cli/opts/timestamp: Go's time.ParseDuration and docker's
 * timetypes.GetTimestamp, which turn `--since 42m` or
 * `--since 2013-01-02T13:23:37Z` into the `seconds.nanoseconds` value the
 * daemon expects. Pure apart from reading the local time zone.
 */

const UNIT_NS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  'µs': 1e3,
  'μs': 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** time.ParseDuration: "1h30m", "1.5s", "-2m"; returns nanoseconds. */
export function parseGoDuration(s: string): number {
  const orig = s;
  const invalid = (): never => {
    throw new Error(`time: invalid duration ${JSON.stringify(orig)}`);
  };
  let neg = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') invalid();
  let total = 0;
  while (s !== '') {
    const m = /^([0-9]*)(\.[0-9]*)?/.exec(s) as RegExpExecArray;
    const intPart = m[1] ?? '';
    const frac = m[2] ?? '';
    if (intPart === '' && (frac === '' || frac === '.')) invalid();
    s = s.slice(m[0].length);
    const um = /^[^0-9.]+/.exec(s);
    if (um === null) throw new Error(`time: missing unit in duration ${JSON.stringify(orig)}`);
    const unit = um[0];
    const mul = UNIT_NS[unit];
    if (mul === undefined) throw new Error(`time: unknown unit ${JSON.stringify(unit)} in duration ${JSON.stringify(orig)}`);
    s = s.slice(unit.length);
    total += Number.parseFloat(`${intPart || '0'}${frac === '.' ? '' : frac}`) * mul;
  }
  return neg ? -total : total;
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?)?(Z|z|[+-]\d{2}:\d{2})?$/;

/**
 * timetypes.GetTimestamp: a Go duration counts back from `now`; an RFC 3339
 * date (zone-less ones in local time) becomes `sec.nanosec`; a bare Unix
 * timestamp is passed through.
 */
export function getTimestamp(value: string, now: Date = new Date()): string {
  if (value !== '0') {
    try {
      const ns = parseGoDuration(value);
      return String(Math.floor((now.getTime() - ns / 1e6) / 1000));
    } catch {
      // not a duration; try a date
    }
  }
  const m = DATE_RE.exec(value);
  if (m !== null) {
    const [, y, mo, d, h, mi, sec, frac, zone] = m;
    const fields = [Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(sec ?? 0)] as const;
    let ms: number;
    if (zone === undefined) {
      ms = new Date(...fields).getTime();
    } else {
      ms = Date.UTC(...fields);
      if (zone !== 'Z' && zone !== 'z') {
        const sign = zone[0] === '-' ? -1 : 1;
        const [zh, zm] = zone.slice(1).split(':').map(Number) as [number, number];
        ms -= sign * (zh * 60 + zm) * 60_000;
      }
    }
    if (Number.isNaN(ms)) throw new Error(`parsing time ${JSON.stringify(value)}: invalid date`);
    const seconds = Math.floor(ms / 1000);
    const nanos = frac === undefined ? 0 : Number(frac.slice(1).padEnd(9, '0'));
    return `${seconds}.${String(nanos).padStart(9, '0')}`;
  }
  if (value.includes('-')) throw new Error(`parsing time ${JSON.stringify(value)}: cannot parse as RFC 3339`);
  if (/^\d+(\.\d{1,9})?$/.test(value)) return value;
  throw new Error(`failed to parse value as time or duration: ${JSON.stringify(value)}`);
}
