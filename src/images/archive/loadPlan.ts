/**
 * images/archive/loadPlan: what a spooled archive contains — the images of a
 * `docker save` tar (`manifest.json`, any Docker version: layer paths of the
 * 1.10–24 layout or `blobs/sha256/…` of 25+, plain or compressed layers) or,
 * failing that, of an OCI image layout (`index.json`, nested indexes resolved
 * for one platform). Every descriptor is checked against the member it names
 * (digest, size, media type); configs are parsed and matched to their layer
 * count. Reads members only through the content store; registers nothing.
 */
import { InvalidArgumentError, NotFoundError, messageOf } from '../../errdefs/errors.js';
import type { ContentStore } from '../../content/contentStore.js';
import { MediaType, type Descriptor, type ImageConfig } from '../../oci/image.js';
import { formatPlatform, selectManifest, type Platform } from '../../oci/platform.js';
import { detectCompression, type Compression } from '../../util/tar/decompress.js';
import { isDigest, type Digest } from '../../util/digest.js';
import { parseNormalizedNamed, withDefaultTag, type Reference } from '../../reference/index.js';
import { MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES } from '../../distribution/limits.js';
import type { SpooledArchive, SpooledMember } from './archiveSpool.js';

export interface PlannedLayer {
  /** The blob in the content store. */
  digest: Digest;
  size: number;
  mediaType: string;
  diffId: Digest;
  /** xz and bzip2 layers have no OCI media type: they are stored decompressed first. */
  compression: Compression;
}

export interface PlannedImage {
  config: ImageConfig;
  configDigest: Digest;
  /** A manifest blob already in the content store, or null: one is made from the layers. */
  manifestDigest: Digest | null;
  layers: PlannedLayer[];
  refs: Reference[];
}

const LAYER_TYPES = new Set<string>([
  MediaType.OciLayer,
  MediaType.OciLayerGzip,
  MediaType.OciLayerZstd,
  MediaType.DockerLayerGzip,
  'application/vnd.docker.image.rootfs.diff.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
]);
const MANIFEST_TYPES = new Set<string>([MediaType.OciManifest, MediaType.DockerManifest]);
const INDEX_TYPES = new Set<string>([MediaType.OciIndex, MediaType.DockerManifestList]);

function bad(msg: string): InvalidArgumentError {
  return new InvalidArgumentError(`invalid archive: ${msg}`);
}

