// The distribution-spec checklist against `berth registry` over real HTTP: pull, push (monolithic,
// single POST, chunked, resumable, mount), content discovery (tags, catalog, referrers) and content
// management (deletes), with every error code and each kind of bad input: the request is refused
// with the spec's code, nothing is stored, and the registry keeps serving others.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { get as httpGet } from 'node:http';
import {
  blobOf,
  errorCode,
  makeImage,
  pushImage,
  req,
  sha256,
  startRegistry,
  type Resp,
  type TestRegistry,
} from './fixtures.js';
import { MANIFEST_MAX_BYTES } from '../../../src/registry/limits.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

function expectError(r: Resp, status: number, code: string): void {
  assert.equal(r.status, status, `status ${r.status}: ${r.body.toString()}`);
  assert.equal(errorCode(r), code, r.body.toString());
  assert.match(String(r.headers['content-type']), /application\/json/);
}

describe('registry conformance (distribution-spec v1.1)', () => {
  let reg: TestRegistry;
  let base: string;
  const blobFiles = (): string[] => readdirSync(join(reg.root, 'content', 'blobs', 'sha256'));

  before(async () => {
    reg = await startRegistry();
    base = reg.url;
  });
  after(async () => {
    await reg?.stop();
  });

  describe('pull', () => {
    const img = makeImage({ layers: 2, layerSize: 3000 });
    before(async () => pushImage(base, 'pull/img', img, 'v1'));

    it('GET /v2/ answers 200 with the Docker-Distribution-API-Version header', async () => {
      const r = await req('GET', `${base}/v2/`);
      assert.equal(r.status, 200);
      assert.equal(r.headers['docker-distribution-api-version'], 'registry/2.0');
    });

    it('GET manifest by tag and by digest returns the pushed bytes, type and digest', async () => {
      for (const ref of ['v1', img.manifest.digest]) {
        const r = await req('GET', `${base}/v2/pull/img/manifests/${ref}`, { headers: { Accept: OCI_MANIFEST } });
        assert.equal(r.status, 200);
        assert.deepEqual(r.body, img.manifest.data);
        assert.equal(r.headers['content-type'], OCI_MANIFEST);
        assert.equal(r.headers['docker-content-digest'], img.manifest.digest);
      }
    });

    it('HEAD manifest gives digest and Content-Length without a body', async () => {
      const r = await req('HEAD', `${base}/v2/pull/img/manifests/v1`, { headers: { Accept: OCI_MANIFEST } });
      assert.equal(r.status, 200);
      assert.equal(r.headers['docker-content-digest'], img.manifest.digest);
      assert.equal(Number(r.headers['content-length']), img.manifest.size);
      assert.equal(r.body.length, 0);
    });

    it('Accept negotiation: served when accepted, by wildcard or with no Accept; 404 MANIFEST_UNKNOWN when excluded', async () => {
      for (const accept of [undefined, '*/*', `${DOCKER_MANIFEST}, ${OCI_MANIFEST}`, `${DOCKER_MANIFEST};q=0.5,${OCI_MANIFEST}`]) {
        const r = await req('GET', `${base}/v2/pull/img/manifests/v1`, accept === undefined ? {} : { headers: { Accept: accept } });
        assert.equal(r.status, 200, `Accept: ${accept}`);
      }
      const multi = await req('GET', `${base}/v2/pull/img/manifests/v1`, { headers: { Accept: [DOCKER_MANIFEST, OCI_MANIFEST] } });
      assert.equal(multi.status, 200, 'several Accept headers');
      expectError(await req('GET', `${base}/v2/pull/img/manifests/v1`, { headers: { Accept: DOCKER_MANIFEST } }), 404, 'MANIFEST_UNKNOWN');
    });

    it('unknown manifests and repositories are 404 MANIFEST_UNKNOWN / NAME_UNKNOWN', async () => {
      expectError(await req('GET', `${base}/v2/pull/img/manifests/nope`), 404, 'MANIFEST_UNKNOWN');
      expectError(await req('GET', `${base}/v2/pull/img/manifests/${sha256('x')}`), 404, 'MANIFEST_UNKNOWN');
      expectError(await req('GET', `${base}/v2/pull/none/manifests/v1`), 404, 'NAME_UNKNOWN');
      const head = await req('HEAD', `${base}/v2/pull/img/manifests/nope`);
      assert.equal(head.status, 404);
      assert.equal(head.body.length, 0);
    });

    it('GET/HEAD blob returns its bytes, size and digest', async () => {
      const l = img.layers[0]!;
      const r = await req('GET', `${base}/v2/pull/img/blobs/${l.digest}`);
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, l.data);
      assert.equal(r.headers['docker-content-digest'], l.digest);
      const h = await req('HEAD', `${base}/v2/pull/img/blobs/${l.digest}`);
      assert.equal(h.status, 200);
      assert.equal(Number(h.headers['content-length']), l.size);
      assert.equal(h.body.length, 0);
    });

    it('blob Range requests: a-b, a- and -n give 206 with Content-Range; past the end gives 416', async () => {
      const l = img.layers[1]!;
      const a = await req('GET', `${base}/v2/pull/img/blobs/${l.digest}`, { headers: { Range: 'bytes=10-19' } });
      assert.equal(a.status, 206);
      assert.equal(a.headers['content-range'], `bytes 10-19/${l.size}`);
      assert.deepEqual(a.body, l.data.subarray(10, 20));
      const b = await req('GET', `${base}/v2/pull/img/blobs/${l.digest}`, { headers: { Range: `bytes=${l.size - 7}-` } });
      assert.deepEqual(b.body, l.data.subarray(l.size - 7));
      const c = await req('GET', `${base}/v2/pull/img/blobs/${l.digest}`, { headers: { Range: 'bytes=-5' } });
      assert.equal(c.status, 206);
      assert.deepEqual(c.body, l.data.subarray(l.size - 5));
      const d = await req('GET', `${base}/v2/pull/img/blobs/${l.digest}`, { headers: { Range: `bytes=${l.size}-` } });
      assert.equal(d.status, 416);
      assert.equal(d.headers['content-range'], `bytes */${l.size}`);
    });

    it('blobs served at once each get their own bytes (multi-MiB, ranges too); a client hanging up mid-blob leaves the others whole', async () => {
      // Blob GETs share a pool of read buffers: a buffer reused while a socket still holds it would mix
      // bytes. That only shows when the socket pushes back, so the layers are larger than what loopback
      // buffers in the kernel, and some clients wait before reading.
      const big = { layers: [0, 1, 2].map(() => blobOf('application/octet-stream', randomBytes(6 * 1024 * 1024 + 17))) };
      for (const l of big.layers) {
        const put = await req('POST', `${base}/v2/pull/big/blobs/uploads/?digest=${l.digest}`, { body: l.data });
        assert.equal(put.status, 201);
      }
      const hangUp = new Promise<number>((resolve, reject) => {
        const l = big.layers[0]!;
        const r = httpGet(`${base}/v2/pull/big/blobs/${l.digest}`, (res) => {
          res.once('data', () => {
            r.destroy();
            resolve(res.statusCode ?? 0);
          });
        });
        r.on('error', () => undefined);
        r.setTimeout(30_000, () => reject(new Error('no data')));
      });
      const gets = Array.from({ length: 9 }, async (_, i) => {
        const l = big.layers[i % 3]!;
        if (i % 4 === 3) {
          const start = 2_000_000 + i;
          const r = await req('GET', `${base}/v2/pull/big/blobs/${l.digest}`, { headers: { Range: `bytes=${start}-${start + 1_500_000}` } });
          assert.equal(r.status, 206);
          assert.ok(r.body.equals(l.data.subarray(start, start + 1_500_001)), `range of layer ${i % 3}`);
          return;
        }
        const body = await new Promise<Buffer>((resolve, reject) => {
          httpGet(`${base}/v2/pull/big/blobs/${l.digest}`, (res) => {
            assert.equal(res.statusCode, 200);
            const chunks: Buffer[] = [];
            res.pause();
            setTimeout(() => res.resume(), i % 2 === 0 ? 300 : 0);
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve(Buffer.concat(chunks)));
            res.on('error', reject);
          }).on('error', reject);
        });
        assert.equal(sha256(body), l.digest, `layer ${i % 3}`);
      });
      await Promise.all([hangUp, ...gets]);
      assert.equal(await hangUp, 200);
      const after = await req('GET', `${base}/v2/pull/big/blobs/${big.layers[0]!.digest}`);
      assert.equal(sha256(after.body), big.layers[0]!.digest);
    });

    it('unknown blobs, and blobs of another repository, are 404 BLOB_UNKNOWN', async () => {
      expectError(await req('GET', `${base}/v2/pull/img/blobs/${sha256('nothing')}`), 404, 'BLOB_UNKNOWN');
      await pushImage(base, 'pull/other', makeImage({ layers: 1 }), 'v1');
      expectError(await req('GET', `${base}/v2/pull/other/blobs/${img.layers[0]!.digest}`), 404, 'BLOB_UNKNOWN');
    });

    it('invalid repository names are 400 NAME_INVALID', async () => {
      for (const path of ['/v2/Upper/manifests/v1', '/v2/a..b/tags/list', '/v2/-x/blobs/uploads/', `/v2/${'a'.repeat(256)}/tags/list`, '/v2/a/_x/manifests/v1']) {
        expectError(await req(path.includes('uploads') ? 'POST' : 'GET', `${base}${path}`), 400, 'NAME_INVALID');
      }
    });

    it('malformed blob digests are 400 DIGEST_INVALID', async () => {
      expectError(await req('GET', `${base}/v2/pull/img/blobs/sha256:xyz`), 400, 'DIGEST_INVALID');
      expectError(await req('GET', `${base}/v2/pull/img/blobs/md5:0123456789abcdef`), 400, 'DIGEST_INVALID');
    });

    it('unknown paths are 404 and unsupported methods 405 UNSUPPORTED', async () => {
      assert.equal((await req('GET', `${base}/v3/`)).status, 404);
      expectError(await req('PATCH', `${base}/v2/pull/img/manifests/v1`), 405, 'UNSUPPORTED');
    });
  });

  describe('push', () => {
    it('monolithic POST then PUT stores the blob (201, Location, Docker-Content-Digest)', async () => {
      const b = blobOf('x', randomBytes(5000));
      const start = await req('POST', `${base}/v2/push/mono/blobs/uploads/`);
      assert.equal(start.status, 202);
      assert.ok(start.headers['docker-upload-uuid']);
      assert.equal(start.headers.range, '0-0');
      const loc = start.headers.location as string;
      assert.match(loc, /^\/v2\/push\/mono\/blobs\/uploads\/[0-9a-f-]{36}$/);
      const put = await req('PUT', `${base}${loc}?digest=${b.digest}`, { body: b.data, headers: { 'Content-Type': 'application/octet-stream' } });
      assert.equal(put.status, 201);
      assert.equal(put.headers.location, `/v2/push/mono/blobs/${b.digest}`);
      assert.equal(put.headers['docker-content-digest'], b.digest);
      assert.deepEqual((await req('GET', `${base}/v2/push/mono/blobs/${b.digest}`)).body, b.data);
      // The session is over.
      expectError(await req('GET', `${base}${loc}`), 404, 'BLOB_UPLOAD_UNKNOWN');
    });

    it('a single POST with ?digest= stores the blob (201)', async () => {
      const b = blobOf('x', randomBytes(777));
      const r = await req('POST', `${base}/v2/push/single/blobs/uploads/?digest=${b.digest}`, { body: b.data });
      assert.equal(r.status, 201);
      assert.equal(r.headers.location, `/v2/push/single/blobs/${b.digest}`);
      assert.deepEqual((await req('GET', `${base}/v2/push/single/blobs/${b.digest}`)).body, b.data);
    });

    it('a wrong digest on PUT is 400 DIGEST_INVALID and stores nothing', async () => {
      const before = blobFiles().length;
      const data = randomBytes(3000);
      const start = await req('POST', `${base}/v2/push/bad/blobs/uploads/`);
      const loc = start.headers.location as string;
      const wrong = sha256('something else');
      expectError(await req('PUT', `${base}${loc}?digest=${wrong}`, { body: data }), 400, 'DIGEST_INVALID');
      assert.equal((await req('HEAD', `${base}/v2/push/bad/blobs/${wrong}`)).status, 404);
      assert.equal((await req('HEAD', `${base}/v2/push/bad/blobs/${sha256(data)}`)).status, 404);
      assert.equal(blobFiles().length, before);
      expectError(await req('GET', `${base}${loc}`), 404, 'BLOB_UPLOAD_UNKNOWN');
    });

    it('a wrong digest on single POST is 400 DIGEST_INVALID and stores nothing', async () => {
      const before = blobFiles().length;
      const data = randomBytes(100);
      expectError(await req('POST', `${base}/v2/push/bad/blobs/uploads/?digest=${sha256('other')}`, { body: data }), 400, 'DIGEST_INVALID');
      assert.equal(blobFiles().length, before);
    });

    it('a missing, malformed or unsupported digest on PUT is 400 DIGEST_INVALID', async () => {
      const loc = (await req('POST', `${base}/v2/push/bad/blobs/uploads/`)).headers.location as string;
      expectError(await req('PUT', `${base}${loc}`, { body: 'abc' }), 400, 'DIGEST_INVALID');
      expectError(await req('PUT', `${base}${loc}?digest=sha256:1234`), 400, 'DIGEST_INVALID');
      expectError(await req('PUT', `${base}${loc}?digest=sha512:${'a'.repeat(128)}`), 400, 'DIGEST_INVALID');
    });

    it('chunked upload: PATCHes with Content-Range, status GET, closing PUT', async () => {
      const data = randomBytes(10_000);
      const start = await req('POST', `${base}/v2/push/chunked/blobs/uploads/`, { headers: { 'Content-Length': 0 } });
      let loc = start.headers.location as string;
      const cuts = [0, 4000, 7000, 10_000];
      for (let i = 0; i < 3; i++) {
        const chunk = data.subarray(cuts[i], cuts[i + 1]);
        const r = await req('PATCH', `${base}${loc}`, {
          body: chunk,
          headers: { 'Content-Range': `${cuts[i]}-${cuts[i + 1]! - 1}`, 'Content-Type': 'application/octet-stream' },
        });
        assert.equal(r.status, 202, r.body.toString());
        assert.equal(r.headers.range, `0-${cuts[i + 1]! - 1}`);
        loc = r.headers.location as string;
      }
      const status = await req('GET', `${base}${loc}`);
      assert.equal(status.status, 204);
      assert.equal(status.headers.range, '0-9999');
      const put = await req('PUT', `${base}${loc}?digest=${sha256(data)}`);
      assert.equal(put.status, 201);
      assert.deepEqual((await req('GET', `${base}/v2/push/chunked/blobs/${sha256(data)}`)).body, data);
    });

    it('a streamed PATCH (no Content-Range, chunked encoding) and a final chunk in the PUT', async () => {
      const data = randomBytes(9000);
      const loc = (await req('POST', `${base}/v2/push/stream/blobs/uploads/`)).headers.location as string;
      const p = await req('PATCH', `${base}${loc}`, { body: data.subarray(0, 5000), headers: { 'Transfer-Encoding': 'chunked' } });
      assert.equal(p.status, 202);
      assert.equal(p.headers.range, '0-4999');
      const put = await req('PUT', `${base}${loc}?digest=${sha256(data)}`, {
        body: data.subarray(5000),
        headers: { 'Content-Range': '5000-8999' },
      });
      assert.equal(put.status, 201, put.body.toString());
    });

    it('a chunk out of order is 416 with the current Range, and changes nothing', async () => {
      const data = randomBytes(2000);
      const loc = (await req('POST', `${base}/v2/push/order/blobs/uploads/`)).headers.location as string;
      await req('PATCH', `${base}${loc}`, { body: data.subarray(0, 1000), headers: { 'Content-Range': '0-999' } });
      const bad = await req('PATCH', `${base}${loc}`, { body: data.subarray(1000), headers: { 'Content-Range': '1500-2499' } });
      expectError(bad, 416, 'BLOB_UPLOAD_INVALID');
      assert.equal(bad.headers.range, '0-999');
      const again = await req('PATCH', `${base}${loc}`, { body: data.subarray(0, 1000), headers: { 'Content-Range': '0-999' } });
      assert.equal(again.status, 416);
      assert.equal((await req('GET', `${base}${loc}`)).headers.range, '0-999');
      const badPut = await req('PUT', `${base}${loc}?digest=${sha256(data)}`, { body: data.subarray(1000), headers: { 'Content-Range': '900-1899' } });
      assert.equal(badPut.status, 416);
      const ok = await req('PATCH', `${base}${loc}`, { body: data.subarray(1000), headers: { 'Content-Range': '1000-1999' } });
      assert.equal(ok.status, 202);
      assert.equal((await req('PUT', `${base}${loc}?digest=${sha256(data)}`)).status, 201);
    });

    it('a Content-Length that disagrees with Content-Range is 400 SIZE_INVALID and changes nothing', async () => {
      const loc = (await req('POST', `${base}/v2/push/size/blobs/uploads/`)).headers.location as string;
      expectError(await req('PATCH', `${base}${loc}`, { body: randomBytes(100), headers: { 'Content-Range': '0-49' } }), 400, 'SIZE_INVALID');
      assert.equal((await req('GET', `${base}${loc}`)).headers.range, '0-0');
    });

    it('a client that disconnects mid-upload leaves a resumable session and no blob; the registry keeps serving', async () => {
      const data = randomBytes(3 * 1024 * 1024);
      const before = blobFiles().length;
      const loc = (await req('POST', `${base}/v2/push/resume/blobs/uploads/`)).headers.location as string;
      await req('PATCH', `${base}${loc}`, {
        body: data,
        headers: { 'Content-Range': `0-${data.length - 1}` },
        abortAfter: 1024 * 1024 + 123,
      });
      // Give the server a moment to see the hang-up.
      let status: Resp | undefined;
      for (let i = 0; i < 50; i++) {
        status = await req('GET', `${base}${loc}`);
        if (status.headers.range !== '0-0') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const end = Number(/^0-(\d+)$/.exec(String(status!.headers.range))![1]);
      assert.ok(end > 0 && end < data.length - 1, `received ${end + 1} bytes`);
      assert.equal(blobFiles().length, before, 'no blob before the closing PUT');
      assert.equal((await req('GET', `${base}/v2/`)).status, 200);
      const rest = await req('PATCH', `${base}${loc}`, { body: data.subarray(end + 1), headers: { 'Content-Range': `${end + 1}-${data.length - 1}` } });
      assert.equal(rest.status, 202, rest.body.toString());
      const put = await req('PUT', `${base}${loc}?digest=${sha256(data)}`);
      assert.equal(put.status, 201);
      assert.deepEqual((await req('GET', `${base}/v2/push/resume/blobs/${sha256(data)}`)).body, data);
    });

    it('DELETE cancels an upload (204); unknown uploads, or another repository\'s, are 404 BLOB_UPLOAD_UNKNOWN', async () => {
      const loc = (await req('POST', `${base}/v2/push/cancel/blobs/uploads/`)).headers.location as string;
      const id = loc.split('/').pop()!;
      expectError(await req('GET', `${base}/v2/push/other/blobs/uploads/${id}`), 404, 'BLOB_UPLOAD_UNKNOWN');
      assert.equal((await req('DELETE', `${base}${loc}`)).status, 204);
      expectError(await req('GET', `${base}${loc}`), 404, 'BLOB_UPLOAD_UNKNOWN');
      expectError(await req('PATCH', `${base}${loc}`, { body: 'x' }), 404, 'BLOB_UPLOAD_UNKNOWN');
      expectError(await req('PUT', `${base}/v2/push/cancel/blobs/uploads/00000000-0000-0000-0000-000000000000?digest=${sha256('')}`), 404, 'BLOB_UPLOAD_UNKNOWN');
    });

    it('cross-repository mount: 201 when the source has the blob, else a normal upload (202)', async () => {
      const b = blobOf('x', randomBytes(1234));
      await req('POST', `${base}/v2/push/mount-src/blobs/uploads/?digest=${b.digest}`, { body: b.data });
      expectError(await req('GET', `${base}/v2/push/mount-dst/blobs/${b.digest}`), 404, 'BLOB_UNKNOWN');
      const m = await req('POST', `${base}/v2/push/mount-dst/blobs/uploads/?mount=${b.digest}&from=push/mount-src`);
      assert.equal(m.status, 201);
      assert.equal(m.headers.location, `/v2/push/mount-dst/blobs/${b.digest}`);
      assert.equal(m.headers['docker-content-digest'], b.digest);
      assert.deepEqual((await req('GET', `${base}/v2/push/mount-dst/blobs/${b.digest}`)).body, b.data);
      const miss = await req('POST', `${base}/v2/push/mount-dst/blobs/uploads/?mount=${sha256('absent')}&from=push/mount-src`);
      assert.equal(miss.status, 202);
      assert.ok(miss.headers.location);
    });

    it('manifest PUT by tag and by digest (201, Location, Docker-Content-Digest), OCI and Docker schema2', async () => {
      for (const flavour of ['oci', 'docker'] as const) {
        const img = makeImage({ flavour });
        await pushImage(base, `push/${flavour}`, img, 'v1');
        const byDigest = await req('PUT', `${base}/v2/push/${flavour}/manifests/${img.manifest.digest}`, {
          body: img.manifest.data,
          headers: { 'Content-Type': img.manifest.mediaType },
        });
        assert.equal(byDigest.status, 201);
        assert.equal(byDigest.headers.location, `/v2/push/${flavour}/manifests/${img.manifest.digest}`);
        assert.equal(byDigest.headers['docker-content-digest'], img.manifest.digest);
        const got = await req('GET', `${base}/v2/push/${flavour}/manifests/v1`, { headers: { Accept: img.manifest.mediaType } });
        assert.deepEqual(got.body, img.manifest.data);
        assert.equal(got.headers['content-type'], img.manifest.mediaType);
      }
    });

    it('manifest PUT by digest with ?tag= creates the tags and answers OCI-Tag', async () => {
      const img = makeImage({ layers: 1 });
      await pushImage(base, 'push/tagq', img, 'first');
      const r = await req('PUT', `${base}/v2/push/tagq/manifests/${img.manifest.digest}?tag=a&tag=b`, {
        body: img.manifest.data,
        headers: { 'Content-Type': OCI_MANIFEST },
      });
      assert.equal(r.status, 201);
      assert.equal(r.headers['oci-tag'], 'a, b');
      assert.deepEqual((await req('GET', `${base}/v2/push/tagq/tags/list`)).json(), { name: 'push/tagq', tags: ['a', 'b', 'first'] });
    });

    it('a manifest naming blobs the registry lacks is 400 MANIFEST_BLOB_UNKNOWN and stores nothing', async () => {
      const img = makeImage({ layers: 2 });
      // Push the config and one layer only.
      for (const b of [img.config, img.layers[0]!]) {
        await req('POST', `${base}/v2/push/partial/blobs/uploads/?digest=${b.digest}`, { body: b.data });
      }
      const r = await req('PUT', `${base}/v2/push/partial/manifests/v1`, { body: img.manifest.data, headers: { 'Content-Type': OCI_MANIFEST } });
      expectError(r, 400, 'MANIFEST_BLOB_UNKNOWN');
      assert.match(r.body.toString(), new RegExp(img.layers[1]!.digest));
      expectError(await req('GET', `${base}/v2/push/partial/manifests/v1`), 404, 'MANIFEST_UNKNOWN');
      expectError(await req('GET', `${base}/v2/push/partial/manifests/${img.manifest.digest}`), 404, 'MANIFEST_UNKNOWN');
      assert.ok(!existsSync(join(reg.root, 'content', 'blobs', 'sha256', img.manifest.digest.slice(7))));
      // A blob pushed to another repository does not count.
      await req('POST', `${base}/v2/push/elsewhere/blobs/uploads/?digest=${img.layers[1]!.digest}`, { body: img.layers[1]!.data });
      expectError(await req('PUT', `${base}/v2/push/partial/manifests/v1`, { body: img.manifest.data, headers: { 'Content-Type': OCI_MANIFEST } }), 400, 'MANIFEST_BLOB_UNKNOWN');
    });

    it('an index naming a manifest the repository lacks is 400 MANIFEST_BLOB_UNKNOWN', async () => {
      const index = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_INDEX,
          manifests: [{ mediaType: OCI_MANIFEST, digest: sha256('no such'), size: 10, platform: { os: 'linux', architecture: 'amd64' } }],
        }),
      );
      expectError(await req('PUT', `${base}/v2/push/index/manifests/v1`, { body: index, headers: { 'Content-Type': OCI_INDEX } }), 400, 'MANIFEST_BLOB_UNKNOWN');
    });

    it('a manifest PUT by a digest it does not have is 400 DIGEST_INVALID', async () => {
      const img = makeImage({ layers: 1 });
      await pushImage(base, 'push/digest', img, 'v1');
      const r = await req('PUT', `${base}/v2/push/digest/manifests/${sha256('other')}`, { body: img.manifest.data, headers: { 'Content-Type': OCI_MANIFEST } });
      expectError(r, 400, 'DIGEST_INVALID');
    });

    it('an oversized manifest is 413 and stores nothing', async () => {
      const big = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, annotations: { pad: 'x'.repeat(MANIFEST_MAX_BYTES) } }));
      const r = await req('PUT', `${base}/v2/push/big/manifests/v1`, { body: big, headers: { 'Content-Type': OCI_MANIFEST } });
      assert.equal(r.status, 413);
      assert.equal(errorCode(r), 'MANIFEST_INVALID');
      expectError(await req('GET', `${base}/v2/push/big/manifests/v1`), 404, 'NAME_UNKNOWN');
      // Chunked encoding (no Content-Length) is cut off at the limit as well.
      const chunked = await req('PUT', `${base}/v2/push/big/manifests/v1`, { body: big, headers: { 'Content-Type': OCI_MANIFEST, 'Transfer-Encoding': 'chunked' } });
      assert.equal(chunked.status, 413);
    });

    it('invalid manifests are 400 MANIFEST_INVALID: not JSON, type mismatch, schema1, bad descriptor, bad tag', async () => {
      const img = makeImage({ layers: 1 });
      await pushImage(base, 'push/invalid', img, 'v1');
      const put = (body: string | Buffer, type: string, ref = 'v2') =>
        req('PUT', `${base}/v2/push/invalid/manifests/${ref}`, { body, headers: { 'Content-Type': type } });
      expectError(await put('{not json', OCI_MANIFEST), 400, 'MANIFEST_INVALID');
      expectError(await put(img.manifest.data, DOCKER_MANIFEST), 400, 'MANIFEST_INVALID');
      expectError(await put(JSON.stringify({ schemaVersion: 1, name: 'x', tag: 'y', fsLayers: [] }), 'application/vnd.docker.distribution.manifest.v1+prettyjws'), 400, 'MANIFEST_INVALID');
      const badDesc = JSON.parse(img.manifest.data.toString()) as { layers: { digest: string }[] };
      badDesc.layers[0]!.digest = 'not-a-digest';
      expectError(await put(JSON.stringify(badDesc), OCI_MANIFEST), 400, 'MANIFEST_INVALID');
      expectError(await put(img.manifest.data, OCI_MANIFEST, '-bad-tag'), 400, 'MANIFEST_INVALID');
      expectError(await req('GET', `${base}/v2/push/invalid/manifests/v2`), 404, 'MANIFEST_UNKNOWN');
    });

    it('an index over pushed images; a client that takes no index gets this platform\'s image', async () => {
      const amd = makeImage({ layers: 1, arch: 'amd64' });
      const arm = makeImage({ layers: 1, arch: 'arm64' });
      await pushImage(base, 'push/multi', amd, amd.manifest.digest);
      await pushImage(base, 'push/multi', arm, arm.manifest.digest);
      const index = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_INDEX,
          manifests: [
            { mediaType: OCI_MANIFEST, digest: amd.manifest.digest, size: amd.manifest.size, platform: { os: 'linux', architecture: 'amd64' } },
            { mediaType: OCI_MANIFEST, digest: arm.manifest.digest, size: arm.manifest.size, platform: { os: 'linux', architecture: 'arm64' } },
          ],
        }),
      );
      assert.equal((await req('PUT', `${base}/v2/push/multi/manifests/latest`, { body: index, headers: { 'Content-Type': OCI_INDEX } })).status, 201);
      const full = await req('GET', `${base}/v2/push/multi/manifests/latest`, { headers: { Accept: `${OCI_INDEX}, ${OCI_MANIFEST}` } });
      assert.equal(full.headers['content-type'], OCI_INDEX);
      assert.deepEqual(full.body, index);
      const single = await req('GET', `${base}/v2/push/multi/manifests/latest`, { headers: { Accept: OCI_MANIFEST } });
      assert.equal(single.status, 200);
      const want = process.arch === 'arm64' ? arm : amd;
      assert.equal(single.headers['docker-content-digest'], want.manifest.digest);
    });
  });

  describe('content discovery', () => {
    before(async () => {
      const img = makeImage({ layers: 1 });
      await pushImage(base, 'disc/tags', img, 'v1');
      for (const t of ['b', 'a', 'C', 'v10', 'v2', '1.0']) {
        await req('PUT', `${base}/v2/disc/tags/manifests/${t}`, { body: img.manifest.data, headers: { 'Content-Type': OCI_MANIFEST } });
      }
    });

    it('tags/list returns every tag in byte order', async () => {
      const r = await req('GET', `${base}/v2/disc/tags/tags/list`);
      assert.equal(r.status, 200);
      assert.deepEqual(r.json(), { name: 'disc/tags', tags: ['1.0', 'C', 'a', 'b', 'v1', 'v10', 'v2'] });
    });

    it('tags/list pages with n and last, with a Link header while more remain', async () => {
      const p1 = await req('GET', `${base}/v2/disc/tags/tags/list?n=3`);
      assert.deepEqual(p1.json<{ tags: string[] }>().tags, ['1.0', 'C', 'a']);
      assert.equal(p1.headers.link, '</v2/disc/tags/tags/list?n=3&last=a>; rel="next"');
      const p2 = await req('GET', `${base}/v2/disc/tags/tags/list?n=3&last=a`);
      assert.deepEqual(p2.json<{ tags: string[] }>().tags, ['b', 'v1', 'v10']);
      const p3 = await req('GET', `${base}/v2/disc/tags/tags/list?n=3&last=v10`);
      assert.deepEqual(p3.json<{ tags: string[] }>().tags, ['v2']);
      assert.equal(p3.headers.link, undefined);
      const zero = await req('GET', `${base}/v2/disc/tags/tags/list?n=0`);
      assert.deepEqual(zero.json(), { name: 'disc/tags', tags: [] });
      assert.equal(zero.headers.link, undefined);
      const lastOnly = await req('GET', `${base}/v2/disc/tags/tags/list?last=v1`);
      assert.deepEqual(lastOnly.json<{ tags: string[] }>().tags, ['v10', 'v2']);
    });

    it('tags/list of an unknown repository is 404 NAME_UNKNOWN', async () => {
      expectError(await req('GET', `${base}/v2/disc/none/tags/list`), 404, 'NAME_UNKNOWN');
    });

    it('_catalog lists repositories with n/last paging and Link', async () => {
      const all = (await req('GET', `${base}/v2/_catalog`)).json<{ repositories: string[] }>().repositories;
      assert.ok(all.includes('disc/tags'));
      assert.deepEqual(all, [...all].sort());
      const p1 = await req('GET', `${base}/v2/_catalog?n=2`);
      assert.deepEqual(p1.json<{ repositories: string[] }>().repositories, all.slice(0, 2));
      assert.equal(p1.headers.link, `</v2/_catalog?n=2&last=${encodeURIComponent(all[1]!)}>; rel="next"`);
      const p2 = await req('GET', `${base}/v2/_catalog?n=2&last=${encodeURIComponent(all[1]!)}`);
      assert.deepEqual(p2.json<{ repositories: string[] }>().repositories, all.slice(2, 4));
    });

    it('referrers: manifests with a subject are listed with artifactType and annotations, filterable', async () => {
      const subject = makeImage({ layers: 1 });
      // Referrers may be pushed before their subject.
      const empty = blobOf('application/vnd.oci.empty.v1+json', Buffer.from('{}'));
      await req('POST', `${base}/v2/disc/ref/blobs/uploads/?digest=${empty.digest}`, { body: empty.data });
      const artifact = (type: string, n: number) =>
        Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: OCI_MANIFEST,
            artifactType: type,
            config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: empty.digest, size: 2 },
            layers: [{ mediaType: 'application/vnd.oci.empty.v1+json', digest: empty.digest, size: 2 }],
            subject: { mediaType: OCI_MANIFEST, digest: subject.manifest.digest, size: subject.manifest.size },
            annotations: { n: String(n) },
          }),
        );
      const sig = artifact('application/vnd.example.signature', 1);
      const sbom = artifact('application/vnd.example.sbom', 2);
      for (const m of [sig, sbom]) {
        const r = await req('PUT', `${base}/v2/disc/ref/manifests/${sha256(m)}`, { body: m, headers: { 'Content-Type': OCI_MANIFEST } });
        assert.equal(r.status, 201, r.body.toString());
        assert.equal(r.headers['oci-subject'], subject.manifest.digest);
      }
      await pushImage(base, 'disc/ref', subject, 'v1');
      const all = await req('GET', `${base}/v2/disc/ref/referrers/${subject.manifest.digest}`);
      assert.equal(all.status, 200);
      assert.equal(all.headers['content-type'], OCI_INDEX);
      const idx = all.json<{ schemaVersion: number; mediaType: string; manifests: Record<string, unknown>[] }>();
      assert.equal(idx.schemaVersion, 2);
      assert.equal(idx.mediaType, OCI_INDEX);
      assert.deepEqual(
        idx.manifests.map((d) => [d['digest'], d['artifactType'], d['annotations'], d['size'], d['mediaType']]).sort(),
        [
          [sha256(sig), 'application/vnd.example.signature', { n: '1' }, sig.length, OCI_MANIFEST],
          [sha256(sbom), 'application/vnd.example.sbom', { n: '2' }, sbom.length, OCI_MANIFEST],
        ].sort(),
      );
      const filtered = await req('GET', `${base}/v2/disc/ref/referrers/${subject.manifest.digest}?artifactType=application/vnd.example.sbom`);
      assert.equal(filtered.headers['oci-filters-applied'], 'artifactType');
      assert.deepEqual(filtered.json<{ manifests: { digest: string }[] }>().manifests.map((d) => d.digest), [sha256(sbom)]);
      // An image manifest without artifactType reports its config media type.
      const plain = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: { mediaType: 'application/vnd.example.config', digest: empty.digest, size: 2 },
          layers: [],
          subject: { mediaType: OCI_MANIFEST, digest: subject.manifest.digest, size: subject.manifest.size },
        }),
      );
      await req('PUT', `${base}/v2/disc/ref/manifests/${sha256(plain)}`, { body: plain, headers: { 'Content-Type': OCI_MANIFEST } });
      const again = await req('GET', `${base}/v2/disc/ref/referrers/${subject.manifest.digest}?artifactType=application/vnd.example.config`);
      assert.deepEqual(again.json<{ manifests: { digest: string }[] }>().manifests.map((d) => d.digest), [sha256(plain)]);
    });

    it('referrers page with a Link header when the list is long; the filter survives paging; a bad cursor is 400', async () => {
      const subject = makeImage({ layers: 1 });
      await pushImage(base, 'disc/page', subject, 'v1');
      const empty = blobOf('application/vnd.oci.empty.v1+json', Buffer.from('{}'));
      await req('POST', `${base}/v2/disc/page/blobs/uploads/?digest=${empty.digest}`, { body: empty.data });
      const pushed: string[] = [];
      for (let i = 0; i < 5; i++) {
        const m = Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: OCI_MANIFEST,
            artifactType: i % 2 === 0 ? 'application/vnd.example.sig' : 'application/vnd.example.sbom',
            config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: empty.digest, size: 2 },
            layers: [{ mediaType: 'application/vnd.oci.empty.v1+json', digest: empty.digest, size: 2 }],
            subject: { mediaType: OCI_MANIFEST, digest: subject.manifest.digest, size: subject.manifest.size },
            annotations: { i: String(i) },
          }),
        );
        const r = await req('PUT', `${base}/v2/disc/page/manifests/${sha256(m)}`, { body: m, headers: { 'Content-Type': OCI_MANIFEST } });
        assert.equal(r.status, 201, r.body.toString());
        pushed.push(sha256(m));
      }
      const walk = async (first: string): Promise<{ pages: number; digests: string[] }> => {
        let next: string | undefined = first;
        const digests: string[] = [];
        let pages = 0;
        while (next !== undefined) {
          const r = await req('GET', `${base}${next}`);
          assert.equal(r.status, 200, r.body.toString());
          pages++;
          digests.push(...r.json<{ manifests: { digest: string }[] }>().manifests.map((d) => d.digest));
          const link = r.headers['link'];
          next = link === undefined ? undefined : /^<([^>]+)>; rel="next"$/.exec(String(link))?.[1];
          assert.ok(link === undefined || next !== undefined, `malformed Link ${String(link)}`);
        }
        return { pages, digests };
      };
      const all = await walk(`/v2/disc/page/referrers/${subject.manifest.digest}?n=2`);
      assert.equal(all.pages, 3);
      assert.deepEqual(all.digests, [...pushed].sort());
      const sigs = await walk(`/v2/disc/page/referrers/${subject.manifest.digest}?n=1&artifactType=application/vnd.example.sig`);
      assert.equal(sigs.pages, 3);
      assert.deepEqual(sigs.digests, [pushed[0], pushed[2], pushed[4]].sort());
      const whole = await req('GET', `${base}/v2/disc/page/referrers/${subject.manifest.digest}`);
      assert.equal(whole.headers['link'], undefined);
      assert.equal(whole.json<{ manifests: unknown[] }>().manifests.length, 5);
      expectError(await req('GET', `${base}/v2/disc/page/referrers/${subject.manifest.digest}?last=nope`), 400, 'DIGEST_INVALID');
      expectError(await req('GET', `${base}/v2/disc/page/referrers/${subject.manifest.digest}?n=x`), 400, 'UNSUPPORTED');
    });

    it('referrers of an unknown digest is an empty index (200); a bad digest is 400', async () => {
      const r = await req('GET', `${base}/v2/disc/ref/referrers/${sha256('none')}`);
      assert.equal(r.status, 200);
      assert.deepEqual(r.json<{ manifests: unknown[] }>().manifests, []);
      expectError(await req('GET', `${base}/v2/disc/ref/referrers/sha256:zz`), 400, 'DIGEST_INVALID');
    });
  });

  describe('content management', () => {
    it('DELETE a tag (202): the tag is gone, the manifest stays by digest', async () => {
      const img = makeImage({ layers: 1 });
      await pushImage(base, 'mgmt/tag', img, 'v1');
      await req('PUT', `${base}/v2/mgmt/tag/manifests/v2`, { body: img.manifest.data, headers: { 'Content-Type': OCI_MANIFEST } });
      assert.equal((await req('DELETE', `${base}/v2/mgmt/tag/manifests/v1`)).status, 202);
      expectError(await req('GET', `${base}/v2/mgmt/tag/manifests/v1`), 404, 'MANIFEST_UNKNOWN');
      assert.equal((await req('GET', `${base}/v2/mgmt/tag/manifests/v2`)).status, 200);
      assert.equal((await req('GET', `${base}/v2/mgmt/tag/manifests/${img.manifest.digest}`)).status, 200);
      expectError(await req('DELETE', `${base}/v2/mgmt/tag/manifests/v1`), 404, 'MANIFEST_UNKNOWN');
    });

    it('DELETE a manifest by digest (202) removes it and every tag pointing to it', async () => {
      const img = makeImage({ layers: 1 });
      await pushImage(base, 'mgmt/man', img, 'v1');
      await req('PUT', `${base}/v2/mgmt/man/manifests/v2`, { body: img.manifest.data, headers: { 'Content-Type': OCI_MANIFEST } });
      assert.equal((await req('DELETE', `${base}/v2/mgmt/man/manifests/${img.manifest.digest}`)).status, 202);
      for (const ref of ['v1', 'v2', img.manifest.digest]) {
        expectError(await req('GET', `${base}/v2/mgmt/man/manifests/${ref}`), 404, 'MANIFEST_UNKNOWN');
      }
      assert.deepEqual((await req('GET', `${base}/v2/mgmt/man/tags/list`)).json(), { name: 'mgmt/man', tags: [] });
      expectError(await req('DELETE', `${base}/v2/mgmt/man/manifests/${img.manifest.digest}`), 404, 'MANIFEST_UNKNOWN');
      expectError(await req('DELETE', `${base}/v2/mgmt/none/manifests/${img.manifest.digest}`), 404, 'NAME_UNKNOWN');
    });

    it('DELETE a blob (202): the repository no longer serves it; again is 404', async () => {
      const b = blobOf('x', randomBytes(300));
      await req('POST', `${base}/v2/mgmt/blob/blobs/uploads/?digest=${b.digest}`, { body: b.data });
      await req('POST', `${base}/v2/mgmt/blob2/blobs/uploads/?digest=${b.digest}`, { body: b.data });
      assert.equal((await req('DELETE', `${base}/v2/mgmt/blob/blobs/${b.digest}`)).status, 202);
      expectError(await req('GET', `${base}/v2/mgmt/blob/blobs/${b.digest}`), 404, 'BLOB_UNKNOWN');
      expectError(await req('DELETE', `${base}/v2/mgmt/blob/blobs/${b.digest}`), 404, 'BLOB_UNKNOWN');
      // Blobs are shared: the other repository still has it.
      assert.deepEqual((await req('GET', `${base}/v2/mgmt/blob2/blobs/${b.digest}`)).body, b.data);
    });

    it('the same blob pushed to two repositories is stored once', async () => {
      const b = blobOf('x', randomBytes(4321));
      await req('POST', `${base}/v2/mgmt/dup1/blobs/uploads/?digest=${b.digest}`, { body: b.data });
      const before = blobFiles().length;
      await req('POST', `${base}/v2/mgmt/dup2/blobs/uploads/?digest=${b.digest}`, { body: b.data });
      assert.equal(blobFiles().length, before);
    });
  });

  it('after all the bad input above, a normal push and pull still work', async () => {
    const img = makeImage({ layers: 3 });
    await pushImage(base, 'final/check', img, 'v1');
    const r = await req('GET', `${base}/v2/final/check/manifests/v1`, { headers: { Accept: OCI_MANIFEST } });
    assert.deepEqual(r.body, img.manifest.data);
  });
});

