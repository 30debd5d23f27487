/**
 * registry/api: the distribution API's handlers, one function per endpoint
 * and method, on a Registry. They check inputs (names, digests, ranges),
 * call storage, and answer with the spec's status codes and headers; errors
 * are thrown as RegistryErrors for server.ts to write. Authorization has
 * already happened (server.ts); a handler only asks for extra grants it
 * discovers (the source repository of a mount).
 */
import type { Digest } from '../util/digest.js';
import { sha256Of } from '../util/digest.js';
import type { Authenticator } from './auth.js';
import {
  RegistryError,
  blobUnknown,
  digestInvalid,
  manifestInvalid,
  manifestUnknown,
  nameUnknown,
  unsupported,
  uploadInvalid,
} from './errors.js';
import {
  contentLength,
  drain,
  hasBody,
  parseContentRange,
  parseRange,
  readBody,
  reply,
  replyJson,
  API_VERSION,
  API_VERSION_HEADER,
  type Exchange,
} from './http.js';
import {
  CATALOG_DEFAULT_PAGE,
  CATALOG_SCAN_BATCH,
  LIST_PAGE_MAX,
  MANIFEST_MAX_BYTES,
  REFERRERS_PAGE,
  REFERRERS_PAGE_BYTES,
} from './limits.js';
import { parseManifest, type Platform } from './manifest.js';
import { INDEX_TYPES, OCI_INDEX, acceptedTypes, accepts } from './mediaTypes.js';
import { checkDigest, checkName, isSha256, isTag } from './names.js';
import type { Registry } from './registry.js';
import { sendFile } from './sendFile.js';
import type { ManifestRow } from './registryDb.js';
import type { UploadSession } from './uploads.js';

/** A pull-through source (proxy.ts): fetches what the local store lacks. */
export interface PullThroughSource {
  /** Resolves a tag or digest, fetching and storing the manifest when needed; undefined when the remote lacks it. */
  manifest(repo: string, ref: string): Promise<ManifestRow | undefined>;
  /** Streams a blob from the remote to the client while storing it; false when the remote lacks it. */
  serveBlob(x: Exchange, repo: string, digest: Digest): Promise<boolean>;
}

export interface ApiContext {
  registry: Registry;
  auth: Authenticator;
  proxy?: PullThroughSource;
}

const EMPTY_DIGEST = sha256Of('');

function ensureWritable(c: ApiContext): void {
  if (c.registry.readOnly) throw unsupported('the registry is in read-only mode');
  if (c.proxy !== undefined) throw unsupported('the registry is a pull-through cache: pushes and deletes are not allowed');
}

function notFoundIn(c: ApiContext, repo: string, err: RegistryError): RegistryError {
  return c.registry.db.repoExists(repo) ? err : nameUnknown(repo);
}

const uploadLocation = (name: string, id: string): string => `/v2/${name}/blobs/uploads/${id}`;
const rangeHeader = (size: number): string => `0-${size > 0 ? size - 1 : 0}`;

// ------------------------------------------------------------------ manifests

function hostPlatform(): Platform {
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' };
  return { os: 'linux', architecture: arch[process.arch] ?? process.arch };
}

/**
 * For a client that does not accept indexes (old Docker clients), the image
 * of this host's platform out of an index, as distribution does.
 */
async function platformFallback(c: ApiContext, repo: string, index: ManifestRow, accepted: ReadonlySet<string> | undefined): Promise<ManifestRow | undefined> {
  let parsed;
  try {
    parsed = parseManifest(await c.registry.manifestBytes(index), index.mediaType);
  } catch {
    return undefined;
  }
  const want = hostPlatform();
  for (const d of parsed.manifests) {
    if (d.platform?.os !== want.os || d.platform.architecture !== want.architecture) continue;
    if (!accepts(accepted, d.mediaType) || !isSha256(d.digest)) continue;
    const row = c.registry.db.manifest(repo, d.digest);
    if (row !== undefined) return row;
  }
  return undefined;
}

