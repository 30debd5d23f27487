import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deleteStopped, initAlive, parseProcStat, parseRuncState, signalInit, signalNumber } from './runcDirect.js';

function stateJson(o: { pid: number; start: number; paths?: Record<string, string>; ns?: unknown[]; hooks?: unknown; systemd?: boolean }): string {
  return JSON.stringify({
    id: 'c1',
    init_process_pid: o.pid,
    init_process_start: o.start,
    cgroup_paths: o.paths ?? {},
    rootless: false,
    intel_rdt_path: '',
    config: {
      namespaces: o.ns ?? [{ type: 'NEWPID', path: '' }, { type: 'NEWNS', path: '' }],
      cgroups: { path: '/x/c1', Systemd: o.systemd ?? false, Rootless: false },
      Hooks: o.hooks ?? { poststop: null, prestart: null },
    },
  });
}

describe('parseRuncState', () => {
  it('reads init pid, start time, cgroup paths; a plain destroy for an own PID namespace', () => {
    const info = parseRuncState(stateJson({ pid: 42, start: 1234, paths: { memory: '/sys/fs/cgroup/memory/x/c1', '': '/sys/fs/cgroup/unified/x/c1' } }));
    assert.deepEqual(info, {
      initPid: 42,
      initStart: 1234,
      cgroupPaths: { memory: '/sys/fs/cgroup/memory/x/c1', '': '/sys/fs/cgroup/unified/x/c1' },
      plainDestroy: true,
    });
  });

  it('is not a plain destroy with the host PID namespace, systemd cgroups or poststop hooks', () => {
    assert.equal(parseRuncState(stateJson({ pid: 42, start: 1, ns: [{ type: 'NEWNS', path: '' }] }))?.plainDestroy, false);
    assert.equal(parseRuncState(stateJson({ pid: 42, start: 1, ns: [{ type: 'NEWPID', path: '/proc/7/ns/pid' }] }))?.plainDestroy, false);
    assert.equal(parseRuncState(stateJson({ pid: 42, start: 1, systemd: true }))?.plainDestroy, false);
    assert.equal(parseRuncState(stateJson({ pid: 42, start: 1, hooks: { poststop: [{ path: '/bin/true' }] } }))?.plainDestroy, false);
  });

  it('rejects unexpected shapes and cgroup paths outside /sys/fs/cgroup', () => {
    assert.equal(parseRuncState('not json'), null);
    assert.equal(parseRuncState('{}'), null);
    assert.equal(parseRuncState(stateJson({ pid: 1, start: 5 })), null);
    assert.equal(parseRuncState(stateJson({ pid: 42, start: 5, paths: { memory: '/etc' } })), null);
    assert.equal(parseRuncState(stateJson({ pid: 42, start: 5, paths: { memory: '/sys/fs/cgroup/../../etc' } })), null);
  });
});

describe('parseProcStat / initAlive', () => {
  const stat = (state: string, start: number): string =>
    `123 (a (weird) name) ${state} 1 123 123 0 -1 4194560 997 0 0 0 5 2 0 0 20 0 1 0 ${start} 2322432 428 18446744073709551615`;
  it('takes the state and start time after the last parenthesis', () => {
    assert.deepEqual(parseProcStat(stat('S', 3486813)), { state: 'S', startTime: 3486813 });
    assert.equal(parseProcStat('garbage'), null);
  });
  it('is alive only with the recorded start time and not a zombie', () => {
    const info = { initPid: 123, initStart: 99, cgroupPaths: {}, plainDestroy: true };
    assert.equal(initAlive(info, stat('S', 99)), true);
    assert.equal(initAlive(info, stat('S', 100)), false, 'PID reused by a later process');
    assert.equal(initAlive(info, stat('Z', 99)), false);
    assert.equal(initAlive(info, null), false);
  });
});

describe('signalNumber', () => {
  it('maps runc kill’s forms and leaves unknown names to runc', () => {
    assert.equal(signalNumber('SIGTERM'), 15);
    assert.equal(signalNumber('KILL'), 9);
    assert.equal(signalNumber('10'), 10);
    assert.equal(signalNumber(2), 2);
    assert.equal(signalNumber('SIGRTMIN+3'), null);
    assert.equal(signalNumber('NOPE'), null);
    assert.equal(signalNumber(0), null);
  });
});

