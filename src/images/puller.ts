/**
 * images/puller: `docker pull` — resolve a reference at its registry, choose
 * the platform's manifest, download config and layers into the content store
 * (verified against their digests), unpack layers into snapshots (verified
 * against the config's diff IDs) and register the image in one step at the
 * end. Layers download in parallel and each unpacks (on the unpack threads) as
 * soon as it is in, so download and unpack overlap and a slow unpack never holds
 * a download slot. On any failure nothing of the image is
 * visible and what this pull wrote is removed. Concurrent pulls of one
 * reference share the work.
 */
import { InvalidArgumentError, NotFoundError, messageOf } from '../errdefs/errors.js';
import type { ContentStore } from '../content/contentStore.js';
import { chainIds, MediaType, type Descriptor, type ImageConfig } from '../oci/image.js';
import { formatPlatform, selectManifest, type Platform } from '../oci/platform.js';
import { isDigest, sha256Of, type Digest } from '../util/digest.js';
import { GrowingBlob } from './growingBlob.js';
import { familiarString, fullName, referenceString, type Reference } from '../reference/index.js';
import { RegistryClient, type RegistryOptions } from '../distribution/registryClient.js';
import type { AuthConfig } from '../distribution/credentials.js';
import { MAX_CONCURRENT_DOWNLOADS, MAX_CONFIG_BYTES } from '../distribution/limits.js';
import { progressBar, shortId, type Progress } from './progress.js';
import type { ImageRecord, ImageStore } from './imageStore.js';
import type { LayerUnpacker, UnpackedLayer } from './layerUnpacker.js';
import { UNPACK_THREADS } from './unpackPool.js';

const LAYER_TYPES = new Set<string>([
  MediaType.OciLayer,
  MediaType.OciLayerGzip,
  MediaType.OciLayerZstd,
  MediaType.DockerLayerGzip,
  'application/vnd.docker.image.rootfs.diff.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
]);
/** Download bytes gathered per content-store write when the store writes through the page cache (a writer that gathers, O_DIRECT, takes socket chunks as they come). */
const WRITE_BATCH = 256 * 1024;
const MANIFEST_TYPES = new Set<string>([MediaType.OciManifest, MediaType.DockerManifest]);
const INDEX_TYPES = new Set<string>([MediaType.OciIndex, MediaType.DockerManifestList]);

export interface PullOptions {
  platform: Platform;
  auth?: AuthConfig;
  signal?: AbortSignal;
  progress: Progress;
}

interface ManifestDoc {
  schemaVersion?: number;
  mediaType?: string;
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: Descriptor[];
}

function parseJson(bytes: Buffer, what: string): ManifestDoc {
  try {
    const v = JSON.parse(bytes.toString('utf8')) as unknown;
    if (typeof v !== 'object' || v === null) throw new Error('not an object');
    return v as ManifestDoc;
  } catch (e) {
    throw new InvalidArgumentError(`${what} is not valid JSON: ${messageOf(e)}`);
  }
}

function checkDescriptor(d: unknown, what: string): Descriptor {
  const o = d as Partial<Descriptor> | null;
  if (!o || typeof o !== 'object' || typeof o.digest !== 'string' || !isDigest(o.digest) || typeof o.size !== 'number' || o.size < 0) {
    throw new InvalidArgumentError(`${what} has an invalid descriptor`);
  }
  return o as Descriptor;
}

