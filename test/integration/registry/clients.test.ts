// Black-box runs with real clients no one here wrote — skopeo (copy both ways, inspect, list-tags,
// delete, registry-to-registry, multi-arch) and podman (pull and push) — against `berth registry`,
// comparing the digests of what goes in and what comes out.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  layoutDigest,
  makeImage,
  pushImage,
  req,
  runAsync,
  sha256,
  skopeo,
  startRegistry,
  tempDir,
  writeLayout,
  missing,
  NO_SKOPEO,
  type TestImage,
  type TestRegistry,
} from './fixtures.js';

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

/** Every blob of the image at `tag` in layout `dir` must be byte-identical to `img`'s. */
function assertLayoutHolds(dir: string, tag: string, img: TestImage): void {
  const digest = layoutDigest(dir, tag);
  assert.equal(digest, img.manifest.digest, 'manifest digest in == out');
  for (const b of [img.manifest, img.config, ...img.layers]) {
    const got = readFileSync(join(dir, 'blobs', 'sha256', b.digest.slice(7)));
    assert.equal(sha256(got), b.digest);
  }
}

describe('skopeo against berth registry', { skip: NO_SKOPEO }, () => {
  let reg: TestRegistry;
  let work: string;
  before(async () => {
    reg = await startRegistry();
    work = tempDir('skopeo');
  });
  after(async () => {
    await reg?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('copy oci: → docker:// → oci: keeps every digest (OCI image, 3 layers of 2 MiB)', async () => {
    const img = makeImage({ layers: 3, layerSize: 2 * 1024 * 1024 });
    const src = join(work, 'src1');
    writeLayout(src, img, 'v1');
    const push = await skopeo(['copy', '--dest-tls-verify=false', `oci:${src}:v1`, `docker://${reg.host}/skopeo/oci:v1`]);
    assert.equal(push.code, 0, push.stderr);
    const dst = join(work, 'dst1');
    const pull = await skopeo(['copy', '--src-tls-verify=false', `docker://${reg.host}/skopeo/oci:v1`, `oci:${dst}:out`]);
    assert.equal(pull.code, 0, pull.stderr);
    assertLayoutHolds(dst, 'out', img);
  });

  it('inspect reports the pushed digest; --raw and --config --raw return the exact bytes', async () => {
    const img = makeImage({ layers: 1 });
    await pushImage(reg.url, 'skopeo/inspect', img, 'v1');
    const r = await skopeo(['inspect', '--tls-verify=false', `docker://${reg.host}/skopeo/inspect:v1`]);
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout) as { Digest: string; RepoTags: string[]; Architecture: string; Layers: string[] };
    assert.equal(info.Digest, img.manifest.digest);
    assert.deepEqual(info.RepoTags, ['v1']);
    assert.deepEqual(info.Layers, img.layers.map((l) => l.digest));
    const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/skopeo/inspect:v1`]);
    assert.equal(sha256(raw.stdout), img.manifest.digest);
    const cfg = await skopeo(['inspect', '--config', '--raw', '--tls-verify=false', `docker://${reg.host}/skopeo/inspect:v1`]);
    assert.equal(sha256(cfg.stdout), img.config.digest);
  });

  it('copy with --format v2s2 stores a Docker schema2 manifest with the same layers', async () => {
    const img = makeImage({ layers: 2 });
    const src = join(work, 'src2');
    writeLayout(src, img, 'v1');
    const push = await skopeo(['copy', '--format', 'v2s2', '--dest-tls-verify=false', `oci:${src}:v1`, `docker://${reg.host}/skopeo/docker:v1`]);
    assert.equal(push.code, 0, push.stderr);
    const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/skopeo/docker:v1`]);
    const m = JSON.parse(raw.stdout) as { mediaType: string; layers: { digest: string }[] };
    assert.equal(m.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
    assert.deepEqual(m.layers.map((l) => l.digest), img.layers.map((l) => l.digest));
    const dst = join(work, 'dst2');
    const pull = await skopeo(['copy', '--src-tls-verify=false', `docker://${reg.host}/skopeo/docker:v1`, `oci:${dst}:out`]);
    assert.equal(pull.code, 0, pull.stderr);
  });

  it('list-tags lists what was pushed', async () => {
    const img = makeImage({ layers: 1 });
    const src = join(work, 'src3');
    writeLayout(src, img, 'v1');
    for (const t of ['1.0', 'latest', 'beta']) {
      const r = await skopeo(['copy', '--dest-tls-verify=false', `oci:${src}:v1`, `docker://${reg.host}/skopeo/tags:${t}`]);
      assert.equal(r.code, 0, r.stderr);
    }
    const r = await skopeo(['list-tags', '--tls-verify=false', `docker://${reg.host}/skopeo/tags`]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as { Tags: string[] }).Tags, ['1.0', 'beta', 'latest']);
  });

  it('delete removes the manifest: inspect then fails with "manifest unknown"', async () => {
    const img = makeImage({ layers: 1 });
    await pushImage(reg.url, 'skopeo/delete', img, 'v1');
    const d = await skopeo(['delete', '--tls-verify=false', `docker://${reg.host}/skopeo/delete:v1`]);
    assert.equal(d.code, 0, d.stderr);
    const r = await skopeo(['inspect', '--tls-verify=false', `docker://${reg.host}/skopeo/delete:v1`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /manifest unknown/);
  });

  it('copy docker:// → docker:// within the registry keeps the digest', async () => {
    const img = makeImage({ layers: 2 });
    await pushImage(reg.url, 'skopeo/from', img, 'v1');
    const r = await skopeo(['copy', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${reg.host}/skopeo/from:v1`, `docker://${reg.host}/skopeo/to:v1`]);
    assert.equal(r.code, 0, r.stderr);
    const got = await req('HEAD', `${reg.url}/v2/skopeo/to/manifests/v1`, { headers: { Accept: img.manifest.mediaType } });
    assert.equal(got.headers['docker-content-digest'], img.manifest.digest);
  });

  it('copy --all of a multi-arch index pushes the index and both images', async () => {
    const amd = makeImage({ layers: 1, arch: 'amd64' });
    const arm = makeImage({ layers: 1, arch: 'arm64' });
    const dir = join(work, 'multi');
    writeLayout(dir, amd, 'x');
    writeLayout(join(work, 'multi-arm'), arm, 'x');
    for (const b of [arm.config, ...arm.layers, arm.manifest]) writeFileSync(join(dir, 'blobs', 'sha256', b.digest.slice(7)), b.data);
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [
          { mediaType: amd.manifest.mediaType, digest: amd.manifest.digest, size: amd.manifest.size, platform: { os: 'linux', architecture: 'amd64' } },
          { mediaType: arm.manifest.mediaType, digest: arm.manifest.digest, size: arm.manifest.size, platform: { os: 'linux', architecture: 'arm64' } },
        ],
      }),
    );
    writeFileSync(join(dir, 'blobs', 'sha256', sha256(index).slice(7)), index);
    writeFileSync(
      join(dir, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [{ mediaType: OCI_INDEX, digest: sha256(index), size: index.length, annotations: { 'org.opencontainers.image.ref.name': 'multi' } }],
      }),
    );
    const r = await skopeo(['copy', '--all', '--dest-tls-verify=false', `oci:${dir}:multi`, `docker://${reg.host}/skopeo/multi:v1`]);
    assert.equal(r.code, 0, r.stderr);
    const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/skopeo/multi:v1`]);
    assert.equal(sha256(raw.stdout), sha256(index));
    for (const img of [amd, arm]) {
      const h = await req('HEAD', `${reg.url}/v2/skopeo/multi/manifests/${img.manifest.digest}`);
      assert.equal(h.status, 200);
    }
    const out = join(work, 'multi-out');
    mkdirSync(out);
    const pull = await skopeo(['copy', '--all', '--src-tls-verify=false', `docker://${reg.host}/skopeo/multi:v1`, `oci:${out}:m`]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.equal(layoutDigest(out, 'm'), sha256(index));
  });
});

