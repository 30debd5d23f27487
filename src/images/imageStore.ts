/**
 * images/: the image store. Owns image records and tags (SQLite), and puts
 * image content (manifest, config, layers) into the content store and layers
 * into snapshots. Lookups by reference, ID or ID prefix. Never runs containers;
 * asks `isInUse` before deleting.
 */
import type { Readable } from 'node:stream';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../errdefs/errors.js';
import type { ContentStore } from '../content/contentStore.js';
import { StatementCache, type Db } from '../metadata/db.js';
import type { OverlaySnapshotter } from '../snapshots/overlaySnapshotter.js';
import { chainIds, hostPlatform, MediaType, type ContainerConfigPart, type Descriptor, type ImageConfig, type Manifest } from '../oci/image.js';
import { applyChanges } from './changes.js';
import { LayerUnpacker, type UnpackedLayer } from './layerUnpacker.js';
import { decompressStream } from '../util/tar/decompress.js';
import { familiarString, parseNormalizedNamed, referenceString, withDefaultTag, type Reference } from '../reference/index.js';
import type { Digest } from '../util/digest.js';

export interface ImageRecord {
  id: Digest;
  manifestDigest: Digest;
  created: string;
  size: number;
  config: ImageConfig;
  lastTagTime: string | null;
  /** Normalised references ("docker.io/library/busybox:latest"). */
  tags: string[];
  /** Where it was pulled from or pushed to ("docker.io/library/busybox@sha256:…"). */
  repoDigests: string[];
  /** The image a build step started from ('' when none: pulled, imported, loaded). */
  parent: string;
}

interface ImageRow {
  id: Digest;
  manifest_digest: Digest;
  created: string;
  size: number;
  config: string;
  last_tag_time: string | null;
  repo_digests: string;
  parent: string;
}

export interface ImportOptions {
  ref?: Reference;
  changes: string[];
  message: string;
  signal?: AbortSignal;
}

export interface DeleteResponseItem {
  Untagged?: string;
  Deleted?: string;
}

/** Configs are small JSON documents; bigger is hostile. */
const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

export class ImageStore {
  private readonly sql: StatementCache;

  constructor(
    private readonly db: Db,
    private readonly content: ContentStore,
    private readonly snapshots: OverlaySnapshotter,
  ) {
    this.sql = new StatementCache(db);
  }

  private toRecord(row: ImageRow): ImageRecord {
    const tags = (this.sql.get('SELECT ref FROM image_tags WHERE image_id = ? ORDER BY ref').all(row.id) as { ref: string }[]).map(
      (r) => r.ref,
    );
    return {
      id: row.id,
      manifestDigest: row.manifest_digest,
      created: row.created,
      size: row.size,
      config: JSON.parse(row.config) as ImageConfig,
      lastTagTime: row.last_tag_time,
      tags,
      repoDigests: JSON.parse(row.repo_digests) as string[],
      parent: row.parent ?? '',
    };
  }

  list(): ImageRecord[] {
    const rows = this.sql.get('SELECT * FROM images ORDER BY created DESC').all() as ImageRow[];
    return rows.map((r) => this.toRecord(r));
  }

  count(): number {
    return (this.sql.get('SELECT COUNT(*) AS n FROM images').get() as { n: number }).n;
  }

  getById(id: string): ImageRecord | null {
    const row = this.sql.get('SELECT * FROM images WHERE id = ?').get(id) as ImageRow | undefined;
    return row ? this.toRecord(row) : null;
  }

