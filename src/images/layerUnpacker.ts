/**
 * images/layerUnpacker: turns layer blobs already in the content store into
 * committed overlay snapshots, verifying each against its diff ID. A layer is
 * unpacked into a detached snapshot (its directory does not depend on the
 * layers below), so several can unpack at once; `commitChain` then puts them
 * on their chain bottom-up, reusing snapshots that already exist. Used by
 * pull and load.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { InvalidArgumentError, SystemError } from '../errdefs/errors.js';
import type { ContentStore } from '../content/contentStore.js';
import type { OverlaySnapshotter } from '../snapshots/overlaySnapshotter.js';
import { chainIds, type Descriptor } from '../oci/image.js';
import { unpackLayerFile, type UnpackFileRequest, type UnpackFileResult } from './unpackLayerFile.js';
import type { Digest } from '../util/digest.js';
import { noProgress, shortId, type Progress } from './progress.js';

/** The compiled worker; absent when running from TypeScript sources (tests under tsx), then unpack runs inline. */
const WORKER_URL: URL | null = (() => {
  const url = new URL('./unpackWorker.js', import.meta.url);
  return existsSync(url) ? url : null;
})();

function throttle(fn: (n: number) => void): (n: number) => void {
  let last = 0;
  return (n) => {
    const now = Date.now();
    if (now - last > 100) {
      last = now;
      fn(n);
    }
  };
}

type WorkerMessage =
  | { type: 'progress'; read: number }
  | ({ type: 'done' } & UnpackFileResult)
  | { type: 'error'; kind: string; message: string };

function runInWorker(req: UnpackFileRequest, onRead: (n: number) => void, signal?: AbortSignal): Promise<UnpackFileResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_URL as URL, { workerData: req });
    let settled = false;
    const finish = (err: Error | null, r?: UnpackFileResult): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      if (err) reject(err);
      else resolve(r as UnpackFileResult);
    };
    const onAbort = (): void => finish(new SystemError('layer unpack cancelled'));
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'progress') onRead(m.read);
      else if (m.type === 'done') finish(null, { diffId: m.diffId, bytes: m.bytes });
      else finish(m.kind === 'invalid-argument' ? new InvalidArgumentError(m.message) : new SystemError(m.message));
    });
    worker.on('error', (e) => finish(new SystemError(`layer unpack worker failed: ${e.message}`)));
    worker.on('exit', (code) => finish(new SystemError(`layer unpack worker exited with code ${code}`)));
  });
}

export interface UnpackedLayer {
  key: string;
  /** Uncompressed tar bytes. */
  size: number;
}

export class LayerUnpacker {
  constructor(
    private readonly content: ContentStore,
    private readonly snapshots: OverlaySnapshotter,
  ) {}

  /** Whether the snapshot for the chain up to layer `i` exists already. */
  has(chainId: string): boolean {
    return this.snapshots.stat(chainId) !== null;
  }

  /** Unpacks blob `desc` into a new detached snapshot; throws (leaving nothing) on a diff ID mismatch or a hostile entry. */
  async unpack(desc: Descriptor, diffId: Digest, opts: { signal?: AbortSignal; progress?: Progress } = {}): Promise<UnpackedLayer> {
    const progress = opts.progress ?? noProgress;
    const key = `extract-${randomBytes(8).toString('hex')}`;
    await this.snapshots.prepare(key, null);
    try {
      const size = await this.unpackInto(desc, diffId, key, opts.signal, progress);
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

  private async unpackInto(desc: Descriptor, diffId: Digest, key: string, signal: AbortSignal | undefined, progress: Progress): Promise<number> {
    const id = shortId(desc.digest);
    const req: UnpackFileRequest = { blobPath: this.content.path(desc.digest), dest: this.snapshots.fsPath(key) };
    const onRead = (read: number): void => progress({ status: 'Extracting', progressDetail: { current: read, total: desc.size }, id });
    const result = WORKER_URL ? await runInWorker(req, onRead, signal) : await unpackLayerFile(req, throttle(onRead), signal);
    if (result.diffId !== diffId) {
      throw new InvalidArgumentError(`layer ${desc.digest} does not match its diff ID ${diffId} (got ${result.diffId})`);
    }
    return result.bytes;
  }
}
