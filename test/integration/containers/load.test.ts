// Load: 50 containers created and started at once all reach running, then stop and are
// removed at once, and nothing is left behind — no mounts, cgroups, conmon processes or
// runc state.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';

const N = 50;

function conmonsOf(d: TestDaemon): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.startsWith('/usr/bin/conmon') || cmd.startsWith('conmon')) if (cmd.includes(d.root)) out.push(Number(pid));
    } catch {
      // gone
    }
  }
  return out;
}

function mountsUnder(root: string): string[] {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m.startsWith(root));
}

function cgroupsOf(d: TestDaemon): string[] {
  const out: string[] = [];
  for (const h of readdirSync('/sys/fs/cgroup')) {
    const dir = join('/sys/fs/cgroup', h, d.cgroupParent);
    if (!existsSync(dir)) continue;
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) out.push(join(dir, e.name));
  }
  return out;
}

describe(`load: ${N} containers at once`, { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let d: TestDaemon;
  before(async () => {
    d = await startDaemon();
    await d.importBusybox();
  });
  after(async () => {
    await d?.cleanup();
  });

  it(`${N} containers created and started concurrently all run; stopped and removed concurrently, nothing leaks`, async () => {
    // /ready says the trap is installed: a container's init ignores a signal it has no handler for
    // (pid namespaces), so a stop before that would wait out its timeout and SIGKILL (137).
    const body = JSON.stringify({ Image: 'busybox', Cmd: ['sh', '-c', 'trap "exit 0" TERM; touch /ready; while true; do sleep 0.2; done'], HostConfig: {} });
    const ids = await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const c = await d.http('POST', `/containers/create?name=load${i}`, body, { 'Content-Type': 'application/json' });
        assert.equal(c.status, 201, c.body);
        const id = (c.json as { Id: string }).Id;
        const s = await d.http('POST', `/containers/${id}/start`);
        assert.equal(s.status, 204, s.body);
        return id;
      }),
    );
    const list = (await d.http('GET', '/containers/json')).json as { Id: string; State: string }[];
    assert.equal(list.length, N);
    assert.ok(list.every((c) => c.State === 'running'));
    assert.equal(conmonsOf(d).length, N, 'one conmon per container');
    assert.equal(cgroupsOf(d).length > 0, true);

    await Promise.all(
      ids.map(async (id) => {
        const until = Date.now() + 30_000;
        while ((await d.http('HEAD', `/containers/${id}/archive?path=/ready`)).status !== 200) {
          assert.ok(Date.now() < until, `container ${id} never installed its trap`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }),
    );
    const stops = await Promise.all(ids.map((id) => d.http('POST', `/containers/${id}/stop?t=5`)));
    assert.ok(stops.every((r) => r.status === 204), stops.map((r) => r.body).join(' '));
    const states = await Promise.all(ids.map(async (id) => ((await d.http('GET', `/containers/${id}/json`)).json as { State: { Status: string; ExitCode: number } }).State));
    assert.ok(states.every((s) => s.Status === 'exited' && s.ExitCode === 0), JSON.stringify(states.filter((s) => s.Status !== 'exited' || s.ExitCode !== 0)));
    const rms = await Promise.all(ids.map((id) => d.http('DELETE', `/containers/${id}`)));
    assert.ok(rms.every((r) => r.status === 204), rms.map((r) => r.body).join(' '));

    assert.deepEqual((await d.http('GET', '/containers/json?all=1')).json, []);
    // berthd keeps a network namespace or two made ahead (`netns/spare-*`) for the next start;
    // those are the daemon's, not a container's, and go when it stops (checked below). A stopped
    // container's network is torn down in the background (50 CNI DELs queue behind one another
    // on this 2-CPU host): the removal answers first, so wait for them, boundedly.
    const containerMounts = (): string[] => mountsUnder(d.root).filter((m) => !/\/netns\/spare-[0-9a-f]+$/.test(m));
    const mountsGone = Date.now() + 30_000;
    while (containerMounts().length > 0 && Date.now() < mountsGone) await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(containerMounts(), [], 'no mounts left');
    assert.deepEqual(cgroupsOf(d), [], 'no container cgroups left');
    // conmon exits right after its container; give the last ones a moment.
    const end = Date.now() + 5000;
    while (conmonsOf(d).length > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(conmonsOf(d), [], 'no conmon left');
    const runc = spawnSync('runc', ['--root', join(d.execRoot, 'runtime'), 'list', '-q'], { encoding: 'utf8' });
    assert.equal(runc.stdout.trim(), '', 'no runc state left');
    assert.deepEqual(readdirSync(join(d.dataRoot, 'containers')), [], 'no container directories left');
    await d.stop();
    assert.deepEqual(mountsUnder(d.root), [], 'no mounts left once berthd stops');
  });
});
