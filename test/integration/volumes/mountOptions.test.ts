// Mount options beyond the basics, through the berth CLI, the docker CLI and the raw API:
// recursively read-only binds (rro, bind-recursive=readonly|writable|disabled, and the pre-1.44
// API's top-only read-only), volume subpaths, `--mount type=image`, `cp` into and out of a stopped container's volumes
// and binds (mounted for the copy, as Docker does), volume usage in `system df`, `-v …:ro,z` — each bad input refused with
// Docker's message and nothing left mounted.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, type TestDaemon } from '../../fixtures/testDaemon.js';

const JSON_HEADERS = { 'Content-Type': 'application/json' };

describe('mount options: recursive read-only binds, volume subpaths, cp on stopped containers', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let d: TestDaemon;
  let dir = '';
  let sub = '';
  before(async () => {
    d = await startDaemon();
    await d.importBusybox();
    dir = mkdtempSync('/tmp/berth-mntopt-');
    sub = join(dir, 'sub');
    mkdirSync(sub);
    // A submount in the bind source: what recursive read-only is about.
    assert.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', sub]).status, 0);
    writeFileSync(join(dir, 'top'), 'top\n');
  });
  after(async () => {
    await d?.cleanup();
    if (sub) spawnSync('umount', [sub]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const ok = async (args: string[], docker = false): Promise<string> => {
    const r = docker ? await d.docker(args) : await d.berth(args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  /** What a container can write: the bind's top and its submount. */
  const PROBE = 'touch /d/x 2>/dev/null && echo top-rw || echo top-ro; touch /d/sub/y 2>/dev/null && echo sub-rw || echo sub-ro; rm -f /d/x /d/sub/y';
  /** Mounts of this daemon on the host (data-root, exec-root, containers), network namespaces aside. */
  const hostMounts = (): string[] =>
    readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((l) => (l.split(' ')[4] ?? '').startsWith(d.root) && !l.includes(' nsfs '))
      .map((l) => l.split(' ')[4] ?? '');

  it('a read-only bind is read-only all the way down (rro); bind-recursive=writable keeps submounts writable; disabled does not carry them', async () => {
    assert.equal(await ok(['run', '--rm', '--network', 'none', '-v', `${dir}:/d:ro`, 'busybox', 'sh', '-c', PROBE]), 'top-ro\nsub-ro\n');
    assert.equal(await ok(['run', '--rm', '--network', 'none', '-v', `${dir}:/d:ro,z`, 'busybox', 'sh', '-c', PROBE], true), 'top-ro\nsub-ro\n');
    const m = (opts: string): string[] => ['run', '--rm', '--network', 'none', '--mount', `type=bind,src=${dir},dst=/d,${opts}`, 'busybox', 'sh', '-c', PROBE];
    assert.equal(await ok(m('readonly,bind-recursive=writable')), 'top-ro\nsub-rw\n');
    assert.equal(await ok(m('readonly,bind-recursive=readonly,bind-propagation=rprivate'), true), 'top-ro\nsub-ro\n');
    assert.equal(await ok(['run', '--rm', '--network', 'none', '--mount', `type=bind,src=${dir},dst=/d,bind-recursive=disabled`, 'busybox', 'sh', '-c', 'grep -c " /d/sub " /proc/mounts; cat /d/top']), '0\ntop\n');
    const bad = await d.docker(['run', '--rm', '--mount', `type=bind,src=${dir},dst=/d,bind-recursive=readonly`, 'busybox', 'true']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /option 'bind-recursive=readonly' requires 'readonly' to be specified in conjunction/);
  });

  it('through API < 1.44 a read-only bind is read-only on its top only, and ReadOnlyForceRecursive is refused (400), creating nothing', async () => {
    const body = (hostConfig: Record<string, unknown>): string => JSON.stringify({ Image: 'busybox', Cmd: ['sh', '-c', PROBE], HostConfig: { NetworkMode: 'none', ...hostConfig } });
    const count = async (): Promise<number> => ((await d.http('GET', '/containers/json?all=1')).json as unknown[]).length;
    const n0 = await count();
    const force = await d.http('POST', '/v1.43/containers/create', body({ Mounts: [{ Type: 'bind', Source: dir, Target: '/d', ReadOnly: true, BindOptions: { ReadOnlyForceRecursive: true } }] }), JSON_HEADERS);
    assert.equal(force.status, 400);
    assert.equal((force.json as { message: string }).message, 'BindOptions.ReadOnlyForceRecursive needs API v1.44 or newer');
    const subpath = await d.http('POST', '/v1.44/containers/create', body({ Mounts: [{ Type: 'volume', Source: 'v', Target: '/d', VolumeOptions: { Subpath: 'a' } }] }), JSON_HEADERS);
    assert.equal(subpath.status, 400);
    assert.equal((subpath.json as { message: string }).message, 'VolumeOptions.Subpath needs API v1.45 or newer');
    const conflict = await d.http('POST', '/containers/create', body({ Mounts: [{ Type: 'bind', Source: dir, Target: '/d', BindOptions: { ReadOnlyForceRecursive: true } }] }), JSON_HEADERS);
    assert.equal(conflict.status, 400);
    assert.equal((conflict.json as { message: string }).message, 'mount options conflict: !ReadOnly && BindOptions.ReadOnlyForceRecursive');
    assert.equal(await count(), n0);
    const vols = ((await d.http('GET', '/volumes')).json as { Volumes: unknown[] }).Volumes;
    assert.deepEqual(vols, []);
    const old = await d.http('POST', '/v1.41/containers/create?name=oldro', body({ Binds: [`${dir}:/d:ro`] }), JSON_HEADERS);
    assert.equal(old.status, 201, old.body);
    assert.equal(await ok(['start', '-a', 'oldro']), 'top-ro\nsub-rw\n');
    await ok(['rm', 'oldro']);
  });

  it('volume-subpath mounts one directory of a volume; a missing or escaping subpath is refused and leaves nothing mounted', async () => {
    await ok(['run', '--rm', '--network', 'none', '-v', 'spv:/v', 'busybox', 'sh', '-c', 'mkdir -p /v/a/b && echo deep > /v/a/b/f && echo top > /v/t && ln -s /etc /v/esc']);
    assert.equal(await ok(['run', '--rm', '--network', 'none', '--mount', 'type=volume,src=spv,dst=/d,volume-subpath=a/b', 'busybox', 'sh', '-c', 'ls /d; cat /d/f; echo new > /d/n']), 'f\ndeep\n');
    assert.equal(await ok(['run', '--rm', '--network', 'none', '--mount', 'type=volume,src=spv,dst=/d,volume-subpath=a,readonly', 'busybox', 'sh', '-c', 'cat /d/b/n; touch /d/x 2>/dev/null || echo ro'], true), 'new\nro\n');
    const before = hostMounts();
    const missing = await d.berth(['run', '--rm', '--network', 'none', '--mount', 'type=volume,src=spv,dst=/d,volume-subpath=nope', 'busybox', 'true']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /cannot access path \S+\/volumes\/spv\/_data\/nope: no such file or directory/);
    // A symlink is followed within the volume only: /etc of the host is never reached.
    const esc = await d.docker(['run', '--rm', '--network', 'none', '--mount', 'type=volume,src=spv,dst=/d,volume-subpath=esc', 'busybox', 'ls', '/d']);
    assert.notEqual(esc.code, 0);
    assert.match(esc.stderr, /cannot access path/);
    const up = await d.berth(['run', '--rm', '--network', 'none', '--mount', 'type=volume,src=spv,dst=/d,volume-subpath=../x', 'busybox', 'true']);
    assert.notEqual(up.code, 0);
    assert.match(up.stderr, /invalid mount config for type "volume": subpath must be a relative path within the volume/);
    const anon = await d.docker(['run', '--rm', '--network', 'none', '--mount', 'type=volume,dst=/d,volume-subpath=a', 'busybox', 'true']);
    assert.notEqual(anon.code, 0);
    assert.match(anon.stderr, /must not set Subpath when using anonymous volumes/);
    assert.deepEqual(hostMounts(), before);
    assert.equal(readFileSync(join(d.dataRoot, 'volumes', 'spv', '_data', 't'), 'utf8'), 'top\n');
  });

  it('--mount type=image shows an image read-only (whole or a subpath); the image is held while a container uses it; a missing image is a 404', async () => {
    await ok(['run', '--name', 'imgsrc', '--network', 'none', 'busybox', 'sh', '-c', 'mkdir -p /app/conf && echo image-data > /app/conf/f']);
    await ok(['commit', 'imgsrc', 'mounted-img:1']);
    await ok(['rm', 'imgsrc']);
    const before = hostMounts();
    assert.equal(
      await ok(['run', '--rm', '--network', 'none', '--mount', 'type=image,source=mounted-img:1,target=/img', 'busybox', 'sh', '-c', 'cat /img/app/conf/f; touch /img/x 2>/dev/null || echo ro'], true),
      'image-data\nro\n',
    );
    assert.equal(await ok(['run', '--rm', '--network', 'none', '--mount', 'type=image,src=mounted-img:1,dst=/conf,image-subpath=app/conf', 'busybox', 'ls', '/conf'], true), 'f\n');
    await ok(['create', '--name', 'holder', '--network', 'none', '--mount', 'type=image,source=mounted-img:1,target=/img', 'busybox', 'true'], true);
    const insp = JSON.parse(await ok(['inspect', '-f', '{{json .Mounts}}', 'holder'])) as Array<Record<string, unknown>>;
    assert.equal(insp[0]?.Type, 'image');
    assert.equal(insp[0]?.Name, 'mounted-img:1');
    assert.match(String(insp[0]?.Source), /^sha256:[0-9a-f]{64}$/);
    assert.equal(insp[0]?.RW, false);
    const rmi = await d.docker(['rmi', 'mounted-img:1']);
    assert.notEqual(rmi.code, 0);
    assert.match(rmi.stderr, /image is being used by|conflict/i);
    await ok(['rm', 'holder']);
    const missing = await d.http('POST', '/containers/create', JSON.stringify({ Image: 'busybox', HostConfig: { Mounts: [{ Type: 'image', Source: 'nosuchimage:1', Target: '/i' }] } }), JSON_HEADERS);
    assert.equal(missing.status, 404);
    assert.match((missing.json as { message: string }).message, /No such image: nosuchimage:1/);
    const badSub = await d.berth(['run', '--rm', '--network', 'none', '--mount', 'type=image,src=mounted-img:1,dst=/c,image-subpath=nope', 'busybox', 'true']);
    assert.notEqual(badSub.code, 0);
    assert.match(badSub.stderr, /cannot access path nope in image mounted-img:1/);
    assert.deepEqual(hostMounts(), before);
    await ok(['rmi', 'mounted-img:1']);
  });

  it('cp into and out of a stopped container reaches its volumes, binds and subpaths; a read-only one refuses a copy in (400); nothing stays mounted', async () => {
    const payload = join(dir, 'payload');
    writeFileSync(payload, 'payload\n');
    await ok(['create', '--name', 'cpv', '--network', 'none', '-v', 'cpvol:/vol', '-v', `${dir}:/host:ro`, '--mount', 'type=volume,src=spv,dst=/spd,volume-subpath=a', 'busybox', 'true']);
    const before = hostMounts();
    await ok(['cp', payload, 'cpv:/vol/x'], true);
    await ok(['cp', payload, 'cpv:/vol/y']);
    assert.equal(readFileSync(join(d.dataRoot, 'volumes', 'cpvol', '_data', 'x'), 'utf8'), 'payload\n');
    const out = mkdtempSync(join(dir, 'out-'));
    await ok(['cp', 'cpv:/spd/b/f', join(out, 'f')], true);
    assert.equal(readFileSync(join(out, 'f'), 'utf8'), 'deep\n');
    await ok(['cp', 'cpv:/host/top', join(out, 'top')]);
    assert.equal(readFileSync(join(out, 'top'), 'utf8'), 'top\n');
    const ro = await d.docker(['cp', payload, 'cpv:/host/']);
    assert.notEqual(ro.code, 0);
    assert.match(ro.stderr, /mounted volume is marked read-only/);
    const put = await d.http('PUT', `/containers/cpv/archive?path=${encodeURIComponent('/host')}`, Buffer.alloc(1024), { 'Content-Type': 'application/x-tar' });
    assert.equal(put.status, 400);
    assert.deepEqual(hostMounts(), before);
    // The container sees what was copied in when it runs.
    assert.equal(await ok(['start', '-a', 'cpv']), '');
    assert.equal(await ok(['run', '--rm', '--network', 'none', '-v', 'cpvol:/vol', 'busybox', 'cat', '/vol/x', '/vol/y']), 'payload\npayload\n');
    // system df: each volume's size and how many containers use it.
    const df = (await d.http('GET', '/system/df?type=volume')).json as { Volumes: Array<{ Name: string; UsageData: { Size: number; RefCount: number } }> };
    const usage = Object.fromEntries(df.Volumes.map((v) => [v.Name, v.UsageData]));
    assert.deepEqual(usage['cpvol'], { Size: 16, RefCount: 1 });
    assert.equal(usage['spv']?.RefCount, 1);
    const dfv = await ok(['system', 'df', '-v'], true);
    assert.match(dfv, /\ncpvol +1 +16B\n/);
    await ok(['rm', '-v', 'cpv']);
    assert.equal(((await d.http('GET', '/system/df?type=volume')).json as { Volumes: Array<{ Name: string; UsageData: { RefCount: number } }> }).Volumes.find((v) => v.Name === 'cpvol')?.UsageData.RefCount, 0);
    await ok(['volume', 'rm', 'cpvol', 'spv']);
    assert.deepEqual(hostMounts().filter((m) => m.includes('/volumes/') || m.includes('/subpaths')), []);
  });
});