function parseJson(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch (e) {
    throw bad(`${what} is not valid JSON: ${messageOf(e)}`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkDescriptor(v: unknown, what: string): Descriptor {
  if (!isObject(v) || typeof v['digest'] !== 'string' || typeof v['size'] !== 'number' || !Number.isSafeInteger(v['size']) || v['size'] < 0) {
    throw bad(`${what} is not a valid descriptor`);
  }
  if (!isDigest(v['digest'])) throw bad(`${what}: unsupported digest "${v['digest']}" (only sha256 is supported)`);
  if (v['mediaType'] !== undefined && typeof v['mediaType'] !== 'string') throw bad(`${what} has an invalid media type`);
  return v as unknown as Descriptor;
}

/** Parses and checks an image config: platform strings and diff IDs. */
export function parseConfig(bytes: Buffer, what: string): ImageConfig {
  const v = parseJson(bytes, what);
  if (!isObject(v)) throw bad(`${what} is not a JSON object`);
  const rootfs = v['rootfs'];
  if (!isObject(rootfs) || !Array.isArray(rootfs['diff_ids'])) throw bad(`${what} has no rootfs.diff_ids`);
  for (const d of rootfs['diff_ids'] as unknown[]) {
    if (typeof d !== 'string' || !isDigest(d)) throw bad(`${what} has an invalid diff ID ${JSON.stringify(d)}`);
  }
  if (typeof v['os'] !== 'string' || typeof v['architecture'] !== 'string') throw bad(`${what} lacks os or architecture`);
  return v as unknown as ImageConfig;
}

function layerMediaType(c: Compression): string {
  if (c === 'gzip') return MediaType.OciLayerGzip;
  if (c === 'zstd') return MediaType.OciLayerZstd;
  return MediaType.OciLayer;
}

export class LoadPlanner {
  constructor(
    private readonly spool: SpooledArchive,
    private readonly content: ContentStore,
    private readonly platform: Platform,
  ) {}

  async plan(): Promise<PlannedImage[]> {
    const manifestJson = this.spool.metadata.get('manifest.json');
    if (manifestJson) return this.planDockerSave(manifestJson);
    const index = this.spool.metadata.get('index.json');
    if (index) return this.planOciLayout(index);
    if (this.spool.metadata.has('repositories')) {
      throw bad('this is a pre-1.10 Docker image archive (no manifest.json), which is not supported');
    }
    throw bad('neither manifest.json nor index.json found; is this an image archive made by docker save or an OCI image layout?');
  }

  /** The member at archive path `path`, following links. */
  private memberAt(path: string, what: string): SpooledMember {
    const key = this.spool.links.resolve(path);
    const m = this.spool.members.get(key);
    if (!m) throw bad(`${what} "${path}" is missing from the archive`);
    return m;
  }

  /** The blob `desc` names (`blobs/sha256/<hex>`), checked against the descriptor's size. */
  private blobFor(desc: Descriptor, what: string): SpooledMember {
    const m = this.memberAt(`blobs/sha256/${desc.digest.slice(7)}`, `${what} ${desc.digest}`);
    // The spool checked the digest against the name; the size is the descriptor's promise.
    if (m.size !== desc.size) throw bad(`${what} ${desc.digest} is ${m.size} bytes, its descriptor says ${desc.size}`);
    return m;
  }

  private async read(m: SpooledMember, limit: number, what: string): Promise<Buffer> {
    if (m.size > limit) throw bad(`${what} is ${m.size} bytes, over the ${limit}-byte limit`);
    return this.content.readAll(m.digest, limit);
  }

  private async planDockerSave(bytes: Buffer): Promise<PlannedImage[]> {
    const items = parseJson(bytes, 'manifest.json');
    if (!Array.isArray(items)) throw bad('manifest.json is not a list');
    const out: PlannedImage[] = [];
    for (const [i, item] of items.entries()) {
      if (!isObject(item) || typeof item['Config'] !== 'string' || !Array.isArray(item['Layers'])) {
        throw bad(`manifest.json entry ${i} lacks Config or Layers`);
      }
      const cfgPath = item['Config'];
      const cfgMember = this.memberAt(cfgPath, 'image config');
      const named = /(?:^|\/)([a-f0-9]{64})(?:\.json)?$/.exec(cfgPath);
      if (named && `sha256:${named[1]}` !== cfgMember.digest) {
        throw bad(`image config "${cfgPath}" does not match its digest (got ${cfgMember.digest})`);
      }
      const config = parseConfig(await this.read(cfgMember, MAX_CONFIG_BYTES, `image config "${cfgPath}"`), `image config "${cfgPath}"`);
      const diffIds = config.rootfs.diff_ids;
      const paths = item['Layers'] as unknown[];
      if (paths.length !== diffIds.length) {
        throw bad(`image config "${cfgPath}" lists ${diffIds.length} layers, manifest.json ${paths.length}`);
      }
      const layers = paths.map((p, li): PlannedLayer => {
        if (typeof p !== 'string') throw bad(`manifest.json entry ${i} has an invalid layer path`);
        const m = this.memberAt(p, 'layer');
        const compression = detectCompression(m.head);
        const diffId = diffIds[li] as Digest;
        // A plain layer's digest is its diff ID; say so now rather than after unpacking it.
        if (compression === 'none' && m.digest !== diffId) throw bad(`layer "${p}" does not match its diff ID ${diffId} (got ${m.digest})`);
        return { digest: m.digest, size: m.size, mediaType: layerMediaType(compression), diffId, compression };
      });
      const refs: Reference[] = [];
      const tags = item['RepoTags'];
      if (tags !== null && tags !== undefined) {
        if (!Array.isArray(tags)) throw bad(`manifest.json entry ${i} has invalid RepoTags`);
        for (const t of tags) {
          let ref: Reference;
          try {
            ref = parseNormalizedNamed(String(t));
          } catch (e) {
            throw bad(`invalid tag ${JSON.stringify(t)}: ${messageOf(e)}`);
          }
          if (ref.tag === undefined || ref.digest !== undefined) throw bad(`invalid tag ${JSON.stringify(t)}`);
          refs.push(ref);
        }
      }
      out.push({ config, configDigest: cfgMember.digest, manifestDigest: null, layers, refs });
    }
    return out;
  }

  private async planOciLayout(bytes: Buffer): Promise<PlannedImage[]> {
    const index = parseJson(bytes, 'index.json');
    if (!isObject(index) || !Array.isArray(index['manifests'])) throw bad('index.json has no manifests list');
    const out: PlannedImage[] = [];
    for (const [i, raw] of (index['manifests'] as unknown[]).entries()) {
      const desc = checkDescriptor(raw, `index.json entry ${i}`);
      const refs = refsOf(desc.annotations);
      out.push(await this.planManifest(desc, refs, 0));
    }
    return out;
  }

  private async planManifest(desc: Descriptor, refs: Reference[], depth: number): Promise<PlannedImage> {
    const blob = this.blobFor(desc, 'manifest');
    const doc = parseJson(await this.read(blob, MAX_MANIFEST_BYTES, `manifest ${desc.digest}`), `manifest ${desc.digest}`);
    if (!isObject(doc)) throw bad(`manifest ${desc.digest} is not a JSON object`);
    const mediaType = (typeof doc['mediaType'] === 'string' ? doc['mediaType'] : '') || desc.mediaType || '';
    if (INDEX_TYPES.has(mediaType) || (mediaType === '' && Array.isArray(doc['manifests']))) {
      if (depth > 0) throw bad(`index ${desc.digest} is nested more than once`);
      const list = (Array.isArray(doc['manifests']) ? doc['manifests'] : []).map((d, j) => checkDescriptor(d, `index ${desc.digest} entry ${j}`));
      const chosen = selectManifest(list, this.platform);
      if (!chosen) throw new NotFoundError(`no matching manifest for ${formatPlatform(this.platform)} in index ${desc.digest}`);
      return this.planManifest(chosen, refs, depth + 1);
    }
    if (!MANIFEST_TYPES.has(mediaType) && !(mediaType === '' && isObject(doc['config']))) {
      throw bad(`unsupported manifest media type "${mediaType}" for ${desc.digest}`);
    }
    const configDesc = checkDescriptor(doc['config'], `manifest ${desc.digest}: config`);
    if (!Array.isArray(doc['layers'])) throw bad(`manifest ${desc.digest} has no layers list`);
    const layerDescs = (doc['layers'] as unknown[]).map((l, j) => checkDescriptor(l, `manifest ${desc.digest}: layer ${j}`));
    const cfgBlob = this.blobFor(configDesc, 'image config');
    const config = parseConfig(await this.read(cfgBlob, MAX_CONFIG_BYTES, `image config ${configDesc.digest}`), `image config ${configDesc.digest}`);
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== layerDescs.length) {
      throw bad(`image config ${configDesc.digest} lists ${diffIds.length} layers, its manifest ${layerDescs.length}`);
    }
    const layers = layerDescs.map((l, j): PlannedLayer => {
      if (!LAYER_TYPES.has(l.mediaType)) throw bad(`unsupported layer media type "${l.mediaType}" for layer ${l.digest}`);
      const m = this.blobFor(l, 'layer');
      const compression = detectCompression(m.head);
      return { digest: m.digest, size: m.size, mediaType: l.mediaType, diffId: diffIds[j] as Digest, compression };
    });
    return { config, configDigest: configDesc.digest, manifestDigest: desc.digest, layers, refs };
  }
}

/**
 * The image name an OCI index entry carries: containerd's full name, else a
 * `ref.name` that is a whole reference ("busybox:latest"). A bare tag
 * ("latest", as skopeo writes) names no repository: the image loads untagged.
 */
function refsOf(annotations: Record<string, string> | undefined): Reference[] {
  const a = annotations ?? {};
  const candidates = [a['io.containerd.image.name'], a['org.opencontainers.image.ref.name']];
  for (const c of candidates) {
    if (typeof c !== 'string' || c === '') continue;
    if (c === a['org.opencontainers.image.ref.name'] && !c.includes(':') && !c.includes('/')) continue;
    try {
      const ref = withDefaultTag(parseNormalizedNamed(c));
      if (ref.tag !== undefined && ref.digest === undefined) return [ref];
    } catch {
      // not a reference: try the next
    }
  }
  return [];
}
