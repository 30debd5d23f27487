/**
 * containers/graphDriver: `GraphDriver.Data` of `inspect` — the overlay2
 * directories of a container's root filesystem (LowerDir, MergedDir,
 * UpperDir, WorkDir, absolute paths as dockerd shows them), derived from the
 * snapshot's mount. Pure; never mounts or reads anything.
 */
import { isAbsolute, join } from 'node:path';
import type { Mount } from '../snapshots/overlaySnapshotter.js';

export interface GraphDriverData {
  LowerDir?: string;
  MergedDir: string;
  UpperDir: string;
  WorkDir: string;
}

function option(m: Mount, key: string): string | undefined {
  const o = m.options.find((x) => x.startsWith(`${key}=`));
  return o === undefined ? undefined : o.slice(key.length + 1);
}

/** The overlay2 Data of a container layer's mounts; null when it is not an overlay with an upper dir. */
export function graphDriverData(mounts: readonly Mount[], mergedDir: string): GraphDriverData | null {
  const m = mounts[0];
  if (m === undefined) return null;
  const abs = (p: string): string => (isAbsolute(p) ? p : join(m.cwd ?? '/', p));
  if (m.type === 'bind') {
    // An image without layers: the container layer is the whole root (no lower, no work dir).
    return { MergedDir: mergedDir, UpperDir: m.source, WorkDir: '' };
  }
  const upper = option(m, 'upperdir');
  const work = option(m, 'workdir');
  if (m.type !== 'overlay' || upper === undefined || work === undefined) return null;
  const lower = option(m, 'lowerdir');
  return {
    ...(lower !== undefined ? { LowerDir: lower.split(':').map(abs).join(':') } : {}),
    MergedDir: mergedDir,
    UpperDir: abs(upper),
    WorkDir: abs(work),
  };
}