describe('signalInit / deleteStopped with real processes and cgroups', () => {
  const dirs: string[] = [];
  const pids: number[] = [];
  after(async () => {
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // gone
      }
    }
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  async function root(): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), 'berth-runcdirect-'));
    dirs.push(d);
    return d;
  }

  async function startOf(pid: number): Promise<number> {
    const s = parseProcStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
    assert.ok(s);
    return s.startTime;
  }

  it('signals the init when its start time matches, never a process that reused the PID', async () => {
    const child = spawn('sleep', ['100'], { stdio: 'ignore' });
    const pid = child.pid as number;
    pids.push(pid);
    const start = await startOf(pid);
    const r = await root();
    await mkdir(join(r, 'c1'));
    // No freezer path: paused or not cannot be told, so runc decides.
    await writeFile(join(r, 'c1', 'state.json'), stateJson({ pid, start }));
    assert.equal(await signalInit(r, 'c1', 'TERM'), 'fallback');
    // The recorded process started earlier: this PID is someone else now.
    await writeFile(join(r, 'c1', 'state.json'), stateJson({ pid, start: start - 1 }));
    assert.equal(await signalInit(r, 'c1', 'KILL'), 'not-running');
    assert.equal(child.exitCode, null);
    assert.equal(child.signalCode, null);
    assert.equal(await signalInit(r, 'nosuch', 'KILL'), 'missing');
  });

  it('signals through a v1 freezer that is THAWED and reports not-running once the init is gone', async () => {
    const freezer = '/sys/fs/cgroup/freezer';
    if (!existsSync(freezer)) return;
    const cg = join(freezer, `berth-runcdirect-${process.pid}-${Date.now()}`);
    await mkdir(cg);
    try {
      const child = spawn('sleep', ['100'], { stdio: 'ignore' });
      const pid = child.pid as number;
      pids.push(pid);
      const exited = new Promise<NodeJS.Signals | null>((res) => child.on('exit', (_c, s) => res(s)));
      const r = await root();
      await mkdir(join(r, 'c1'));
      await writeFile(join(r, 'c1', 'state.json'), stateJson({ pid, start: await startOf(pid), paths: { freezer: cg } }));
      assert.equal(await signalInit(r, 'c1', 'SIGUSR1'), 'sent');
      assert.equal(await exited, 'SIGUSR1');
      assert.equal(await signalInit(r, 'c1', 'KILL'), 'not-running');
    } finally {
      await rmdir(cg).catch(() => undefined);
    }
  });

  it('deletes a stopped container: sub-cgroups first, then the state dir; a live init goes to runc', async () => {
    const base = '/sys/fs/cgroup/pids';
    if (!existsSync(base)) return;
    const cg = join(base, `berth-runcdirect-${process.pid}-${Date.now()}`);
    await mkdir(join(cg, 'sub', 'subsub'), { recursive: true });
    try {
      const r = await root();
      await mkdir(join(r, 'c1'));
      const child = spawn('sleep', ['100'], { stdio: 'ignore' });
      const pid = child.pid as number;
      pids.push(pid);
      const start = await startOf(pid);
      await writeFile(join(r, 'c1', 'state.json'), stateJson({ pid, start, paths: { pids: cg } }));
      assert.equal(await deleteStopped(r, 'c1'), 'fallback', 'the init still runs');
      // Host PID namespace: runc would kill what is left in the cgroup first.
      await writeFile(join(r, 'c1', 'state.json'), stateJson({ pid, start: start - 1, paths: { pids: cg }, ns: [] }));
      assert.equal(await deleteStopped(r, 'c1'), 'fallback');
      await writeFile(join(r, 'c1', 'state.json'), stateJson({ pid, start: start - 1, paths: { pids: cg } }));
      assert.equal(await deleteStopped(r, 'c1'), 'deleted');
      assert.equal(existsSync(cg), false);
      assert.equal(existsSync(join(r, 'c1')), false);
      assert.equal(await deleteStopped(r, 'c1'), 'missing');
    } finally {
      for (const d of [join(cg, 'sub', 'subsub'), join(cg, 'sub'), cg]) await rmdir(d).catch(() => undefined);
    }
  });
});
