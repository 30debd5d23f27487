/**
 * images/archive/saveTar: writes the tar `docker save` produces since Docker
 * 25 — the legacy layout (`manifest.json` with Config/RepoTags/Layers,
 * `repositories`) and an OCI image layout (`oci-layout`, `index.json`,
 * `blobs/sha256/…`) over the same blobs — from a plan of images whose blobs
 * are in the content store. Layers go out as stored (a plain tar for imported
 * images, the registry's gzip blob for pulled ones; `docker load` and OCI
 * readers take both), streamed from the content store: no layer is ever held
 * in memory. Entries are in the order Docker's directory walk gives.
 */
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ContentStore } from '../../content/contentStore.js';
import { MediaType } from '../../oci/image.js';
import { TarWriter } from '../../util/tar/writer.js';
import { digestHex, type Digest } from '../../util/digest.js';

export interface SaveImage {
  configDigest: Digest;
  config: Buffer;
  manifestDigest: Digest;
  manifest: Buffer;
  manifestMediaType: string;
  /** Layer blobs in order, bottom first, with their sizes in the content store. */
  layers: { digest: Digest; size: number }[];
  /** Full references with a tag ("docker.io/library/busybox:latest"), and their familiar forms. */
  refs: { full: string; familiar: string; familiarName: string; tag: string }[];
  platform: { architecture: string; os: string; variant?: string };
  /** Seconds since the epoch, for the blobs' mtimes (Docker uses the image's creation time). */
  created: number;
}

type Blob = { kind: 'bytes'; data: Buffer; mtime: number } | { kind: 'content'; digest: Digest; size: number; mtime: number };

const OCI_LAYOUT = '{"imageLayoutVersion": "1.0.0"}';

/** Go's json.Marshal escapes these; Docker's files carry the escapes. */
function goJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

/** The file contents for `images`, without the blobs' bodies. */
export function saveDocuments(images: readonly SaveImage[]): { manifestJson: string; indexJson: string; repositories: string | null } {
  const manifestItems = images.map((img) => ({
    Config: `blobs/sha256/${digestHex(img.configDigest)}`,
    RepoTags: img.refs.length > 0 ? img.refs.map((r) => r.familiar) : null,
    Layers: img.layers.map((l) => `blobs/sha256/${digestHex(l.digest)}`),
  }));
  const descriptors: unknown[] = [];
  const repos: Record<string, Record<string, string>> = {};
  for (const img of images) {
    const base = { mediaType: img.manifestMediaType, digest: img.manifestDigest, size: img.manifest.length, platform: img.platform };
    if (img.refs.length === 0) descriptors.push(base);
    for (const r of img.refs) {
      descriptors.push({ ...base, annotations: { 'io.containerd.image.name': r.full, 'org.opencontainers.image.ref.name': r.tag } });
      const top = img.layers[img.layers.length - 1];
      if (top) (repos[r.familiarName] ??= {})[r.tag] = digestHex(top.digest);
    }
  }
  return {
    manifestJson: `${goJson(manifestItems)}\n`,
    indexJson: goJson({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: descriptors }),
    repositories: Object.keys(repos).length > 0 ? `${goJson(repos)}\n` : null,
  };
}

/** Streams the archive of `images` to `out` (which is left open). */
export async function writeSaveTar(images: readonly SaveImage[], content: ContentStore, out: Writable, signal: AbortSignal): Promise<void> {
  const blobs = new Map<string, Blob>();
  for (const img of images) {
    blobs.set(digestHex(img.configDigest), { kind: 'bytes', data: img.config, mtime: img.created });
    blobs.set(digestHex(img.manifestDigest), { kind: 'bytes', data: img.manifest, mtime: 0 });
    for (const l of img.layers) {
      if (!blobs.has(digestHex(l.digest))) blobs.set(digestHex(l.digest), { kind: 'content', digest: l.digest, size: l.size, mtime: img.created });
    }
  }
  const docs = saveDocuments(images);
  const tar = new TarWriter();
  const sec = (s: number): bigint => BigInt(Math.max(0, Math.floor(s))) * 1_000_000_000n;
  const file = (name: string, data: Buffer | string, mtime = 0): Promise<void> => {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    return tar.add({ name, type: 'file', mode: 0o644, size: buf.length, mtimeNs: sec(mtime) }, buf);
  };
  const produce = async (): Promise<void> => {
    try {
      await tar.add({ name: 'blobs/', type: 'directory', mode: 0o755, mtimeNs: 0n });
      await tar.add({ name: 'blobs/sha256/', type: 'directory', mode: 0o755, mtimeNs: 0n });
      for (const hex of [...blobs.keys()].sort()) {
        signal.throwIfAborted();
        const b = blobs.get(hex) as Blob;
        const name = `blobs/sha256/${hex}`;
        if (b.kind === 'bytes') {
          await file(name, b.data, b.mtime);
          continue;
        }
        const src = content.reader(b.digest);
        try {
          await tar.add({ name, type: 'file', mode: 0o644, size: b.size, mtimeNs: sec(b.mtime) }, src);
        } finally {
          src.destroy();
        }
      }
      await file('index.json', docs.indexJson);
      await file('manifest.json', docs.manifestJson);
      await file('oci-layout', OCI_LAYOUT);
      if (docs.repositories !== null) await file('repositories', docs.repositories);
      await tar.finish();
    } catch (e) {
      tar.abort(e instanceof Error ? e : new Error(String(e)));
      throw e;
    }
  };
  const consume = pipeline(tar.stream, out, { end: false, signal });
  const results = await Promise.allSettled([produce(), consume]);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
}
