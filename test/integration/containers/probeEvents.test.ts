// Health probes are execs, and publish Docker's exec events: exec_create and exec_start with the
// probe's command, exec_die with its exit code (127 for a probe killed for its timeout, as Docker
// reports it), seen through `events --filter event=…` of the berth CLI and the docker CLI.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startDaemon, type CmdResult, type TestDaemon } from '../../fixtures/testDaemon.js';

const hasDocker = spawnSync('docker', ['--version']).status === 0;
const FORMAT = '{{.Type}}|{{.Action}}|{{.Actor.Attributes.name}}|{{.Actor.Attributes.execID}}|{{.Actor.Attributes.exitCode}}';

async function until(cond: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('condition not met in time');
}

describe('health-probe exec events', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let d: TestDaemon;
  let since = '';
  before(async () => {
    d = await startDaemon();
    await d.importBusybox();
    since = String(Math.floor(Date.now() / 1000) - 1);
    // One passing, one failing and one hanging probe, every 500 ms.
    for (const [name, cmd] of [
      ['hc-ok', 'true'],
      ['hc-bad', 'exit 3'],
      ['hc-hang', 'sleep 30'],
    ] as const) {
      const r = await d.berth(['run', '-d', '--name', name, '--network', 'none', '--health-cmd', cmd, '--health-interval', '500ms', '--health-timeout', '1s', 'busybox', 'sleep', '300']);
      assert.equal(r.code, 0, r.stderr);
    }
    // Until every container had a few probes end (the hanging one times out after 1 s).
    await until(async () => {
      const r = await d.http('GET', `/events?since=${since}&until=${Math.ceil(Date.now() / 1000)}&filters=${encodeURIComponent('{"event":["exec_die"],"container":["hc-hang"]}')}`);
      return r.body.split('\n').filter((l) => l.trim() !== '').length >= 2;
    }, 30_000);
  });
  after(async () => {
    await d?.cleanup();
  });

  const clis: Array<[string, (args: string[]) => Promise<CmdResult>]> = [['berth', (a) => d.berth(a)]];
  if (hasDocker) clis.push(['docker', (a) => d.docker(a)]);

  for (const [name, cli] of clis) {
    it(`${name}: events --filter event=exec_die shows each probe's exit code`, async () => {
      const until = String(Math.ceil(Date.now() / 1000));
      const r = await cli(['events', '--since', since, '--until', until, '--filter', 'event=exec_die', '--format', FORMAT]);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split('\n').map((l) => l.split('|'));
      const codes = (c: string): Set<string> => new Set(lines.filter((l) => l[2] === c).map((l) => l[4] ?? ''));
      assert.ok(lines.every((l) => l[0] === 'container' && l[1] === 'exec_die' && /^[0-9a-f]{64}$/.test(l[3] ?? '')), r.stdout);
      assert.deepEqual(codes('hc-ok'), new Set(['0']));
      assert.deepEqual(codes('hc-bad'), new Set(['3']));
      assert.deepEqual(codes('hc-hang'), new Set(['127']));
    });

    it(`${name}: exec_create and exec_start carry the probe command, with the same execID as its exec_die`, async () => {
      const until = String(Math.ceil(Date.now() / 1000));
      const r = await cli(['events', '--since', since, '--until', until, '--filter', 'container=hc-bad', '--filter', 'event=exec_create', '--filter', 'event=exec_start', '--filter', 'event=exec_die', '--format', FORMAT]);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split('\n').map((l) => l.split('|'));
      const byExec = new Map<string, string[]>();
      for (const l of lines) byExec.set(l[3] ?? '', [...(byExec.get(l[3] ?? '') ?? []), l[1] ?? '']);
      assert.ok(byExec.size >= 2, r.stdout);
      const complete = [...byExec.values()].filter((a) => a.length === 3);
      assert.ok(complete.length >= 1, r.stdout);
      for (const actions of complete) assert.deepEqual(actions, ['exec_create: /bin/sh -c exit 3', 'exec_start: /bin/sh -c exit 3', 'exec_die']);
    });
  }

  it('a user exec without arguments keeps moby\'s trailing space in its action', async () => {
    const t0 = String(Math.floor(Date.now() / 1000) - 1);
    assert.equal((await d.berth(['exec', 'hc-ok', 'true'])).code, 0);
    const r = await d.http('GET', `/events?since=${t0}&until=${Math.ceil(Date.now() / 1000)}&filters=${encodeURIComponent('{"event":["exec_create","exec_start"],"container":["hc-ok"]}')}`);
    const actions = r.body.split('\n').filter((l) => l.trim() !== '').map((l) => (JSON.parse(l) as { Action: string }).Action);
    assert.ok(actions.includes('exec_create: true '), actions.join(','));
    assert.ok(actions.includes('exec_start: true '), actions.join(','));
  });
});
