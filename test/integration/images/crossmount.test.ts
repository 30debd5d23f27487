// docker push through berthd: local layers are compressed on the fly, a second push finds them,
// and a push to another repository of the same registry mounts the blob instead of uploading it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';
import { TestRegistry } from '../../fixtures/testRegistry.js';

describe('push with cross-repository mounts', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let reg: TestRegistry;
  let d: TestDaemon;
  before(async () => {
    reg = new TestRegistry();
    await reg.start();
    d = await startDaemon();
    await d.importBusybox(`${reg.host}/team/a:1`);
  });
  after(async () => {
    await d?.cleanup();
    await reg?.stop();
  });

  it('pushes, then finds the layer on a second push, then mounts it into another repository', async () => {
    const first = await d.docker(['push', `${reg.host}/team/a:1`]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /: Pushed\n/);
    const m = /1: digest: (sha256:[a-f0-9]{64}) size: \d+/.exec(first.stdout);
    assert.ok(m, first.stdout);
    const again = await d.docker(['push', `${reg.host}/team/a:1`]);
    assert.match(again.stdout, /: Layer already exists\n/);
    assert.match(again.stdout, new RegExp(`1: digest: ${m[1]}`), 'the same manifest digest on a second push');
    assert.equal((await d.docker(['tag', `${reg.host}/team/a:1`, `${reg.host}/team/b:2`])).code, 0);
    const other = await d.docker(['push', `${reg.host}/team/b:2`]);
    assert.equal(other.code, 0, other.stderr);
    assert.match(other.stdout, /: Mounted from team\/a\n/);
    // What the registry serves is what we pushed, by digest, as another client sees it.
    const insp = spawnSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/team/b:2`], { encoding: 'utf8' });
    assert.equal(insp.status, 0, insp.stderr);
    const created = JSON.parse((await d.docker(['image', 'inspect', `${reg.host}/team/a:1`])).stdout) as { RepoDigests: string[] }[];
    assert.ok(created[0]?.RepoDigests.includes(`${reg.host}/team/a@${m[1]}`));
  });
});