export async function getManifest(c: ApiContext, x: Exchange, name: string, ref: string): Promise<void> {
  const byDigest = ref.includes(':');
  const db = c.registry.db;
  let row: ManifestRow | undefined;
  if (byDigest) {
    if (!isSha256(ref)) throw manifestUnknown(ref);
    row = db.manifest(name, ref);
    if (row === undefined && c.proxy !== undefined) row = await c.proxy.manifest(name, ref);
  } else {
    if (!isTag(ref)) throw manifestUnknown(ref, `invalid tag "${ref}"`);
    row = c.proxy !== undefined ? await c.proxy.manifest(name, ref) : db.tag(name, ref);
  }
  if (row === undefined) throw notFoundIn(c, name, manifestUnknown(ref));
  const accepted = acceptedTypes(x.req.headers.accept);
  if (!accepts(accepted, row.mediaType)) {
    const fallback = !byDigest && INDEX_TYPES.has(row.mediaType) ? await platformFallback(c, name, row, accepted) : undefined;
    if (fallback === undefined) {
      throw manifestUnknown(ref, `manifest is a ${row.mediaType}, which the Accept header does not include`);
    }
    row = fallback;
  }
  const headers = {
    'Content-Type': row.mediaType,
    'Content-Length': row.size,
    'Docker-Content-Digest': row.digest,
    Etag: `"${row.digest}"`,
  };
  if (x.method === 'HEAD') {
    reply(x, 200, headers);
    return;
  }
  reply(x, 200, headers, await c.registry.manifestBytes(row));
}

export async function putManifest(c: ApiContext, x: Exchange, name: string, ref: string): Promise<void> {
  ensureWritable(c);
  const byDigest = ref.includes(':');
  const tags: string[] = [];
  if (byDigest) {
    checkDigest(ref);
    for (const t of x.query.getAll('tag')) {
      if (!isTag(t)) throw manifestInvalid(`invalid tag "${t}"`);
      tags.push(t);
    }
  } else {
    if (!isTag(ref)) throw manifestInvalid(`invalid tag "${ref}"`);
    tags.push(ref);
  }
  const body = await readBody(
    x.req,
    MANIFEST_MAX_BYTES,
    () => new RegistryError('MANIFEST_INVALID', 413, `manifest larger than the ${MANIFEST_MAX_BYTES}-byte limit`, { limit: MANIFEST_MAX_BYTES }),
  );
  const parsed = parseManifest(body, x.req.headers['content-type']);
  const digest = sha256Of(body);
  if (byDigest && digest !== ref) throw digestInvalid(`manifest digest ${digest} does not match ${ref}`, ref);
  await c.registry.storeManifest(name, digest, body, parsed, tags);
  const headers: Record<string, string> = {
    Location: `/v2/${name}/manifests/${digest}`,
    'Docker-Content-Digest': digest,
  };
  if (parsed.subject !== undefined) headers['OCI-Subject'] = parsed.subject.digest;
  if (byDigest && tags.length > 0) headers['OCI-Tag'] = tags.join(', ');
  reply(x, 201, headers);
}

export function deleteManifest(c: ApiContext, x: Exchange, name: string, ref: string): void {
  ensureWritable(c);
  const db = c.registry.db;
  if (ref.includes(':')) {
    const d = checkDigest(ref);
    if (!db.deleteManifest(name, d)) throw notFoundIn(c, name, manifestUnknown(ref));
  } else {
    if (!isTag(ref)) throw manifestInvalid(`invalid tag "${ref}"`);
    if (!db.deleteTag(name, ref)) throw notFoundIn(c, name, manifestUnknown(ref));
  }
  reply(x, 202, {});
}

// ------------------------------------------------------------------ blobs

