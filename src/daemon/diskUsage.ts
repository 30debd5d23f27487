/**
 * daemon/diskUsage: the backend of `GET /system/df`, put together from the
 * image store, the containers, the volumes and the build cache. Reads sizes
 * (snapshot records, container layer directories); changes nothing.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerService } from '../containers/containerService.js';
import { summarizeContainer } from '../containers/presenters.js';
import type { ImageStore } from '../images/imageStore.js';
import { chainIds } from '../oci/image.js';
import type { OverlaySnapshotter } from '../snapshots/overlaySnapshotter.js';
import type { VolumeService } from '../volumes/volumeService.js';
import type { BuildService } from '../build/buildService.js';
import { summary } from '../server/routes/images.js';
import type { DfBackend } from '../server/routes/systemDf.js';

/** Bytes of regular files under `dir`, never following symlinks. */
async function dirSize(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await dirSize(p);
    else if (e.isFile()) total += (await lstat(p).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

export function diskUsage(deps: {
  images: ImageStore;
  containers: ContainerService;
  snapshots: OverlaySnapshotter;
  volumes: VolumeService;
  builds: BuildService;
  imageName: (imageId: string, configured: string) => string;
}): DfBackend {
  return {
    images: () => {
      const seen = new Map<string, number>();
      const summaries = deps.images.list().map((img) => {
        for (const c of chainIds(img.config.rootfs.diff_ids)) if (!seen.has(c)) seen.set(c, deps.snapshots.stat(c)?.size ?? 0);
        return summary(img, deps.containers.usingImage(img.id).length);
      });
      let layersSize = 0;
      for (const v of seen.values()) layersSize += v;
      return { summaries, layersSize };
    },
    containers: async () => {
      const out: Array<Record<string, unknown>> = [];
      for (const c of deps.containers.list()) {
        const s = summarizeContainer(c, deps.imageName(c.Image, c.Config.Image ?? ''), deps.containers.networkView(c));
        const upper = deps.snapshots.stat(c.SnapshotKey) ? deps.snapshots.fsPath(c.SnapshotKey) : '';
        out.push({ ...s, SizeRw: upper ? await dirSize(upper) : 0, SizeRootFs: 0 });
      }
      return out;
    },
    volumes: async () => Promise.all(deps.volumes.list(new Map()).map((v) => deps.volumes.present(v, { usage: true }) as Promise<unknown> as Promise<Record<string, unknown>>)),
    buildCache: () => deps.builds.records() as unknown as Array<Record<string, unknown>>,
  };
}
