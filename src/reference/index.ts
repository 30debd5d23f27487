/**
 * reference/: image reference parsing and normalisation (a port of
 * distribution/reference v0.6). Import from here; the files behind it are the
 * grammar (regexp.ts), strict parsing (reference.ts), Docker Hub rules
 * (normalize.ts), digests (digest.ts), pattern filters (match.ts) and the
 * Engine API's name+tag parameters (form.ts). Pure functions, no I/O.
 */
export {
  REPOSITORY_NAME_TOTAL_LENGTH_MAX,
  fullName,
  isDigestReference,
  isIdentifier,
  isNameOnly,
  isNamed,
  makeReference,
  parseReference,
  referenceString,
  trimNamed,
  withDigest,
  withName,
  withTag,
  type AnyReference,
  type DigestReference,
  type Reference,
  type TaggedReference,
} from './reference.js';
export {
  DEFAULT_DOMAIN,
  DEFAULT_TAG,
  LEGACY_DEFAULT_DOMAIN,
  OFFICIAL_REPO_PREFIX,
  familiarName,
  familiarString,
  parseAnyReference,
  parseDockerRef,
  parseNamed,
  parseNormalizedNamed,
  splitDockerDomain,
  withDefaultTag,
} from './normalize.js';
export { isValidDigest, validateDigest } from './digest.js';
export { familiarMatch, pathMatch } from './match.js';
export { joinTagOrDigest, repoTagReference } from './form.js';
export { InvalidReferenceError, type ReferenceErrorReason } from './errors.js';
