// Image events with Docker's shapes (moby's graphdriver image service): import (after its tag),
// tag, save, untag, push, delete, load and pull, replayed with `events --since … --until …`
// through the berth CLI and the docker CLI, and filtered by type and image.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busyboxRootfsTar, startDaemon, type CmdResult, type TestDaemon } from '../../fixtures/testDaemon.js';
import { TestRegistry } from '../../fixtures/testRegistry.js';

const hasDocker = spawnSync('docker', ['--version']).status === 0;

interface Ev {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  status?: string;
  id?: string;
}

describe('image events', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let d: TestDaemon;
  let reg: TestRegistry;
  let work: string;
  let since = '';
  let until = '';
  let img = '';
  let remote = '';
  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'berth-imgev-'));
    reg = new TestRegistry();
    await reg.start();
    d = await startDaemon();
    remote = `${reg.host}/ev/img`;
    since = String(Math.floor(Date.now() / 1000) - 1);
    const ok = async (args: string[]): Promise<CmdResult> => {
      const r = await d.berth(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      return r;
    };
    img = (await ok(['import', '-c', 'LABEL team=blue', busyboxRootfsTar(), 'evimg:1'])).stdout.trim();
    await ok(['tag', 'evimg:1', 'evimg:2']);
    await ok(['save', '-o', join(work, 'evimg.tar'), 'evimg:1']);
    await ok(['rmi', 'evimg:2']);
    await ok(['tag', 'evimg:1', `${remote}:1`]);
    await ok(['push', `${remote}:1`]);
    await ok(['rmi', '-f', img]);
    await ok(['load', '-i', join(work, 'evimg.tar')]);
    await ok(['pull', `${remote}:1`]);
    // A failed operation publishes nothing.
    assert.notEqual((await d.berth(['tag', 'nosuch:1', 'other:1'])).code, 0);
    assert.notEqual((await d.berth(['rmi', 'nosuch:1'])).code, 0);
    until = String(Math.ceil(Date.now() / 1000) + 1);
  });
  after(async () => {
    await d?.cleanup();
    await reg?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const expected = (): Array<[string, string, string, string | undefined]> => [
    // action, Actor.ID, name, the image's label
    ['tag', img, 'evimg:1', 'blue'],
    ['import', img, img, 'blue'],
    ['tag', img, 'evimg:2', 'blue'],
    ['save', img, img, 'blue'],
    ['untag', img, img, 'blue'],
    ['tag', img, `${remote}:1`, 'blue'],
    ['push', `${remote}:1`, remote, 'blue'],
    ['untag', img, img, 'blue'],
    ['untag', img, img, 'blue'],
    ['delete', img, img, undefined],
    ['load', img, img, 'blue'],
    ['pull', `${remote}:1`, remote, 'blue'],
  ];

  const clis: Array<[string, (args: string[]) => Promise<CmdResult>]> = [['berth', (a) => d.berth(a)]];
  if (hasDocker) clis.push(['docker', (a) => d.docker(a)]);
  for (const [name, cli] of clis) {
    it(`${name}: events --since --until --filter type=image replays every image operation in Docker's shape`, async () => {
      const r = await cli(['events', '--since', since, '--until', until, '--filter', 'type=image', '--format', '{{json .}}']);
      assert.equal(r.code, 0, r.stderr);
      const evs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Ev);
      assert.deepEqual(
        evs.map((e) => [e.Action, e.Actor.ID, e.Actor.Attributes.name, e.Actor.Attributes.team]),
        expected(),
      );
      for (const e of evs) {
        assert.equal(e.Type, 'image');
        assert.equal(e.status, e.Action);
        assert.equal(e.id, e.Actor.ID);
      }
    });
  }

  it('the image filter matches image events by their name and ID', async () => {
    const byRepo = await d.berth(['events', '--since', since, '--until', until, '--filter', `image=${remote}`, '--format', '{{.Action}}']);
    assert.deepEqual(byRepo.stdout.trim().split('\n'), ['tag', 'push', 'pull']);
    const byId = await d.berth(['events', '--since', since, '--until', until, '--filter', 'type=image', '--filter', `image=${img}`, '--format', '{{.Action}}']);
    // Every event but push and pull, whose Actor is the reference.
    assert.equal(byId.stdout.trim().split('\n').length, expected().filter((e) => e[1] === img).length);
    const byEvent = await d.berth(['events', '--since', since, '--until', until, '--filter', 'event=untag', '--format', '{{.Type}} {{.Action}}']);
    assert.deepEqual(byEvent.stdout.trim().split('\n'), ['image untag', 'image untag', 'image untag']);
  });
});
