/**
 * reference/digest: digest validation as go-digest's `Parse` does it, for the
 * digest part of a reference and for `fromImage`'s tag-may-be-a-digest quirk.
 * It accepts the OCI-registered algorithms a Docker daemon has linked in
 * (sha256, sha384, sha512) and never hashes anything (util/digest.ts does that,
 * and stays sha256-only because it names files).
 */
import { fail } from './errors.js';

/** Hex length of each supported algorithm's encoded part. */
const hexLength: ReadonlyMap<string, number> = new Map([
  ['sha256', 64],
  ['sha384', 96],
  ['sha512', 128],
]);

/** go-digest's DigestRegexpAnchored: the shape any digest must have to be "unsupported" rather than malformed. */
const anyDigestShape = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const lowerHex = /^[a-f0-9]+$/;

/**
 * Return `s` if it is a valid digest; throw otherwise. The check order matters
 * because it picks the error: algorithm first (unknown but well-shaped →
 * unsupported), then length, then lower-case hex.
 */
export function validateDigest(s: string): string {
  const colon = s.indexOf(':');
  if (colon < 0 || colon === s.length - 1) fail('checksum-invalid-format');
  const algorithm = s.slice(0, colon);
  const encoded = s.slice(colon + 1);
  const want = hexLength.get(algorithm);
  if (want === undefined) {
    if (!anyDigestShape.test(s)) fail('checksum-invalid-format');
    fail('digest-unsupported');
  }
  if (encoded.length !== want) fail('checksum-invalid-length');
  if (!lowerHex.test(encoded)) fail('checksum-invalid-format');
  return s;
}

/** True if `s` passes validateDigest. */
export function isValidDigest(s: string): boolean {
  try {
    validateDigest(s);
    return true;
  } catch {
    return false;
  }
}