  /**
   * Finds an image by full ID, `sha256:` ID, reference, or unique ID prefix.
   * Throws NotFoundError with Docker's wording ("No such image: busybox:latest"),
   * which the docker CLI matches to decide to pull.
   */
  resolve(name: string): ImageRecord {
    const trimmed = name.trim();
    const idMatch = /^(?:sha256:)?([a-f0-9]{64})$/.exec(trimmed);
    if (idMatch) {
      const rec = this.getById(`sha256:${idMatch[1]}`);
      if (rec) return rec;
    }
    let ref: Reference | null = null;
    try {
      ref = withDefaultTag(parseNormalizedNamed(trimmed));
    } catch {
      ref = null;
    }
    if (ref && ref.digest !== undefined) {
      const want = JSON.stringify(`${ref.domain}/${ref.path}@${ref.digest}`);
      const row = this.sql.get('SELECT id FROM images WHERE instr(repo_digests, ?) > 0 LIMIT 1').get(want) as { id: string } | undefined;
      if (row) {
        const rec = this.getById(row.id);
        if (rec) return rec;
      }
    }
    if (ref && ref.digest === undefined) {
      const row = this.sql.get('SELECT image_id FROM image_tags WHERE ref = ?').get(referenceString(ref)) as
        | { image_id: string }
        | undefined;
      if (row) {
        const rec = this.getById(row.image_id);
        if (rec) return rec;
      }
    }
    const prefix = /^(?:sha256:)?([a-f0-9]{1,63})$/.exec(trimmed);
    if (prefix) {
      const rows = this.sql.get('SELECT id FROM images WHERE id LIKE ?').all(`sha256:${prefix[1]}%`) as { id: string }[];
      if (rows.length === 1 && rows[0]) {
        const rec = this.getById(rows[0].id);
        if (rec) return rec;
      }
      if (rows.length > 1) throw new InvalidArgumentError(`ambiguous image ID prefix: ${trimmed}`);
    }
    throw new NotFoundError(`No such image: ${ref && !idMatch && !prefix ? familiarString(ref) : trimmed}`);
  }

  /**
   * Commit-point for a new image: its blobs are stored and its snapshots
   * committed before this makes it visible, in one transaction.
   */
  register(
    config: ImageConfig,
    configDigest: Digest,
    manifestDigest: Digest,
    size: number,
    blobs: readonly Digest[],
    ref?: Reference,
    repoDigest?: string,
  ): void {
    const now = new Date().toISOString();
    this.db.transaction(() => {
      this.sql
        .get(
          'INSERT INTO images (id, manifest_digest, created, size, config, last_tag_time) VALUES (?, ?, ?, ?, ?, ?) ' +
            'ON CONFLICT(id) DO NOTHING',
        )
        .run(configDigest, manifestDigest, config.created ?? now, size, JSON.stringify(config), ref ? now : null);
      const addBlob = this.sql.get('INSERT OR IGNORE INTO image_blobs (image_id, digest) VALUES (?, ?)');
      for (const b of new Set([configDigest, manifestDigest, ...blobs])) addBlob.run(configDigest, b);
      if (repoDigest) this.addRepoDigest(configDigest, repoDigest);
      if (ref && ref.tag !== undefined) this.setTag(referenceString(ref), configDigest, now);
      else if (ref && ref.digest === undefined) this.setTag(referenceString(withDefaultTag(ref)), configDigest, now);
    })();
  }

  addRepoDigest(imageId: string, repoDigest: string): void {
    const row = this.sql.get('SELECT repo_digests FROM images WHERE id = ?').get(imageId) as { repo_digests: string } | undefined;
    if (!row) return;
    const list = JSON.parse(row.repo_digests) as string[];
    if (!list.includes(repoDigest)) list.push(repoDigest);
    this.sql.get('UPDATE images SET repo_digests = ? WHERE id = ?').run(JSON.stringify(list), imageId);
  }

  private setTag(ref: string, imageId: string, now: string): void {
    this.sql
      .get('INSERT INTO image_tags (ref, image_id) VALUES (?, ?) ON CONFLICT(ref) DO UPDATE SET image_id = excluded.image_id')
      .run(ref, imageId);
    this.sql.get('UPDATE images SET last_tag_time = ? WHERE id = ?').run(now, imageId);
  }

