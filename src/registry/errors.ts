/**
 * registry/errors: the distribution spec's error codes and the one error type
 * the registry throws. A RegistryError carries its code, HTTP status and
 * message; server.ts is the only place that writes it out, in the spec's
 * `{"errors":[{"code","message","detail"}]}` form. Never writes a response.
 */

/** The codes of the distribution spec's error table (plus UNKNOWN for 5xx). */
export type ErrorCode =
  | 'BLOB_UNKNOWN'
  | 'BLOB_UPLOAD_INVALID'
  | 'BLOB_UPLOAD_UNKNOWN'
  | 'DIGEST_INVALID'
  | 'MANIFEST_BLOB_UNKNOWN'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'NAME_INVALID'
  | 'NAME_UNKNOWN'
  | 'SIZE_INVALID'
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'UNSUPPORTED'
  | 'TOOMANYREQUESTS'
  | 'UNKNOWN';

export class RegistryError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly status: number,
    message: string,
    readonly detail?: unknown,
    /** Extra response headers (WWW-Authenticate, Range…). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'RegistryError';
  }

  body(): string {
    const e: { code: string; message: string; detail?: unknown } = { code: this.code, message: this.message };
    if (this.detail !== undefined) e.detail = this.detail;
    return JSON.stringify({ errors: [e] });
  }
}

export const blobUnknown = (digest: string): RegistryError =>
  new RegistryError('BLOB_UNKNOWN', 404, 'blob unknown to registry', { digest });
export const manifestUnknown = (ref: string, message = 'manifest unknown'): RegistryError =>
  new RegistryError('MANIFEST_UNKNOWN', 404, message, { reference: ref });
export const nameUnknown = (name: string): RegistryError =>
  new RegistryError('NAME_UNKNOWN', 404, 'repository name not known to registry', { name });
export const nameInvalid = (name: string, why: string): RegistryError =>
  new RegistryError('NAME_INVALID', 400, `invalid repository name: ${why}`, { name });
export const digestInvalid = (message: string, digest?: string): RegistryError =>
  new RegistryError('DIGEST_INVALID', 400, message, digest === undefined ? undefined : { digest });
export const uploadUnknown = (id: string): RegistryError =>
  new RegistryError('BLOB_UPLOAD_UNKNOWN', 404, 'blob upload unknown to registry', { uuid: id });
export const uploadInvalid = (message: string, status = 400, headers: Record<string, string> = {}): RegistryError =>
  new RegistryError('BLOB_UPLOAD_INVALID', status, message, undefined, headers);
export const manifestInvalid = (message: string): RegistryError =>
  new RegistryError('MANIFEST_INVALID', 400, `manifest invalid: ${message}`);
export const unsupported = (message: string, status = 405): RegistryError =>
  new RegistryError('UNSUPPORTED', status, message);
