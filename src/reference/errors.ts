/**
 * reference/errors: the one error type this folder throws. It is an
 * InvalidArgumentError (HTTP 400 at the edge) carrying a `reason` so callers and
 * tests can tell the upstream error values apart without matching text. The
 * messages are Docker's, word for word, because clients show them verbatim.
 */
import { InvalidArgumentError } from '../errdefs/errors.js';

/** One reason per sentinel error in distribution/reference and go-digest. */
export type ReferenceErrorReason =
  /** ErrReferenceInvalidFormat: "invalid reference format" */
  | 'reference-invalid-format'
  /** ErrTagInvalidFormat: "invalid tag format" */
  | 'tag-invalid-format'
  /** ErrDigestInvalidFormat (reference package): "invalid digest format" */
  | 'digest-invalid-format'
  /** ErrNameContainsUppercase, and ParseNormalizedNamed's "must be lowercase" */
  | 'name-contains-uppercase'
  /** ErrNameEmpty: "repository name must have at least one component" */
  | 'name-empty'
  /** ErrNameTooLong: path over 255 characters */
  | 'name-too-long'
  /** ErrNameNotCanonical: ParseNamed given a non-canonical form */
  | 'name-not-canonical'
  /** A bare 64-hex string given where a repository name is required */
  | 'name-is-identifier'
  /** go-digest ErrDigestInvalidFormat: "invalid checksum digest format" */
  | 'checksum-invalid-format'
  /** go-digest ErrDigestInvalidLength: "invalid checksum digest length" */
  | 'checksum-invalid-length'
  /** go-digest ErrDigestUnsupported: "unsupported digest algorithm" */
  | 'digest-unsupported'
  /** moby RepoTagReference: "cannot import digest reference" */
  | 'digest-not-allowed'
  /** path.ErrBadPattern: "syntax error in pattern" */
  | 'bad-pattern';

export class InvalidReferenceError extends InvalidArgumentError {
  readonly reason: ReferenceErrorReason;
  constructor(reason: ReferenceErrorReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** The fixed messages; reasons whose message embeds the input build it at the throw site. */
export const messages = {
  'reference-invalid-format': 'invalid reference format',
  'tag-invalid-format': 'invalid tag format',
  'digest-invalid-format': 'invalid digest format',
  'name-contains-uppercase': 'repository name must be lowercase',
  'name-empty': 'repository name must have at least one component',
  'name-too-long': 'repository name must not be more than 255 characters',
  'name-not-canonical': 'repository name must be canonical',
  'checksum-invalid-format': 'invalid checksum digest format',
  'checksum-invalid-length': 'invalid checksum digest length',
  'digest-unsupported': 'unsupported digest algorithm',
  'digest-not-allowed': 'cannot import digest reference',
  'bad-pattern': 'syntax error in pattern',
} as const satisfies Partial<Record<ReferenceErrorReason, string>>;

/** Throw the reason's standard message. */
export function fail(reason: keyof typeof messages): never {
  throw new InvalidReferenceError(reason, messages[reason]);
}
