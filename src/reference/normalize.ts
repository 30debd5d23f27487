/**
 * reference/normalize: Docker Hub's naming rules, the port of
 * distribution/reference v0.6 normalize.go and helpers.go. Turns what users
 * type ("busybox", "index.docker.io/foo") into canonical references
 * ("docker.io/library/busybox") and back into the familiar form for display.
 * Never talks to a registry; never decides what a name resolves to locally.
 */
import { InvalidReferenceError } from './errors.js';
import { isValidDigest } from './digest.js';
import {
  fullName,
  isIdentifier,
  isNameOnly,
  isNamed,
  makeReference,
  parseReference,
  referenceString,
  withTag,
  type AnyReference,
  type Reference,
} from './reference.js';

/** Docker Hub's canonical domain. */
export const DEFAULT_DOMAIN = 'docker.io';
/** The "Docker Index" name, still accepted and rewritten to DEFAULT_DOMAIN. */
export const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
/** Namespace of official images on Docker Hub. */
export const OFFICIAL_REPO_PREFIX = 'library/';
export const DEFAULT_TAG = 'latest';

/**
 * splitDockerDomain: decide whether the first '/'-separated element of `name`
 * is a registry. It is when it is "localhost", contains '.' or ':', or has a
 * capital letter (namespaces cannot); otherwise the name is on Docker Hub.
 * Single-component Hub names get "library/". `name` may still carry its
 * tag/digest; the remainder keeps it.
 */
export function splitDockerDomain(name: string): { domain: string; remainder: string } {
  const slash = name.indexOf('/');
  if (slash < 0) {
    // A lone "ubuntu[:tag]" must not be read as "host:port". (Upstream FIXME:
    // a bare "localhost" or "example.com" is also taken as a Hub image.)
    return { domain: DEFAULT_DOMAIN, remainder: OFFICIAL_REPO_PREFIX + name };
  }
  const maybeDomain = name.slice(0, slash);
  const maybeRemainder = name.slice(slash + 1);
  let domain: string;
  let remainder: string;
  if (maybeDomain === 'localhost') {
    domain = maybeDomain;
    remainder = maybeRemainder;
  } else if (maybeDomain === LEGACY_DEFAULT_DOMAIN) {
    domain = DEFAULT_DOMAIN;
    remainder = maybeRemainder;
  } else if (maybeDomain.includes('.') || maybeDomain.includes(':')) {
    domain = maybeDomain;
    remainder = maybeRemainder;
  } else if (maybeDomain.toLowerCase() !== maybeDomain) {
    domain = maybeDomain;
    remainder = maybeRemainder;
  } else {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  }
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) {
    // "docker.io/ubuntu" is the official image, not a user namespace.
    remainder = OFFICIAL_REPO_PREFIX + remainder;
  }
  return { domain, remainder };
}

/**
 * ParseNormalizedNamed: parse what a user typed into a canonical reference
 * ('busybox' → docker.io/library/busybox). Rejects a bare 64-hex string, which
 * would be ambiguous with an image ID; use parseAnyReference where IDs are
 * allowed.
 */
export function parseNormalizedNamed(s: string): Reference {
  if (isIdentifier(s)) {
    throw new InvalidReferenceError(
      'name-is-identifier',
      `invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`,
    );
  }
  const { domain, remainder } = splitDockerDomain(s);
  const colon = remainder.indexOf(':');
  const remote = colon < 0 ? remainder : remainder.slice(0, colon);
  if (remote.toLowerCase() !== remote) {
    throw new InvalidReferenceError(
      'name-contains-uppercase',
      `invalid reference format: repository name (${remote}) must be lowercase`,
    );
  }
  return parseReference(`${domain}/${remainder}`);
}

/**
 * ParseNamed: like parseNormalizedNamed but the input must already be in
 * canonical form ("docker.io/library/foo", not "foo").
 */
export function parseNamed(s: string): Reference {
  const r = parseNormalizedNamed(s);
  if (referenceString(r) !== s) {
    throw new InvalidReferenceError('name-not-canonical', 'repository name must be canonical');
  }
  return r;
}

/**
 * ParseAnyReference: a 64-hex ID or a valid digest becomes a digest-only
 * reference; anything else is parsed as a familiar name. `sha256:<64 hex>` is
 * a digest, but a short "sha256:abc" is the image "sha256" with tag "abc", as
 * upstream; ID-prefix lookups must be done by the caller on the raw string.
 */
export function parseAnyReference(s: string): AnyReference {
  if (isIdentifier(s)) return { digest: `sha256:${s}` };
  if (isValidDigest(s)) return { digest: s };
  return parseNormalizedNamed(s);
}

/** TagNameOnly: add "latest" when there is neither tag nor digest. */
export function withDefaultTag(r: Reference): Reference {
  return isNameOnly(r) ? withTag(r, DEFAULT_TAG) : r;
}

/**
 * ParseDockerRef: normalise and make the reference either tagged or digested.
 * When both are given the digest wins and the tag is dropped, as Docker
 * resolves "name:tag@digest" by digest alone.
 */
export function parseDockerRef(s: string): Reference {
  const r = parseNormalizedNamed(s);
  if (r.tag !== undefined && r.digest !== undefined) return makeReference(r.domain, r.path, undefined, r.digest);
  return withDefaultTag(r);
}

/** familiarizeName: strip "docker.io/" and, for one-level names, "library/". */
function familiarize(r: Reference): Reference {
  if (r.domain !== DEFAULT_DOMAIN) return r;
  let path = r.path;
  if (path.startsWith(OFFICIAL_REPO_PREFIX)) {
    const rest = path.slice(OFFICIAL_REPO_PREFIX.length);
    // "library/foo/bar" keeps its prefix: only single-level names are official.
    if (!rest.includes('/')) path = rest;
  }
  return makeReference('', path, r.tag, r.digest);
}

/** FamiliarName: the name as the Docker CLI shows it ('busybox', 'myreg:5000/a/b'). */
export function familiarName(r: Reference): string {
  return fullName(familiarize(r));
}

/** FamiliarString: familiar name plus tag/digest ('busybox:latest'); a bare digest as is. */
export function familiarString(r: AnyReference): string {
  return isNamed(r) ? referenceString(familiarize(r)) : r.digest;
}
