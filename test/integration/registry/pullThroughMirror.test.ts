// `berth registry serve --proxy-remote URL` as its own process, used by berthd as the
// `--registry-mirror` of another registry: berth pull goes through the cache, which keeps what it
// served, and the image can be pulled again through it once the remote registry is gone.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';
import { makeImage, pushImage, startRegistryProcess, tempDir, type RegistryProcess } from './fixtures.js';

const HOST_ARCH = process.arch === 'arm64' ? 'arm64' : 'amd64';

describe('berth registry serve --proxy-remote as a registry mirror', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let work: string;
  let upstream: RegistryProcess | undefined;
  let cache: RegistryProcess;
  let d: TestDaemon;
  const img = makeImage({ layers: 2, layerSize: 200_000, arch: HOST_ARCH });

  before(async () => {
    work = tempDir('mirror');
    upstream = await startRegistryProcess(['--root', join(work, 'upstream')]);
    await pushImage(`http://${upstream.host}`, 'team/app', img, 'v1');
    cache = await startRegistryProcess(['--root', join(work, 'cache'), '--proxy-remote', `http://${upstream.host}`]);
    d = await startDaemon(['--registry-mirror', `${upstream.host}=http://${cache.host}`]);
  });
  after(async () => {
    await d?.cleanup();
    await cache?.stop();
    await upstream?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('GET /info lists the mirror under the registry it mirrors', async () => {
    assert.match(cache.line, /^berth registry listening on http:\/\/127\.0\.0\.1:\d+ /);
    const info = (await d.http('GET', '/info')).json as { RegistryConfig: { IndexConfigs: Record<string, { Mirrors: string[] }>; Mirrors: string[] } };
    assert.deepEqual(info.RegistryConfig.IndexConfigs[upstream?.host ?? '']?.Mirrors, [`http://${cache.host}/`]);
    assert.deepEqual(info.RegistryConfig.Mirrors, [], 'no Docker Hub mirror');
  });

  it('berth pull goes through the cache, which keeps every blob', async () => {
    const ref = `${upstream?.host ?? ''}/team/app:v1`;
    const r = await d.berth(['pull', ref], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(`Digest: ${img.manifest.digest}`), r.stdout);
    for (const b of [img.config, ...img.layers, img.manifest]) {
      assert.ok(existsSync(join(work, 'cache', 'content', 'blobs', 'sha256', b.digest.slice(7))), `${b.digest} cached`);
    }
  });

  it('with the remote registry gone, the image is pulled again from the cache', async () => {
    const ref = `${upstream?.host ?? ''}/team/app:v1`;
    await upstream?.stop();
    assert.equal((await d.berth(['rmi', ref])).code, 0);
    const r = await d.berth(['pull', ref], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(`Digest: ${img.manifest.digest}`), r.stdout);
    const ins = await d.http('GET', `/images/${ref}/json`);
    assert.equal(ins.status, 200);
    assert.equal((ins.json as { Id: string }).Id, img.config.digest);
  });
});
