/**
 * server/filters: Docker's `filters` query parameter, in both its forms
 * (`{"status":["running"]}` and the old `{"status":{"running":true}}`).
 */
import { InvalidArgumentError } from '../errdefs/errors.js';

export type Filters = Map<string, string[]>;

export function parseFilters(raw: string | null): Filters {
  const out: Filters = new Map();
  if (!raw) return out;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new InvalidArgumentError(`invalid filter: ${raw}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InvalidArgumentError(`invalid filter: ${raw}`);
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (Array.isArray(val)) out.set(k, val.map(String));
    else if (typeof val === 'object' && val !== null) out.set(k, Object.keys(val).filter((x) => (val as Record<string, unknown>)[x]));
    else throw new InvalidArgumentError(`invalid filter '${k}'`);
  }
  return out;
}

export function checkFilterKeys(f: Filters, allowed: readonly string[]): void {
  for (const k of f.keys()) if (!allowed.includes(k)) throw new InvalidArgumentError(`invalid filter '${k}'`);
}

/** `label=key` or `label=key=value` against a label map. */
export function matchLabels(filters: string[] | undefined, labels: Record<string, string> | null | undefined): boolean {
  if (!filters || filters.length === 0) return true;
  const l = labels ?? {};
  return filters.every((f) => {
    const i = f.indexOf('=');
    if (i < 0) return f in l;
    return l[f.slice(0, i)] === f.slice(i + 1);
  });
}

export function boolParam(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v !== null && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}
