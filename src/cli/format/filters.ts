/**
 * cli/format/filters: `--filter name=value` flags → the API's filter map, and
 * the list-format plumbing (`table …`, `json`, Go templates) shared by `ps`
 * and `images`. Pure.
 */
import type { Filters } from '../../client/types.js';
import { Tabwriter, DOCKER_TABLE } from './tabwriter.js';
import { renderTemplate } from './template.js';

/** opts.FilterOpt.Set as a flag validator. */
export function validateFilter(value: string): string {
  if (value === '') return value;
  if (!value.includes('=')) throw new Error('bad format of filter (expected name=value)');
  return value;
}

export function buildFilters(values: string[]): Filters {
  const f: Filters = {};
  for (const v of values) {
    if (v === '') continue;
    const eq = v.indexOf('=');
    const name = v.slice(0, eq).trim().toLowerCase();
    const val = v.slice(eq + 1).trim();
    (f[name] ??= {})[val] = true;
  }
  return f;
}

export function addFilter(f: Filters, name: string, value: string): Filters {
  (f[name] ??= {})[value] = true;
  return f;
}

/**
 * formatter.Context.Write: renders `rows` with `format`. A "table" format
 * prints a header (the template applied to `headers`) and aligns columns;
 * "json" prints each row as a JSON object; anything else is a template per row.
 */
export function writeFormatted(
  format: string,
  rows: Array<Record<string, unknown>>,
  headers: Record<string, string>,
): string {
  const isTable = format.startsWith('table');
  let body = format;
  if (isTable) body = format.slice('table'.length);
  else if (format === 'json') body = '{{json .}}';
  body = body.trim().replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  let out = '';
  for (const row of rows) {
    // Go marshals these contexts as maps: keys sorted.
    const sorted = Object.fromEntries(Object.keys(row).sort().map((k) => [k, row[k]]));
    out += `${renderTemplate(body, sorted)}\n`;
  }
  if (!isTable) return out;
  const tw = new Tabwriter(DOCKER_TABLE);
  tw.write(renderTemplate(body, headers));
  tw.write('\n');
  tw.write(out);
  return tw.flush();
}

/**
 * Zone abbreviations by UTC offset (minutes): Intl costs ~1 ms to build a formatter and ~0.1 ms a
 * call, and `ps -a` asks once per row. Within the process's one time zone an offset has one name.
 */
const zoneByOffset = new Map<number, string>();

function zoneName(d: Date, off: number): string {
  let zone = zoneByOffset.get(off);
  if (zone !== undefined) return zone;
  zone = 'UTC';
  try {
    const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((x) => x.type === 'timeZoneName');
    if (part) zone = part.value;
  } catch {
    // keep UTC
  }
  if (off === 0 && (zone === 'GMT' || zone === 'UTC')) zone = 'UTC';
  zoneByOffset.set(off, zone);
  return zone;
}

/** Go's time.Time.String() for a Unix time: "2006-01-02 15:04:05 -0700 MST" in local time. */
export function goTimeString(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const abs = Math.abs(off);
  const zone = zoneName(d, off);
  return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${sign}${p2(Math.floor(abs / 60))}${p2(abs % 60)} ${zone}`;
}
