/**
 * errdefs: the closed set of error kinds the engine raises.
 * Code classifies a failure where it happens by throwing one of these; only
 * server/middleware/errors.ts turns a kind into an HTTP status. Never put HTTP
 * codes anywhere else.
 */

export type ErrorKind =
  | 'not-found'
  | 'conflict'
  | 'invalid-argument'
  | 'unauthorized'
  | 'forbidden'
  | 'not-modified'
  | 'unavailable'
  | 'not-implemented'
  | 'system';

export class EngineError extends Error {
  readonly kind: ErrorKind = 'system';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The object does not exist (404). */
export class NotFoundError extends EngineError {
  override readonly kind = 'not-found';
}
/** The request clashes with the object's current state (409). */
export class ConflictError extends EngineError {
  override readonly kind = 'conflict';
}
/** The caller sent something malformed or unacceptable (400). */
export class InvalidArgumentError extends EngineError {
  override readonly kind = 'invalid-argument';
}
/** Credentials are missing or wrong (401). */
export class UnauthorizedError extends EngineError {
  override readonly kind = 'unauthorized';
}
/** Understood but refused (403). */
export class ForbiddenError extends EngineError {
  override readonly kind = 'forbidden';
}
/** Nothing to do: the object is already in the asked state (304). */
export class NotModifiedError extends EngineError {
  override readonly kind = 'not-modified';
}
/** A dependency (runtime, registry, kernel feature) is missing or down (503). */
export class UnavailableError extends EngineError {
  override readonly kind = 'unavailable';
}
/** The engine does not do this (yet) (501). */
export class NotImplementedError extends EngineError {
  override readonly kind = 'not-implemented';
}
/** Anything else went wrong inside the engine (500). */
export class SystemError extends EngineError {
  override readonly kind = 'system';
}

export function errorKind(err: unknown): ErrorKind {
  return err instanceof EngineError ? err.kind : 'system';
}
export const isNotFound = (e: unknown): boolean => errorKind(e) === 'not-found';
export const isConflict = (e: unknown): boolean => errorKind(e) === 'conflict';
export const isInvalidArgument = (e: unknown): boolean => errorKind(e) === 'invalid-argument';

/** The message of any thrown value, for wrapping into a typed error. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
