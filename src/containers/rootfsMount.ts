/**
 * containers/rootfsMount: mounts a container's root file system from its layer
 * mounts, as overlayfs `volatile` when the container is removed when it exits
 * (`--rm`): nothing then syncs its upper dir — neither the container's fsync()s
 * nor the unmount at its exit, which otherwise syncs the whole file system the
 * data-root is on (2-30 ms on a busy disk, on the path of every `docker run --rm`'s
 * result). podman does the same for `--rm` (decisions B70).
 *
 * overlayfs leaves `<workdir>/work/incompat/volatile` behind and refuses to mount
 * that upper dir again while it is there; a container that ran before (a restart)
 * was unmounted cleanly by the daemon, so the marker is removed first. A kernel
 * without the option (before 5.10) gets the plain mount, and is not asked again.
 *
 * Owns: the option and the marker. Never: decides which containers are volatile,
 * unmounts, or touches anything but the marker in a layer's work dir.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Mount } from '../snapshots/overlaySnapshotter.js';
import { mountAll } from '../util/mount.js';

let volatileUnsupported = false;

export interface RootfsMountOptions {
  /** Mount overlays as volatile (the layer is thrown away when the container exits). */
  volatile: boolean;
  /** The container ran before: its layer may hold the marker of an earlier volatile mount. */
  ranBefore: boolean;
}

export async function mountRootfs(mounts: readonly Mount[], target: string, opts: RootfsMountOptions): Promise<void> {
  const upper = (m: Mount): boolean => m.type === 'overlay' && m.options.some((o) => o.startsWith('workdir='));
  // Only volatile containers leave the marker (AutoRemove is fixed at create).
  if (opts.volatile && opts.ranBefore) {
    await Promise.all(
      mounts.filter(upper).map((m) => {
        const work = (m.options.find((o) => o.startsWith('workdir=')) as string).slice('workdir='.length);
        return rm(join(m.cwd ?? '/', work, 'work', 'incompat', 'volatile'), { recursive: true, force: true });
      }),
    );
  }
  // One overlay (a container layer): a failed volatile mount leaves nothing mounted to undo.
  if (!opts.volatile || volatileUnsupported || mounts.length !== 1 || !mounts.some(upper)) {
    await mountAll(mounts, target);
    return;
  }
  try {
    await mountAll(
      mounts.map((m) => (upper(m) ? { ...m, options: [...m.options, 'volatile'] } : m)),
      target,
    );
  } catch (e) {
    // Either the kernel does not know the option or the mount fails anyway: the plain
    // mount tells which (and gives the error to report when it fails too).
    await mountAll(mounts, target);
    volatileUnsupported = true;
    void e;
  }
}
