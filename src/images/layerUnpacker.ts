/**
 * images/layerUnpacker: turns layer blobs already in the content store into
 * committed overlay snapshots, verifying each against its diff ID. A layer is
 * unpacked into a detached snapshot (its directory does not depend on the
 * layers below), so several can unpack at once; `commitChain` then puts them
 * on their chain bottom-up, reusing snapshots that already exist. Used by
 * pull and load.
 */
import { randomBytes } from 'node:crypto';
import { InvalidArgumentError } from '../errdefs/errors.js';
import type { ContentStore } from '../content/contentStore.js';
import type { OverlaySnapshotter } from '../snapshots/overlaySnapshotter.js';
import { chainIds, type Descriptor } from '../oci/image.js';
import type { Digest } from '../util/digest.js';
import { noProgress, shortId, type Progress } from './progress.js';
import type { GrowingBlobRef } from './growingBlob.js';
import type { UnpackFileRequest } from './unpackLayerFile.js';
import { sharedUnpackRunner, type UnpackRunner } from './unpackPool.js';

export interface UnpackedLayer {
  key: string;
  /** Uncompressed tar bytes. */
  size: number;
}

export class LayerUnpacker {
  constructor(
    private readonly content: ContentStore,
    private readonly snapshots: OverlaySnapshotter,
    /** Where the byte work runs: the daemon's shared unpack threads unless told otherwise. */
    private readonly runner: UnpackRunner = sharedUnpackRunner(),
  ) {}

  /** Starts unpack threads for `layers` coming unpacks, ahead of them (a pull: while it fetches the manifests). */
  warm(layers: number): void {
    if (layers > 0) this.runner.warm(layers);
  }

  /** Whether unpack() may be given a blob that is still downloading (`growing`). */
  get streams(): boolean {
    return this.runner.streams;
  }

  /** Whether the snapshot for the chain up to layer `i` exists already. */
  has(chainId: string): boolean {
    return this.snapshots.stat(chainId) !== null;
  }

  /**
   * Unpacks blob `desc` into a new detached snapshot; throws (leaving nothing) on a diff ID
   * mismatch, a hostile entry or an abort. Waits for a free unpack thread first. With
   * `growing` (only when `streams`), the blob is read behind its download as it is written.
   */
  async unpack(desc: Descriptor, diffId: Digest, opts: { signal?: AbortSignal; progress?: Progress; growing?: GrowingBlobRef } = {}): Promise<UnpackedLayer> {
    const progress = opts.progress ?? noProgress;
    const key = `extract-${randomBytes(8).toString('hex')}`;
    await this.snapshots.prepare(key, null);
    try {
      const size = await this.unpackInto(desc, diffId, key, opts.signal, progress, opts.growing);
      return { key, size };
    } catch (e) {
      await this.snapshots.remove(key).catch(() => undefined);
      throw e;
    }
  }

  /** Commits unpacked layers (null = already present) onto their chain, bottom-up. */
  async commitChain(diffIds: readonly Digest[], unpacked: readonly (UnpackedLayer | null)[]): Promise<void> {
    const chains = chainIds(diffIds);
    for (let i = 0; i < chains.length; i++) {
      const u = unpacked[i];
      const chain = chains[i] as Digest;
      if (!u) {
        if (!this.snapshots.stat(chain)) throw new InvalidArgumentError(`layer ${diffIds[i]} was neither unpacked nor present`);
        continue;
      }
      if (this.snapshots.stat(chain)) await this.snapshots.remove(u.key);
      else this.snapshots.commit(chain, u.key, u.size, i === 0 ? null : (chains[i - 1] as string));
    }
  }

  async discard(unpacked: readonly (UnpackedLayer | null)[]): Promise<void> {
    for (const u of unpacked) if (u && this.snapshots.stat(u.key)) await this.snapshots.remove(u.key).catch(() => undefined);
  }

  /** Sum of the unpacked sizes of a chain (Docker's image size). */
  chainSize(diffIds: readonly Digest[]): number {
    return chainIds(diffIds).reduce((n, c) => n + (this.snapshots.stat(c)?.size ?? 0), 0);
  }

  private async unpackInto(
    desc: Descriptor,
    diffId: Digest,
    key: string,
    signal: AbortSignal | undefined,
    progress: Progress,
    growing: GrowingBlobRef | undefined,
  ): Promise<number> {
    const id = shortId(desc.digest);
    const onProgress = (read: number): void => progress({ status: 'Extracting', progressDetail: { current: read, total: desc.size }, id });
    const req: UnpackFileRequest = { blobPath: this.content.path(desc.digest), dest: this.snapshots.fsPath(key) };
    if (growing !== undefined) {
      if (!this.runner.streams) throw new Error('LayerUnpacker: this runner cannot read a blob that is still downloading');
      req.growing = growing;
    }
    // Rejects only once the thread has stopped writing, so the caller can remove the snapshot.
    const result = await this.runner.run(
      req,
      signal ? { signal, onProgress } : { onProgress },
    );
    if (result.diffId !== diffId) {
      throw new InvalidArgumentError(`layer ${desc.digest} does not match its diff ID ${diffId} (got ${result.diffId})`);
    }
    return result.bytes;
  }
}
