// Containers outlive berthd: stop the daemon, the container runs on under conmon; a new
// berthd finds it, and records exits that happened while it was down.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';

describe('daemon restart', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await d.importBusybox();
  });
  after(async () => {
    await d?.cleanup();
  });

  it('a running container survives a berthd restart and stays controllable', async () => {
    const r = await d.berth(['run', '-d', '--name', 'keep', 'busybox', 'sh', '-c', 'i=0; while true; do echo tick$i; i=$((i+1)); sleep 0.2; done']);
    assert.equal(r.code, 0, r.stderr);
    const short = await d.berth(['run', '-d', '--name', 'short', 'busybox', 'sh', '-c', 'sleep 1; exit 7']);
    assert.equal(short.code, 0, short.stderr);
    const pid = (JSON.parse((await d.berth(['inspect', 'keep'])).stdout) as { State: { Pid: number } }[])[0]?.State.Pid ?? 0;
    assert.ok(pid > 0);
    await d.stop();
    // The daemon is gone; the container is not.
    assert.ok(readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sh'));
    await new Promise((res) => setTimeout(res, 1500));
    await d.start();
    const ps = await d.berth(['ps']);
    assert.match(ps.stdout, /\skeep\n/);
    const shortState = JSON.parse((await d.berth(['inspect', 'short'])).stdout) as { State: { Status: string; ExitCode: number } }[];
    assert.equal(shortState[0]?.State.Status, 'exited');
    assert.equal(shortState[0]?.State.ExitCode, 7);
    const logs = await d.berth(['logs', '--tail', '2', 'keep']);
    assert.match(logs.stdout, /^tick\d+\ntick\d+\n$/);
    const stop = await d.berth(['stop', '-t', '1', 'keep']);
    assert.equal(stop.code, 0, stop.stderr);
    const st = JSON.parse((await d.berth(['inspect', 'keep'])).stdout) as { State: { Status: string; ExitCode: number } }[];
    assert.equal(st[0]?.State.Status, 'exited');
    assert.equal(st[0]?.State.ExitCode, 137);
    assert.equal((await d.berth(['rm', 'keep', 'short'])).code, 0);
  });
});
