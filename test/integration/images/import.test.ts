// berth import / images / image inspect / tag / rmi against a real daemon, and hostile imports.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busyboxRootfsTar, REPO, startDaemon, TestDaemon } from '../../fixtures/testDaemon.js';
import { rawTar } from '../../fixtures/rawTar.js';

function blobCount(d: TestDaemon): number {
  const dir = join(d.dataRoot, 'content', 'blobs', 'sha256');
  return existsSync(dir) ? readdirSync(dir).length : 0;
}

describe('image import and management', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let d: TestDaemon;
  let work: string;
  before(async () => {
    d = await startDaemon();
    work = mkdtempSync(join(tmpdir(), 'berth-imp-'));
  });
  after(async () => {
    await d?.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  it('imports a rootfs tar from a file and from stdin, and lists and inspects it', async () => {
    const r = await d.berth(['import', '-c', 'CMD ["sh"]', '-c', 'ENV FOO=bar', busyboxRootfsTar(), 'myimg:1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.trim(), /^sha256:[a-f0-9]{64}$/);
    const r2 = await d.run('sh', ['-c', 'cat "$0" | "$1" -H "$2" import - other:2', busyboxRootfsTar(), join(REPO, 'bin', 'berth'), d.host]);
    assert.equal(r2.code, 0, r2.stderr);
    const images = await d.berth(['images']);
    assert.equal(images.code, 0);
    assert.match(images.stdout, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE/);
    assert.match(images.stdout, /\nmyimg\s+1\s+[a-f0-9]{12}\s/);
    assert.match(images.stdout, /\nother\s+2\s+[a-f0-9]{12}\s/);
    const insp = await d.berth(['image', 'inspect', 'myimg:1']);
    assert.equal(insp.code, 0);
    const [img] = JSON.parse(insp.stdout) as { Id: string; RepoTags: string[]; Config: { Cmd: string[]; Env: string[] }; RootFS: { Layers: string[] } }[];
    assert.deepEqual(img?.RepoTags, ['myimg:1']);
    assert.deepEqual(img?.Config.Cmd, ['sh']);
    assert.ok(img?.Config.Env.includes('FOO=bar'));
    assert.equal(img?.RootFS.Layers.length, 1);
  });

  it('tags, untags and deletes, keeping shared content until the last user goes', async () => {
    assert.equal((await d.berth(['tag', 'myimg:1', 'myimg:alias'])).code, 0);
    const rm1 = await d.berth(['rmi', 'myimg:alias']);
    assert.equal(rm1.code, 0, rm1.stderr);
    assert.match(rm1.stdout, /Untagged: myimg:alias/);
    assert.doesNotMatch(rm1.stdout, /Deleted/);
    const rm2 = await d.berth(['rmi', 'other:2']);
    assert.equal(rm2.code, 0, rm2.stderr);
    assert.match(rm2.stdout, /Untagged: other:2\nDeleted: sha256:/);
    const gone = await d.berth(['image', 'inspect', 'other:2']);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /No such image: other:2/);
  });

  it('refuses to delete an image a container uses, unless forced', async () => {
    const c = await d.berth(['create', '--name', 'user1', 'myimg:1']);
    assert.equal(c.code, 0, c.stderr);
    const r = await d.berth(['rmi', 'myimg:1']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /conflict: unable to remove repository reference "myimg:1" \(must force\) - container [a-f0-9]{12} is using its referenced image/);
    assert.equal((await d.berth(['rm', 'user1'])).code, 0);
    const ok = await d.berth(['rmi', 'myimg:1']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(blobCount(d), 0, 'all blobs of the deleted image are gone');
    assert.deepEqual(readdirSync(join(d.dataRoot, 'snapshots')).filter((x) => x !== 'l'), []);
  });

  const hostile: [string, Buffer][] = [
    ['an entry with ..', rawTar([{ name: '../escape.txt', body: 'x' }])],
    ['an absolute path', rawTar([{ name: '/tmp/berth-abs-escape.txt', body: 'x' }])],
    ['a write through a symlink', rawTar([{ name: 'evil', type: '2', link: '/tmp' }, { name: 'evil/berth-link-escape.txt', body: 'x' }])],
    ['a hardlink to outside', rawTar([{ name: 'hl', type: '1', link: '../../etc/passwd' }])],
    ['something that is not a tar', Buffer.from('this is not a tar archive at all, just text\n'.repeat(40))],
  ];
  for (const [what, bytes] of hostile) {
    it(`refuses an import with ${what}: 400, nothing stored, nothing written outside`, async () => {
      const before = blobCount(d);
      const r = await d.http('POST', '/images/create?fromSrc=-&repo=evil&tag=1', bytes, { 'Content-Type': 'application/x-tar' });
      assert.equal(r.status, 400, r.body);
      assert.ok((r.json as { message: string }).message.length > 0);
      assert.equal(blobCount(d), before);
      assert.equal(existsSync('/tmp/berth-abs-escape.txt'), false);
      assert.equal(existsSync('/tmp/berth-link-escape.txt'), false);
      assert.equal(existsSync(join(d.dataRoot, 'snapshots', 'escape.txt')), false);
      const list = await d.http('GET', '/images/json');
      assert.ok(!(list.json as { RepoTags: string[] }[]).some((i) => i.RepoTags.includes('evil:1')));
      assert.deepEqual(readdirSync(join(d.dataRoot, 'content', 'ingest')), []);
    });
  }

  it('imports a gzip-compressed tar made by GNU tar, keeping modes and symlinks', async () => {
    const src = join(work, 'rootfs');
    mkdirSync(join(src, 'bin'), { recursive: true });
    writeFileSync(join(src, 'bin', 'hello'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
    symlinkSync('hello', join(src, 'bin', 'hi'));
    const tgz = join(work, 'r.tgz');
    assert.equal(spawnSync('tar', ['-czf', tgz, '-C', src, '.']).status, 0);
    const r = await d.berth(['import', tgz, 'gz:1']);
    assert.equal(r.code, 0, r.stderr);
    const snaps = join(d.dataRoot, 'snapshots');
    const found = readdirSync(snaps).some((s) => existsSync(join(snaps, s, 'fs', 'bin', 'hi')));
    assert.ok(found);
  });
});