export async function getBlob(c: ApiContext, x: Exchange, name: string, ref: string): Promise<void> {
  const digest = checkDigest(ref);
  const reg = c.registry;
  const row = reg.db.blobInRepo(name, digest);
  if (row === undefined) {
    if (c.proxy !== undefined && (await c.proxy.serveBlob(x, name, digest))) return;
    throw blobUnknown(digest);
  }
  const base = {
    'Content-Type': 'application/octet-stream',
    'Docker-Content-Digest': digest,
    'Accept-Ranges': 'bytes',
    Etag: `"${digest}"`,
  };
  if (x.method === 'HEAD') {
    // A pusher checks existence before skipping an upload: restart its gc grace clock.
    if (!reg.readOnly) reg.db.touch(digest);
    reply(x, 200, { ...base, 'Content-Length': row.size });
    return;
  }
  const range = parseRange(x.req.headers.range, row.size);
  if (range === 'unsatisfiable') {
    throw new RegistryError('BLOB_UNKNOWN', 416, 'requested range not satisfiable', { size: row.size }, {
      'Content-Range': `bytes */${row.size}`,
    });
  }
  const fh = await reg.store.open(digest);
  if (fh === undefined) throw blobUnknown(digest);
  try {
    const span = range ?? { start: 0, end: row.size - 1 };
    const headers: Record<string, string | number> = {
      ...base,
      'Content-Length': span.end - span.start + 1,
      [API_VERSION_HEADER]: API_VERSION,
    };
    if (range !== undefined) headers['Content-Range'] = `bytes ${range.start}-${range.end}/${row.size}`;
    x.res.writeHead(range === undefined ? 200 : 206, headers);
    await sendFile(x.res, fh, span.start, span.end);
    x.res.end();
  } catch {
    // The client went away mid-blob, or the file could not be read: the status is already sent,
    // so cutting the connection is the only way left to say the body is incomplete.
    x.res.destroy();
  } finally {
    await fh.close().catch(() => undefined);
  }
}

export function deleteBlob(c: ApiContext, x: Exchange, name: string, ref: string): void {
  ensureWritable(c);
  const digest = checkDigest(ref);
  if (!c.registry.db.unlinkBlob(name, digest)) throw blobUnknown(digest);
  reply(x, 202, {});
}

// ------------------------------------------------------------------ uploads

function uploadStatus(x: Exchange, name: string, s: UploadSession, status: number): void {
  reply(x, status, {
    Location: uploadLocation(name, s.id),
    Range: rangeHeader(s.size),
    'Docker-Upload-UUID': s.id,
  });
}

/** Appends the request body to `s`, checking Content-Range (416 when out of order) first. */
async function appendBody(c: ApiContext, x: Exchange, s: UploadSession): Promise<void> {
  const cr = parseContentRange(x.req.headers['content-range']);
  if (cr === 'invalid') throw uploadInvalid(`invalid Content-Range "${x.req.headers['content-range'] ?? ''}"`, 416, { Range: rangeHeader(s.size), Location: uploadLocation(s.repo, s.id) });
  const len = contentLength(x.req);
  let declared = len;
  if (cr !== undefined) {
    if (cr.start !== s.size) {
      throw uploadInvalid(`chunk starts at ${cr.start}, the upload has ${s.size} bytes`, 416, {
        Range: rangeHeader(s.size),
        Location: uploadLocation(s.repo, s.id),
        'Docker-Upload-UUID': s.id,
      });
    }
    declared = cr.end - cr.start + 1;
    if (len !== undefined && len !== declared) {
      throw new RegistryError('SIZE_INVALID', 400, `Content-Length ${len} does not match Content-Range ${cr.start}-${cr.end}`);
    }
  }
  await c.registry.uploads.append(s, x.req, declared);
}

async function finishUpload(c: ApiContext, x: Exchange, name: string, s: UploadSession, digest: Digest): Promise<void> {
  const up = c.registry.uploads;
  const { path, size } = await up.finish(s, digest);
  try {
    await c.registry.installBlob(name, path, digest, size);
  } finally {
    await up.discard(s);
  }
  reply(x, 201, { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest });
}

