/**
 * ConmonRuntime with real conmon + runc: create/start/exit codes, kill, delete,
 * create failures, and conmon outliving the process that launched it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { ConmonRuntime, RuntimeCreateError } from '../../../src/runtime/conmonRuntime.js';
import { NotFoundError, ConflictError } from '../../../src/errdefs/errors.js';
import { withNamespace } from '../../../src/runtime/spec.js';
import { RuntimeHarness, persistFiles, skipReason, sleep, waitFor } from './fixtures.js';

describe('ConmonRuntime lifecycle (real conmon + runc)', { skip: skipReason }, () => {
  let h: RuntimeHarness;
  before(async () => {
    h = await RuntimeHarness.create();
  });
  after(async () => {
    await h.cleanup();
  });

  it('create leaves the container "created"; start runs it; the exit file gives its exit code', async () => {
    const c = await h.prepare('exit3', ['/bin/sh', '-c', 'exit 3']);
    const t0 = performance.now();
    const res = await h.create(c);
    const tCreated = performance.now();
    assert.ok(res.pid > 0 && res.conmonPid > 0);
    const st = await h.runtime.state(c.id);
    assert.equal(st?.status, 'created');
    assert.equal(st?.pid, res.pid);
    const exited = h.waitExit(c);
    await h.runtime.start(c.id);
    const tStarted = performance.now();
    const info = await exited;
    const tExit = performance.now();
    assert.equal(info.exitCode, 3);
    assert.equal(info.oomKilled, false);
    assert.ok(Math.abs(info.exitedAt.getTime() - Date.now()) < 10000);
    assert.equal((await h.runtime.state(c.id))?.status, 'stopped');
    assert.equal((await readFile(persistFiles(c.persistDir).exit, 'utf8')).trim(), '3');
    console.log(
      `latency: create ${(tCreated - t0).toFixed(1)} ms, start ${(tStarted - tCreated).toFixed(1)} ms, ` +
        `create+start ${(tStarted - t0).toFixed(1)} ms, start→exit event ${(tExit - tStarted).toFixed(1)} ms`,
    );
    await h.runtime.delete(c.id);
    assert.equal(await h.runtime.state(c.id), null);
  });

  it('SIGKILL gives exit code 137', async () => {
    const c = await h.newContainer('kill9', ['sleep', '100']);
    await h.runtime.start(c.id);
    const exited = h.waitExit(c);
    await h.runtime.kill(c.id, 'KILL');
    assert.equal((await exited).exitCode, 137);
    await h.runtime.delete(c.id);
  });

  it('SIGTERM to a process without a handler gives 143 (not PID 1: host pid namespace)', async () => {
    // PID 1 of a pid namespace ignores signals it has no handler for, as in Docker.
    const c = await h.newContainer('term', ['sleep', '100'], [withNamespace('pid', 'host')]);
    await h.runtime.start(c.id);
    const exited = h.waitExit(c);
    await h.runtime.kill(c.id, 'SIGTERM');
    assert.equal((await exited).exitCode, 143);
    await h.runtime.delete(c.id);
  });

  it('SIGTERM handled by the container gives the code it exits with; kill --all reaches every process', async () => {
    const c = await h.newContainer('trap', ['/bin/sh', '-c', 'trap "exit 42" TERM; while true; do sleep 0.1; done']);
    await h.runtime.start(c.id);
    await sleep(200);
    const exited = h.waitExit(c);
    await h.runtime.kill(c.id, 15, true);
    assert.equal((await exited).exitCode, 42);
    await h.runtime.delete(c.id);
  });

  it('a missing executable fails create with runc’s message (Docker: exit 127) and leaves nothing behind', async () => {
    const c = await h.prepare('nosuch', ['nosuch']);
    await assert.rejects(h.create(c), (e: unknown) => {
      assert.ok(e instanceof RuntimeCreateError);
      assert.match(e.runtimeMessage, /exec: "nosuch": executable file not found in \$PATH/);
      assert.equal(e.exitCode, 127);
      return true;
    });
    assert.equal(await h.runtime.state(c.id), null);
    assert.deepEqual(await h.cgroupDirs(c), []);
  });

  it('a non-executable file fails create with permission denied (Docker: exit 126)', async () => {
    const c = await h.prepare('noexec', ['/etc/passwd']);
    await assert.rejects(h.create(c), (e: unknown) => {
      assert.ok(e instanceof RuntimeCreateError);
      assert.match(e.runtimeMessage, /permission denied/);
      assert.equal(e.exitCode, 126);
      return true;
    });
  });

  it('delete removes runc state and cgroups, refuses a running container without force, and is idempotent', async () => {
    const c = await h.newContainer('del', ['sleep', '100']);
    await h.runtime.start(c.id);
    assert.ok((await h.cgroupDirs(c)).length > 0, 'container cgroups exist while running');
    await assert.rejects(h.runtime.delete(c.id), ConflictError);
    const exited = h.waitExit(c);
    await h.runtime.delete(c.id, { force: true });
    assert.equal((await exited).exitCode, 137);
    assert.equal(await h.runtime.state(c.id), null);
    assert.deepEqual(await h.cgroupDirs(c), []);
    await assert.doesNotReject(h.runtime.delete(c.id));
    await assert.doesNotReject(h.runtime.delete('bt-never-existed', { force: true }));
    // Only this harness's containers live under its parent: once they are gone, so is the parent.
    const others = (await h.runtime.list()).filter((s) => s.id !== c.id);
    if (others.length === 0) assert.deepEqual(await h.parentCgroupDirs(), []);
  });

  it('start, kill and pause of an unknown id are NotFound; kill of a stopped container is a Conflict', async () => {
    await assert.rejects(h.runtime.start('bt-unknown'), NotFoundError);
    await assert.rejects(h.runtime.kill('bt-unknown', 'KILL'), NotFoundError);
    await assert.rejects(h.runtime.pause('bt-unknown'), NotFoundError);
    const c = await h.newContainer('stopped', ['true']);
    const exited = h.waitExit(c);
    await h.runtime.start(c.id);
    await exited;
    await assert.rejects(h.runtime.kill(c.id, 'KILL'), ConflictError);
    await h.runtime.delete(c.id);
  });

  it('pause and resume freeze and thaw the container', async () => {
    const c = await h.newContainer('pause', ['sleep', '100']);
    await h.runtime.start(c.id);
    await h.runtime.pause(c.id);
    assert.equal((await h.runtime.state(c.id))?.status, 'paused');
    await h.runtime.resume(c.id);
    assert.equal((await h.runtime.state(c.id))?.status, 'running');
    await h.runtime.delete(c.id, { force: true });
  });

  it('a container keeps running after the process that launched it exits (conmon survives)', async () => {
    const c = await h.prepare('survive', ['sleep', '100']);
    const helper = join(fileURLToPath(new URL('.', import.meta.url)), 'launchHelper.ts');
    const out = await new Promise<string>((resolve, reject) => {
      const p = spawn(process.execPath, ['--import', 'tsx', helper], { stdio: ['pipe', 'pipe', 'inherit'] });
      let s = '';
      p.stdout.on('data', (d: Buffer) => (s += d.toString()));
      p.on('error', reject);
      p.on('exit', (code) => (code === 0 ? resolve(s) : reject(new Error(`helper exit ${String(code)}`))));
      p.stdin.end(
        JSON.stringify({
          runtime: h.runtime.paths,
          create: { id: c.id, bundleDir: c.bundleDir, logPath: c.logPath, exitDir: h.exitDir, persistDir: c.persistDir, tty: false, openStdin: false },
        }),
      );
    });
    const launched = JSON.parse(out) as { pid: number; conmonPid: number };
    await sleep(300);
    assert.equal((await h.runtime.state(c.id))?.status, 'running');
    assert.equal(await h.runtime.monitorPid(c.persistDir), launched.conmonPid);
    // conmon is in its own session, reparented away from the exited launcher.
    const stat = (await readFile(`/proc/${launched.conmonPid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
    const [ppid, , sid] = [Number(stat[1]), Number(stat[2]), Number(stat[3])];
    assert.notEqual(ppid, process.pid);
    assert.equal(sid, launched.conmonPid, 'conmon leads its own session');
    const exited = h.waitExit(c);
    await h.runtime.kill(c.id, 'KILL');
    assert.equal((await exited).exitCode, 137);
    await waitFor(async () => (await h.runtime.monitorPid(c.persistDir)) === null, 5000, 'conmon to exit');
    await h.runtime.delete(c.id);
  });

  it('create again after an exit does not report the old exit', async () => {
    const c = await h.newContainer('rerun', ['/bin/sh', '-c', 'exit 7']);
    let exited = h.waitExit(c);
    await h.runtime.start(c.id);
    assert.equal((await exited).exitCode, 7);
    await h.runtime.delete(c.id);
    await h.watcher.remove(c.id);
    await h.create(c);
    assert.equal(await h.watcher.readExit(c.id), null, 'stale exit file removed by create');
    await assert.rejects(stat(persistFiles(c.persistDir).exit));
    exited = h.waitExit(c);
    await h.runtime.start(c.id);
    assert.equal((await exited).exitCode, 7);
    await h.runtime.delete(c.id);
  });

  it('create replaces a stopped runc container left under the same id (daemon died before delete)', async () => {
    const c = await h.newContainer('leftover', ['/bin/sh', '-c', 'exit 5']);
    let exited = h.waitExit(c);
    await h.runtime.start(c.id);
    assert.equal((await exited).exitCode, 5);
    assert.equal((await h.runtime.state(c.id))?.status, 'stopped');
    await h.watcher.remove(c.id);
    await h.create(c); // no delete in between
    assert.equal((await h.runtime.state(c.id))?.status, 'created');
    exited = h.waitExit(c);
    await h.runtime.start(c.id);
    assert.equal((await exited).exitCode, 5);
    await h.runtime.delete(c.id);
  });

  it('create refuses an id that a live container has', async () => {
    const c = await h.newContainer('live', ['sleep', '100']);
    await h.runtime.start(c.id);
    const twin = await h.prepare('live-twin', ['true']);
    twin.id = c.id;
    await assert.rejects(h.create(twin), (e: unknown) => e instanceof RuntimeCreateError && /already exists/.test(e.runtimeMessage));
    assert.equal((await h.runtime.state(c.id))?.status, 'running', 'the live container is untouched');
    await h.runtime.delete(c.id, { force: true });
  });

  it('start releases the container through runc’s exec fifo: runc then says running, the fifo is gone, output flows', async () => {
    const c = await h.newContainer('fifo', ['/bin/sh', '-c', 'echo started; sleep 100']);
    const fifo = join(h.runtime.paths.stateRoot, c.id, 'exec.fifo');
    await stat(fifo);
    assert.equal((await h.runtime.state(c.id))?.status, 'created');
    await h.runtime.start(c.id);
    await assert.rejects(stat(fifo), /ENOENT/);
    assert.equal((await h.runtime.state(c.id))?.status, 'running');
    await waitFor(async () => (await readFile(c.logPath, 'utf8').catch(() => '')).includes('started'), 5000);
    // A second start is runc's own refusal, as before.
    await assert.rejects(h.runtime.start(c.id), ConflictError);
    await h.runtime.delete(c.id, { force: true });
  });

  it('start of a container whose init was killed after create fails and runs nothing', async () => {
    const c = await h.newContainer('deadinit', ['/bin/sh', '-c', 'echo ran']);
    const exited = h.waitExit(c);
    process.kill(c.created?.pid ?? 0, 'SIGKILL');
    await assert.rejects(h.runtime.start(c.id), /already dead|stopped|cannot start/);
    await exited;
    assert.doesNotMatch(await readFile(c.logPath, 'utf8').catch(() => ''), /ran/);
    await h.runtime.delete(c.id, { force: true });
  });

  it('a runtime that did not create the container starts it with runc start (after a daemon restart)', async () => {
    const c = await h.newContainer('otherrt', ['/bin/sh', '-c', 'exit 4']);
    const fresh = new ConmonRuntime(h.runtime.paths);
    const exited = h.waitExit(c);
    await fresh.start(c.id);
    assert.equal((await exited).exitCode, 4);
    await fresh.delete(c.id);
  });

  it('deleteInBackground: a delete or create of the same id waits for it; settle() waits for all', async () => {
    const c = await h.newContainer('bgdel', ['/bin/sh', '-c', 'exit 0']);
    const exited = h.waitExit(c);
    await h.runtime.start(c.id);
    await exited;
    h.runtime.deleteInBackground(c.id);
    h.runtime.deleteInBackground(c.id); // a second request does not start it early
    await sleep(5);
    assert.equal(h.runtime.known(c.id), true, 'the background delete waits a moment before it forks runc');
    await h.runtime.delete(c.id); // starts the deferred one and joins it
    assert.equal(await h.runtime.state(c.id), null);
    assert.deepEqual(await h.cgroupDirs(c), []);
    const d = await h.newContainer('bgdel2', ['/bin/sh', '-c', 'exit 0']);
    const exited2 = h.waitExit(d);
    await h.runtime.start(d.id);
    await exited2;
    h.runtime.deleteInBackground(d.id);
    await h.runtime.settle();
    assert.equal(h.runtime.known(d.id), false);
  });

  it('removeOrphans deletes runc state the engine no longer knows and keeps the rest', async () => {
    const keep = await h.newContainer('orph-keep', ['sleep', '100']);
    const gone = await h.newContainer('orph-gone', ['/bin/sh', '-c', 'exit 0']);
    const exited = h.waitExit(gone);
    await h.runtime.start(gone.id);
    await exited;
    const removed = await h.runtime.removeOrphans((id) => id !== gone.id);
    assert.deepEqual(removed, [gone.id]);
    assert.equal(await h.runtime.state(gone.id), null);
    assert.equal((await h.runtime.state(keep.id))?.status, 'created');
    await h.runtime.delete(keep.id, { force: true });
  });

  it('an aborted create rejects and leaves no container', async () => {
    const c = await h.prepare('aborted', ['sleep', '100']);
    const ac = new AbortController();
    ac.abort(new Error('client went away'));
    await assert.rejects(
      h.runtime.create({ id: c.id, bundleDir: c.bundleDir, logPath: c.logPath, exitDir: h.exitDir, persistDir: c.persistDir, tty: false, openStdin: false, signal: ac.signal }),
      /aborted: client went away/,
    );
    assert.equal(await h.runtime.state(c.id), null);
  });
});
