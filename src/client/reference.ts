/**
 * client/reference: the slice of distribution/reference the client needs —
 * parse and normalise `busybox` → `docker.io/library/busybox:latest`, and print
 * the familiar form back. Grammar and error texts as in distribution/reference
 * v0.6 (the docker CLI's). Pure; no I/O.
 */

const ALPHANUMERIC = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const DOMAIN_AND_PORT = `(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?`;
const PATH_COMPONENT = `${ALPHANUMERIC}(?:${SEPARATOR}${ALPHANUMERIC})*`;
const REMOTE_NAME = `${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const NAME = `(?:${DOMAIN_AND_PORT}/)?${REMOTE_NAME}`;

const REFERENCE_RE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const ANCHORED_NAME_RE = new RegExp(`^(?:(${DOMAIN_AND_PORT})/)?(${REMOTE_NAME})$`);
const IDENTIFIER_RE = /^[a-f0-9]{64}$/;
const TAG_RE = new RegExp(`^${TAG}$`);

const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
const NAME_TOTAL_LENGTH_MAX = 255;

export class ReferenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReferenceError';
  }
}

/** A parsed, normalised reference: `name` always has a domain. */
export interface NamedReference {
  /** e.g. docker.io/library/busybox */
  name: string;
  domain: string;
  /** e.g. library/busybox */
  path: string;
  tag?: string;
  digest?: string;
}

/** Parses an already-complete reference string (distribution `reference.Parse`). */
export function parseReference(s: string): NamedReference {
  const m = REFERENCE_RE.exec(s);
  if (m === null) {
    if (s === '') throw new ReferenceError('repository name must have at least one component');
    if (REFERENCE_RE.test(s.toLowerCase())) {
      throw new ReferenceError('invalid reference format: repository name must be lowercase');
    }
    throw new ReferenceError('invalid reference format');
  }
  const name = m[1] as string;
  if (name.length > NAME_TOTAL_LENGTH_MAX) {
    throw new ReferenceError(`repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }
  const nm = ANCHORED_NAME_RE.exec(name);
  const ref: NamedReference = { name, domain: nm?.[1] ?? '', path: nm?.[2] ?? name };
  if (m[2] !== undefined) ref.tag = m[2];
  if (m[3] !== undefined) ref.digest = m[3];
  return ref;
}

function splitDockerDomain(name: string): [string, string] {
  const i = name.indexOf('/');
  let domain: string;
  let remainder: string;
  const first = i >= 0 ? name.slice(0, i) : '';
  if (i === -1 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    domain = first;
    remainder = name.slice(i + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return [domain, remainder];
}

/** `ParseNormalizedNamed`: accepts the familiar forms users type. */
export function parseNormalizedNamed(s: string): NamedReference {
  if (IDENTIFIER_RE.test(s)) {
    throw new ReferenceError(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  }
  const [domain, remainder] = splitDockerDomain(s);
  const tagSep = remainder.indexOf(':');
  const remote = tagSep > -1 ? remainder.slice(0, tagSep) : remainder;
  if (remote.toLowerCase() !== remote) {
    throw new ReferenceError(`invalid reference format: repository name (${remote}) must be lowercase`);
  }
  return parseReference(`${domain}/${remainder}`);
}

/** `ParseAnyReference`: a bare 64-hex ID is an image ID, anything else a name. */
export function isImageIdReference(s: string): boolean {
  return IDENTIFIER_RE.test(s);
}

/** Adds `:latest` when a reference has neither tag nor digest. */
export function tagNameOnly(ref: NamedReference): NamedReference {
  if (ref.tag === undefined && ref.digest === undefined) return { ...ref, tag: 'latest' };
  return ref;
}

/** `FamiliarName`: docker.io/library/busybox → busybox. */
export function familiarName(ref: NamedReference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return ref.name;
  let path = ref.path;
  if (path.startsWith(OFFICIAL_REPO_PREFIX)) {
    const rest = path.slice(OFFICIAL_REPO_PREFIX.length);
    if (!rest.includes('/')) path = rest;
  }
  return path;
}

/** `FamiliarString`: familiar name plus `:tag` and `@digest` when present. */
export function familiarString(ref: NamedReference): string {
  let s = familiarName(ref);
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** The `tag` query value for /images/create: the digest, else the tag, else latest. */
export function apiTagFromRef(ref: NamedReference): string {
  if (ref.digest !== undefined) return ref.digest;
  return tagNameOnly(ref).tag ?? '';
}

export function isValidTag(tag: string): boolean {
  return TAG_RE.test(tag);
}
