/**
 * images/committer: `docker commit` on the image side — store a container's
 * layer tar as a new uncompressed layer blob, unpack it into a snapshot on top
 * of the parent image's chain, and register an image whose config is the
 * container's with the new layer and a history entry. Nothing is visible
 * until the final register; a failure leaves no blob or snapshot behind.
 */
import type { Readable } from 'node:stream';
import type { ContentStore } from '../content/contentStore.js';
import { MediaType, type ContainerConfigPart, type ImageConfig } from '../oci/image.js';
import type { Reference } from '../reference/index.js';
import type { Digest } from '../util/digest.js';
import type { ImageRecord, ImageStore } from './imageStore.js';
import type { LayerUnpacker, UnpackedLayer } from './layerUnpacker.js';

export interface CommitRequest {
  /** The image the container was created from (null: from scratch). */
  parent: ImageRecord | null;
  layer: Readable;
  config: ContainerConfigPart;
  createdBy: string;
  comment: string;
  author: string;
  ref?: Reference;
  /** A build step: record `parent` as the new image's Parent (Docker's legacy builder does). */
  buildStep?: {
    /** Platform of a step on `FROM scratch` (no parent config to take it from). */
    platform?: { os: string; architecture: string; variant?: string };
  };
}

/** The digest of a tar with no entries (two zero blocks): moby's empty layer. */
export const EMPTY_LAYER_DIFF_ID = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

export async function commitImage(images: ImageStore, content: ContentStore, unpacker: LayerUnpacker, req: CommitRequest): Promise<ImageRecord> {
  const writer = await content.writer();
  let unpacked: UnpackedLayer | null = null;
  try {
    for await (const chunk of req.layer as AsyncIterable<Buffer>) await writer.write(chunk);
    const blob = await writer.commit();
    const desc = { mediaType: MediaType.OciLayer, digest: blob.digest, size: blob.size };
    const parentIds: Digest[] = req.parent?.config.rootfs.diff_ids ?? [];
    // moby's NewChildImage: a build step that changed no file adds no layer, only history.
    const empty = req.buildStep !== undefined && blob.digest === EMPTY_LAYER_DIFF_ID;
    if (empty) {
      if (!images.blobInUse(blob.digest)) await content.delete(blob.digest).catch(() => undefined);
    } else {
      unpacked = await unpacker.unpack(desc, blob.digest);
      await unpacker.commitChain([...parentIds, blob.digest], [...parentIds.map(() => null), unpacked]);
      unpacked = null;
    }
    const now = new Date().toISOString();
    const base: Partial<ImageConfig> = req.parent?.config ?? req.buildStep?.platform ?? {};
    const config: ImageConfig = {
      architecture: base.architecture ?? 'amd64',
      os: base.os ?? 'linux',
      ...(base.variant ? { variant: base.variant } : {}),
      created: now,
      ...(req.author ? { author: req.author } : {}),
      config: req.config,
      rootfs: { type: 'layers', diff_ids: empty ? [...parentIds] : [...parentIds, blob.digest] },
      history: [
        ...(base.history ?? []),
        {
          created: now,
          created_by: req.createdBy,
          ...(req.comment ? { comment: req.comment } : {}),
          ...(req.author ? { author: req.author } : {}),
          ...(empty ? { empty_layer: true } : {}),
        },
      ],
    };
    const parentLayers = req.parent ? await images.layerDescriptors(req.parent) : [];
    const layers = empty ? parentLayers : [...parentLayers, desc];
    if (req.buildStep) return await images.storeBuilt(config, layers, req.parent?.id ?? '');
    return await images.storeCommitted(config, layers, req.ref);
  } catch (e) {
    await writer.abort();
    if (unpacked) await unpacker.discard([unpacked]);
    throw e;
  }
}
