/**
 * build/buildCache: the build cache table (`build_cache`: step key → the image
 * that step produced), its use (lookups drop rows whose image is gone, so an
 * `rmi` or `image prune` never leaves a hit pointing nowhere), and its
 * pruning: `builder prune` drops rows and then the images only they held —
 * untagged, childless, unused by containers — with their untagged parents,
 * exactly as an image delete prunes parents. Never deletes a tagged image or
 * one a container uses.
 */
import type { Db } from '../metadata/db.js';
import type { DeleteResponseItem, ImageRecord, ImageStore } from '../images/imageStore.js';
import { chainIds } from '../oci/image.js';

interface Row {
  key: string;
  image_id: string;
  parent_id: string;
  description: string;
  created: string;
  last_used: string;
  usage_count: number;
}

/** One record as `GET /system/df` shows build cache (BuildKit's shape). */
export interface CacheRecord {
  ID: string;
  Parents: string[] | null;
  Type: string;
  Description: string;
  InUse: boolean;
  Shared: boolean;
  Size: number;
  CreatedAt: string;
  LastUsedAt: string;
  UsageCount: number;
}

export interface PruneReport {
  CachesDeleted: string[] | null;
  SpaceReclaimed: number;
}

export type CacheImages = Pick<ImageStore, 'getById' | 'list' | 'remove' | 'hasChildren'>;

/** The ID a record is shown under: 25 hex digits of its key, like BuildKit's record IDs. */
export function recordId(key: string): string {
  return key.replace(/^sha256:/, '').slice(0, 25);
}

export class BuildCache {
  constructor(
    private readonly db: Db,
    private readonly images: CacheImages,
    /** Unpacked size of a layer chain (0 when absent). */
    private readonly chainSize: (chainId: string) => number,
    private readonly usingImage: (id: string) => string[],
  ) {}

  /** The image cached under `key`, or null; a row whose image was deleted is dropped here. */
  lookup(key: string): ImageRecord | null {
    const row = this.db.prepare('SELECT * FROM build_cache WHERE key = ?').get(key) as Row | undefined;
    if (!row) return null;
    const img = this.images.getById(row.image_id);
    if (!img) {
      this.db.prepare('DELETE FROM build_cache WHERE key = ?').run(key);
      return null;
    }
    this.db.prepare('UPDATE build_cache SET last_used = ?, usage_count = usage_count + 1 WHERE key = ?').run(new Date().toISOString(), key);
    return img;
  }

  store(key: string, imageId: string, parentId: string, description: string): void {
    const now = new Date().toISOString();
    this.db
      .prepare(
        'INSERT INTO build_cache (key, image_id, parent_id, description, created, last_used, usage_count) VALUES (?, ?, ?, ?, ?, ?, 1) ' +
          'ON CONFLICT(key) DO UPDATE SET image_id = excluded.image_id, parent_id = excluded.parent_id, description = excluded.description, last_used = excluded.last_used',
      )
      .run(key, imageId, parentId, description, now, now);
  }

  private rows(): Row[] {
    return this.db.prepare('SELECT * FROM build_cache ORDER BY created').all() as Row[];
  }

  /** Bytes the step's image added: its top layer, when it has one more than its parent. */
  private stepSize(img: ImageRecord | null, parentId: string): number {
    if (!img) return 0;
    const ids = img.config.rootfs.diff_ids;
    const parent = parentId ? this.images.getById(parentId) : null;
    const parentLayers = parent ? parent.config.rootfs.diff_ids.length : 0;
    if (ids.length <= parentLayers) return 0;
    const chains = chainIds(ids);
    return this.chainSize(chains[chains.length - 1] as string);
  }

  /** Images a tag or a container holds, with all their ancestors: their cache is in use. */
  private heldImages(): Set<string> {
    const held = new Set<string>();
    for (const img of this.images.list()) {
      if (img.tags.length === 0 && this.usingImage(img.id).length === 0) continue;
      let cur: ImageRecord | null = img;
      while (cur && !held.has(cur.id)) {
        held.add(cur.id);
        cur = cur.parent ? this.images.getById(cur.parent) : null;
      }
    }
    return held;
  }

  /** `GET /system/df`'s BuildCache. */
  records(): CacheRecord[] {
    const held = this.heldImages();
    return this.rows().map((r) => {
      const img = this.images.getById(r.image_id);
      return {
        ID: recordId(r.key),
        Parents: null,
        Type: 'regular',
        Description: r.description,
        InUse: held.has(r.image_id),
        Shared: false,
        Size: this.stepSize(img, r.parent_id),
        CreatedAt: r.created,
        LastUsedAt: r.last_used,
        UsageCount: r.usage_count,
      };
    });
  }

  /**
   * `builder prune`: without `all`, only records no tagged image or container builds on;
   * with it, every record. Then the images only those records held go, parents included.
   */
  async prune(opts: { all: boolean }): Promise<PruneReport> {
    const held = opts.all ? new Set<string>() : this.heldImages();
    const victims = this.rows().filter((r) => !held.has(r.image_id));
    const before = new Map<string, number>();
    for (const img of this.images.list()) for (const c of chainIds(img.config.rootfs.diff_ids)) if (!before.has(c)) before.set(c, this.chainSize(c));
    const del = this.db.prepare('DELETE FROM build_cache WHERE key = ?');
    this.db.transaction(() => {
      for (const r of victims) del.run(r.key);
    })();
    const stillCached = new Set((this.db.prepare('SELECT image_id FROM build_cache').all() as { image_id: string }[]).map((r) => r.image_id));
    // Newest first: a step's image is a child of the one before, and a delete prunes parents.
    for (const r of [...victims].reverse()) {
      const img = this.images.getById(r.image_id);
      if (!img || img.tags.length > 0 || stillCached.has(img.id) || this.images.hasChildren(img.id) || this.usingImage(img.id).length > 0) continue;
      const out: DeleteResponseItem[] = [];
      await this.images.remove(img.id, { force: false, prune: true }, this.usingImage).catch(() => out);
    }
    const after = new Set<string>();
    for (const img of this.images.list()) for (const c of chainIds(img.config.rootfs.diff_ids)) after.add(c);
    let reclaimed = 0;
    for (const [c, size] of before) if (!after.has(c)) reclaimed += size;
    return { CachesDeleted: victims.length > 0 ? victims.map((r) => recordId(r.key)) : null, SpaceReclaimed: reclaimed };
  }

  /** Drops rows whose image no longer exists (after image deletes). */
  sweep(): void {
    for (const r of this.rows()) if (!this.images.getById(r.image_id)) this.db.prepare('DELETE FROM build_cache WHERE key = ?').run(r.key);
  }
}
