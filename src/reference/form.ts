/**
 * reference/form: the Engine API's "name + tag" query parameters turned into
 * one reference, with moby's quirks kept (daemon/server/router/image and
 * httputils/form.go). Owns only the joining; the routes decide what a missing
 * tag means (pull all tags, default to latest…).
 */
import { InvalidReferenceError } from './errors.js';
import { isValidDigest } from './digest.js';
import { parseNormalizedNamed, withDefaultTag } from './normalize.js';
import { trimNamed, withDigest, withTag, type Reference, type TaggedReference } from './reference.js';

/**
 * `POST /images/create?fromImage=NAME&tag=TAG` (pull). One trailing ':' on NAME
 * is dropped ("pull -a" sends "name:"). TAG may be a tag or, despite its name,
 * a digest: a valid digest replaces any tag/digest in NAME, a tag replaces the
 * tag and keeps a digest. Empty TAG leaves NAME as parsed (possibly name-only,
 * which a pull takes to mean all tags).
 */
export function joinTagOrDigest(name: string, tag: string): Reference {
  const image = name.endsWith(':') ? name.slice(0, -1) : name;
  const ref = parseNormalizedNamed(image);
  if (tag === '') return ref;
  if (isValidDigest(tag)) return withDigest(trimNamed(ref), tag);
  return withTag(ref, tag);
}

/**
 * httputils.RepoTagReference: `repo` + `tag` for import, commit, tag and push.
 * Always tagged (default "latest"); a digest in `repo` is refused. Returns
 * undefined for an empty repo (an untagged import/commit).
 */
export function repoTagReference(repo: string, tag: string): TaggedReference | undefined {
  if (repo === '') return undefined;
  const ref = parseNormalizedNamed(repo);
  if (ref.digest !== undefined) {
    throw new InvalidReferenceError('digest-not-allowed', 'cannot import digest reference');
  }
  if (tag !== '') return withTag(ref, tag);
  return withDefaultTag(ref) as TaggedReference;
}
