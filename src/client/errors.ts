/**
 * client/errors: what the Engine API client throws. ApiError carries the
 * daemon's status and `{"message"}`; DaemonUnreachableError is the single
 * clear line users see when berthd is not there. Never prints anything.
 */

/** The daemon answered with a non-2xx status. `message` is the daemon's own text. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** Docker's rendering: `Error response from daemon: <message>`. */
  override toString(): string {
    return `Error response from daemon: ${this.message}`;
  }

  get isNotFound(): boolean {
    return this.statusCode === 404;
  }
}

/** The socket is missing, refused, or not ours to open. */
export class DaemonUnreachableError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'DaemonUnreachableError';
  }
}

/** An error message carried inside a JSON message stream (`errorDetail`). */
export class JSONMessageError extends Error {
  constructor(
    message: string,
    readonly code: number | undefined,
  ) {
    super(message);
    this.name = 'JSONMessageError';
  }
}

/** The hijack request got an answer other than `101 Switching Protocols`. */
export class UpgradeError extends Error {
  constructor(
    readonly statusCode: number,
    proto: string,
  ) {
    super(`unable to upgrade to ${proto}, received ${statusCode}`);
    this.name = 'UpgradeError';
  }
}

export function isNotFoundError(err: unknown): boolean {
  return err instanceof ApiError && err.statusCode === 404;
}

/** The text docker prints for an error from its API client. */
export function clientErrorText(err: unknown): string {
  if (err instanceof ApiError) return err.toString();
  if (err instanceof Error) return err.message;
  return String(err);
}
