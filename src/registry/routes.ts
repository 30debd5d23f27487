/**
 * registry/routes: turns a request path into one of the distribution API's
 * endpoints. Repository names contain slashes (and may even contain a
 * component called "blobs"), so endpoints are matched from the end of the
 * path, as distribution's own router does. The name is checked here
 * (NAME_INVALID); nothing else is. Pure.
 */
import { checkName } from './names.js';

export type Endpoint =
  | { kind: 'base' }
  | { kind: 'catalog' }
  | { kind: 'token' }
  | { kind: 'manifest'; name: string; ref: string }
  | { kind: 'blob'; name: string; digest: string }
  | { kind: 'uploads'; name: string }
  | { kind: 'upload'; name: string; id: string }
  | { kind: 'tags'; name: string }
  | { kind: 'referrers'; name: string; digest: string };

const MANIFEST = /^\/v2\/(.+)\/manifests\/([^/]+)$/;
const UPLOADS = /^\/v2\/(.+)\/blobs\/uploads\/?$/;
const UPLOAD = /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/;
const BLOB = /^\/v2\/(.+)\/blobs\/([^/]+)$/;
const TAGS = /^\/v2\/(.+)\/tags\/list$/;
const REFERRERS = /^\/v2\/(.+)\/referrers\/([^/]+)$/;

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The endpoint for `path` (no query string), or undefined for an unknown path. */
export function matchRoute(path: string): Endpoint | undefined {
  if (path === '/v2/' || path === '/v2') return { kind: 'base' };
  if (path === '/v2/_catalog') return { kind: 'catalog' };
  if (path === '/token' || path === '/token/') return { kind: 'token' };
  if (!path.startsWith('/v2/')) return undefined;
  let m: RegExpExecArray | null;
  if ((m = MANIFEST.exec(path)) !== null) return { kind: 'manifest', name: checkName(m[1] as string), ref: decode(m[2] as string) };
  if ((m = UPLOADS.exec(path)) !== null) return { kind: 'uploads', name: checkName(m[1] as string) };
  if ((m = UPLOAD.exec(path)) !== null) return { kind: 'upload', name: checkName(m[1] as string), id: decode(m[2] as string) };
  if ((m = BLOB.exec(path)) !== null) return { kind: 'blob', name: checkName(m[1] as string), digest: decode(m[2] as string) };
  if ((m = TAGS.exec(path)) !== null) return { kind: 'tags', name: checkName(m[1] as string) };
  if ((m = REFERRERS.exec(path)) !== null) return { kind: 'referrers', name: checkName(m[1] as string), digest: decode(m[2] as string) };
  return undefined;
}
