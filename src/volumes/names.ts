/**
 * volumes/names: what a local volume may be called (Docker's rule, because the
 * name becomes a directory under the data root and must never escape it), and
 * the names and label anonymous volumes get. Pure.
 */
import { randomBytes } from 'node:crypto';
import { InvalidArgumentError } from '../errdefs/errors.js';

/** moby's RestrictedNamePattern, shown verbatim in the error message. */
export const RESTRICTED_NAME_CHARS = '[a-zA-Z0-9][a-zA-Z0-9_.-]';
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Docker 23+ marks volumes created without a name; `volume prune` (API ≥ 1.42) removes only those by default. */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

export const DEFAULT_DRIVER = 'local';

/** The local driver's name check, with Docker's messages (the caller prefixes "create NAME: "). */
export function checkLocalVolumeName(name: string): string | null {
  if (name.length === 1) return 'volume name is too short, names should be at least two alphanumeric characters';
  if (!NAME_RE.test(name)) {
    return `${JSON.stringify(name)} includes invalid characters for a local volume name, only ${JSON.stringify(RESTRICTED_NAME_CHARS)} are allowed. If you intended to pass a host directory, use absolute path`;
  }
  return null;
}

/** Throws Docker's 400 ("create NAME: …") for a name the local driver refuses. */
export function validateLocalVolumeName(name: string): void {
  const problem = checkLocalVolumeName(name);
  if (problem !== null) throw new InvalidArgumentError(`create ${name}: ${problem}`);
}

/** A 64-hex name, as moby's stringid.GenerateRandomID gives anonymous volumes. */
export function anonymousVolumeName(): string {
  return randomBytes(32).toString('hex');
}