  tag(name: string, target: Reference): void {
    const img = this.resolve(name);
    if (target.digest !== undefined) throw new InvalidArgumentError('refusing to create a tag with a digest reference');
    // A tag moved away leaves its old image as <none>:<none> (dangling), as in Docker.
    this.db.transaction(() => this.setTag(referenceString(withDefaultTag(target)), img.id, new Date().toISOString()))();
  }

  /**
   * `docker import`: one layer from a rootfs tar (plain, gzip, bzip2, xz or
   * zstd), plus a config built from `changes`. The plain tar is stored first,
   * hashed while it streams in (its digest is the diff ID), then unpacked from
   * the stored blob on the unpack threads, as pulled and loaded layers are (B13).
   */
  async importTar(body: Readable, opts: ImportOptions): Promise<ImageRecord> {
    const signal = opts.signal;
    const { stream: plain } = await decompressStream(body, signal ? { signal } : {});
    const writer = await this.content.writer();
    let blob: { digest: Digest; size: number };
    try {
      for await (const chunk of plain as AsyncIterable<Buffer>) await writer.write(chunk);
      blob = await writer.commit();
    } catch (e) {
      plain.destroy();
      await writer.abort();
      throw e;
    }
    const diffId = blob.digest;
    const unpacker = new LayerUnpacker(this.content, this.snapshots);
    let unpacked: UnpackedLayer | null = null;
    try {
      const [chainId] = chainIds([diffId]) as [Digest];
      if (!unpacker.has(chainId)) {
        unpacked = await unpacker.unpack({ mediaType: MediaType.OciLayer, digest: diffId, size: blob.size }, diffId, signal ? { signal } : {});
        await unpacker.commitChain([diffId], [unpacked]);
        unpacked = null;
      }
      const now = new Date().toISOString();
      const runnable: ContainerConfigPart = applyChanges({}, opts.changes);
      const config: ImageConfig = {
        ...hostPlatform(),
        created: now,
        config: runnable,
        rootfs: { type: 'layers', diff_ids: [diffId] },
        history: [{ created: now, comment: opts.message || 'Imported from -' }],
      };
      return await this.storeImage(config, [{ digest: diffId, size: blob.size }], opts.ref);
    } catch (e) {
      if (unpacked) await unpacker.discard([unpacked]);
      // A refused tar leaves no blob (unless an image already had the same bytes).
      if (!this.blobInUse(diffId)) await this.content.delete(diffId).catch(() => undefined);
      throw e;
    }
  }

  /** The layer descriptors of an image, from its stored manifest. */
  async layerDescriptors(img: ImageRecord): Promise<Descriptor[]> {
    const m = JSON.parse((await this.content.readAll(img.manifestDigest, MAX_CONFIG_BYTES)).toString('utf8')) as Manifest;
    return m.layers;
  }

  /** Registers a committed image (layers already stored and unpacked). */
  async storeCommitted(config: ImageConfig, layers: Descriptor[], ref?: Reference): Promise<ImageRecord> {
    return this.storeImage(config, layers, ref);
  }

  /** Registers the image of a build step, remembering the image it was built on (Docker's Parent). */
  async storeBuilt(config: ImageConfig, layers: Descriptor[], parent: string): Promise<ImageRecord> {
    const rec = await this.storeImage(config, layers);
    if (parent && rec.parent !== parent) {
      this.sql.get("UPDATE images SET parent = ? WHERE id = ? AND parent = ''").run(parent, rec.id);
      return this.getById(rec.id) ?? rec;
    }
    return rec;
  }

  /** IDs of the images built directly on `id` (Docker's image children). */
  children(id: string): string[] {
    return (this.sql.get('SELECT id FROM images WHERE parent = ?').all(id) as { id: string }[]).map((r) => r.id);
  }

  /** Whether any image was built on `id`. */
  hasChildren(id: string): boolean {
    return this.sql.get('SELECT 1 FROM images WHERE parent = ? LIMIT 1').get(id) !== undefined;
  }

