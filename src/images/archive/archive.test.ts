// The archive pieces without a daemon: spooling a tar into a content store,
// reading its documents (docker-save of every Docker era, OCI layout), and the
// documents save writes. Hostile members are refused and leave no blob.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { ContentStore } from '../../content/contentStore.js';
import { TarWriter } from '../../util/tar/writer.js';
import type { TarHeaderInput } from '../../util/tar/types.js';
import { sha256Of, type Digest } from '../../util/digest.js';
import { parsePlatform } from '../../oci/platform.js';
import { referenceString } from '../../reference/index.js';
import { spoolArchive } from './archiveSpool.js';
import { LoadPlanner } from './loadPlan.js';
import { saveDocuments } from './saveTar.js';

type Entry = [TarHeaderInput, Buffer?];

async function tarOf(entries: Entry[]): Promise<Buffer> {
  const w = new TarWriter();
  const parts: Buffer[] = [];
  const done = (async () => {
    for await (const c of w.stream) parts.push(c as Buffer);
  })();
  for (const [h, b] of entries) await w.add(h, b);
  await w.finish();
  await done;
  return Buffer.concat(parts);
}

const file = (name: string, data: Buffer | string): Entry => {
  const b = Buffer.isBuffer(data) ? data : Buffer.from(data);
  return [{ name, type: 'file', size: b.length, mode: 0o644 }, b];
};
const hex = (d: string): string => d.slice(7);

/** A tiny layer: one file. */
async function layerTar(name: string, body: string): Promise<Buffer> {
  return tarOf([file(name, body)]);
}

function configFor(diffIds: string[]): Buffer {
  return Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: diffIds } }));
}

