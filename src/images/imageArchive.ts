/**
 * images/imageArchive: `docker save` and `docker load`. Save streams the
 * images' blobs from the content store as a tar in both the `docker save`
 * layout and the OCI image layout (archive/saveTar). Load reads a tar made by
 * any Docker (plain or compressed layers, with or without the OCI files) or an
 * OCI layout: every member is spooled into the content store by digest
 * (archive/archiveSpool), the documents are checked (archive/loadPlan), each
 * layer is unpacked and verified against its diff ID, and only then are the
 * images registered, in one go. A failed load leaves no image, no snapshot and
 * no blob it brought. Member names never become filesystem paths.
 */
import { createHash } from 'node:crypto';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { InvalidArgumentError, NotFoundError } from '../errdefs/errors.js';
import type { ContentStore } from '../content/contentStore.js';
import type { OverlaySnapshotter } from '../snapshots/overlaySnapshotter.js';
import { chainIds, MediaType, type Descriptor, type Manifest } from '../oci/image.js';
import { formatPlatform, normalizePlatform, parsePlatform, type Platform } from '../oci/platform.js';
import { decompressStream } from '../util/tar/decompress.js';
import { sha256Of, type Digest } from '../util/digest.js';
import {
  familiarName,
  familiarString,
  fullName,
  isNamed,
  isNameOnly,
  parseAnyReference,
  parseNormalizedNamed,
  referenceString,
  withDefaultTag,
  type Reference,
} from '../reference/index.js';
import { MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES } from '../distribution/limits.js';
import type { ImageRecord, ImageStore } from './imageStore.js';
import type { LayerUnpacker, UnpackedLayer } from './layerUnpacker.js';
import { progressBar, shortId, type Progress, type ProgressMessage } from './progress.js';
import { spoolArchive, type SpooledArchive } from './archive/archiveSpool.js';
import { LoadPlanner, type PlannedImage, type PlannedLayer } from './archive/loadPlan.js';
import { writeSaveTar, type SaveImage } from './archive/saveTar.js';

/** Layers unpacked at once during a load. */
const UNPACK_CONCURRENCY = 3;

export interface LoadOptions {
  quiet: boolean;
  signal: AbortSignal;
  progress: Progress;
  /** Which image of a multi-platform index to load (default: this host's). */
  platform?: string;
}

/** Docker's `{"stream": "Loaded image: …\n"}` lines. */
type StreamMessage = ProgressMessage & { stream: string };

