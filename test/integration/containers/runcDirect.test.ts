// The lifecycle steps berthd does without a runc process (runtime/runcDirect.ts, decisions B78),
// through the real docker CLI: kill with a signal the container traps, stop, rm, start again;
// runc's state and the container's cgroups are gone after an exit; and a PID whose start time
// is not the one runc recorded (a reused PID) never gets a signal.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';

async function until(cond: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('lifecycle without runc processes', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await d.importBusybox();
  });
  after(async () => {
    await d?.cleanup();
  });

  const stateDir = (id: string): string => join(d.execRoot, 'runtime', id);
  const cgroupDirs = (id: string): string[] =>
    ['memory', 'pids', 'freezer', 'cpu'].map((c) => join('/sys/fs/cgroup', c, d.cgroupParent.replace(/^\/+/, ''), id));
  const inspect = async (name: string): Promise<{ Id: string; State: { Status: string; Pid: number; ExitCode: number; Running: boolean } }> => {
    const r = await d.docker(['inspect', name]);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { Id: string; State: { Status: string; Pid: number; ExitCode: number; Running: boolean } }[])[0] as never;
  };
  const logs = async (name: string): Promise<string> => (await d.docker(['logs', name])).stdout;

  it('kill -s delivers a trapped signal; stop ends it with the trap’s exit code; runc state and cgroups go', async () => {
    const r = await d.docker(['run', '-d', '--name', 'k1', 'busybox', 'sh', '-c', 'trap "echo got-usr1" USR1; trap "exit 3" TERM; echo up; while true; do sleep 0.1; done']);
    assert.equal(r.code, 0, r.stderr);
    await until(async () => (await logs('k1')).includes('up'));
    const c = await inspect('k1');
    assert.ok(existsSync(join(stateDir(c.Id), 'state.json')));
    assert.ok(cgroupDirs(c.Id).some((p) => existsSync(p)), 'the container has cgroups while it runs');
    assert.equal((await d.docker(['kill', '-s', 'USR1', 'k1'])).code, 0);
    await until(async () => (await logs('k1')).includes('got-usr1'));
    assert.equal((await d.docker(['kill', '-s', 'SIGUSR1', 'k1'])).code, 0);
    await until(async () => (await logs('k1')).split('got-usr1').length === 3);
    assert.equal((await inspect('k1')).State.Running, true);
    const stop = await d.docker(['stop', 'k1']);
    assert.equal(stop.code, 0, stop.stderr);
    const s = await inspect('k1');
    assert.equal(s.State.Status, 'exited');
    assert.equal(s.State.ExitCode, 3);
    // The delete after the exit runs in the background, in the daemon.
    await until(() => !existsSync(stateDir(c.Id)) && cgroupDirs(c.Id).every((p) => !existsSync(p)));
    // A stopped container: kill is refused as Docker refuses it.
    const k = await d.docker(['kill', 'k1']);
    assert.equal(k.code, 1);
    assert.match(k.stderr, /is not running/);
    // Started again under the same id, then removed.
    assert.equal((await d.docker(['start', 'k1'])).code, 0);
    await until(async () => (await logs('k1')).split('up').length === 3);
    assert.equal((await d.docker(['kill', 'k1'])).code, 0);
    const killed = await inspect('k1');
    assert.equal(killed.State.Status, 'exited');
    assert.equal(killed.State.ExitCode, 137);
    const rm = await d.docker(['rm', 'k1']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(existsSync(stateDir(c.Id)), false);
    assert.ok(cgroupDirs(c.Id).every((p) => !existsSync(p)));
  });

  it('stop escalates to SIGKILL after the timeout; restart gives a new process; --rm removes everything', async () => {
    assert.equal((await d.docker(['run', '-d', '--name', 'deaf', 'busybox', 'sh', '-c', 'trap "" TERM; echo up; while true; do sleep 0.1; done'])).code, 0);
    await until(async () => (await logs('deaf')).includes('up'));
    const pid1 = (await inspect('deaf')).State.Pid;
    const t0 = Date.now();
    const restart = await d.docker(['restart', '-t', '1', 'deaf']);
    assert.equal(restart.code, 0, restart.stderr);
    assert.ok(Date.now() - t0 >= 900, 'waited for the timeout');
    const after1 = await inspect('deaf');
    assert.equal(after1.State.Running, true);
    assert.notEqual(after1.State.Pid, pid1);
    assert.equal((await d.docker(['stop', '-t', '1', 'deaf'])).code, 0);
    assert.equal((await inspect('deaf')).State.ExitCode, 137);
    assert.equal((await d.docker(['rm', 'deaf'])).code, 0);

    const rr = await d.docker(['run', '-d', '--rm', '--name', 'gone', 'busybox', 'sh', '-c', 'trap "exit 0" TERM; sleep 1000 & wait']);
    assert.equal(rr.code, 0, rr.stderr);
    const id = rr.stdout.trim();
    assert.equal((await d.docker(['stop', 'gone'])).code, 0);
    await until(async () => (await d.docker(['inspect', 'gone'])).code !== 0);
    await until(() => !existsSync(stateDir(id)) && cgroupDirs(id).every((p) => !existsSync(p)));
  });

  it('a PID that runc did not start (its start time differs) gets no signal: kill is refused', async () => {
    assert.equal((await d.docker(['run', '-d', '--name', 'reuse', 'busybox', 'sh', '-c', 'trap "echo got-usr1" USR1; echo up; while true; do sleep 0.1; done'])).code, 0);
    await until(async () => (await logs('reuse')).includes('up'));
    const c = await inspect('reuse');
    const file = join(stateDir(c.Id), 'state.json');
    const original = readFileSync(file, 'utf8');
    const state = JSON.parse(original) as { init_process_start: number };
    // As if the init had exited and another process had been given its PID later.
    writeFileSync(file, JSON.stringify({ ...state, init_process_start: state.init_process_start + 1 }));
    try {
      const k = await d.docker(['kill', '-s', 'USR1', 'reuse']);
      assert.equal(k.code, 1);
      assert.match(k.stderr, /is not running/);
      await new Promise((r) => setTimeout(r, 400));
      assert.equal((await logs('reuse')).includes('got-usr1'), false, 'the process with that PID got nothing');
      assert.ok(readFileSync(`/proc/${c.State.Pid}/stat`, 'utf8').length > 0, 'and still runs');
    } finally {
      writeFileSync(file, original);
    }
    assert.equal((await d.docker(['kill', '-s', 'USR1', 'reuse'])).code, 0);
    await until(async () => (await logs('reuse')).includes('got-usr1'));
    const rm = await d.docker(['rm', '-f', 'reuse']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(existsSync(stateDir(c.Id)), false);
  });
});
