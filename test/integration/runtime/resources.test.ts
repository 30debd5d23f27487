/**
 * What a container built from buildSpec() sees, with real runc: Docker's default
 * capabilities and paths, cgroup limits, OOM kills reported as 137 + oomKilled.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readLogs } from '../../../src/runtime/logs.js';
import { withMemory, withNanoCpus, withPidsLimit, type SpecOpt } from '../../../src/runtime/spec.js';
import { RuntimeHarness, skipReason } from './fixtures.js';
import type { ExitInfo } from '../../../src/runtime/exitWatcher.js';

const MiB = 1024 * 1024;

describe('resources and defaults inside a container (real runc)', { skip: skipReason }, () => {
  let h: RuntimeHarness;
  before(async () => {
    h = await RuntimeHarness.create();
  });
  after(async () => {
    await h.cleanup();
  });

  /** Runs a container to its exit; returns the exit and its stdout+stderr text. */
  async function runToExit(name: string, script: string, opts: SpecOpt[] = []): Promise<{ info: ExitInfo; out: string }> {
    const c = await h.newContainer(name, ['/bin/sh', '-c', script], opts);
    const exited = h.waitExit(c, 30000);
    await h.runtime.start(c.id);
    const info = await exited;
    let out = '';
    for await (const e of readLogs(c.logPath)) out += e.data.toString();
    await h.runtime.delete(c.id);
    return { info, out };
  }

  it('the default spec gives Docker’s capability mask, no NoNewPrivs, masked and read-only /proc paths', async () => {
    const { info, out } = await runToExit(
      'defaults',
      'grep -E "^(CapEff|CapBnd|CapInh|NoNewPrivs)" /proc/self/status; ' +
        'echo interrupts=$(wc -c < /proc/interrupts); ' +
        '(echo x > /proc/sys/kernel/hostname) 2>&1 | grep -o "Read-only file system"; ' +
        'echo nofile=$(ulimit -n); echo shm=$(df -k /dev/shm | tail -1 | awk "{print \\$2}"); ' +
        'ls /dev | sort | tr "\\n" " "',
    );
    assert.equal(info.exitCode, 0, out);
    assert.match(out, /CapEff:\s+00000000a80425fb/);
    assert.match(out, /CapBnd:\s+00000000a80425fb/);
    assert.match(out, /CapInh:\s+0000000000000000/);
    assert.match(out, /NoNewPrivs:\s+0/);
    assert.match(out, /interrupts=0\n/, 'masked: /dev/null bound over it');
    assert.match(out, /Read-only file system/);
    assert.match(out, /nofile=\d+/);
    assert.match(out, /shm=65536\b/);
    for (const d of ['null', 'zero', 'full', 'random', 'urandom', 'tty', 'ptmx', 'pts', 'shm', 'mqueue']) {
      assert.match(out, new RegExp(`\\b${d}\\b`), d);
    }
  });

  it('memory, swap, pids and cpu limits reach the cgroup files', async () => {
    const { info, out } = await runToExit(
      'limits',
      'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes ' +
        '/sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us',
      [withMemory(32 * MiB), withPidsLimit(20), withNanoCpus(0.5e9)],
    );
    assert.equal(info.exitCode, 0, out);
    assert.deepEqual(out.trim().split('\n'), [String(32 * MiB), String(64 * MiB), '20', '50000', '100000']);
  });

  it('pids limit: forks beyond it fail', async () => {
    const { out } = await runToExit(
      'pids',
      'i=0; while [ $i -lt 30 ]; do sleep 5 & i=$((i+1)); done 2>&1 | head -1; echo started=$(jobs -p | wc -l); kill $(jobs -p) 2>/dev/null; true',
      [withPidsLimit(10)],
    );
    assert.match(out, /can't fork|Resource temporarily unavailable/);
  });

  it('going over the memory limit as PID 1 exits 137 with oomKilled (three times: no race)', async () => {
    for (let i = 0; i < 3; i++) {
      const c = await h.newContainer(`oom${i}`, ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1'], [withMemory(32 * MiB, 32 * MiB)]);
      const exited = h.waitExit(c, 30000);
      await h.runtime.start(c.id);
      const info = await exited;
      assert.equal(info.exitCode, 137);
      assert.equal(info.oomKilled, true, `run ${i}`);
      await h.runtime.delete(c.id);
    }
  });

  it('a container that stays under its memory limit is not oomKilled', async () => {
    const { info } = await runToExit('nooom', 'dd if=/dev/zero of=/dev/null bs=8M count=1 2>/dev/null', [withMemory(32 * MiB)]);
    assert.equal(info.exitCode, 0);
    assert.equal(info.oomKilled, false);
  });
});