export async function startUpload(c: ApiContext, x: Exchange, name: string): Promise<void> {
  ensureWritable(c);
  const reg = c.registry;
  const mount = x.query.get('mount');
  if (mount !== null) {
    const digest = checkDigest(mount, 'mount digest');
    const from = x.query.get('from');
    if (from !== null && from !== '') {
      checkName(from);
      // Mount only what the caller could pull anyway; otherwise fall back to an upload (202), as the spec asks.
      const allowed = x.principal.can({ type: 'repository', name: from, action: 'pull' });
      if (allowed && reg.db.blobInRepo(from, digest) !== undefined) {
        let linked = false;
        reg.db.immediate(() => {
          if (reg.db.blobInRepo(from, digest) !== undefined) {
            reg.db.linkBlob(name, digest);
            linked = true;
          }
        });
        if (linked) {
          await drain(x.req);
          reply(x, 201, { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest });
          return;
        }
      }
    }
  }
  const digestParam = x.query.get('digest');
  if (digestParam !== null) {
    const digest = checkDigest(digestParam);
    if (hasBody(x.req) || digest === EMPTY_DIGEST) {
      // Single-POST monolithic upload.
      const s = await reg.uploads.create(name);
      await reg.uploads.exclusive(s, async () => {
        try {
          await reg.uploads.append(s, x.req, contentLength(x.req));
        } catch (e) {
          await reg.uploads.cancel(s);
          throw e;
        }
        await finishUpload(c, x, name, s, digest);
      });
      return;
    }
  }
  await drain(x.req);
  const s = await reg.uploads.create(name);
  uploadStatus(x, name, s, 202);
}

export async function patchUpload(c: ApiContext, x: Exchange, name: string, id: string): Promise<void> {
  ensureWritable(c);
  const up = c.registry.uploads;
  const s = up.get(name, id);
  await up.exclusive(s, () => appendBody(c, x, s));
  uploadStatus(x, name, s, 202);
}

export async function putUpload(c: ApiContext, x: Exchange, name: string, id: string): Promise<void> {
  ensureWritable(c);
  const up = c.registry.uploads;
  const s = up.get(name, id);
  const digest = checkDigest(x.query.get('digest'));
  await up.exclusive(s, async () => {
    if (hasBody(x.req)) await appendBody(c, x, s);
    await finishUpload(c, x, name, s, digest);
  });
}

export function getUpload(c: ApiContext, x: Exchange, name: string, id: string): void {
  const s = c.registry.uploads.get(name, id);
  uploadStatus(x, name, s, 204);
}

export async function deleteUpload(c: ApiContext, x: Exchange, name: string, id: string): Promise<void> {
  ensureWritable(c);
  const up = c.registry.uploads;
  const s = up.get(name, id);
  await up.exclusive(s, () => up.cancel(s));
  reply(x, 204, {});
}

// ------------------------------------------------------------------ discovery

function pageSize(x: Exchange, fallback: number | undefined): number | undefined {
  const n = x.query.get('n');
  if (n === null || n === '') return fallback;
  if (!/^\d+$/.test(n)) throw new RegistryError('UNSUPPORTED', 400, `invalid page size n=${JSON.stringify(n)}`);
  return Math.min(Number(n), LIST_PAGE_MAX);
}

function nextLink(path: string, n: number, last: string): string {
  return `<${path}?n=${n}&last=${encodeURIComponent(last)}>; rel="next"`;
}

export function listTags(c: ApiContext, x: Exchange, name: string): void {
  const db = c.registry.db;
  if (!db.repoExists(name)) throw nameUnknown(name);
  const n = pageSize(x, undefined);
  const last = x.query.get('last') ?? '';
  if (n === 0) {
    replyJson(x, 200, { name, tags: [] });
    return;
  }
  const rows = db.tags(name, last, n === undefined ? -1 : n + 1);
  const headers: Record<string, string> = {};
  if (n !== undefined && rows.length > n) {
    rows.length = n;
    headers['Link'] = nextLink(`/v2/${name}/tags/list`, n, rows[n - 1] as string);
  }
  replyJson(x, 200, { name, tags: rows }, headers);
}

