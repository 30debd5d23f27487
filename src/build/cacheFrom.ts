/**
 * build/cacheFrom: `--cache-from` images as cache sources, as moby's legacy
 * ImageCache uses them — an image whose history and layers start with the
 * step's parent, and whose next history entry was made by the same command
 * (`created_by`), supplies that entry and its layer. Only matching lives here
 * (pure, over image records); making the step's image from the match is
 * StepImages.restore. Callers offer only steps whose `created_by` says all
 * that decides their layer (see decisions: cache-from).
 */
import type { ImageRecord } from '../images/imageStore.js';
import type { Digest } from '../util/digest.js';
import type { HistoryEntry } from '../oci/image.js';
import type { Platform } from '../oci/platform.js';

/** A cache-from image's history entry for a step, and its layer when the entry has one. */
export interface CacheFromMatch {
  source: ImageRecord;
  /** The entry reused: history[parent's history length]. */
  entry: HistoryEntry;
  /** Index into the source's layers of the entry's layer; null for an empty_layer entry. */
  layerIndex: number | null;
}

function sameEntry(a: HistoryEntry, b: HistoryEntry): boolean {
  return (a.created ?? '') === (b.created ?? '') && (a.created_by ?? '') === (b.created_by ?? '') && (a.author ?? '') === (b.author ?? '') && (a.comment ?? '') === (b.comment ?? '') && Boolean(a.empty_layer) === Boolean(b.empty_layer);
}

/** moby's isValidParent: `img` was built on `parent` (history and layers start with the parent's). */
export function isValidParent(img: ImageRecord, parent: ImageRecord | null): boolean {
  const h = img.config.history ?? [];
  if (h.length === 0) return false;
  if (!parent) return true;
  const ph = parent.config.history ?? [];
  const pd = parent.config.rootfs.diff_ids;
  if (ph.length === 0 && pd.length === 0) return true;
  if (ph.length >= h.length) return false;
  const d: Digest[] = img.config.rootfs.diff_ids;
  if (pd.length > d.length) return false;
  for (let i = 0; i < ph.length; i++) if (!sameEntry(ph[i] as HistoryEntry, h[i] as HistoryEntry)) return false;
  for (let i = 0; i < pd.length; i++) if (pd[i] !== d[i]) return false;
  return true;
}

/** moby's getLayerForHistoryIndex: how many layers the entries before `index` added. */
function layerIndexOf(history: HistoryEntry[], index: number): number | null {
  if (history[index]?.empty_layer) return null;
  let n = 0;
  for (let i = 0; i < index; i++) if (!history[i]?.empty_layer) n++;
  return n;
}

export class CacheFromSources {
  constructor(private readonly sources: readonly ImageRecord[]) {}

  get size(): number {
    return this.sources.length;
  }

  /**
   * The first source whose next entry after `parent` was made by `createdBy` on the same platform.
   * `needsLayer` false: a metadata step, which must match an empty_layer entry.
   */
  match(parent: ImageRecord | null, createdBy: string, platform: Platform, needsLayer: boolean): CacheFromMatch | null {
    const at = parent ? (parent.config.history ?? []).length : 0;
    for (const src of this.sources) {
      if (src.config.os !== platform.os || src.config.architecture !== platform.architecture) continue;
      if (!isValidParent(src, parent)) continue;
      const h = src.config.history ?? [];
      const entry = h[at];
      if (!entry || entry.created_by !== createdBy) continue;
      if (!needsLayer && !entry.empty_layer) continue;
      const layerIndex = layerIndexOf(h, at);
      if (layerIndex !== null && layerIndex >= src.config.rootfs.diff_ids.length) continue;
      // A layer step may have made no change (an empty_layer entry): so may this one.
      return { source: src, entry, layerIndex };
    }
    return null;
  }
}