describe('image archives (spool and plan)', () => {
  let dir: string;
  let store: ContentStore;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-arch-'));
  });
  beforeEach(async () => {
    rmSync(join(dir, 'c'), { recursive: true, force: true });
    store = new ContentStore(join(dir, 'c'));
    await store.init();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const blobs = (): string[] => readdirSync(join(dir, 'c', 'blobs', 'sha256'));

  it('reads a Docker 25+ docker-save tar whose manifest.json comes after the layers', async () => {
    const l1 = await layerTar('a.txt', 'one');
    const l2 = gzipSync(await layerTar('b.txt', 'two'));
    const d1 = sha256Of(l1);
    const d2plain = sha256Of(await layerTar('b.txt', 'two'));
    const cfg = configFor([d1, d2plain]);
    const tar = await tarOf([
      [{ name: 'blobs/', type: 'directory' }],
      file(`blobs/sha256/${hex(sha256Of(cfg))}`, cfg),
      file(`blobs/sha256/${hex(d1)}`, l1),
      file(`blobs/sha256/${hex(sha256Of(l2))}`, l2),
      file('manifest.json', JSON.stringify([{ Config: `blobs/sha256/${hex(sha256Of(cfg))}`, RepoTags: ['busybox:latest', 'x/y:1'], Layers: [`blobs/sha256/${hex(d1)}`, `blobs/sha256/${hex(sha256Of(l2))}`] }])),
    ]);
    const spool = await spoolArchive(Readable.from([tar]), store);
    const [img, ...rest] = await new LoadPlanner(spool, store, parsePlatform('linux/amd64')).plan();
    assert.equal(rest.length, 0);
    assert.equal(img?.configDigest, sha256Of(cfg));
    assert.deepEqual(img?.refs.map((r) => referenceString(r)), ['docker.io/library/busybox:latest', 'docker.io/x/y:1']);
    assert.deepEqual(img?.layers.map((l) => [l.digest, l.diffId, l.mediaType]), [
      [d1, d1, 'application/vnd.oci.image.layer.v1.tar'],
      [sha256Of(l2), d2plain, 'application/vnd.oci.image.layer.v1.tar+gzip'],
    ]);
    assert.equal(img?.manifestDigest, null);
  });

  it('reads a Docker 1.10–24 tar: <id>/layer.tar, a symlinked duplicate layer, <hex>.json config', async () => {
    const l1 = await layerTar('a.txt', 'one');
    const d1 = sha256Of(l1);
    const cfg = configFor([d1, d1]);
    const tar = await tarOf([
      file('aaa/layer.tar', l1),
      file('aaa/json', '{}'),
      file('aaa/VERSION', '1.0'),
      [{ name: 'bbb/layer.tar', type: 'symlink', linkname: '../aaa/layer.tar' }],
      file(`${hex(sha256Of(cfg))}.json`, cfg),
      file('manifest.json', JSON.stringify([{ Config: `${hex(sha256Of(cfg))}.json`, RepoTags: null, Layers: ['aaa/layer.tar', 'bbb/layer.tar'] }])),
      file('repositories', '{}'),
    ]);
    const spool = await spoolArchive(Readable.from([tar]), store);
    const [img] = await new LoadPlanner(spool, store, parsePlatform('linux/amd64')).plan();
    assert.deepEqual(img?.layers.map((l) => l.digest), [d1, d1]);
    assert.deepEqual(img?.refs, []);
  });

  it('reads an OCI layout, choosing this platform from a nested index and the name from annotations', async () => {
    const l1 = gzipSync(await layerTar('a.txt', 'one'));
    const diff = sha256Of(await layerTar('a.txt', 'one'));
    const cfg = configFor([diff]);
    const man = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256Of(cfg), size: cfg.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256Of(l1), size: l1.length }],
    }));
    const idx = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256Of('other'), size: 5, platform: { os: 'linux', architecture: 'arm64' } },
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256Of(man), size: man.length, platform: { os: 'linux', architecture: 'amd64' } },
      ],
    }));
    const tar = await tarOf([
      file('oci-layout', '{"imageLayoutVersion":"1.0.0"}'),
      file('index.json', JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: sha256Of(idx), size: idx.length, annotations: { 'io.containerd.image.name': 'docker.io/library/multi:1', 'org.opencontainers.image.ref.name': '1' } }] })),
      file(`blobs/sha256/${hex(sha256Of(idx))}`, idx),
      file(`blobs/sha256/${hex(sha256Of(man))}`, man),
      file(`blobs/sha256/${hex(sha256Of(cfg))}`, cfg),
      file(`blobs/sha256/${hex(sha256Of(l1))}`, l1),
    ]);
    const spool = await spoolArchive(Readable.from([tar]), store);
    const [img] = await new LoadPlanner(spool, store, parsePlatform('linux/amd64')).plan();
    assert.equal(img?.manifestDigest, sha256Of(man));
    assert.deepEqual(img?.refs.map((r) => referenceString(r)), ['docker.io/library/multi:1']);
    await assert.rejects(new LoadPlanner(spool, store, parsePlatform('linux/arm64')).plan(), /manifest sha256:[0-9a-f]+ "blobs|is missing from the archive/);
    await assert.rejects(new LoadPlanner(spool, store, parsePlatform('linux/s390x')).plan(), /no matching manifest for linux\/s390x/);
  });

  it('refuses a blob whose content does not match its name, and keeps no blob', async () => {
    const tar = await tarOf([file(`blobs/sha256/${hex(sha256Of('expected'))}`, 'something else'), file('other', 'data')]);
    await assert.rejects(spoolArchive(Readable.from([tar]), store), /does not match its digest/);
    assert.deepEqual(blobs(), []);
  });

  it('refuses members and links that climb out of the archive, and keeps no blob', async () => {
    await assert.rejects(spoolArchive(Readable.from([await tarOf([file('ok', 'x'), file('../evil', 'x')])]), store), /points outside the archive/);
    assert.deepEqual(blobs(), []);
    const tar = await tarOf([[{ name: 'l', type: 'symlink', linkname: '../../etc/passwd' }], file('manifest.json', '[{"Config":"l","Layers":[]}]')]);
    const spool = await spoolArchive(Readable.from([tar]), store);
    await assert.rejects(new LoadPlanner(spool, store, parsePlatform(null)).plan(), /points outside the archive/);
  });

  it('refuses a truncated archive and keeps no blob', async () => {
    const tar = await tarOf([file('a', Buffer.alloc(5000, 1)), file('b', Buffer.alloc(5000, 2))]);
    await assert.rejects(spoolArchive(Readable.from([tar.subarray(0, 6000)]), store), /truncated/);
    assert.deepEqual(blobs(), []);
  });

  it('names what is wrong in a manifest.json: a missing layer, a layer count mismatch, a plain layer not matching its diff ID', async () => {
    const l1 = await layerTar('a.txt', 'one');
    const cfg = configFor([sha256Of(l1)]);
    const base = (layers: string[], cfgBytes = cfg): Promise<Buffer> =>
      tarOf([file('c.json', cfgBytes), file('l1.tar', l1), file('manifest.json', JSON.stringify([{ Config: 'c.json', RepoTags: ['a:1'], Layers: layers }]))]);
    const plan = async (tar: Buffer): Promise<unknown> => new LoadPlanner(await spoolArchive(Readable.from([tar]), store), store, parsePlatform(null)).plan();
    await assert.rejects(plan(await base(['missing.tar'])), /layer "missing.tar" is missing from the archive/);
    await assert.rejects(plan(await base(['l1.tar', 'l1.tar'])), /lists 1 layers, manifest.json 2/);
    await assert.rejects(plan(await base(['l1.tar'], configFor([sha256Of('nope')]))), /does not match its diff ID/);
  });

  it('writes save documents as Docker 25+ does', () => {
    const cfg = sha256Of('cfg') as Digest;
    const layer = sha256Of('layer') as Digest;
    const man = sha256Of('man') as Digest;
    const docs = saveDocuments([
      {
        configDigest: cfg,
        config: Buffer.from('cfg'),
        manifestDigest: man,
        manifest: Buffer.from('man'),
        manifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
        layers: [{ digest: layer, size: 5 }],
        refs: [{ full: 'docker.io/library/busybox:latest', familiar: 'busybox:latest', familiarName: 'busybox', tag: 'latest' }],
        platform: { architecture: 'amd64', os: 'linux' },
        created: 0,
      },
    ]);
    assert.deepEqual(JSON.parse(docs.manifestJson), [{ Config: `blobs/sha256/${hex(cfg)}`, RepoTags: ['busybox:latest'], Layers: [`blobs/sha256/${hex(layer)}`] }]);
    assert.ok(docs.manifestJson.endsWith('\n'));
    assert.deepEqual(JSON.parse(docs.repositories ?? ''), { busybox: { latest: hex(layer) } });
    const index = JSON.parse(docs.indexJson) as { mediaType: string; manifests: { digest: string; annotations: Record<string, string> }[] };
    assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.equal(index.manifests[0]?.digest, man);
    assert.deepEqual(index.manifests[0]?.annotations, { 'io.containerd.image.name': 'docker.io/library/busybox:latest', 'org.opencontainers.image.ref.name': 'latest' });
  });
});
