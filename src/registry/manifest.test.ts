import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RegistryError } from './errors.js';
import { parseManifest } from './manifest.js';
import { acceptedTypes, accepts } from './mediaTypes.js';
import { checkDigest, checkName } from './names.js';

const D = (c: string): string => `sha256:${c.repeat(64)}`;
const enc = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    return e instanceof RegistryError ? e.code : 'other';
  }
  return undefined;
};

describe('parseManifest', () => {
  const image = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: D('a'), size: 2 },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: D('b'), size: 3, urls: ['http://x'] }],
    subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: D('c'), size: 4 },
    annotations: { k: 'v' },
  };

  it('reads an OCI image: blobs, subject, annotations, artifactType from the config type', () => {
    const m = parseManifest(enc(image), 'application/vnd.oci.image.manifest.v1+json; charset=utf-8');
    assert.equal(m.kind, 'image');
    assert.deepEqual(m.blobs.map((b) => b.digest), [D('a'), D('b')]);
    assert.deepEqual(m.blobs[1]?.urls, ['http://x']);
    assert.equal(m.subject?.digest, D('c'));
    assert.deepEqual(m.annotations, { k: 'v' });
    assert.equal(m.artifactType, 'application/vnd.oci.image.config.v1+json');
  });

  it('reads an index and infers an OCI type from the shape when no type is given', () => {
    const idx = { schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: D('d'), size: 9, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }] };
    const m = parseManifest(enc(idx), undefined);
    assert.equal(m.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.deepEqual(m.manifests[0]?.platform, { os: 'linux', architecture: 'arm64', variant: 'v8' });
    assert.equal(m.artifactType, undefined);
  });

  it('refuses with MANIFEST_INVALID: not JSON, schema1, type mismatch, Docker type missing, bad descriptors', () => {
    assert.equal(code(() => parseManifest(Buffer.from('nope'), undefined)), 'MANIFEST_INVALID');
    assert.equal(code(() => parseManifest(enc({ schemaVersion: 1 }), undefined)), 'MANIFEST_INVALID');
    assert.equal(code(() => parseManifest(enc(image), 'application/vnd.docker.distribution.manifest.v2+json')), 'MANIFEST_INVALID');
    const { mediaType: _drop, ...untyped } = image;
    assert.equal(code(() => parseManifest(enc(untyped), 'application/vnd.docker.distribution.manifest.v2+json')), 'MANIFEST_INVALID');
    assert.equal(code(() => parseManifest(enc({ ...image, config: { ...image.config, size: -1 } }), undefined)), 'MANIFEST_INVALID');
    assert.equal(code(() => parseManifest(enc({ ...image, layers: [{ digest: D('e'), size: 1 }] }), undefined)), 'MANIFEST_INVALID');
    assert.equal(code(() => parseManifest(enc({ ...image, annotations: { k: 1 } }), undefined)), 'MANIFEST_INVALID');
    assert.equal(code(() => parseManifest(enc({ ...image, mediaType: 'application/x-other' }), undefined)), 'MANIFEST_INVALID');
  });
});

describe('Accept negotiation', () => {
  it('collects types from several headers and comma lists, drops q=0, understands wildcards', () => {
    const a = acceptedTypes(['a/x, b/y;q=0.5', 'c/z;q=0']);
    assert.deepEqual([...(a ?? [])], ['a/x', 'b/y']);
    assert.ok(accepts(a, 'b/y'));
    assert.ok(!accepts(a, 'c/z'));
    assert.ok(accepts(acceptedTypes('application/*'), 'application/vnd.oci.image.manifest.v1+json'));
    assert.ok(accepts(undefined, 'anything/at-all'));
  });
});

describe('names and digests', () => {
  it('accepts the spec grammar and refuses the rest with NAME_INVALID', () => {
    for (const ok of ['a', 'a/b', 'a-b/c__d/e.f', 'x0-----y']) assert.equal(checkName(ok), ok);
    for (const bad of ['A', 'a/', '/a', 'a..b', 'a___b', '-a', 'a'.repeat(256)]) assert.equal(code(() => checkName(bad)), 'NAME_INVALID');
  });
  it('accepts sha256 only; other algorithms and malformed digests are DIGEST_INVALID', () => {
    assert.equal(checkDigest(D('f')), D('f'));
    for (const bad of [null, '', 'sha256:abc', `sha256:${'A'.repeat(64)}`, `sha512:${'a'.repeat(128)}`, 'nonsense']) {
      assert.equal(code(() => checkDigest(bad)), 'DIGEST_INVALID', String(bad));
    }
  });
});
