/**
 * registry/registry: the registry's state and the storage operations its
 * HTTP handlers share — the metadata db, the blob store, upload sessions,
 * the manifest cache, and the pull-through remote when there is one. Owns
 * the rule that a blob becomes visible only inside a write transaction
 * (install*), the lock gc also takes. Never parses HTTP.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest } from '../util/digest.js';
import { BlobStore } from './blobStore.js';
import { RegistryError, blobUnknown, manifestInvalid } from './errors.js';
import { MANIFEST_CACHE_BYTES, MANIFEST_MAX_BYTES, UPLOAD_SWEEP_MS } from './limits.js';
import { ManifestCache } from './manifestCache.js';
import type { ParsedManifest } from './manifest.js';
import { isSha256 } from './names.js';
import { RegistryDb, type ManifestRow } from './registryDb.js';
import { UploadManager } from './uploads.js';

export interface RegistryStorageOptions {
  root: string;
  readOnly?: boolean;
}

export class Registry {
  readonly db: RegistryDb;
  readonly store: BlobStore;
  readonly uploads: UploadManager;
  readonly cache = new ManifestCache(MANIFEST_CACHE_BYTES);
  readonly readOnly: boolean;
  private sweeper: NodeJS.Timeout | undefined;

  private constructor(opts: RegistryStorageOptions, store: BlobStore) {
    this.store = store;
    this.db = new RegistryDb(join(opts.root, 'registry.db'));
    this.uploads = new UploadManager(store.uploadDir);
    this.readOnly = opts.readOnly ?? false;
  }

  static async open(opts: RegistryStorageOptions): Promise<Registry> {
    const store = new BlobStore(opts.root);
    await store.init();
    const r = new Registry(opts, store);
    await r.uploads.load();
    r.sweeper = setInterval(() => {
      r.uploads.sweep().catch(() => undefined);
    }, UPLOAD_SWEEP_MS);
    r.sweeper.unref();
    return r;
  }

  async close(): Promise<void> {
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    await this.uploads.close();
    this.db.close();
  }

  /**
   * Makes the verified temp file `tmp` the blob `digest` and links it into
   * `repo`, in one write transaction (gc's lock). Removes `tmp` if the blob
   * was already there.
   */
  async installBlob(repo: string, tmp: string, digest: Digest, size: number): Promise<void> {
    let renamed = false;
    try {
      this.db.immediate(() => {
        if (this.db.blob(digest) === undefined || !existsSync(this.store.path(digest))) {
          this.store.installSync(tmp, digest);
          renamed = true;
        }
        this.db.addBlob(repo, digest, size);
      });
    } finally {
      if (!renamed) await rm(tmp, { force: true });
    }
    if (renamed) await this.store.syncDir();
  }

  /** Digests a manifest names that `repo` lacks (foreign layers with `urls` excepted). */
  missingReferences(repo: string, m: ParsedManifest): string[] {
    const missing: string[] = [];
    for (const d of m.blobs) {
      if (d.urls !== undefined) continue;
      if (!isSha256(d.digest) || this.db.blobInRepo(repo, d.digest) === undefined) missing.push(d.digest);
    }
    for (const d of m.manifests) {
      if (!isSha256(d.digest) || this.db.manifest(repo, d.digest) === undefined) missing.push(d.digest);
    }
    return missing;
  }

  /**
   * Stores manifest `bytes` (digest already computed) in `repo` with `tags`.
   * Every referenced blob/child must be present in the repository unless
   * `requireReferences` is false (a pull-through cache stores manifests
   * before their blobs). Throws MANIFEST_BLOB_UNKNOWN listing what is missing.
   */
  async storeManifest(
    repo: string,
    digest: Digest,
    bytes: Buffer,
    m: ParsedManifest,
    tags: readonly string[],
    requireReferences = true,
  ): Promise<void> {
    if (bytes.length > MANIFEST_MAX_BYTES) throw manifestInvalid('too large');
    const check = (): void => {
      if (!requireReferences) return;
      const missing = this.missingReferences(repo, m);
      if (missing.length > 0) {
        throw new RegistryError(
          'MANIFEST_BLOB_UNKNOWN',
          400,
          `manifest references ${missing.length === 1 ? 'a blob' : `${missing.length} blobs`} unknown to this repository: ${missing.join(', ')}`,
          { digest: missing[0], digests: missing },
        );
      }
    };
    check();
    const have = this.db.blob(digest) !== undefined && existsSync(this.store.path(digest));
    const tmp = have ? undefined : await this.store.writeTemp(bytes);
    let renamed = false;
    const children = new Set<string>([...m.blobs.map((d) => d.digest), ...m.manifests.map((d) => d.digest)]);
    try {
      this.db.immediate(() => {
        check();
        if (tmp !== undefined && (this.db.blob(digest) === undefined || !existsSync(this.store.path(digest)))) {
          this.store.installSync(tmp, digest);
          renamed = true;
        }
        const now = Date.now();
        this.db.addBlob(repo, digest, bytes.length, now);
        this.db.putManifest(
          {
            repo,
            digest,
            mediaType: m.mediaType,
            size: bytes.length,
            artifactType: m.artifactType ?? null,
            subject: m.subject?.digest ?? null,
            annotations: m.annotations === undefined ? null : JSON.stringify(m.annotations),
            created: now,
          },
          children,
          tags,
        );
      });
    } finally {
      if (tmp !== undefined && !renamed) await rm(tmp, { force: true });
    }
    if (renamed) await this.store.syncDir();
    this.cache.set(digest, bytes);
  }

  /** The bytes of a stored manifest (from the cache when it can). */
  async manifestBytes(row: ManifestRow): Promise<Buffer> {
    const hit = this.cache.get(row.digest);
    if (hit !== undefined) return hit;
    const fh = await this.store.open(row.digest as Digest);
    if (fh === undefined) throw new RegistryError('MANIFEST_UNKNOWN', 404, 'manifest unknown', { digest: row.digest });
    let data: Buffer;
    try {
      data = await fh.readFile();
    } finally {
      await fh.close();
    }
    this.cache.set(row.digest, data);
    return data;
  }

  /** A blob `repo` may serve, or BLOB_UNKNOWN. */
  blobOf(repo: string, digest: Digest): { digest: string; size: number } {
    const row = this.db.blobInRepo(repo, digest);
    if (row === undefined) throw blobUnknown(digest);
    return row;
  }
}
