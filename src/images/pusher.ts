/**
 * images/pusher: `docker push` — send an image's layers, config and manifest
 * to a registry. Blobs the registry has are skipped; local uncompressed layers
 * (from import or commit) are gzip-compressed on the fly, hashed while they
 * stream, and the compressed digest is remembered for the next push. The
 * manifest is re-made when a layer's descriptor changed.
 */
import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidArgumentError, NotFoundError } from '../errdefs/errors.js';
import type { ContentStore } from '../content/contentStore.js';
import type { Db } from '../metadata/db.js';
import { MediaType, type Descriptor, type Manifest } from '../oci/image.js';
import { sha256Of, type Digest } from '../util/digest.js';
import { familiarString, fullName, type Reference } from '../reference/index.js';
import { RegistryClient, type RegistryOptions } from '../distribution/registryClient.js';
import type { AuthConfig } from '../distribution/credentials.js';
import { MAX_CONCURRENT_DOWNLOADS, MAX_MANIFEST_BYTES } from '../distribution/limits.js';
import { progressBar, shortId, type Progress } from './progress.js';
import { isalGzipBody, storedBlobBody } from './uploadBody.js';
import { isal } from '../util/isal.js';
import type { ImageRecord, ImageStore } from './imageStore.js';

export interface PushOptions {
  auth?: AuthConfig;
  signal?: AbortSignal;
  progress: Progress;
}

const UNCOMPRESSED = new Set<string>([MediaType.OciLayer, 'application/vnd.docker.image.rootfs.diff.tar']);

export class ImagePusher {
  constructor(
    private readonly images: ImageStore,
    private readonly content: ContentStore,
    private readonly db: Db,
    private readonly registryOptions: RegistryOptions = {},
  ) {}

  /** Pushes the image `ref` names (a tag, or every tag of the repository when `ref` has none). */
  async push(ref: Reference, opts: PushOptions): Promise<void> {
    const targets: { ref: Reference; image: ImageRecord }[] = [];
    if (ref.tag !== undefined) {
      const image = this.images.resolveTagged(ref);
      if (!image) throw new NotFoundError(`An image does not exist locally with the tag: ${familiarString({ domain: ref.domain, path: ref.path })}`);
      targets.push({ ref, image });
    } else {
      const prefix = `${fullName(ref)}:`;
      for (const img of this.images.list()) {
        for (const t of img.tags) if (t.startsWith(prefix)) targets.push({ ref: { ...ref, tag: t.slice(prefix.length) }, image: img });
      }
      if (targets.length === 0) throw new NotFoundError(`An image does not exist locally with the tag: ${familiarString(ref)}`);
    }
    const client = new RegistryClient(ref.domain, opts.auth, this.registryOptions);
    try {
      opts.progress({ status: `The push refers to repository [${fullName(ref).replace(/^docker\.io\//, 'docker.io/')}]` });
      await client.ping(opts.signal);
      for (const t of targets) await this.pushOne(client, t.ref, t.image, opts);
    } finally {
      await client.close().catch(() => undefined);
    }
  }

