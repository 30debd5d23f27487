// docker pull -a: every tag of a repository; history shows each layer's size.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busyboxRootfsTar, startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';
import { makeOciLayout, tarOf, TestRegistry } from '../../fixtures/testRegistry.js';

describe('pull all tags', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let reg: TestRegistry;
  let d: TestDaemon;
  const dirs: string[] = [];
  before(async () => {
    reg = new TestRegistry();
    await reg.start();
    for (const [tag, motd] of [['v1', 'one'], ['v2', 'two']] as const) {
      const dir = mkdtempSync(join(tmpdir(), 'berth-alltags-'));
      dirs.push(dir);
      makeOciLayout(dir, tag, { layers: [readFileSync(busyboxRootfsTar()), tarOf({ 'etc/motd': `${motd}\n` })] });
      reg.push(dir, tag, `multi/app:${tag}`);
    }
    d = await startDaemon();
  });
  after(async () => {
    await d?.cleanup();
    await reg?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('pulls every tag with -a, sharing the common layer', async () => {
    const r = await d.docker(['pull', '-a', `${reg.host}/multi/app`]);
    assert.equal(r.code, 0, r.stderr);
    const tags = (await d.docker(['images', '--format', '{{.Tag}}', `${reg.host}/multi/app`])).stdout.trim().split('\n').sort();
    assert.deepEqual(tags, ['v1', 'v2']);
    assert.equal((await d.docker(['run', '--rm', `${reg.host}/multi/app:v2`, 'cat', '/etc/motd'])).stdout, 'two\n');
  });

  it('history lists the size of each layer', async () => {
    const r = await d.docker(['history', '--format', '{{.Size}}', `${reg.host}/multi/app:v1`]);
    assert.equal(r.code, 0, r.stderr);
    const sizes = r.stdout.trim().split('\n');
    assert.equal(sizes.length, 2);
    assert.match(sizes[1] ?? '', /^[1-9][\d.]*MB$/, r.stdout);
  });
});
