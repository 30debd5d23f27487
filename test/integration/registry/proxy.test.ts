// Pull-through cache (`--proxy-remote`): a berth registry in front of another one (with token auth)
// serves its content, keeps it, serves it when the remote is gone, follows tag moves, refuses pushes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { Htpasswd } from '../../../src/registry/htpasswd.js';
import { PullThrough } from '../../../src/registry/proxy.js';
import { errorCode, layoutDigest, makeImage, NO_SKOPEO, pushImage, req, skopeo, startRegistry, tempDir, type TestRegistry } from './fixtures.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const basic = `Basic ${Buffer.from('up:stream').toString('base64')}`;

async function upstreamToken(base: string, repo: string): Promise<Record<string, string>> {
  const r = await req('GET', `${base}/token?service=upstream&scope=repository:${repo}:pull,push`, { headers: { Authorization: basic } });
  return { Authorization: `Bearer ${r.json<{ token: string }>().token}` };
}

describe('pull-through cache', { skip: NO_SKOPEO }, () => {
  let upstream: TestRegistry;
  let proxy: TestRegistry;
  let work: string;
  const img = makeImage({ layers: 3, layerSize: 300_000 });

  before(async () => {
    work = tempDir('proxy');
    upstream = await startRegistry({
      auth: {
        htpasswd: Htpasswd.parse(`up:${bcrypt.hashSync('stream', 4)}\n`),
        anonymousPull: false,
        token: { issuer: 'upstream', key: Buffer.alloc(32, 3) },
      },
    });
    await pushImage(upstream.url, 'library/app', img, 'v1', await upstreamToken(upstream.url, 'library/app'));
    proxy = await startRegistry({
      proxy: (r) => new PullThrough(r, upstream.url, { username: 'up', password: 'stream' }, { tagTtlMs: 0 }),
    });
  });
  after(async () => {
    await proxy?.stop();
    await upstream?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('serves the remote image through skopeo with the same digests, and stores it', async () => {
    const out = join(work, 'out1');
    const r = await skopeo(['copy', '--src-tls-verify=false', `docker://${proxy.host}/library/app:v1`, `oci:${out}:v1`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(layoutDigest(out, 'v1'), img.manifest.digest);
    for (const b of [img.config, ...img.layers, img.manifest]) {
      assert.ok(existsSync(join(proxy.root, 'content', 'blobs', 'sha256', b.digest.slice(7))), `${b.digest} cached`);
    }
  });

  it('refuses pushes and deletes (405 UNSUPPORTED)', async () => {
    const r = await req('POST', `${proxy.url}/v2/library/app/blobs/uploads/`);
    assert.equal(r.status, 405);
    assert.equal(errorCode(r), 'UNSUPPORTED');
    assert.equal((await req('DELETE', `${proxy.url}/v2/library/app/manifests/v1`)).status, 405);
  });

  it('what the remote lacks is 404', async () => {
    const r = await req('GET', `${proxy.url}/v2/library/app/manifests/nope`);
    assert.equal(r.status, 404);
    assert.equal(errorCode(r), 'MANIFEST_UNKNOWN');
  });

  it('follows a tag the remote moved', async () => {
    const next = makeImage({ layers: 1 });
    await pushImage(upstream.url, 'library/app', next, 'v1', await upstreamToken(upstream.url, 'library/app'));
    const r = await req('GET', `${proxy.url}/v2/library/app/manifests/v1`, { headers: { Accept: OCI_MANIFEST } });
    assert.equal(r.headers['docker-content-digest'], next.manifest.digest);
    assert.equal((await req('GET', `${proxy.url}/v2/library/app/blobs/${next.layers[0]!.digest}`)).status, 200);
  });

  it('keeps serving cached content when the remote is gone', async () => {
    await upstream.stop();
    const byDigest = await req('GET', `${proxy.url}/v2/library/app/manifests/${img.manifest.digest}`, { headers: { Accept: OCI_MANIFEST } });
    assert.deepEqual(byDigest.body, img.manifest.data);
    const byTag = await req('HEAD', `${proxy.url}/v2/library/app/manifests/v1`, { headers: { Accept: OCI_MANIFEST } });
    assert.equal(byTag.status, 200);
    const out = join(work, 'out2');
    const r = await skopeo(['copy', '--src-tls-verify=false', `docker://${proxy.host}/library/app@${img.manifest.digest}`, `oci:${out}:v1`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(layoutDigest(out, 'v1'), img.manifest.digest);
  });
});
