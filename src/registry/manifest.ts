/**
 * registry/manifest: reads a pushed manifest's bytes into what the registry
 * needs to know — its media type, the blobs and manifests it references, its
 * subject and artifact type (for the referrers API). Checks shape, not
 * storage: whether referenced content exists is the caller's business.
 * Never alters the bytes (the registry stores exactly what was pushed).
 */
import { manifestInvalid } from './errors.js';
import {
  DOCKER_LIST,
  DOCKER_MANIFEST,
  DOCKER_SCHEMA1,
  DOCKER_SCHEMA1_SIGNED,
  IMAGE_MANIFEST_TYPES,
  INDEX_TYPES,
  OCI_INDEX,
  OCI_MANIFEST,
  bareType,
} from './mediaTypes.js';
import { isAnyDigest } from './names.js';

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  platform?: Platform;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface ParsedManifest {
  mediaType: string;
  kind: 'image' | 'index';
  /** Config and layers of an image manifest (empty for an index). */
  blobs: Descriptor[];
  /** Children of an index (empty for an image manifest). */
  manifests: Descriptor[];
  subject?: Descriptor;
  /** What the referrers API reports: `artifactType`, else the config's media type for an image. */
  artifactType?: string;
  annotations?: Record<string, string>;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringMap(v: unknown, where: string): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw manifestInvalid(`${where}: annotations must be an object of strings`);
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string') throw manifestInvalid(`${where}: annotation "${k}" is not a string`);
  }
  return v as Record<string, string>;
}

function descriptor(v: unknown, where: string): Descriptor {
  if (!isObject(v)) throw manifestInvalid(`${where}: not an object`);
  const { mediaType, digest, size } = v;
  if (typeof mediaType !== 'string' || mediaType === '') throw manifestInvalid(`${where}: mediaType missing`);
  if (typeof digest !== 'string' || !isAnyDigest(digest)) throw manifestInvalid(`${where}: invalid digest ${JSON.stringify(digest)}`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw manifestInvalid(`${where}: invalid size`);
  const d: Descriptor = { mediaType, digest, size };
  if (v['urls'] !== undefined) {
    const urls = v['urls'];
    if (!Array.isArray(urls) || !urls.every((u) => typeof u === 'string')) throw manifestInvalid(`${where}: urls must be strings`);
    if (urls.length > 0) d.urls = urls as string[];
  }
  const p = v['platform'];
  if (isObject(p) && typeof p['architecture'] === 'string' && typeof p['os'] === 'string') {
    d.platform = { architecture: p['architecture'], os: p['os'] };
    if (typeof p['variant'] === 'string') d.platform.variant = p['variant'];
  }
  if (typeof v['artifactType'] === 'string') d.artifactType = v['artifactType'];
  const ann = stringMap(v['annotations'], where);
  if (ann !== undefined) d.annotations = ann;
  return d;
}

function descriptors(v: unknown, where: string, required: boolean): Descriptor[] {
  if (v === undefined || v === null) {
    if (required) throw manifestInvalid(`${where} missing`);
    return [];
  }
  if (!Array.isArray(v)) throw manifestInvalid(`${where} must be an array`);
  return v.map((d, i) => descriptor(d, `${where}[${i}]`));
}

/**
 * Parses a manifest pushed with `Content-Type: contentType`. The body's own
 * `mediaType`, when present, must agree with the header; without either the
 * shape decides (an OCI manifest may omit both).
 */
export function parseManifest(bytes: Uint8Array, contentType: string | undefined): ParsedManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (e) {
    throw manifestInvalid(`not JSON: ${(e as Error).message}`);
  }
  if (!isObject(doc)) throw manifestInvalid('not a JSON object');
  const header = bareType(contentType);
  const declared = doc['mediaType'];
  if (declared !== undefined && typeof declared !== 'string') throw manifestInvalid('mediaType must be a string');
  if (doc['schemaVersion'] === 1 || header === DOCKER_SCHEMA1 || header === DOCKER_SCHEMA1_SIGNED) {
    throw manifestInvalid('Docker schema1 manifests are not supported; push with schema2 or OCI');
  }
  let mediaType: string;
  if (declared !== undefined && declared !== '') {
    if (header !== '' && header !== declared && header !== 'application/json' && header !== 'application/octet-stream') {
      throw manifestInvalid(`mediaType "${declared}" does not match Content-Type "${header}"`);
    }
    mediaType = declared;
  } else if (IMAGE_MANIFEST_TYPES.has(header) || INDEX_TYPES.has(header)) {
    mediaType = header;
  } else if (Array.isArray(doc['manifests'])) {
    mediaType = OCI_INDEX;
  } else if (isObject(doc['config'])) {
    mediaType = OCI_MANIFEST;
  } else {
    throw manifestInvalid(`unsupported manifest media type "${header}"`);
  }
  if (!IMAGE_MANIFEST_TYPES.has(mediaType) && !INDEX_TYPES.has(mediaType)) {
    throw manifestInvalid(`unsupported manifest media type "${mediaType}"`);
  }
  if ((mediaType === DOCKER_MANIFEST || mediaType === DOCKER_LIST) && declared === undefined) {
    throw manifestInvalid('a Docker schema2 manifest must carry its mediaType');
  }
  if (doc['schemaVersion'] !== 2) throw manifestInvalid('schemaVersion must be 2');

  const out: ParsedManifest = { mediaType, kind: INDEX_TYPES.has(mediaType) ? 'index' : 'image', blobs: [], manifests: [] };
  if (doc['subject'] !== undefined && doc['subject'] !== null) out.subject = descriptor(doc['subject'], 'subject');
  const ann = stringMap(doc['annotations'], 'annotations');
  if (ann !== undefined) out.annotations = ann;
  const artifactType = doc['artifactType'];
  if (artifactType !== undefined && typeof artifactType !== 'string') throw manifestInvalid('artifactType must be a string');

  if (out.kind === 'image') {
    const config = descriptor(doc['config'], 'config');
    out.blobs = [config, ...descriptors(doc['layers'], 'layers', mediaType === DOCKER_MANIFEST)];
    const at = artifactType !== undefined && artifactType !== '' ? artifactType : config.mediaType;
    out.artifactType = at;
  } else {
    out.manifests = descriptors(doc['manifests'], 'manifests', true);
    if (artifactType !== undefined && artifactType !== '') out.artifactType = artifactType;
  }
  return out;
}