describe('podman against berth registry', { skip: missing('podman') }, () => {
  let reg: TestRegistry;
  let work: string;
  let podmanArgs: string[];
  before(async () => {
    reg = await startRegistry();
    work = tempDir('podman');
    podmanArgs = ['--root', join(work, 'root'), '--runroot', join(work, 'run'), '--storage-driver', 'vfs'];
  });
  after(async () => {
    await reg?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('podman pull gets the pushed image; podman push stores it under a new name with the same layers', async () => {
    const img = makeImage({ layers: 2 });
    await pushImage(reg.url, 'podman/img', img, 'v1');
    const pull = await runAsync('podman', [...podmanArgs, 'pull', '--tls-verify=false', `${reg.host}/podman/img:v1`]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.equal(pull.stdout.trim(), img.config.digest.slice(7), 'image ID is the config digest');
    const push = await runAsync('podman', [...podmanArgs, 'push', '--tls-verify=false', `${reg.host}/podman/img:v1`, `docker://${reg.host}/podman/copy:v1`]);
    assert.equal(push.code, 0, push.stderr);
    const r = await req('GET', `${reg.url}/v2/podman/copy/manifests/v1`, {
      headers: { Accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
    });
    assert.equal(r.status, 200);
    const m = r.json<{ config: { digest: string } }>();
    assert.equal(m.config.digest, img.config.digest);
  });
});
