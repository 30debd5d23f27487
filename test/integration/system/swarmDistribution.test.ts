// The endpoints of an engine outside any swarm, and GET /distribution/{name}/json
// against a real registry (Debian's docker-registry), through the API and the docker CLI.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';
import { TestRegistry } from '../../fixtures/testRegistry.js';

describe('swarm, plugins and distribution endpoints', { skip: process.getuid?.() !== 0 && 'needs root' }, () => {
  let d: TestDaemon;
  const reg = new TestRegistry();
  before(async () => {
    d = await startDaemon();
    await reg.start();
    await d.importBusybox();
  });
  after(async () => {
    await reg.stop();
    await d.cleanup();
  });

  it('swarm-manager endpoints answer 503 with the message the docker CLI prints', async () => {
    for (const p of ['/swarm', '/nodes', '/services', '/tasks', '/secrets', '/configs', '/services/x']) {
      const r = await d.http('GET', p);
      assert.equal(r.status, 503, p);
      assert.match((r.json as { message: string }).message, /This node is not a swarm manager/);
    }
    const node = await d.docker(['node', 'ls']);
    assert.equal(node.code, 1);
    assert.match(node.stderr, /This node is not a swarm manager/);
    const init = await d.http('POST', '/swarm/init', '{}', { 'Content-Type': 'application/json' });
    assert.equal(init.status, 503);
  });

  it('the plugin list is empty, and a named plugin is not found', async () => {
    const ls = await d.docker(['plugin', 'ls']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /^ID\s+NAME\s+DESCRIPTION\s+ENABLED\s*$/);
    const one = await d.http('GET', '/plugins/foo/json');
    assert.equal(one.status, 404);
    assert.equal((one.json as { message: string }).message, 'plugin "foo" not found');
  });

  it('GET /distribution/{name}/json resolves a pushed tag to its manifest digest and platform', async () => {
    const name = `${reg.host}/dist/busybox:1`;
    assert.equal((await d.berth(['tag', 'busybox', name])).code, 0);
    const push = await d.berth(['push', name]);
    assert.equal(push.code, 0, push.stderr);
    const pushed = /digest: (sha256:[0-9a-f]{64})/.exec(push.stdout)?.[1];
    const r = await d.http('GET', `/distribution/${name}/json`);
    assert.equal(r.status, 200, r.body);
    const body = r.json as { Descriptor: { mediaType: string; digest: string; size: number }; Platforms: Array<{ architecture: string; os: string }> };
    assert.equal(body.Descriptor.digest, pushed);
    assert.ok(body.Descriptor.size > 0);
    assert.match(body.Descriptor.mediaType, /manifest/);
    assert.deepEqual(body.Platforms, [{ architecture: process.arch === 'arm64' ? 'arm64' : 'amd64', os: 'linux' }]);
    // By digest too.
    const byDigest = await d.http('GET', `/distribution/${reg.host}/dist/busybox@${pushed}/json`);
    assert.equal(byDigest.status, 200, byDigest.body);
  });

  it('GET /distribution answers 404 for an unknown tag and 400 for a bad reference', async () => {
    const missing = await d.http('GET', `/distribution/${reg.host}/dist/busybox:nope/json`);
    assert.equal(missing.status, 404, missing.body);
    const bad = await d.http('GET', '/distribution/UPPER/Case/json');
    assert.equal(bad.status, 400, bad.body);
  });
});
