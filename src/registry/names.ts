/**
 * registry/names: checks on the names that arrive in URLs — repository
 * names, tags, digests — with the distribution spec's grammar. Pure; throws
 * RegistryErrors with the spec's codes. Never touches storage.
 */
import { patterns } from '../reference/regexp.js';
import type { Digest } from '../util/digest.js';
import { digestInvalid, nameInvalid } from './errors.js';
import { REPOSITORY_NAME_MAX } from './limits.js';

const NAME_RE = new RegExp(`^${patterns.remoteName}$`);
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
/** The OCI descriptor digest grammar (any algorithm); only sha256 is stored. */
const ANY_DIGEST_RE = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const SHA256_RE = /^sha256:[a-f0-9]{64}$/;

export function checkName(name: string): string {
  if (name.length > REPOSITORY_NAME_MAX) throw nameInvalid(name, `longer than ${REPOSITORY_NAME_MAX} characters`);
  if (!NAME_RE.test(name)) throw nameInvalid(name, 'must match [a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)*');
  return name;
}

export function isTag(s: string): boolean {
  return TAG_RE.test(s);
}

/** Whether `s` has the shape of a digest of some algorithm (for manifests naming foreign digests). */
export function isAnyDigest(s: string): boolean {
  return ANY_DIGEST_RE.test(s);
}

export function isSha256(s: string): s is Digest {
  return SHA256_RE.test(s);
}

/** A digest this registry can store: well-formed sha256, else DIGEST_INVALID (400). */
export function checkDigest(s: string | null | undefined, what = 'digest'): Digest {
  if (s === null || s === undefined || s === '') throw digestInvalid(`${what} missing`);
  if (isSha256(s)) return s;
  if (ANY_DIGEST_RE.test(s)) {
    const alg = s.slice(0, s.indexOf(':'));
    if (alg === 'sha256') throw digestInvalid(`invalid sha256 digest "${s}"`, s);
    throw digestInvalid(`unsupported digest algorithm "${alg}" (only sha256)`, s);
  }
  throw digestInvalid(`invalid digest "${s}"`, s);
}