/** Up to `limit` repository names after `last` that the caller may pull (all of them unless an ACL hides some). */
function visibleRepositories(c: ApiContext, x: Exchange, last: string, limit: number): string[] {
  const visible = x.principal.visible;
  if (visible === undefined) return c.registry.db.repositories(last, limit);
  const out: string[] = [];
  let cursor = last;
  for (;;) {
    const batch = c.registry.db.repositories(cursor, CATALOG_SCAN_BATCH);
    for (const name of batch) {
      if (!visible(name)) continue;
      out.push(name);
      if (out.length === limit) return out;
    }
    if (batch.length < CATALOG_SCAN_BATCH) return out;
    cursor = batch[batch.length - 1] as string;
  }
}

export function catalog(c: ApiContext, x: Exchange): void {
  const n = pageSize(x, CATALOG_DEFAULT_PAGE) as number;
  const last = x.query.get('last') ?? '';
  if (n === 0) {
    replyJson(x, 200, { repositories: [] });
    return;
  }
  const rows = visibleRepositories(c, x, last, n + 1);
  const headers: Record<string, string> = {};
  if (rows.length > n) {
    rows.length = n;
    headers['Link'] = nextLink('/v2/_catalog', n, rows[n - 1] as string);
  }
  replyJson(x, 200, { repositories: rows }, headers);
}

/**
 * The referrers of a subject, a page at a time: at most `n` (default and cap
 * REFERRERS_PAGE) descriptors and REFERRERS_PAGE_BYTES of index, in digest
 * order; while more remain a `Link: <…?last=DIGEST…>; rel="next"` header
 * leads on, as the spec asks when the list does not fit one index.
 */
export function referrers(c: ApiContext, x: Exchange, name: string, ref: string): void {
  const digest = checkDigest(ref);
  const filter = x.query.get('artifactType');
  const last = x.query.get('last') ?? '';
  if (last !== '' && !isSha256(last)) throw digestInvalid(`invalid last=${JSON.stringify(last)}: expected a digest from a Link header`, last);
  const n = Math.min(pageSize(x, REFERRERS_PAGE) as number, REFERRERS_PAGE);
  const rows = n === 0 ? [] : c.registry.db.referrers(name, digest, last, filter, n + 1);
  const manifests: string[] = [];
  let bytes = 0;
  let more = false;
  for (const r of rows) {
    const d: Record<string, unknown> = { mediaType: r.mediaType, digest: r.digest, size: r.size };
    if (r.artifactType !== null) d['artifactType'] = r.artifactType;
    if (r.annotations !== null) d['annotations'] = JSON.parse(r.annotations) as unknown;
    const json = JSON.stringify(d);
    if (manifests.length === n || (manifests.length > 0 && bytes + json.length > REFERRERS_PAGE_BYTES)) {
      more = true;
      break;
    }
    manifests.push(json);
    bytes += json.length + 1;
  }
  const headers: Record<string, string> = { 'Content-Type': OCI_INDEX };
  if (filter !== null) headers['OCI-Filters-Applied'] = 'artifactType';
  if (more) {
    const lastShown = (rows[manifests.length - 1] as { digest: string }).digest;
    const q = new URLSearchParams();
    if (x.query.get('n') !== null) q.set('n', String(n));
    if (filter !== null) q.set('artifactType', filter);
    q.set('last', lastShown);
    headers['Link'] = `</v2/${name}/referrers/${digest}?${q.toString()}>; rel="next"`;
  }
  reply(x, 200, headers, `{"schemaVersion":2,"mediaType":${JSON.stringify(OCI_INDEX)},"manifests":[${manifests.join(',')}]}`);
}
