// berth run -it: a real pseudo-terminal (util-linux `script` gives the CLI one).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REPO, startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';

describe('interactive TTY', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await d.importBusybox();
  });
  after(async () => {
    await d?.cleanup();
  });

  it('run -it gives the container a terminal of the client size and carries input', async () => {
    const berth = join(REPO, 'bin', 'berth');
    const cmd = `stty rows 33 cols 101; ${berth} -H ${d.host} run -it --rm busybox sh -c 'tty; stty size; read x; echo got:$x'`;
    const r = await d.run('script', ['-qec', cmd, '/dev/null'], { input: 'typed\n', timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /\/dev\/pts\/\d+/);
    assert.match(r.stdout, /33 101/);
    assert.match(r.stdout, /got:typed/);
  });
});
