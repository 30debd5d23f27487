/**
 * reference/reference: strict parsing and building of image references, the
 * port of distribution/reference v0.6 reference.go. A Reference is plain data;
 * this module never normalises ("busybox" stays a one-component path with no
 * domain here — see normalize.ts for Docker Hub's rules) and never does I/O.
 */
import { fail } from './errors.js';
import { validateDigest } from './digest.js';
import {
  anchoredDigestRegexp,
  anchoredIdentifierRegexp,
  anchoredNameRegexp,
  anchoredReferenceRegexp,
  anchoredTagRegexp,
} from './regexp.js';

/** Longest repository path (without domain) upstream accepts. */
export const REPOSITORY_NAME_TOTAL_LENGTH_MAX = 255;

/**
 * A named reference. `domain` is '' only for strictly parsed names without a
 * registry part; normalised references always have one. `tag` and `digest` are
 * absent (never '') when not given.
 */
export interface Reference {
  readonly domain: string;
  readonly path: string;
  readonly tag?: string;
  readonly digest?: string;
}

/** A reference that is only a digest, e.g. an image ID given to `rmi`. */
export interface DigestReference {
  readonly digest: string;
}

/** What parseAnyReference returns: a name, or a bare digest. */
export type AnyReference = Reference | DigestReference;

/** A reference known to carry a tag. */
export type TaggedReference = Reference & { readonly tag: string };

/** True for a named reference (has domain/path), false for a bare digest. */
export function isNamed(r: AnyReference): r is Reference {
  return 'path' in r;
}

/** True for a bare digest reference (no name). */
export function isDigestReference(r: AnyReference): r is DigestReference {
  return !('path' in r);
}

/** IsNameOnly: neither tag nor digest. */
export function isNameOnly(r: Reference): boolean {
  return r.tag === undefined && r.digest === undefined;
}

/** True for a 64-hex image ID (the "identifier" rule). */
export function isIdentifier(s: string): boolean {
  return anchoredIdentifierRegexp.test(s);
}

/** Build a Reference without ever storing an undefined or empty tag/digest. */
export function makeReference(domain: string, path: string, tag?: string, digest?: string): Reference {
  const r: { domain: string; path: string; tag?: string; digest?: string } = { domain, path };
  if (tag) r.tag = tag;
  if (digest) r.digest = digest;
  return r;
}

/** Name(): "domain/path", or just the path when there is no domain. */
export function fullName(r: Reference): string {
  return r.domain === '' ? r.path : `${r.domain}/${r.path}`;
}

/** String(): name[:tag][@digest], or the digest alone for a digest reference. */
export function referenceString(r: AnyReference): string {
  if (!isNamed(r)) return r.digest;
  let s = fullName(r);
  if (r.tag !== undefined) s += `:${r.tag}`;
  if (r.digest !== undefined) s += `@${r.digest}`;
  return s;
}

/** Split a bare name into domain and path; '' domain when the name has none. */
function splitDomain(name: string): { domain: string; path: string } | undefined {
  const m = anchoredNameRegexp.exec(name);
  if (m === null) return undefined;
  return { domain: m[1] ?? '', path: m[2] ?? '' };
}

/**
 * Parse (upstream `Parse`): a syntactically valid reference, no normalisation.
 * Throws InvalidReferenceError with the upstream error's reason and message.
 */
export function parseReference(s: string): Reference {
  if (s === '') fail('name-empty');
  const m = anchoredReferenceRegexp.exec(s);
  if (m === null) {
    // A string that only fails because of capitals gets the clearer message.
    const lower = s.toLowerCase();
    if (lower !== s && anchoredReferenceRegexp.test(lower)) fail('name-contains-uppercase');
    fail('reference-invalid-format');
  }
  const name = m[1] ?? '';
  const split = splitDomain(name) ?? { domain: '', path: name };
  if (split.path.length > REPOSITORY_NAME_TOTAL_LENGTH_MAX) fail('name-too-long');
  const digest = m[3];
  if (digest !== undefined) validateDigest(digest);
  return makeReference(split.domain, split.path, m[2], digest);
}

/** WithName: a bare name (no tag, no digest) split into domain and path. */
export function withName(name: string): Reference {
  const split = splitDomain(name);
  if (split === undefined) fail('reference-invalid-format');
  if (split.path.length > REPOSITORY_NAME_TOTAL_LENGTH_MAX) fail('name-too-long');
  return makeReference(split.domain, split.path);
}

/** WithTag: set or replace the tag; a digest already present is kept. */
export function withTag(r: Reference, tag: string): TaggedReference {
  if (!anchoredTagRegexp.test(tag)) fail('tag-invalid-format');
  return makeReference(r.domain, r.path, tag, r.digest) as TaggedReference;
}

/**
 * WithDigest: set or replace the digest; a tag already present is kept. Like
 * upstream this checks the reference grammar only, not the algorithm.
 */
export function withDigest(r: Reference, digest: string): Reference & { readonly digest: string } {
  if (!anchoredDigestRegexp.test(digest)) fail('digest-invalid-format');
  return makeReference(r.domain, r.path, r.tag, digest) as Reference & { readonly digest: string };
}

/** TrimNamed: drop tag and digest. */
export function trimNamed(r: Reference): Reference {
  return makeReference(r.domain, r.path);
}