/** Runs `fn` over items with at most `limit` at once. */
async function eachLimit<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown = null;
  const worker = async (): Promise<void> => {
    while (failed === null && next < items.length) {
      const i = next++;
      try {
        await fn(items[i] as T, i);
      } catch (e) {
        failed ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed !== null) throw failed;
}

export class ImagePuller {
  private readonly inflight = new Map<string, Promise<ImageRecord>>();

  constructor(
    private readonly images: ImageStore,
    private readonly content: ContentStore,
    private readonly unpacker: LayerUnpacker,
    private readonly registryOptions: RegistryOptions = {},
  ) {}

  /** `docker pull -a`: every tag of the repository, one after the other. */
  async pullAllTags(repo: Reference, opts: PullOptions): Promise<void> {
    const client = new RegistryClient(repo.domain, opts.auth, this.registryOptions);
    let tags: string[];
    try {
      tags = await client.listTags(repo.path, opts.signal);
    } finally {
      await client.close().catch(() => undefined);
    }
    if (tags.length === 0) throw new NotFoundError(`repository ${familiarString(repo)} has no tags`);
    for (const tag of tags) await this.pull({ domain: repo.domain, path: repo.path, tag }, opts);
  }

  /** Pulls `ref` (tagged or by digest). Callers sharing a reference share one pull. */
  pull(ref: Reference, opts: PullOptions): Promise<ImageRecord> {
    const key = `${referenceString(ref)}|${formatPlatform(opts.platform)}`;
    const running = this.inflight.get(key);
    if (running) {
      opts.progress({ status: `Waiting for another pull of ${familiarString(ref)}` });
      return running;
    }
    const p = this.pullOnce(ref, opts).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  private async pullOnce(ref: Reference, opts: PullOptions): Promise<ImageRecord> {
    const { progress, signal } = opts;
    const repo = ref.path;
    const client = new RegistryClient(ref.domain, opts.auth, this.registryOptions);
    const wrote: Digest[] = [];
    const unpacked: (UnpackedLayer | null)[] = [];
    // The unpack threads boot (~100 ms of CPU each here) while the manifests are fetched: a
    // layer's unpack starts as soon as its download does (B90), so a thread started only at the
    // layer stage made the first layers wait for it (B92).
    this.unpacker.warm(UNPACK_THREADS);
    try {
      const reference = ref.digest ?? ref.tag ?? 'latest';
      const top = await client.getManifest(repo, reference, signal).catch((e: unknown) => {
        if (e instanceof NotFoundError) {
          throw new NotFoundError(`manifest for ${familiarString(ref)} not found: manifest unknown: manifest unknown`);
        }
        throw e;
      });
      // After the manifest, as Docker: an unknown image is then a plain 404, no stream.
      progress({ status: `Pulling from ${ref.path}`, id: ref.tag ?? ref.digest ?? "latest" });
      const topDigest = sha256Of(top.bytes);
      if (ref.digest && ref.digest !== topDigest) {
        throw new InvalidArgumentError(`manifest verification failed for digest ${ref.digest}: got ${topDigest}`);
      }
      if (top.digest && top.digest !== topDigest) {
        throw new InvalidArgumentError(`manifest for ${familiarString(ref)} does not match its Docker-Content-Digest ${top.digest} (got ${topDigest})`);
      }
      let manifestBytes = top.bytes;
      let manifestDigest: Digest = topDigest;
      let doc = parseJson(top.bytes, `manifest for ${familiarString(ref)}`);
      let mediaType = top.mediaType || doc.mediaType || '';
      if (INDEX_TYPES.has(mediaType) || (!mediaType && Array.isArray(doc.manifests))) {
        const list = (doc.manifests ?? []).map((d, i) => checkDescriptor(d, `manifest list entry ${i}`));
        const chosen = selectManifest(list, opts.platform);
        if (!chosen) {
          throw new NotFoundError(`no matching manifest for ${formatPlatform(opts.platform)} in the manifest list entries`);
        }
        const child = await client.getManifest(repo, chosen.digest, signal);
        const childDigest = sha256Of(child.bytes);
        if (childDigest !== chosen.digest) {
          throw new InvalidArgumentError(`manifest ${chosen.digest} of ${familiarString(ref)} does not match its digest (got ${childDigest})`);
        }
        await this.keep(await this.content.put(top.bytes), wrote);
        manifestBytes = child.bytes;
        manifestDigest = childDigest;
        doc = parseJson(child.bytes, `manifest ${chosen.digest}`);
        mediaType = child.mediaType || doc.mediaType || chosen.mediaType;
      }
      if (!MANIFEST_TYPES.has(mediaType) && !(mediaType === '' && doc.schemaVersion === 2 && doc.config)) {
        if (doc.schemaVersion === 1) throw new InvalidArgumentError(`${familiarString(ref)}: Docker Image Format v1 and Docker Image manifest version 2, schema 1 are not supported`);
        throw new InvalidArgumentError(`unsupported manifest media type "${mediaType}" for ${familiarString(ref)}`);
      }
      const configDesc = checkDescriptor(doc.config, `manifest of ${familiarString(ref)}: config`);
      if (!Array.isArray(doc.layers)) throw new InvalidArgumentError(`manifest of ${familiarString(ref)} has no layers list`);
      const layers = doc.layers.map((l, i) => checkDescriptor(l, `manifest of ${familiarString(ref)}: layer ${i}`));
      for (const l of layers) {
        if (!LAYER_TYPES.has(l.mediaType)) throw new InvalidArgumentError(`unsupported layer media type "${l.mediaType}" for layer ${l.digest}`);
      }
      if (configDesc.size > MAX_CONFIG_BYTES) throw new InvalidArgumentError(`image config of ${familiarString(ref)} is over the ${MAX_CONFIG_BYTES}-byte limit`);

      // The image config: small, verified, parsed.
      if (!(await this.content.has(configDesc.digest))) {
        await this.download(client, repo, configDesc, wrote, signal);
      }
      const config = JSON.parse((await this.content.readAll(configDesc.digest, MAX_CONFIG_BYTES)).toString('utf8')) as ImageConfig;
      const diffIds = config.rootfs?.diff_ids ?? [];
      if (!Array.isArray(diffIds) || diffIds.length !== layers.length || !diffIds.every((d) => isDigest(d))) {
        throw new InvalidArgumentError(`image config of ${familiarString(ref)} lists ${diffIds.length} layers, the manifest ${layers.length}`);
      }
      const chains = chainIds(diffIds);
      unpacked.push(...layers.map(() => null));
      const existing = this.images.getById(configDesc.digest);

      // Layers: download (parallel) and unpack each as soon as it is in.
      layers.forEach((l, i) => {
        if (!this.unpacker.has(chains[i] as string)) progress({ status: 'Pulling fs layer', progressDetail: {}, id: shortId(l.digest) });
      });
      // A download frees its slot as soon as its blob is in; the layer's unpack then waits for
      // an unpack thread (their own limit). The first failure stops every other download and
      // unpack, and all of them have stopped before the clean-up below runs.
      const stage = new AbortController();
      let failed: unknown = null;
      const fail = (e: unknown): void => {
        if (failed !== null) return;
        failed = e;
        stage.abort(e);
      };
      const onAbort = (): void => fail(signal?.reason instanceof Error ? signal.reason : new Error('pull cancelled'));
      if (signal?.aborted === true) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
      const unpacks: Promise<void>[] = [];
      try {
        await eachLimit(layers, MAX_CONCURRENT_DOWNLOADS, async (l, i) => {
          stage.signal.throwIfAborted();
          if (this.unpacker.has(chains[i] as string)) {
            // The layer is unpacked (e.g. from a load with plain layers), but the image names this
            // blob: fetch it so the image is whole and can be pushed or saved as registered.
            if (!(await this.content.has(l.digest))) await this.download(client, repo, l, wrote, stage.signal);
            progress({ status: 'Already exists', progressDetail: {}, id: shortId(l.digest) });
            return;
          }
          const stored = await this.content.has(l.digest);
          if (!stored && this.unpacker.streams) {
            // The layer unpacks behind its download, from the ingest file as it is written
            // (B90); its "Extracting" messages wait for "Download complete", as Docker's order has it.
            const growing = new GrowingBlob();
            let downloaded = false;
            const unpackProgress: Progress = (m) => {
              if (downloaded) progress(m);
            };
            await this.download(client, repo, l, wrote, stage.signal, progress, {
              blob: growing,
              opened: (ingestPath) => {
                const ref = { state: growing.state, ingestPath, blobPath: this.content.path(l.digest) };
                unpacks.push(
                  this.unpacker.unpack(l, diffIds[i] as Digest, { progress: unpackProgress, signal: stage.signal, growing: ref }).then(
                    (u) => {
                      unpacked[i] = u;
                      progress({ status: 'Pull complete', progressDetail: {}, id: shortId(l.digest) });
                    },
                    // Stopped because the download failed: the download reports why.
                    (e: unknown) => (growing.failed ? undefined : fail(e)),
                  ),
                );
              },
            });
            downloaded = true;
            return;
          }
          if (!stored) await this.download(client, repo, l, wrote, stage.signal, progress);
          else progress({ status: 'Download complete', progressDetail: {}, id: shortId(l.digest) });
          stage.signal.throwIfAborted();
          unpacks.push(
            this.unpacker.unpack(l, diffIds[i] as Digest, { progress, signal: stage.signal }).then((u) => {
              unpacked[i] = u;
              progress({ status: 'Pull complete', progressDetail: {}, id: shortId(l.digest) });
            }, fail),
          );
        }).catch(fail);
        await Promise.all(unpacks);
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
      if (failed !== null) throw failed;
      await this.unpacker.commitChain(diffIds, unpacked);
      unpacked.fill(null);
      if (!(await this.content.has(manifestDigest))) await this.keep(await this.content.put(manifestBytes), wrote);
      // Docker's image size: the unpacked bytes of every layer.
      const size = this.unpacker.chainSize(diffIds);
      const repoDigest = `${fullName(ref)}@${topDigest}`;
      const before = this.images.resolveTagged(ref);
      const blobs = [topDigest, manifestDigest, configDesc.digest, ...layers.map((l) => l.digest)];
      this.images.register(config, configDesc.digest, manifestDigest, size, blobs, ref, repoDigest);
      for (const l of layers) this.images.addBlobSource(l.digest, ref.domain, repo);
      progress({ status: `Digest: ${topDigest}` });
      const upToDate = existing !== null && before?.id === configDesc.digest;
      progress({ status: `Status: ${upToDate ? 'Image is up to date' : 'Downloaded newer image'} for ${familiarString(ref)}` });
      const rec = this.images.getById(configDesc.digest);
      if (!rec) throw new Error('pulled image vanished');
      return rec;
    } catch (e) {
      await this.unpacker.discard(unpacked);
      for (const d of wrote) if (!this.images.blobInUse(d)) await this.content.delete(d);
      throw e;
    } finally {
      await client.close().catch(() => undefined);
    }
  }

  private async keep(info: { digest: Digest }, wrote: Digest[]): Promise<void> {
    wrote.push(info.digest);
  }

  /**
   * Downloads one blob into the content store, verified against digest and size. With
   * `growing`, the ingest file is shared as it is written: `opened` gets its path once it
   * exists, and `blob` follows the bytes written, then the end (complete once the blob is
   * installed at its path, failed on any other way out).
   */
  private async download(
    client: RegistryClient,
    repo: string,
    desc: Descriptor,
    wrote: Digest[],
    signal?: AbortSignal,
    progress?: Progress,
    growing?: { blob: GrowingBlob; opened: (ingestPath: string) => void },
  ): Promise<void> {
    try {
      await this.downloadInto(client, repo, desc, wrote, signal, progress, growing);
      growing?.blob.complete(desc.size);
    } finally {
      growing?.blob.fail();
    }
  }

  private async downloadInto(
    client: RegistryClient,
    repo: string,
    desc: Descriptor,
    wrote: Digest[],
    signal: AbortSignal | undefined,
    progress: Progress | undefined,
    growing: { blob: GrowingBlob; opened: (ingestPath: string) => void } | undefined,
  ): Promise<void> {
    const id = shortId(desc.digest);
    const { body } = await client.getBlob(repo, desc.digest, signal);
    const onWritten = growing ? (n: number): void => growing.blob.advance(n) : undefined;
    const writer = await this.content.writer({ digest: desc.digest, size: desc.size }, onWritten ? { onWritten } : {});
    growing?.opened(writer.ingestPath);
    let current = 0;
    let lastReport = 0;
    // The socket hands out small chunks. A writer that gathers them itself (O_DIRECT, B90)
    // takes them as they come; otherwise the store gets them in runs of WRITE_BATCH bytes,
    // gathered in one buffer reused run after run (each write is awaited before the next
    // copy): a fresh buffer per run costs more in page faults than the copy.
    const batch = writer.gathers ? null : Buffer.allocUnsafe(WRITE_BATCH);
    let batched = 0;
    const flush = async (): Promise<void> => {
      if (batch === null || batched === 0) return;
      const run = batch.subarray(0, batched);
      batched = 0;
      await writer.write(run);
    };
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        current += chunk.length;
        if (batch === null) await writer.write(chunk);
        else for (let off = 0; off < chunk.length; ) {
          const n = chunk.copy(batch, batched, off);
          batched += n;
          off += n;
          if (batched === WRITE_BATCH) await flush();
        }
        if (current > desc.size) await flush();
        if (progress && Date.now() - lastReport > 100) {
          lastReport = Date.now();
          progress({ status: 'Downloading', progressDetail: { current, total: desc.size }, progress: progressBar(current, desc.size), id });
        }
      }
      await flush();
      if (progress) progress({ status: 'Verifying Checksum', progressDetail: {}, id });
      const info = await writer.commit();
      wrote.push(info.digest);
      if (progress) progress({ status: 'Download complete', progressDetail: {}, id });
    } catch (e) {
      await writer.abort();
      body.destroy();
      if (e instanceof InvalidArgumentError) throw new InvalidArgumentError(`blob ${desc.digest}: ${e.message}`);
      throw new InvalidArgumentError(`failed to download blob ${desc.digest}: ${messageOf(e)}`);
    }
  }
}
