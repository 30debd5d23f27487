// `registry gc`: removes blobs no manifest references, keeps shared and in-flight ones, and is safe
// while pushes run at the same time (the SQLite write lock plus the grace period, see src/registry/gc.ts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { collectGarbage } from '../../../src/registry/gc.js';
import { errorCode, makeImage, pushImage, req, sha256, startRegistry, type TestRegistry } from './fixtures.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

describe('registry gc', () => {
  let reg: TestRegistry;
  const blobFiles = (): Set<string> => new Set(readdirSync(join(reg.root, 'content', 'blobs', 'sha256')).map((h) => `sha256:${h}`));

  before(async () => {
    reg = await startRegistry();
  });
  after(async () => reg?.stop());

  it('removes what only a deleted manifest referenced; keeps shared and still-referenced blobs', async () => {
    const a = makeImage({ layers: 2 });
    const b = makeImage({ layers: 1 });
    // b shares a's first layer.
    b.layers.push(a.layers[0]!);
    const bManifest = JSON.parse(b.manifest.data.toString()) as { layers: unknown[] };
    bManifest.layers.push({ mediaType: a.layers[0]!.mediaType, digest: a.layers[0]!.digest, size: a.layers[0]!.size });
    b.manifest.data = Buffer.from(JSON.stringify(bManifest));
    b.manifest.digest = sha256(b.manifest.data);
    b.manifest.size = b.manifest.data.length;
    await pushImage(reg.url, 'gc/a', a, 'v1');
    await pushImage(reg.url, 'gc/b', b, 'v1');
    assert.equal((await req('DELETE', `${reg.url}/v2/gc/a/manifests/${a.manifest.digest}`)).status, 202);

    const dry = await collectGarbage(reg.root, { graceMs: 0, dryRun: true });
    assert.equal(dry.blobsDeleted, 3, "a's manifest, config and second layer");
    assert.ok(blobFiles().has(a.config.digest), 'dry run deletes nothing');

    const lines: string[] = [];
    const report = await collectGarbage(reg.root, { graceMs: 0, log: (l) => lines.push(l) });
    const gone = [a.manifest.digest, a.config.digest, a.layers[1]!.digest];
    const files = blobFiles();
    for (const d of gone) assert.ok(!files.has(d), `${d} deleted`);
    for (const d of [b.manifest.digest, b.config.digest, ...b.layers.map((l) => l.digest)]) assert.ok(files.has(d), `${d} kept`);
    assert.equal(report.blobsDeleted, lines.length);
    assert.ok(report.bytesFreed >= a.layers[1]!.size);
    assert.equal(errorCode(await req('GET', `${reg.url}/v2/gc/a/blobs/${a.layers[1]!.digest}`)), 'BLOB_UNKNOWN');
    const pulled = await req('GET', `${reg.url}/v2/gc/b/manifests/v1`, { headers: { Accept: OCI_MANIFEST } });
    assert.deepEqual(pulled.body, b.manifest.data);
    for (const l of b.layers) assert.deepEqual((await req('GET', `${reg.url}/v2/gc/b/blobs/${l.digest}`)).body, l.data);
  });

  it('keeps the blobs of a push in flight (within the grace period); its manifest then lands', async () => {
    const img = makeImage({ layers: 2 });
    for (const blob of [img.config, ...img.layers]) {
      assert.equal((await req('POST', `${reg.url}/v2/gc/inflight/blobs/uploads/?digest=${blob.digest}`, { body: blob.data })).status, 201);
    }
    const report = await collectGarbage(reg.root, {});
    assert.equal(report.blobsDeleted, 0);
    const put = await req('PUT', `${reg.url}/v2/gc/inflight/manifests/v1`, { body: img.manifest.data, headers: { 'Content-Type': OCI_MANIFEST } });
    assert.equal(put.status, 201);
  });

  it('a HEAD that finds a blob restarts its grace clock (a pusher skipping an upload keeps it)', async () => {
    const data = randomBytes(100);
    await req('POST', `${reg.url}/v2/gc/head/blobs/uploads/?digest=${sha256(data)}`, { body: data });
    // Pretend the blob was pushed two hours ago.
    const later = Date.now() + 2 * 3600_000;
    assert.equal((await collectGarbage(reg.root, { now: later, dryRun: true })).blobsDeleted >= 1, true);
    await new Promise((r) => setTimeout(r, 5));
    // HEAD now; gc "now" is 30 minutes later: within the 1 h grace of the HEAD.
    assert.equal((await req('HEAD', `${reg.url}/v2/gc/head/blobs/${sha256(data)}`)).status, 200);
    const lines: string[] = [];
    await collectGarbage(reg.root, { now: Date.now() + 30 * 60_000, log: (l) => lines.push(l) });
    assert.ok(!lines.some((l) => l.includes(sha256(data))), 'recently HEAD-checked blob kept');
  });

  it('removes files no row knows of (crash leftovers) once older than the grace', async () => {
    const data = randomBytes(64);
    const path = join(reg.root, 'content', 'blobs', 'sha256', sha256(data).slice(7));
    writeFileSync(path, data);
    assert.equal((await collectGarbage(reg.root, {})).orphanFiles, 0, 'young file kept');
    const old = new Date(Date.now() - 2 * 3600_000);
    utimesSync(path, old, old);
    assert.equal((await collectGarbage(reg.root, {})).orphanFiles, 1);
    assert.ok(!blobFiles().has(sha256(data)));
  });

  it('with no grace, racing pushes never leave a stored manifest with a missing blob', async (t) => {
    // Each round uploads fresh blobs and PUTs the manifest while gc (grace 0) runs in a loop: the
    // PUT may fail with MANIFEST_BLOB_UNKNOWN (gc won the race), but whatever was stored is whole.
    let stop = false;
    const gcLoop = (async () => {
      let runs = 0;
      while (!stop) {
        await collectGarbage(reg.root, { graceMs: 0 });
        runs++;
        // Irregular pauses, so some pushes win the race and some lose it.
        await new Promise((r) => setTimeout(r, Math.random() * 30));
      }
      return runs;
    })();
    const stored: { repo: string; img: ReturnType<typeof makeImage> }[] = [];
    let refused = 0;
    for (let i = 0; i < 40; i++) {
      const img = makeImage({ layers: 2, layerSize: 20_000 });
      const repo = `gc/race${i}`;
      for (const blob of [img.config, ...img.layers]) {
        await req('POST', `${reg.url}/v2/${repo}/blobs/uploads/?digest=${blob.digest}`, { body: blob.data });
      }
      const put = await req('PUT', `${reg.url}/v2/${repo}/manifests/v1`, { body: img.manifest.data, headers: { 'Content-Type': OCI_MANIFEST } });
      if (put.status === 201) stored.push({ repo, img });
      else {
        assert.equal(errorCode(put), 'MANIFEST_BLOB_UNKNOWN', put.body.toString());
        refused++;
      }
    }
    stop = true;
    const runs = await gcLoop;
    assert.ok(runs > 1, `gc ran ${runs} times`);
    t.diagnostic(`race: ${stored.length} stored, ${refused} refused, gc ran ${runs} times`);
    for (const { repo, img } of stored) {
      for (const blob of [img.manifest, img.config, ...img.layers]) {
        const r = await req('GET', `${reg.url}/v2/${repo}/blobs/${blob.digest}`);
        assert.equal(r.status, 200, `${repo} ${blob.digest} (refused ${refused}, stored ${stored.length})`);
        assert.equal(sha256(r.body), blob.digest);
      }
    }
  });

  it('refuses a directory that holds no registry', async () => {
    const dir = join(reg.root, 'not-a-registry');
    await assert.rejects(collectGarbage(dir), /no registry at/);
    rmSync(dir, { recursive: true, force: true });
  });
});
