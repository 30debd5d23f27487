/**
 * build/imageRoot: a read-only view of an image's filesystem for the builder
 * to look at (COPY's destination, WORKDIR, --chown names, COPY --from
 * sources): an image with one layer is read from its snapshot directory as it
 * is, a longer chain is mounted read-only (overlay of its layers) under the
 * build's own directory, an empty image is an empty directory. `release()`
 * undoes whatever was made; the builder calls it on every path.
 */
import { mkdir, rm } from 'node:fs/promises';
import type { OverlaySnapshotter } from '../snapshots/overlaySnapshotter.js';
import type { ImageRecord, ImageStore } from '../images/imageStore.js';
import { mountAll, unmount } from '../util/mount.js';

export interface ImageRoot {
  /** The root directory to read (never write) through. */
  path: string;
  release(): Promise<void>;
}

export async function openImageRoot(
  img: ImageRecord | null,
  dir: string,
  deps: { images: Pick<ImageStore, 'topSnapshot'>; snapshots: Pick<OverlaySnapshotter, 'mounts'> },
): Promise<ImageRoot> {
  const top = img ? deps.images.topSnapshot(img) : null;
  if (top === null) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return { path: dir, release: () => rm(dir, { recursive: true, force: true }) };
  }
  const mounts = deps.snapshots.mounts(top);
  const only = mounts[0];
  if (mounts.length === 1 && only && only.type === 'bind') return { path: only.source, release: async () => undefined };
  await mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    await mountAll(mounts, dir);
  } catch (e) {
    await unmount(dir).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    path: dir,
    release: async () => {
      await unmount(dir);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