describe('read-only registry', () => {
  let reg: TestRegistry;
  const img = makeImage({ layers: 1 });
  before(async () => {
    // Fill a root, then serve it read-only.
    const rw = await startRegistry();
    await pushImage(rw.url, 'ro/img', img, 'v1');
    const root = rw.root;
    await rw.server.close();
    reg = await startRegistry({ root, readOnly: true });
  });
  after(async () => {
    await reg?.stop();
    if (reg) rmSync(reg.root, { recursive: true, force: true });
  });

  it('serves pulls', async () => {
    const r = await req('GET', `${reg.url}/v2/ro/img/manifests/v1`, { headers: { Accept: OCI_MANIFEST } });
    assert.deepEqual(r.body, img.manifest.data);
    assert.equal((await req('GET', `${reg.url}/v2/ro/img/blobs/${img.layers[0]!.digest}`)).status, 200);
  });

  it('refuses pushes and deletes with 405 UNSUPPORTED and changes nothing', async () => {
    expectError(await req('POST', `${reg.url}/v2/ro/img/blobs/uploads/`), 405, 'UNSUPPORTED');
    expectError(await req('PUT', `${reg.url}/v2/ro/img/manifests/v2`, { body: img.manifest.data, headers: { 'Content-Type': OCI_MANIFEST } }), 405, 'UNSUPPORTED');
    expectError(await req('DELETE', `${reg.url}/v2/ro/img/manifests/v1`), 405, 'UNSUPPORTED');
    expectError(await req('DELETE', `${reg.url}/v2/ro/img/blobs/${img.layers[0]!.digest}`), 405, 'UNSUPPORTED');
    assert.deepEqual((await req('GET', `${reg.url}/v2/ro/img/tags/list`)).json(), { name: 'ro/img', tags: ['v1'] });
  });
});
