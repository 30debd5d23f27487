// docker commit: a container's changes (added, changed, deleted files, opaque dirs) and settings
// become a new image that runs with them; berth and the docker CLI alike.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';

describe('commit', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await d.importBusybox();
  });
  after(async () => {
    await d?.cleanup();
  });

  it('keeps added, changed and deleted files, and applies -c changes and -m', async () => {
    const run = await d.docker(['run', '--name', 'src1', '-e', 'KEPT=yes', 'busybox', 'sh', '-c',
      'echo hi > /hello; echo changed > /etc/passwd.new; rm /etc/group; mkdir -p /data/sub; echo x > /data/sub/f; rm -rf /root; mkdir /root; touch /root/only']);
    assert.equal(run.code, 0, run.stderr);
    const c = await d.docker(['commit', '-c', 'CMD ["cat", "/hello"]', '-c', 'ENV ADDED=1', '-m', 'my message', '-a', 'Ann', 'src1', 'committed:1']);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout.trim(), /^sha256:[a-f0-9]{64}$/);
    assert.equal((await d.docker(['run', '--rm', 'committed:1'])).stdout, 'hi\n');
    const check = await d.docker(['run', '--rm', 'committed:1', 'sh', '-c',
      'test -e /etc/group && echo group-present; cat /data/sub/f; ls -A /root; echo "$KEPT $ADDED"; test -e /bin/busybox && echo base-ok']);
    assert.equal(check.stdout, 'x\nonly\nyes 1\nbase-ok\n');
    const insp = JSON.parse((await d.docker(['image', 'inspect', 'committed:1'])).stdout) as {
      Author: string;
      Comment: string;
      RootFS: { Layers: string[] };
      Config: { Cmd: string[] };
    }[];
    assert.equal(insp[0]?.Author, 'Ann');
    assert.equal(insp[0]?.Comment, 'my message');
    assert.equal(insp[0]?.RootFS.Layers.length, 2);
    assert.deepEqual(insp[0]?.Config.Cmd, ['cat', '/hello']);
    const hist = await d.docker(['history', '--format', '{{.CreatedBy}}|{{.Comment}}', 'committed:1']);
    assert.match(hist.stdout.split('\n')[0] ?? '', /^sh -c echo hi.*\|my message$/);
  });

  it('commits a running container (paused meanwhile) with berth, and refuses an unknown one', async () => {
    assert.equal((await d.berth(['run', '-d', '--name', 'live', 'busybox', 'sh', '-c', 'echo live > /state; sleep 1000'])).code, 0);
    await new Promise((r) => setTimeout(r, 300));
    const c = await d.http('POST', '/commit?container=live&repo=livesnap&tag=v1');
    assert.equal(c.status, 201, c.body);
    const st = JSON.parse((await d.berth(['inspect', 'live'])).stdout) as { State: { Status: string } }[];
    assert.equal(st[0]?.State.Status, 'running');
    assert.equal((await d.berth(['run', '--rm', 'livesnap:v1', 'cat', '/state'])).stdout, 'live\n');
    const viaCli = await d.berth(['commit', '-m', 'from berth', '-c', 'WORKDIR /tmp', 'live', 'livesnap:v2']);
    assert.equal(viaCli.code, 0, viaCli.stderr);
    assert.match(viaCli.stdout, /^sha256:[a-f0-9]{64}\n$/);
    assert.equal((await d.berth(['run', '--rm', 'livesnap:v2', 'pwd'])).stdout, '/tmp\n');
    const missing = await d.http('POST', '/commit?container=nosuch&repo=x');
    assert.equal(missing.status, 404);
    await d.berth(['rm', '-f', 'live']);
  });
});
