/**
 * build/goFormat: the Go `fmt` renderings that Docker's legacy builder puts in
 * history entries (`CMD ["sh" "-c" "x"]` from `%q`, `VOLUME [/data]` from
 * `%v`, `HEALTHCHECK &{Test:[…] Interval:30s …}` from `%+v`), so `docker
 * history` reads the same. Pure.
 */
import { goQuote } from './dockerfile/goText.js';
import type { HealthConfig } from '../oci/image.js';

/** `%q` of a []string. */
export function goQuoteList(list: readonly string[] | null | undefined): string {
  return `[${(list ?? []).map(goQuote).join(' ')}]`;
}

/** `%v` of a []string. */
export function goList(list: readonly string[] | null | undefined): string {
  return `[${(list ?? []).join(' ')}]`;
}

/** time.Duration.String() for a whole number of nanoseconds. */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let u = Math.abs(ns);
  if (u < 1e9) {
    const [unit, div] = u < 1e3 ? ['ns', 1] : u < 1e6 ? ['µs', 1e3] : ['ms', 1e6];
    return `${neg ? '-' : ''}${trimFrac(u / (div as number))}${unit as string}`;
  }
  const h = Math.floor(u / 3.6e12);
  u -= h * 3.6e12;
  const m = Math.floor(u / 6e10);
  u -= m * 6e10;
  const s = trimFrac(u / 1e9);
  return `${neg ? '-' : ''}${h > 0 ? `${h}h` : ''}${h > 0 || m > 0 ? `${m}m` : ''}${s}s`;
}

function trimFrac(v: number): string {
  return Number(v.toFixed(9)).toString();
}

/** `%+v` of a *container.HealthConfig. */
export function goHealthConfig(h: HealthConfig): string {
  return (
    `&{Test:${goList(h.Test)} Interval:${goDuration(h.Interval ?? 0)} Timeout:${goDuration(h.Timeout ?? 0)} ` +
    `StartPeriod:${goDuration(h.StartPeriod ?? 0)} StartInterval:${goDuration(h.StartInterval ?? 0)} Retries:${h.Retries ?? 0}}`
  );
}
