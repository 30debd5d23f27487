/**
 * build/: the Dockerfile builder. This module only assembles it from the
 * daemon's stores and services (the daemon's composition root calls it once):
 * the cache on the database, step images on the image store, RUN on the
 * container service, base images through the puller.
 */
import { join } from 'node:path';
import type { ContentStore } from '../content/contentStore.js';
import type { ContainerService } from '../containers/containerService.js';
import type { ImageRecord, ImageStore } from '../images/imageStore.js';
import { LayerUnpacker } from '../images/layerUnpacker.js';
import type { PullOptions } from '../images/puller.js';
import type { Db } from '../metadata/db.js';
import type { Reference } from '../reference/index.js';
import type { OverlaySnapshotter } from '../snapshots/overlaySnapshotter.js';
import { BuildCache } from './buildCache.js';
import { Builder } from './builder.js';
import { BuildService } from './buildService.js';
import { ContainerRunRunner } from './dispatchers/run.js';
import { DEFAULT_MAX_CONTEXT_BYTES } from './limits.js';
import { StepImages } from './stepImages.js';

export interface BuildWiring {
  dataRoot: string;
  db: Db;
  images: ImageStore;
  content: ContentStore;
  snapshots: OverlaySnapshotter;
  containers: ContainerService;
  pull(ref: Reference, opts: PullOptions): Promise<ImageRecord>;
  /** `berthd --max-build-context`; default DEFAULT_MAX_CONTEXT_BYTES. */
  maxContextBytes?: number;
}

export function createBuilder(w: BuildWiring): { builder: Builder; service: BuildService; cache: BuildCache } {
  const cache = new BuildCache(w.db, w.images, (chain) => w.snapshots.stat(chain)?.size ?? 0, (id) => w.containers.usingImage(id));
  const builder = new Builder({
    dir: join(w.dataRoot, 'build'),
    cacheMounts: join(w.dataRoot, 'build-mounts'),
    images: w.images,
    snapshots: w.snapshots,
    containers: w.containers,
    cache,
    stepImages: new StepImages({ images: w.images, content: w.content, unpacker: new LayerUnpacker(w.content, w.snapshots) }),
    runner: new ContainerRunRunner(w.containers, w.snapshots),
    pull: (ref, opts) => w.pull(ref, opts),
  });
  return { builder, service: new BuildService(builder, cache, w.maxContextBytes ?? DEFAULT_MAX_CONTEXT_BYTES, join(w.dataRoot, 'build-mounts')), cache };
}