  private async pushOne(client: RegistryClient, ref: Reference, image: ImageRecord, opts: PushOptions): Promise<void> {
    const { progress, signal } = opts;
    const repo = ref.path;
    const manifest = JSON.parse((await this.content.readAll(image.manifestDigest, MAX_MANIFEST_BYTES)).toString('utf8')) as Manifest;
    if (!Array.isArray(manifest.layers) || manifest.layers.length !== image.config.rootfs.diff_ids.length) {
      throw new InvalidArgumentError(`image ${image.id} has an inconsistent manifest`);
    }
    const layers = [...manifest.layers];
    for (const l of [...layers].reverse()) progress({ status: 'Preparing', progressDetail: {}, id: shortId(l.digest) });
    const pushed: Descriptor[] = new Array<Descriptor>(layers.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < layers.length) {
        const i = next++;
        pushed[i] = await this.pushLayer(client, repo, layers[i] as Descriptor, image.config.rootfs.diff_ids[i] as Digest, progress, signal);
      }
    };
    await Promise.all(Array.from({ length: Math.min(MAX_CONCURRENT_DOWNLOADS, layers.length) }, worker));
    // The config: small and known.
    if (!(await client.blobExists(repo, manifest.config.digest, signal))) {
      const bytes = await this.content.readAll(manifest.config.digest, 8 * 1024 * 1024);
      await client.uploadBlob(repo, Readable.from([bytes]), () => manifest.config.digest, signal);
    }
    const changed = pushed.some((d, i) => d.digest !== (layers[i] as Descriptor).digest || d.mediaType !== (layers[i] as Descriptor).mediaType);
    let manifestBytes: Buffer;
    let mediaType = manifest.mediaType || MediaType.OciManifest;
    if (changed) {
      const out: Manifest = { ...manifest, mediaType: MediaType.OciManifest, config: { ...manifest.config, mediaType: MediaType.OciConfig }, layers: pushed };
      mediaType = MediaType.OciManifest;
      manifestBytes = Buffer.from(JSON.stringify(out));
      await this.content.put(manifestBytes);
    } else {
      manifestBytes = await this.content.readAll(image.manifestDigest, MAX_MANIFEST_BYTES);
    }
    const digest = sha256Of(manifestBytes);
    await client.putManifest(repo, ref.tag ?? 'latest', mediaType, manifestBytes, signal);
    this.db.transaction(() => {
      this.db.prepare('INSERT OR IGNORE INTO image_blobs (image_id, digest) VALUES (?, ?)').run(image.id, digest);
      this.images.addRepoDigest(image.id, `${fullName(ref)}@${digest}`);
    })();
    progress({ status: `${ref.tag ?? 'latest'}: digest: ${digest} size: ${manifestBytes.length}` });
    progress({ progressDetail: {}, aux: { Tag: ref.tag ?? 'latest', Digest: digest, Size: manifestBytes.length } });
  }

  /** Pushes one layer; returns the descriptor it has at the registry. */
  private async pushLayer(client: RegistryClient, repo: string, desc: Descriptor, diffId: Digest, progress: Progress, signal?: AbortSignal): Promise<Descriptor> {
    const id = shortId(desc.digest);
    let target: Descriptor = desc;
    const compress = UNCOMPRESSED.has(desc.mediaType);
    if (compress) {
      const known = this.db
        .prepare('SELECT digest, size FROM layer_compressions WHERE diff_id = ? AND media_type = ?')
        .get(diffId, MediaType.OciLayerGzip) as { digest: Digest; size: number } | undefined;
      if (known) target = { mediaType: MediaType.OciLayerGzip, digest: known.digest, size: known.size };
    }
    if (!compress || target !== desc) {
      if (await client.blobExists(repo, target.digest, signal)) {
        this.images.addBlobSource(target.digest, client.domain, repo);
        progress({ status: 'Layer already exists', progressDetail: {}, id });
        return target;
      }
      for (const from of this.images.blobSources(target.digest, client.domain, repo)) {
        if (await client.mountBlob(repo, target.digest, from, signal)) {
          this.images.addBlobSource(target.digest, client.domain, repo);
          progress({ status: `Mounted from ${from}`, progressDetail: {}, id });
          return target;
        }
      }
    }
    if (!compress) {
      let last = 0;
      const onChunk = (sent: number): void => {
        if (Date.now() - last > 100) {
          last = Date.now();
          progress({ status: 'Pushing', progressDetail: { current: sent, total: desc.size }, progress: progressBar(sent, desc.size), id });
        }
      };
      if (!(await this.content.has(desc.digest))) throw new NotFoundError(`layer blob ${desc.digest} is not in the local content store`);
      // Read around the page cache into reused buffers (B96); a read error fails the upload.
      const body = storedBlobBody(this.content.path(desc.digest), desc.size, onChunk);
      await client.uploadBlob(repo, body, () => desc.digest, signal);
      this.images.addBlobSource(desc.digest, client.domain, repo);
      progress({ status: 'Pushed', progressDetail: {}, id });
      return desc;
    }
    // Compress while sending; the digest is known only at the end, which is when PUT needs it.
    const hash = createHash('sha256');
    let size = 0;
    let read = 0;
    let last = 0;
    if (!(await this.content.has(desc.digest))) throw new NotFoundError(`layer blob ${desc.digest} is not in the local content store`);
    let finalDigest = '';
    const digestNow = (): string => (finalDigest = `sha256:${hash.digest('hex')}`);
    const onRead = (n: number): void => {
      read = n;
    };
    const onOutput = (chunk: Buffer): void => {
      hash.update(chunk);
      size += chunk.length;
      if (Date.now() - last > 100) {
        last = Date.now();
        progress({ status: 'Pushing', progressDetail: { current: read, total: desc.size }, progress: progressBar(read, desc.size), id });
      }
    };
    const lib = isal();
    // An addon built before B97 has no deflate (set-up rebuilds it when isal.c is newer).
    if (lib !== null && typeof lib.createDeflater === 'function') {
      // ISA-L's level 1 on libuv's pool, the plain blob read around the page cache (B97).
      const body = isalGzipBody(lib, storedBlobBody(this.content.path(desc.digest), desc.size, onRead), onOutput);
      await client.uploadBlob(repo, body, digestNow, signal);
    } else {
      await this.uploadZlibGzip(client, repo, desc, signal, digestNow, onRead, onOutput);
    }
    this.db
      .prepare('INSERT OR REPLACE INTO layer_compressions (diff_id, media_type, digest, size) VALUES (?, ?, ?, ?)')
      .run(diffId, MediaType.OciLayerGzip, finalDigest, size);
    this.images.addBlobSource(finalDigest, client.domain, repo);
    progress({ status: 'Pushed', progressDetail: {}, id });
    return { mediaType: MediaType.OciLayerGzip, digest: finalDigest as Digest, size };
  }

  /** gzip -1 with zlib (where ISA-L is not built) while sending; told the plain bytes read and each gzip chunk. */
  private async uploadZlibGzip(
    client: RegistryClient,
    repo: string,
    desc: Descriptor,
    signal: AbortSignal | undefined,
    finalDigest: () => string,
    onRead: (read: number) => void,
    onOutput: (chunk: Buffer) => void,
  ): Promise<void> {
    let read = 0;
    const src = this.content.reader(desc.digest);
    const counter = new Transform({
      transform(chunk: Buffer, _e, cb) {
        read += chunk.length;
        onRead(read);
        cb(null, chunk);
      },
    });
    const tee = new Transform({
      transform(chunk: Buffer, _e, cb) {
        onOutput(chunk);
        cb(null, chunk);
      },
    });
    const piping = pipeline(src, counter, process.getBuiltinModule('node:zlib').createGzip({ level: 1 }), tee).catch(() => undefined);
    try {
      await client.uploadBlob(repo, tee, finalDigest, signal);
    } catch (e) {
      src.destroy();
      throw e;
    }
    await piping;
  }
}
