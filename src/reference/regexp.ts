/**
 * reference/regexp: the image-reference grammar of distribution/reference v0.6
 * (regexp.go), built from the same named pieces so each rule can be checked
 * against upstream. This module owns the patterns only; it never interprets a
 * match (that is reference.ts) and never normalises (that is normalize.ts).
 *
 *   reference        := name [ ":" tag ] [ "@" digest ]
 *   name             := [domain '/'] remote-name
 *   domain           := host [':' port-number]
 *   host             := domain-name | '[' IPv6address ']'
 *   domain-name      := domain-component ['.' domain-component]*
 *   domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
 *   remote-name      := path-component ['/' path-component]*
 *   path-component   := /[a-z0-9]+/ [separator /[a-z0-9]+/]*
 *   separator        := /[_.]|__|[-]+/
 *   tag              := /[\w][\w.-]{0,127}/
 *   digest           := algorithm ":" /[0-9a-fA-F]{32,}/
 *   identifier       := /[a-f0-9]{64}/
 *
 * Linear time: Go's RE2 guarantees it; V8 backtracks, so the grammar must stay
 * unambiguous. Every repetition here is delimited (a separator or '.' or '/'
 * must sit between two repeated runs, and the runs cannot contain it), so a
 * failing input is given back one character at a time, never re-split. Keep it
 * that way when editing: no `(x+)+`, no two adjacent quantifiers over
 * overlapping classes without a delimiter. regexp.test.ts times hostile input.
 */

const optional = (...res: string[]): string => `(?:${res.join('')})?`;
const anyTimes = (...res: string[]): string => `(?:${res.join('')})*`;
const capture = (...res: string[]): string => `(${res.join('')})`;
const anchored = (...res: string[]): string => `^${res.join('')}$`;

/** Lower-case letters and digits: the atoms of a path component. */
const alphanumeric = '[a-z0-9]+';
/**
 * One period, one or two underscores, or any number of dashes. Repeated dashes
 * are allowed so that hostnames ("xn--n3h.com") can be path components; "__"
 * for names that older registries accepted.
 */
const separator = '(?:[._]|__|[-]+)';
/** A hostname label: alphanumerics, inner dashes, no leading/trailing dash. */
const domainNameComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const optionalPort = '(?::[0-9]+)?';
/** From docker/docker graph/tags.go: up to 128 word characters, dots, dashes. */
const tagPat = '[\\w][\\w.-]{0,127}';
/**
 * The reference grammar's digest: looser than go-digest (any algorithm made
 * of letters/digits with -_+. separators, at least 128 bits of hex, either
 * case). A match is then validated by digest.ts as go-digest would.
 */
const digestPat = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}';
/** A sha256 content identifier without its algorithm prefix (an image ID). */
const identifier = '([a-f0-9]{64})';
/**
 * IPv6 in brackets, compressed or not. Zone identifiers (RFC 6874) and
 * IPv4-mapped forms are excluded on purpose, as upstream does.
 */
const ipv6address = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainName = domainNameComponent + anyTimes('\\.', domainNameComponent);
const host = `(?:${domainName}|${ipv6address})`;
/** host[:port], e.g. "localhost:5000", "[::1]:5000", "registry.example.com". */
const domainAndPort = host + optionalPort;

const pathComponent = alphanumeric + anyTimes(separator, alphanumeric);
const remoteName = pathComponent + anyTimes('/', pathComponent);
const namePat = optional(domainAndPort, '/') + remoteName;

/** Pattern sources, exported so tests can check each rule on its own. */
export const patterns = {
  domainAndPort,
  tag: tagPat,
  digest: digestPat,
  identifier,
  name: namePat,
  remoteName,
  pathComponent,
} as const;

/** Whole reference; groups: 1 name, 2 tag, 3 digest (undefined when absent). */
export const anchoredReferenceRegexp = new RegExp(
  anchored(capture(namePat), optional(':', capture(tagPat)), optional('@', capture(digestPat))),
);
/** A name without tag or digest; groups: 1 domain (may be undefined), 2 path. */
export const anchoredNameRegexp = new RegExp(
  anchored(optional(capture(domainAndPort), '/'), capture(remoteName)),
);
export const anchoredDomainRegexp = new RegExp(anchored(domainAndPort));
export const anchoredTagRegexp = new RegExp(anchored(tagPat));
export const anchoredDigestRegexp = new RegExp(anchored(digestPat));
export const anchoredIdentifierRegexp = new RegExp(anchored(identifier));
