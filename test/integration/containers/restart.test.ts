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

  it('restart policies resume after a berthd restart: exits while it was down, and later ones', async () => {
    const state = async (name: string): Promise<{ Status: string; Pid: number; RestartCount: number }> => {
      const c = (JSON.parse((await d.berth(['inspect', name])).stdout) as { State: { Status: string; Pid: number }; RestartCount: number }[])[0];
      return { Status: c?.State.Status ?? '', Pid: c?.State.Pid ?? 0, RestartCount: c?.RestartCount ?? -1 };
    };
    const until = async (cond: () => Promise<boolean>, ms = 15_000): Promise<void> => {
      const end = Date.now() + ms;
      while (!(await cond())) {
        if (Date.now() > end) throw new Error('condition not met in time');
        await new Promise((res) => setTimeout(res, 100));
      }
    };
    for (const [name, policy] of [['al', 'always'], ['us', 'unless-stopped'], ['alstop', 'always'], ['usstop', 'unless-stopped']]) {
      const r = await d.berth(['run', '-d', '--name', name as string, '--restart', policy as string, 'busybox', 'sleep', '300']);
      assert.equal(r.code, 0, r.stderr);
    }
    assert.equal((await d.berth(['stop', '-t', '0', 'alstop', 'usstop'])).code, 0);
    const before = await state('al');
    await d.stop();
    // The container dies while nobody watches it.
    process.kill(before.Pid, 'SIGKILL');
    await new Promise((res) => setTimeout(res, 500));
    await d.start();
    await until(async () => {
      const s = await state('al');
      return s.Status === 'running' && s.Pid !== before.Pid;
    });
    assert.equal((await state('al')).RestartCount, 1);
    assert.equal((await state('us')).Status, 'running');
    // Docker's rule: `always` comes back on daemon start even if stopped by hand; `unless-stopped` does not.
    await until(async () => (await state('alstop')).Status === 'running');
    assert.equal((await state('usstop')).Status, 'exited');
    // The new daemon keeps applying the policy to a container it only recovered.
    const us = await state('us');
    process.kill(us.Pid, 'SIGKILL');
    await until(async () => {
      const s = await state('us');
      return s.Status === 'running' && s.Pid !== us.Pid;
    });
    assert.equal((await d.berth(['rm', '-f', 'al', 'us', 'alstop', 'usstop'])).code, 0);
  });
});
