/**
 * containers/rootfsMount with real overlayfs (as root): a `--rm` container's layer is
 * mounted `volatile`, its unmount leaves overlayfs's incompat marker, and mounting the
 * same layer again after a clean unmount works (the marker is cleared). Everything
 * lives under one temp dir, unmounted and removed in `after`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mountRootfs } from '../../../src/containers/rootfsMount.js';
import type { Mount } from '../../../src/snapshots/overlaySnapshotter.js';
import { unmount } from '../../../src/util/mount.js';

const skip = process.getuid?.() !== 0 ? 'needs root' : false;

/** The mount options of `target` in this process's mountinfo, or null when it is not a mount point. */
function superOptions(target: string): string | null {
  for (const l of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = l.split(' ');
    if (f[4] === target) return f.slice(f.indexOf('-') + 3).join(' ');
  }
  return null;
}

describe('containers/rootfsMount', { skip }, () => {
  let base: string;
  let root: string;
  let layer: Mount[];
  before(() => {
    base = mkdtempSync('/tmp/brm-');
    root = join(base, 'snap');
    for (const d of ['1/fs', '2/fs', '2/work', 'l']) mkdirSync(join(root, d), { recursive: true });
    writeFileSync(join(root, '1/fs/low'), 'x\n');
    symlinkSync('../1/fs', join(root, 'l/aaaaaaaaaa'));
    layer = [{ type: 'overlay', source: 'overlay', options: ['lowerdir=l/aaaaaaaaaa', 'upperdir=2/fs', 'workdir=2/work'], cwd: root }];
  });
  after(() => {
    for (const t of ['m1', 'm2', 'm3']) spawnSync('umount', ['-l', join(base, t)]);
    rmSync(base, { recursive: true, force: true });
  });

  it('a --rm container layer is mounted volatile; after a clean unmount it mounts again', async () => {
    const t1 = join(base, 'm1');
    mkdirSync(t1);
    await mountRootfs(layer, t1, { volatile: true, ranBefore: false });
    // Kernels since 6.x show it as fsync=volatile.
    assert.match(superOptions(t1) ?? '', /(^|,)(fsync=)?volatile(,|$)/);
    writeFileSync(join(t1, 'new'), 'y');
    await unmount(t1);
    assert.equal(existsSync(join(root, '2/work/work/incompat/volatile')), true, "overlayfs's marker");
    assert.equal(readFileSync(join(root, '2/fs/new'), 'utf8'), 'y');

    const t2 = join(base, 'm2');
    mkdirSync(t2);
    await mountRootfs(layer, t2, { volatile: true, ranBefore: true });
    assert.equal(readFileSync(join(t2, 'new'), 'utf8'), 'y', 'the same layer, mounted again');
    await unmount(t2);
  });

  it('other containers get the plain mount', async () => {
    rmSync(join(root, '2/work/work/incompat'), { recursive: true, force: true });
    const t3 = join(base, 'm3');
    mkdirSync(t3);
    await mountRootfs(layer, t3, { volatile: false, ranBefore: false });
    assert.doesNotMatch(superOptions(t3) ?? 'not mounted', /volatile|not mounted/);
    await unmount(t3);
    assert.equal(existsSync(join(root, '2/work/work/incompat')), false);
  });
});
