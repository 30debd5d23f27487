import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RemappedLayers } from './remappedLayers.js';

const MAP = { uids: [{ containerID: 0, hostID: 100000, size: 65536 }], gids: [{ containerID: 0, hostID: 200000, size: 65536 }] };

/** A snapshotter root with one layer at 1/fs linked as l/abc. */
function layerRoot(): string {
  const root = mkdtempSync('/tmp/berth-rl-');
  const fs = join(root, '1', 'fs');
  mkdirSync(join(fs, 'bin'), { recursive: true });
  mkdirSync(join(root, 'l'));
  writeFileSync(join(fs, 'bin', 'tool'), 'x');
  chmodSync(join(fs, 'bin', 'tool'), 0o4755);
  writeFileSync(join(fs, 'owned'), 'y');
  chownSync(join(fs, 'owned'), 1000, 50);
  symlinkSync('bin/tool', join(fs, 'link'));
  spawnSync('mknod', [join(fs, 'gone'), 'c', '0', '0']);
  symlinkSync(join('..', '1', 'fs'), join(root, 'l', 'abc'));
  return root;
}

describe('RemappedLayers', () => {
  it('rewrites lowerdir to shifted copies: owners shifted, setuid kept, whiteouts and symlinks kept, original untouched', async () => {
    const root = layerRoot();
    try {
      const rl = new RemappedLayers(root, MAP);
      await rl.init();
      const out = await rl.mounts([{ type: 'overlay', source: 'overlay', options: ['lowerdir=l/abc', 'upperdir=2/fs', 'workdir=2/work'], cwd: root }]);
      assert.deepEqual(out[0]?.options, ['lowerdir=u/abc', 'upperdir=2/fs', 'workdir=2/work']);
      const u = join(root, 'u', 'abc');
      assert.equal(lstatSync(u).uid, 100000);
      const tool = lstatSync(join(u, 'bin', 'tool'));
      assert.equal(tool.uid, 100000);
      assert.equal(tool.gid, 200000);
      assert.equal(tool.mode & 0o7777, 0o4755, 'set-user-ID survives the chown');
      assert.equal(lstatSync(join(u, 'owned')).uid, 101000);
      assert.equal(lstatSync(join(u, 'owned')).gid, 200050);
      assert.ok(lstatSync(join(u, 'link')).isSymbolicLink());
      assert.equal(lstatSync(join(u, 'link')).uid, 100000);
      assert.ok(lstatSync(join(u, 'gone')).isCharacterDevice());
      assert.equal(lstatSync(join(root, '1', 'fs', 'bin', 'tool')).uid, 0, 'the layer itself is unchanged');
      // A bind mount (no lowers) passes through.
      const bind = { type: 'bind', source: '/x', options: ['rbind'] };
      assert.deepEqual(await rl.mounts([bind]), [bind]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('on init drops copies made for another map, half-made copies and copies of removed layers', async () => {
    const root = layerRoot();
    try {
      const first = new RemappedLayers(root, MAP);
      await first.init();
      await first.mounts([{ type: 'overlay', source: 'overlay', options: ['lowerdir=l/abc'] }]);
      mkdirSync(join(root, 'u', '.tmp-abc-1234'));
      mkdirSync(join(root, 'u', 'gonelayer'));
      await new RemappedLayers(root, MAP).init();
      assert.deepEqual(readdirSync(join(root, 'u')).sort(), ['.idmap', 'abc']);
      const other = { uids: [{ containerID: 0, hostID: 300000, size: 65536 }], gids: MAP.gids };
      await new RemappedLayers(root, other).init();
      assert.deepEqual(readdirSync(join(root, 'u')), ['.idmap']);
      // Copies from an older berthd (a stamp holding only the map: no file capabilities) are made again.
      await new RemappedLayers(root, MAP).mounts([{ type: 'overlay', source: 'overlay', options: ['lowerdir=l/abc'] }]);
      writeFileSync(join(root, 'u', '.idmap'), JSON.stringify(MAP));
      await new RemappedLayers(root, MAP).init();
      assert.deepEqual(readdirSync(join(root, 'u')), ['.idmap']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('puts file capabilities back as revision 3 for the mapped root (chown drops them); a root uid outside the map drops one', async () => {
    const root = layerRoot();
    const setcap = (file: string, hex: string): void => {
      const r = spawnSync('setfattr', ['-h', '-n', 'security.capability', '-v', `0x${hex}`, file], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    };
    const getcap = (file: string): string =>
      /security\.capability=0x([0-9a-f]+)/.exec(spawnSync('getfattr', ['-h', '--absolute-names', '-n', 'security.capability', '-e', 'hex', file], { encoding: 'utf8' }).stdout)?.[1] ?? '';
    try {
      const fs = join(root, '1', 'fs');
      setcap(join(fs, 'bin', 'tool'), '0100000200200000000000000000000000000000'); // cap_net_raw+ep, revision 2
      writeFileSync(join(fs, 'v3'), 'z');
      setcap(join(fs, 'v3'), '0100000300200000000000000000000000000000e8030000'); // revision 3, root uid 1000
      writeFileSync(join(fs, 'far'), 'z');
      setcap(join(fs, 'far'), '0100000300200000000000000000000000000000a0860100'); // root uid 100000: not in the map
      const rl = new RemappedLayers(root, MAP);
      await rl.init();
      await rl.mounts([{ type: 'overlay', source: 'overlay', options: ['lowerdir=l/abc'] }]);
      const u = join(root, 'u', 'abc');
      assert.equal(getcap(join(u, 'bin', 'tool')), '0100000300200000000000000000000000000000a0860100'); // root uid 100000
      assert.equal(lstatSync(join(u, 'bin', 'tool')).mode & 0o7777, 0o4755, 'set-user-ID and the capability both survive');
      assert.equal(getcap(join(u, 'v3')), '0100000300200000000000000000000000000000888a0100'); // 101000
      assert.equal(getcap(join(u, 'far')), '');
      assert.equal(getcap(join(fs, 'bin', 'tool')), '0100000200200000000000000000000000000000', 'the layer itself is unchanged');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('refuses a layer file whose owner the map does not cover', async () => {
    const root = layerRoot();
    try {
      chownSync(join(root, '1', 'fs', 'owned'), 70000, 0);
      const rl = new RemappedLayers(root, MAP);
      await rl.init();
      await assert.rejects(rl.mounts([{ type: 'overlay', source: 'overlay', options: ['lowerdir=l/abc'] }]), /owner 70000:0 is outside the user namespace map/);
      assert.deepEqual(readdirSync(join(root, 'u')), ['.idmap'], 'no half-made copy is left');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
