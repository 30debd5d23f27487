/**
 * build/stepImages: turns a build step into an image, as Docker's legacy
 * builder does — every step is an image whose parent is the step before.
 * Metadata steps give config-only images (the parent's layers, one more
 * history entry marked `empty_layer`); steps that change files hand a layer
 * tar to the committer (which stores it, unpacks it on the parent's chain, and
 * turns an empty change into an `empty_layer` entry too).
 */
import type { Readable } from 'node:stream';
import type { ContentStore } from '../content/contentStore.js';
import type { ImageRecord, ImageStore } from '../images/imageStore.js';
import type { LayerUnpacker } from '../images/layerUnpacker.js';
import { commitImage } from '../images/committer.js';
import type { ContainerConfigPart, HistoryEntry, ImageConfig } from '../oci/image.js';
import type { Platform } from '../oci/platform.js';

export interface StepImageDeps {
  images: ImageStore;
  content: ContentStore;
  unpacker: LayerUnpacker;
}

/** The runnable config as stored: fields left unset are left out. */
export function storedConfig(c: ContainerConfigPart): ContainerConfigPart {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c)) if (v !== undefined) out[k] = v;
  return out as ContainerConfigPart;
}

export class StepImages {
  constructor(private readonly deps: StepImageDeps) {}

  /** A step that changed only the config: same layers, one more (empty) history entry. */
  async configOnly(parent: ImageRecord | null, platform: Platform, runConfig: ContainerConfigPart, createdBy: string, author: string): Promise<ImageRecord> {
    const now = new Date().toISOString();
    const base = parent?.config;
    const variant = base ? base.variant : platform.variant;
    const config: ImageConfig = {
      architecture: base?.architecture ?? platform.architecture,
      os: base?.os ?? platform.os,
      ...(variant ? { variant } : {}),
      created: now,
      ...(author ? { author } : {}),
      config: storedConfig(runConfig),
      rootfs: { type: 'layers', diff_ids: [...(base?.rootfs.diff_ids ?? [])] },
      history: [...(base?.history ?? []), { created: now, created_by: createdBy, ...(author ? { author } : {}), empty_layer: true }],
    };
    const layers = parent ? await this.deps.images.layerDescriptors(parent) : [];
    return this.deps.images.storeBuilt(config, layers, parent?.id ?? '');
  }

  /**
   * A step taken from a `--cache-from` image (moby's restoreCachedImage): the parent's layers plus the
   * source's layer for the step (already stored and unpacked, as the source is a local image), the
   * source's history entry, and this build's own config for the step.
   */
  async restore(parent: ImageRecord | null, platform: Platform, runConfig: ContainerConfigPart, author: string, source: ImageRecord, entry: HistoryEntry, layerIndex: number | null): Promise<ImageRecord> {
    const base = parent?.config;
    const diffIds = [...(base?.rootfs.diff_ids ?? [])];
    const layers = parent ? await this.deps.images.layerDescriptors(parent) : [];
    if (layerIndex !== null) {
      const srcLayers = await this.deps.images.layerDescriptors(source);
      const diffId = source.config.rootfs.diff_ids[layerIndex];
      const desc = srcLayers[layerIndex];
      if (diffId === undefined || desc === undefined) throw new Error(`cache-from image ${source.id} has no layer ${layerIndex}`);
      diffIds.push(diffId);
      layers.push(desc);
    }
    const variant = base ? base.variant : source.config.variant;
    const config: ImageConfig = {
      architecture: base?.architecture ?? source.config.architecture ?? platform.architecture,
      os: base?.os ?? source.config.os ?? platform.os,
      ...(variant ? { variant } : {}),
      created: entry.created ?? new Date().toISOString(),
      ...(author ? { author } : {}),
      config: storedConfig(runConfig),
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: [...(base?.history ?? []), { ...entry }],
    };
    return this.deps.images.storeBuilt(config, layers, parent?.id ?? '');
  }

  /** A step that changed files: `layer` is the change as an (uncompressed) layer tar. */
  async withLayer(
    parent: ImageRecord | null,
    platform: Platform,
    runConfig: ContainerConfigPart,
    createdBy: string,
    author: string,
    layer: Readable,
  ): Promise<ImageRecord> {
    return commitImage(this.deps.images, this.deps.content, this.deps.unpacker, {
      parent,
      layer,
      config: storedConfig(runConfig),
      createdBy,
      comment: '',
      author,
      buildStep: { platform: { os: platform.os, architecture: platform.architecture, ...(platform.variant ? { variant: platform.variant } : {}) } },
    });
  }
}
