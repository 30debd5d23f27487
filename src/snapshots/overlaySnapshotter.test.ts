import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../metadata/db.js';
import { nativeEngine } from '../util/nativeEngine.js';
import { OverlaySnapshotter } from './overlaySnapshotter.js';

describe('OverlaySnapshotter', () => {
  let dir: string;
  let db: Db;
  let snaps: OverlaySnapshotter;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-snap-'));
    db = openDatabase(join(dir, 'berth.db'));
    snaps = new OverlaySnapshotter(join(dir, 'snapshots'), db);
    await snaps.init();
  });
  after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('marks its root as the top of directory hierarchies (chattr +T) where the file system has the flag', (t) => {
    const fsType = execFileSync('findmnt', ['-n', '-o', 'FSTYPE', '--target', dir], { encoding: 'utf8' }).trim();
    if (!/^ext[234]$/.test(fsType)) return t.skip(`${dir} is on ${fsType}, which has no such flag`);
    if (nativeEngine()?.setTopDir === undefined) return t.skip('native/engine is not built');
    const attrs = execFileSync('lsattr', ['-d', join(dir, 'snapshots')], { encoding: 'utf8' }).split(' ')[0] ?? '';
    assert.match(attrs, /T/);
    // A file system without the flag is no error (tmpfs: ENOTTY).
    assert.equal(nativeEngine()?.setTopDir?.('/dev/shm'), false);
  });

  it('builds a chain and describes an overlay mount with short relative lowerdirs, top first', async () => {
    assert.deepEqual(await snaps.prepare('tmp1', null), [
      { type: 'bind', source: join(dir, 'snapshots', '1', 'fs'), options: ['rbind', 'rw'] },
    ]);
    snaps.commit('layer1', 'tmp1', 10);
    await snaps.prepare('tmp2', 'layer1');
    snaps.commit('layer2', 'tmp2', 20);
    const [m] = await snaps.prepare('ctr', 'layer2');
    assert.equal(m?.type, 'overlay');
    assert.equal(m?.cwd, join(dir, 'snapshots'));
    const lower = m?.options[0] ?? '';
    const links = lower.replace('lowerdir=', '').split(':');
    assert.equal(links.length, 2);
    assert.equal(readlinkSync(join(dir, 'snapshots', links[0] as string)), '../2/fs');
    assert.equal(readlinkSync(join(dir, 'snapshots', links[1] as string)), '../1/fs');
    assert.deepEqual(m?.options.slice(1), ['upperdir=3/fs', 'workdir=3/work']);
  });

  it('refuses to remove a snapshot others build on, and removes leaves with their files', async () => {
    await assert.rejects(snaps.remove('layer2'), /has children/);
    await snaps.remove('ctr');
    assert.equal(existsSync(join(dir, 'snapshots', '3')), false);
    await snaps.remove('layer2');
    await snaps.remove('layer1');
    assert.equal(snaps.stat('layer1'), null);
  });

  it('refuses duplicate keys and uncommitted parents', async () => {
    await snaps.prepare('a', null);
    await assert.rejects(snaps.prepare('a', null), /already exists/);
    await assert.rejects(snaps.prepare('b', 'a'), /not committed/);
    await snaps.remove('a');
  });
});
