/**
 * registry/mediaTypes: the manifest media types the registry stores and the
 * `Accept` negotiation between Docker schema2 and OCI types. Pure.
 */

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_SCHEMA1 = 'application/vnd.docker.distribution.manifest.v1+json';
export const DOCKER_SCHEMA1_SIGNED = 'application/vnd.docker.distribution.manifest.v1+prettyjws';

export const IMAGE_MANIFEST_TYPES: ReadonlySet<string> = new Set([OCI_MANIFEST, DOCKER_MANIFEST]);
export const INDEX_TYPES: ReadonlySet<string> = new Set([OCI_INDEX, DOCKER_LIST]);
export const MANIFEST_TYPES: ReadonlySet<string> = new Set([...IMAGE_MANIFEST_TYPES, ...INDEX_TYPES]);

/** Every type the registry serves, in the order a proxy asks a remote for them. */
export const ACCEPT_ALL = [OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST].join(', ');

/** A media type without parameters, lower-cased: `Content-Type: a/b; charset=x` → `a/b`. */
export function bareType(value: string | undefined): string {
  if (value === undefined) return '';
  const semi = value.indexOf(';');
  return (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
}

/**
 * The media types a request accepts, from every `Accept` header (several
 * headers and comma lists both occur). `undefined` when the client sent none,
 * which means "anything". Types with q=0 are left out.
 */
export function acceptedTypes(header: string | string[] | undefined): ReadonlySet<string> | undefined {
  if (header === undefined) return undefined;
  // A client sends the same Accept on every request: parse each distinct one once.
  if (typeof header === 'string') {
    const known = parsedAccept.get(header);
    if (known !== undefined) return known ?? undefined;
    const set = parseAccept([header]);
    if (parsedAccept.size >= ACCEPT_MEMO_ENTRIES) parsedAccept.clear();
    parsedAccept.set(header, set ?? null);
    return set;
  }
  return parseAccept(header);
}

const ACCEPT_MEMO_ENTRIES = 256;
/** Parsed Accept headers; null for one that accepts anything. The sets are shared: never mutate one. */
const parsedAccept = new Map<string, ReadonlySet<string> | null>();

function parseAccept(values: readonly string[]): Set<string> | undefined {
  const out = new Set<string>();
  for (const v of values) {
    for (const part of v.split(',')) {
      const [type, ...params] = part.split(';');
      const t = (type ?? '').trim().toLowerCase();
      if (t === '') continue;
      if (params.some((p) => /^\s*q\s*=\s*0(\.0*)?\s*$/.test(p))) continue;
      out.add(t);
    }
  }
  return out.size === 0 ? undefined : out;
}

export function accepts(accepted: ReadonlySet<string> | undefined, type: string): boolean {
  if (accepted === undefined) return true;
  if (accepted.has(type) || accepted.has('*/*')) return true;
  const slash = type.indexOf('/');
  return accepted.has(`${type.slice(0, slash)}/*`);
}