  /** Writes config + manifest blobs for layers already in the store, then registers the image. */
  private async storeImage(config: ImageConfig, layers: { digest: Digest; size: number; mediaType?: string }[], ref?: Reference): Promise<ImageRecord> {
    const configBytes = Buffer.from(JSON.stringify(config));
    const cfgBlob = await this.content.put(configBytes);
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: cfgBlob.digest, size: cfgBlob.size },
      layers: layers.map((l) => ({ mediaType: l.mediaType ?? MediaType.OciLayer, digest: l.digest, size: l.size })),
    };
    const manBlob = await this.content.put(Buffer.from(JSON.stringify(manifest)));
    const size = layers.reduce((n, l) => n + l.size, 0);
    this.register(config, cfgBlob.digest, manBlob.digest, size, layers.map((l) => l.digest), ref);
    const rec = this.getById(cfgBlob.digest);
    if (!rec) throw new Error('image vanished after registration');
    return rec;
  }

  /** The image a tagged reference names now, if any. */
  resolveTagged(ref: Reference): ImageRecord | null {
    if (ref.tag === undefined) return null;
    const row = this.sql.get('SELECT image_id FROM image_tags WHERE ref = ?').get(referenceString(ref)) as { image_id: string } | undefined;
    return row ? this.getById(row.image_id) : null;
  }

  /** Remembers that `registry/repository` holds blob `digest` (for cross-repository mounts). */
  addBlobSource(digest: string, registry: string, repository: string): void {
    this.sql.get('INSERT OR IGNORE INTO blob_sources (digest, registry, repository) VALUES (?, ?, ?)').run(digest, registry, repository);
  }

  /** Other repositories of `registry` known to hold `digest`. */
  blobSources(digest: string, registry: string, except: string): string[] {
    return (
      this.sql.get('SELECT repository FROM blob_sources WHERE digest = ? AND registry = ? AND repository != ?').all(digest, registry, except) as {
        repository: string;
      }[]
    ).map((r) => r.repository);
  }

  /**
   * Deletes blobs no image needs — what a crash mid-pull or mid-push left.
   * Only safe when nothing is pulling, importing or pushing (daemon start).
   */
  async collectGarbageBlobs(): Promise<number> {
    let n = 0;
    for (const d of await this.content.list()) {
      if (!this.blobInUse(d)) {
        await this.content.delete(d);
        n++;
      }
    }
    return n;
  }

  /** Whether any registered image needs blob `digest`. */
  blobInUse(digest: string): boolean {
    return this.sql.get('SELECT 1 FROM image_blobs WHERE digest = ? LIMIT 1').get(digest) !== undefined;
  }

  private blobsOf(imageId: string): Digest[] {
    return (this.sql.get('SELECT digest FROM image_blobs WHERE image_id = ?').all(imageId) as { digest: Digest }[]).map((r) => r.digest);
  }

  /** Unpacked size of each layer, bottom first. */
  layerSizes(img: ImageRecord): number[] {
    return chainIds(img.config.rootfs.diff_ids).map((c) => this.snapshots.stat(c)?.size ?? 0);
  }

  /** Snapshot key of the image's top layer, or null for an image with no layers. */
  topSnapshot(img: ImageRecord): string | null {
    const ids = chainIds(img.config.rootfs.diff_ids);
    return ids.length ? (ids[ids.length - 1] as string) : null;
  }

  async readConfig(id: Digest): Promise<ImageConfig> {
    const buf = await this.content.readAll(id, MAX_CONFIG_BYTES);
    return JSON.parse(buf.toString('utf8')) as ImageConfig;
  }

  /**
   * `docker rmi`. By reference: untag; delete when it was the last tag. By ID:
   * delete (409 when several repositories reference it, unless forced).
   * `usedBy(imageId)` returns the IDs of containers using the image.
   */
  async remove(name: string, opts: { force: boolean; prune: boolean }, usedBy: (id: string) => string[]): Promise<DeleteResponseItem[]> {
    const img = this.resolve(name);
    const out: DeleteResponseItem[] = [];
    const short = img.id.slice(7, 19);
    let byRef: string | null = null;
    try {
      const ref = withDefaultTag(parseNormalizedNamed(name));
      if (img.tags.includes(referenceString(ref))) byRef = referenceString(ref);
    } catch {
      byRef = null;
    }
    const users = usedBy(img.id);
    const hasChildren = this.hasChildren(img.id);
    if (byRef === null && hasChildren) {
      // moby's hard conflict: an image others were built on cannot go, forced or not.
      throw new ConflictError(`conflict: unable to delete ${short} (cannot be forced) - image has dependent child images`);
    }
    if (byRef !== null) {
      if (img.tags.length === 1 && users.length > 0 && !opts.force) {
        throw new ConflictError(
          `conflict: unable to remove repository reference "${name}" (must force) - container ${(users[0] as string).slice(0, 12)} is using its referenced image ${short}`,
        );
      }
      this.sql.get('DELETE FROM image_tags WHERE ref = ?').run(byRef);
      out.push({ Untagged: familiarString(parseNormalizedNamed(byRef)) });
      // An untagged image that others were built on stays, as an intermediate image (moby's quiet conflict).
      if (img.tags.length > 1 || users.length > 0 || hasChildren) return out;
    } else {
      if (img.tags.length > 1 && !opts.force) {
        throw new ConflictError(`conflict: unable to delete ${short} (must be forced) - image is referenced in multiple repositories`);
      }
      if (users.length > 0) {
        const word = opts.force ? 'cannot delete' : 'unable to delete';
        throw new ConflictError(
          `conflict: ${word} ${short} (${opts.force ? 'cannot be forced' : 'must be forced'}) - image is being used by ${opts.force ? 'running ' : 'stopped '}container ${(users[0] as string).slice(0, 12)}`,
        );
      }
      for (const t of img.tags) {
        this.sql.get('DELETE FROM image_tags WHERE ref = ?').run(t);
        out.push({ Untagged: familiarString(parseNormalizedNamed(t)) });
      }
    }
    await this.deleteImage(img);
    out.push({ Deleted: img.id });
    if (opts.prune) await this.pruneParents(img.parent, out, usedBy);
    return out;
  }

  /**
   * moby's parent pruning after a delete: the parent goes too when nothing else holds it
   * (no tag, no container, no other child), and so on up the chain; stops quietly otherwise.
   */
  private async pruneParents(parentId: string, out: DeleteResponseItem[], usedBy: (id: string) => string[]): Promise<void> {
    let id = parentId;
    while (id) {
      const p = this.getById(id);
      if (!p || p.tags.length > 0 || this.hasChildren(p.id) || usedBy(p.id).length > 0) return;
      await this.deleteImage(p);
      out.push({ Deleted: p.id });
      id = p.parent;
    }
  }

  /** Drops the record, then every blob and snapshot no other image needs. */
  private async deleteImage(img: ImageRecord): Promise<void> {
    const blobs = this.blobsOf(img.id);
    this.sql.get('DELETE FROM images WHERE id = ?').run(img.id);
    const keepSnaps = new Set<string>();
    for (const o of this.list()) for (const c of chainIds(o.config.rootfs.diff_ids)) keepSnaps.add(c);
    for (const d of blobs) {
      if (!this.blobInUse(d)) await this.content.delete(d);
    }
    const chain = chainIds(img.config.rootfs.diff_ids).reverse();
    for (const c of chain) {
      if (keepSnaps.has(c) || !this.snapshots.stat(c)) continue;
      if (this.snapshots.children(c).length > 0) break;
      await this.snapshots.remove(c);
    }
  }
}
