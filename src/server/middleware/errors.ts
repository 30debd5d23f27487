/**
 * server/middleware/errors: the only place an error kind becomes an HTTP
 * status (DESIGN style 2), with Docker's `{"message": …}` body.
 */
import { errorKind, messageOf, type ErrorKind } from '../../errdefs/errors.js';

const STATUS: Record<ErrorKind, number> = {
  'not-found': 404,
  conflict: 409,
  'invalid-argument': 400,
  unauthorized: 401,
  forbidden: 403,
  'not-modified': 304,
  unavailable: 503,
  'not-implemented': 501,
  system: 500,
};

export function statusOf(err: unknown): number {
  return STATUS[errorKind(err)];
}

export function errorBody(err: unknown): string {
  return JSON.stringify({ message: messageOf(err) });
}