async function eachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: { e: unknown } | null = null;
  const worker = async (): Promise<void> => {
    while (failed === null && next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (e) {
        failed ??= { e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed !== null) throw (failed as { e: unknown }).e;
}

/** The API's `platform` parameter: the docker client's JSON (`{"os":"linux","architecture":"arm64"}`) or "os/arch[/variant]". */
export function platformParam(v: string): Platform {
  if (!v.trimStart().startsWith('{')) return parsePlatform(v);
  let o: unknown;
  try {
    o = JSON.parse(v);
  } catch {
    throw new InvalidArgumentError(`invalid platform: ${v}`);
  }
  const p = o as Partial<Record<string, unknown>>;
  if (typeof p['os'] !== 'string' || typeof p['architecture'] !== 'string') throw new InvalidArgumentError(`invalid platform: ${v}`);
  return normalizePlatform({ os: p['os'], architecture: p['architecture'], ...(typeof p['variant'] === 'string' && p['variant'] ? { variant: p['variant'] } : {}) });
}

/** Docker schema2 media types and their OCI equivalents (image-spec media-types.md). */
const TO_OCI: Record<string, string> = {
  [MediaType.DockerConfig]: MediaType.OciConfig,
  [MediaType.DockerLayerGzip]: MediaType.OciLayerGzip,
  'application/vnd.docker.image.rootfs.diff.tar': MediaType.OciLayer,
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip': 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
};

/** The same image as an OCI manifest: same blobs, OCI media types. */
export function ociManifestOf(m: Manifest): Manifest {
  const conv = (d: Descriptor): Descriptor => ({ ...d, mediaType: TO_OCI[d.mediaType] ?? d.mediaType });
  return { schemaVersion: 2, mediaType: MediaType.OciManifest, config: conv(m.config), layers: m.layers.map(conv), ...(m.annotations ? { annotations: m.annotations } : {}) };
}

/** The API's ImageArchiveBackend (server/routes/images), structurally: images/ does not import server/. */
export class ImageArchive {
  constructor(
    private readonly images: ImageStore,
    private readonly content: ContentStore,
    private readonly unpacker: LayerUnpacker,
    private readonly snapshots: OverlaySnapshotter,
  ) {}

  // ------------------------------------------------------------------ save

  /**
   * Resolves `names` as Docker does: a tag, every tag of a bare repository name, an ID or a digest
   * reference. Public for the API's save events (one per image written).
   */
  select(names: string[]): Map<string, { img: ImageRecord; refs: Reference[] }> {
    const out = new Map<string, { img: ImageRecord; refs: Reference[] }>();
    const add = (img: ImageRecord, ref: Reference | null): void => {
      let e = out.get(img.id);
      if (!e) {
        e = { img, refs: [] };
        out.set(img.id, e);
      }
      if (ref && !e.refs.some((r) => referenceString(r) === referenceString(ref))) e.refs.push(ref);
    };
    for (const name of names) {
      let any;
      try {
        any = parseAnyReference(name);
      } catch {
        throw new NotFoundError(`No such image: ${name}`);
      }
      if (!isNamed(any) || familiarName(any) === 'sha256') {
        add(this.images.resolve(name), null);
        continue;
      }
      if (any.digest !== undefined) {
        add(this.images.resolve(name), null);
        continue;
      }
      if (isNameOnly(any)) {
        const prefix = `${fullName(any)}:`;
        let found = false;
        for (const img of this.images.list()) {
          for (const t of img.tags) {
            if (!t.startsWith(prefix)) continue;
            add(img, parseNormalizedNamed(t));
            found = true;
          }
        }
        if (!found) add(this.images.resolve(name), null);
        continue;
      }
      const img = this.images.resolveTagged(any) ?? this.images.resolve(name);
      add(img, img.tags.includes(referenceString(any)) ? any : null);
    }
    return out;
  }

  async prepareSave(names: string[], opts: { platform?: string }): Promise<(out: Writable, signal: AbortSignal) => Promise<void>> {
    const selected = this.select(names);
    const want = opts.platform ? platformParam(opts.platform) : null;
    const plan: SaveImage[] = [];
    for (const { img, refs } of selected.values()) {
      const platform = { architecture: img.config.architecture, os: img.config.os, ...(img.config.variant ? { variant: img.config.variant } : {}) };
      if (want) {
        const have = normalizePlatform(platform);
        if (have.os !== want.os || have.architecture !== want.architecture || (want.variant !== undefined && have.variant !== want.variant)) {
          throw new NotFoundError(
            `image with reference ${img.id} was found but does not match the specified platform: wanted ${formatPlatform(want)}, actual: ${formatPlatform(have)}`,
          );
        }
      }
      const config = await this.content.readAll(img.id, MAX_CONFIG_BYTES);
      const stored = await this.content.readAll(img.manifestDigest, MAX_MANIFEST_BYTES);
      const manifest = JSON.parse(stored.toString('utf8')) as Manifest;
      // OCI readers skip index entries that are not OCI manifests (Docker's own
      // save always writes OCI ones): a Docker schema2 manifest is restated in OCI terms.
      const isOci = (manifest.mediaType || MediaType.OciManifest) === MediaType.OciManifest;
      const manifestBytes = isOci ? stored : Buffer.from(JSON.stringify(ociManifestOf(manifest)));
      const layers: { digest: Digest; size: number }[] = [];
      for (const l of manifest.layers ?? []) {
        const info = await this.content.info(l.digest).catch(() => {
          throw new NotFoundError(`layer ${l.digest} of image ${img.id} is missing from the content store`);
        });
        layers.push({ digest: l.digest, size: info.size });
      }
      plan.push({
        configDigest: img.id,
        config,
        manifestDigest: isOci ? img.manifestDigest : sha256Of(manifestBytes),
        manifest: manifestBytes,
        manifestMediaType: MediaType.OciManifest,
        layers,
        refs: refs.map((r) => {
          const tagged = withDefaultTag(r);
          return { full: referenceString(tagged), familiar: familiarString(tagged), familiarName: familiarName(tagged), tag: tagged.tag ?? 'latest' };
        }),
        platform,
        created: img.config.created ? Date.parse(img.config.created) / 1000 || 0 : 0,
      });
    }
    return (out, signal) => writeSaveTar(plan, this.content, out, signal);
  }

  // ------------------------------------------------------------------ load

  async load(body: Readable, opts: LoadOptions): Promise<void> {
    const { progress, signal } = opts;
    // The tar reader destroys its input when it stops early; the request must
    // survive that so the client still reads our error, hence the PassThrough.
    const pass = new PassThrough({ highWaterMark: 1024 * 1024 });
    // pipe() forwards neither errors nor a hang-up: a client gone mid-upload must end the load.
    const onAbort = (): void => {
      pass.destroy(signal.reason instanceof Error ? signal.reason : new Error('the client went away'));
    };
    const onBodyError = (e: Error): void => {
      pass.destroy(e);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    body.on('error', onBodyError);
    body.pipe(pass);
    let spool: SpooledArchive | null = null;
    const unpacked = new Map<string, UnpackedLayer>();
    const committed: string[] = [];
    const made = new Set<Digest>();
    try {
      const { stream: plain } = await decompressStream(pass, { signal });
      spool = await spoolArchive(plain, this.content, { signal });
      const platform = opts.platform ? platformParam(opts.platform) : parsePlatform(null);
      const planned = await new LoadPlanner(spool, this.content, platform).plan();
      if (planned.length === 0) throw new InvalidArgumentError('invalid archive: it holds no image');

      // Layers xz/bzip2 compressed have no media type: store them plain.
      for (const img of planned) {
        for (const l of img.layers) if (l.compression === 'xz' || l.compression === 'bzip2') await this.storePlain(l, made, signal);
      }

      // Unpack each chain not yet on disk once, a few at a time.
      const tasks = new Map<string, PlannedLayer>();
      const verified = new Set<string>();
      for (const img of planned) {
        chainIds(img.layers.map((l) => l.diffId)).forEach((c, i) => {
          if (!this.unpacker.has(c) && !tasks.has(c)) tasks.set(c, img.layers[i] as PlannedLayer);
        });
      }
      await eachLimit([...tasks.entries()], UNPACK_CONCURRENCY, async ([chain, l]) => {
        const id = shortId(l.diffId);
        const desc: Descriptor = { mediaType: l.mediaType, digest: l.digest, size: l.size };
        const layerProgress: Progress = (m) => {
          if (opts.quiet || m.progressDetail?.current === undefined) return;
          const { current } = m.progressDetail;
          progress({ status: 'Loading layer', progressDetail: { current, total: l.size }, progress: progressBar(current, l.size), id });
        };
        unpacked.set(chain, await this.unpacker.unpack(desc, l.diffId, { signal, progress: layerProgress }));
        verified.add(`${l.digest} ${l.diffId}`);
        if (!opts.quiet) progress({ status: 'Loading layer', progressDetail: { current: l.size, total: l.size }, progress: progressBar(l.size, l.size), id });
      });
      // A layer whose snapshot exists already was not unpacked, yet its blob
      // is about to be kept as part of the image: it must match its diff ID too.
      const unchecked = new Map<string, PlannedLayer>();
      for (const img of planned) {
        for (const l of img.layers) {
          const key = `${l.digest} ${l.diffId}`;
          if (l.digest !== l.diffId && !verified.has(key)) unchecked.set(key, l);
        }
      }
      await eachLimit([...unchecked.values()], UNPACK_CONCURRENCY, (l) => this.checkDiffId(l, signal));

      // Put every image's layers on their chains, bottom-up.
      for (const img of planned) {
        const diffIds = img.layers.map((l) => l.diffId);
        const chains = chainIds(diffIds);
        const mine = chains.map((c) => {
          const u = unpacked.get(c) ?? null;
          unpacked.delete(c);
          return u;
        });
        await this.unpacker.commitChain(diffIds, mine);
        chains.forEach((c, i) => {
          if (mine[i]) committed.push(c);
        });
      }

      // Manifests for docker-save images (their archive has none of ours).
      const manifests = new Map<PlannedImage, Digest>();
      for (const img of planned) {
        if (img.manifestDigest) {
          manifests.set(img, img.manifestDigest);
          continue;
        }
        const manifest: Manifest = {
          schemaVersion: 2,
          mediaType: MediaType.OciManifest,
          config: { mediaType: MediaType.OciConfig, digest: img.configDigest, size: (await this.content.info(img.configDigest)).size },
          layers: img.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
        };
        const bytes = Buffer.from(JSON.stringify(manifest));
        const digest = sha256Of(bytes);
        if (!(await this.content.has(digest))) {
          await this.content.put(bytes, { digest });
          made.add(digest);
        }
        manifests.set(img, digest);
      }

      // The commit point: every image becomes visible here, nothing before.
      const messages: StreamMessage[] = [];
      for (const img of planned) {
        const manifestDigest = manifests.get(img) as Digest;
        const size = this.unpacker.chainSize(img.config.rootfs.diff_ids);
        const blobs = [img.configDigest, manifestDigest, ...img.layers.map((l) => l.digest)];
        if (img.refs.length === 0) {
          this.images.register(img.config, img.configDigest, manifestDigest, size, blobs);
          messages.push({ stream: `Loaded image ID: ${img.configDigest}\n` });
          continue;
        }
        for (const ref of img.refs) {
          const before = this.images.resolveTagged(ref);
          if (before && before.id !== img.configDigest) {
            messages.push({ stream: `The image ${familiarString(ref)} already exists, renaming the old one with ID ${before.id} to empty string\n` });
          }
          this.images.register(img.config, img.configDigest, manifestDigest, size, blobs, ref);
          messages.push({ stream: `Loaded image: ${familiarString(ref)}\n` });
        }
      }
      committed.length = 0;
      for (const m of messages) progress(m);
    } catch (e) {
      await this.unpacker.discard([...unpacked.values()]);
      for (const c of committed.reverse()) {
        if (this.snapshots.stat(c) && this.snapshots.children(c).length === 0) await this.snapshots.remove(c).catch(() => undefined);
      }
      for (const d of made) if (!this.images.blobInUse(d)) await this.content.delete(d).catch(() => undefined);
      if (spool) for (const d of spool.wrote) if (!this.images.blobInUse(d)) await this.content.delete(d).catch(() => undefined);
      // Let the client finish sending, so it reads our answer rather than a reset.
      body.unpipe(pass);
      pass.destroy();
      if (!body.readableEnded && !body.destroyed) body.resume();
      throw e;
    } finally {
      signal.removeEventListener('abort', onAbort);
      body.off('error', onBodyError);
    }
    // Members nobody references (old-format json files, other platforms' blobs) go.
    for (const d of made) if (!this.images.blobInUse(d)) await this.content.delete(d).catch(() => undefined);
    for (const d of spool.wrote) if (!this.images.blobInUse(d)) await this.content.delete(d).catch(() => undefined);
  }

  /** Hashes the uncompressed bytes of a layer blob against its diff ID, without unpacking it. */
  private async checkDiffId(l: PlannedLayer, signal: AbortSignal): Promise<void> {
    const { stream } = await decompressStream(this.content.reader(l.digest), { signal });
    const hash = createHash('sha256');
    for await (const c of stream as AsyncIterable<Buffer>) hash.update(c);
    const got = `sha256:${hash.digest('hex')}`;
    if (got !== l.diffId) throw new InvalidArgumentError(`layer ${l.digest} does not match its diff ID ${l.diffId} (got ${got})`);
  }

  /** Replaces an xz or bzip2 layer blob by its plain tar (digest = diff ID). */
  private async storePlain(l: PlannedLayer, made: Set<Digest>, signal: AbortSignal): Promise<void> {
    const { stream } = await decompressStream(this.content.reader(l.digest), { signal });
    if (!(await this.content.has(l.diffId))) {
      const w = await this.content.writer({ digest: l.diffId });
      try {
        for await (const c of stream as AsyncIterable<Buffer>) await w.write(c);
        await w.commit();
      } catch (e) {
        await w.abort();
        if (e instanceof InvalidArgumentError) throw new InvalidArgumentError(`layer ${l.digest} does not match its diff ID ${l.diffId}: ${e.message}`);
        throw e;
      }
      made.add(l.diffId);
    } else {
      stream.destroy();
    }
    l.digest = l.diffId;
    l.size = (await this.content.info(l.diffId)).size;
    l.mediaType = MediaType.OciLayer;
    l.compression = 'none';
  }
}
