// berth run -it: a real pseudo-terminal (util-linux `script` gives the CLI one).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REPO, startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';
import { onTerminal } from '../../fixtures/terminal.js';

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
    // Typed once the container has shown its terminal size (the CLI is in raw mode by then).
    const r = await onTerminal(cmd, [{ after: /33 101/, send: 'typed\r' }], 30_000);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /\/dev\/pts\/\d+/);
    assert.match(r.out, /33 101/);
    assert.match(r.out, /got:typed/);
  });

  for (const client of ['berth', 'docker'] as const) {
    it(`${client} exec -it gives the exec a terminal of the client size and carries input`, async () => {
      const name = `tty-${client}`;
      assert.equal((await d.berth(['run', '-d', '--name', name, 'busybox', 'sleep', '300'])).code, 0);
      const bin = client === 'berth' ? `${join(REPO, 'bin', 'berth')} -H ${d.host}` : `DOCKER_HOST=${d.host} DOCKER_CONFIG=${d.root}/docker-config docker`;
      const cmd = `stty rows 27 cols 91; ${bin} exec -it ${name} sh -c 'tty; stty size; echo TERM=$TERM; read x; echo got:$x; exit 5'`;
      const r = await onTerminal(cmd, [{ after: /TERM=xterm/, send: 'typed\r' }], 30_000);
      assert.equal(r.code, 5, r.out);
      assert.match(r.out, /\/dev\/pts\/\d+/);
      assert.match(r.out, /27 91/);
      assert.match(r.out, /got:typed/);
      await d.berth(['rm', '-f', name]);
    });
  }
});
