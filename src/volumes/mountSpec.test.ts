import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkBindSource, isLocalPath, parseApiMount, parseBind, parseVolumesFrom, tmpfsData, validMountMode } from './mountSpec.js';
import { readOnlyOption } from '../containers/mountPoints.js';
import { checkLocalVolumeName } from './names.js';
import { validateLocalOptions } from './localDriver.js';

const rejects = (fn: () => unknown, msg: string | RegExp): void => {
  assert.throws(fn, (e: unknown) => {
    const m = (e as Error).message;
    if (typeof msg === 'string' ? m !== msg : !msg.test(m)) assert.fail(`unexpected message: ${m}`);
    return true;
  });
};

describe('parseBind (HostConfig.Binds, moby ParseMountRaw)', () => {
  it('reads a named volume, a bind and an anonymous volume', () => {
    const v = parseBind('data:/var/lib/data');
    assert.equal(v.Type, 'volume');
    assert.equal(v.Name, 'data');
    assert.equal(v.Destination, '/var/lib/data');
    assert.equal(v.RW, true);
    assert.equal(v.CopyData, true);
    assert.equal(v.Anonymous, false);
    assert.equal(v.Mode, '');

    const b = parseBind('/srv/www/:/usr/share/www:ro');
    assert.equal(b.Type, 'bind');
    assert.equal(b.Source, '/srv/www');
    assert.equal(b.Destination, '/usr/share/www');
    assert.equal(b.RW, false);
    assert.equal(b.Mode, 'ro');
    assert.equal(b.Propagation, 'rprivate');
    assert.equal(b.CreateSource, true);

    const a = parseBind('/scratch');
    assert.equal(a.Type, 'volume');
    assert.equal(a.Name, '');
    assert.equal(a.Anonymous, true);
  });

  it('keeps modes: propagation, nocopy, z', () => {
    const b = parseBind('/h:/c:rw,rshared,Z');
    assert.equal(b.Propagation, 'rshared');
    assert.equal(b.RW, true);
    assert.equal(b.Mode, 'rw,rshared,Z');
    const v = parseBind('vol:/c:nocopy,ro');
    assert.equal(v.CopyData, false);
    assert.equal(v.RW, false);
  });

  it('refuses what moby refuses, with its messages', () => {
    rejects(() => parseBind(':/x'), "invalid volume specification: ':/x'");
    rejects(() => parseBind('/foo:rw'), "invalid volume specification: '/foo:rw'");
    rejects(() => parseBind('a:b:c:d'), "invalid volume specification: 'a:b:c:d'");
    rejects(() => parseBind('/h:/c:bogus'), 'invalid mode: bogus');
    rejects(() => parseBind('/h:/c:ro,rw'), 'invalid mode: ro,rw');
    rejects(() => parseBind('vol:relative'), "invalid volume specification: 'vol:relative': invalid mount config for type \"volume\": invalid mount path: 'relative' mount path must be absolute");
    rejects(() => parseBind('/h:/'), /destination can't be '\/'/);
    rejects(() => parseBind('/h:/c:nocopy'), /field VolumeOptions must not be specified/);
    rejects(() => parseBind('vol:/c:rshared'), /field BindOptions must not be specified/);
  });

  it('leaves name checks to volume creation (a slash is a volume name, not a path)', () => {
    const v = parseBind('a/b:/data');
    assert.equal(v.Type, 'volume');
    assert.equal(v.Name, 'a/b');
    assert.match(checkLocalVolumeName('a/b') ?? '', /^"a\/b" includes invalid characters for a local volume name, only "\[a-zA-Z0-9\]\[a-zA-Z0-9_.-\]" are allowed\. If you intended to pass a host directory, use absolute path$/);
    assert.equal(checkLocalVolumeName('x'), 'volume name is too short, names should be at least two alphanumeric characters');
    assert.equal(checkLocalVolumeName('my_vol-1.x'), null);
  });
});

describe('parseApiMount (HostConfig.Mounts, moby ParseMountSpec)', () => {
  it('reads bind, volume and tmpfs mounts', () => {
    const b = parseApiMount({ Type: 'bind', Source: '/h', Target: '/c/', ReadOnly: true, BindOptions: { Propagation: 'rslave', NonRecursive: true } });
    assert.deepEqual([b.Type, b.Source, b.Destination, b.RW, b.Propagation, b.NonRecursive, b.CreateSource, b.Mode], ['bind', '/h', '/c', false, 'rslave', true, false, '']);
    const v = parseApiMount({ Type: 'volume', Source: 'v1', Target: '/d', VolumeOptions: { NoCopy: true, Labels: { a: 'b' }, DriverConfig: { Name: 'local', Options: { type: 'tmpfs', device: 'tmpfs' } } } });
    assert.deepEqual([v.Name, v.CopyData, v.Driver, v.volumeLabels, v.volumeOptions], ['v1', false, 'local', { a: 'b' }, { type: 'tmpfs', device: 'tmpfs' }]);
    const anon = parseApiMount({ Type: 'volume', Target: '/e' });
    assert.equal(anon.Anonymous, true);
    assert.equal(anon.CopyData, true);
    const t = parseApiMount({ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 64 * 1024 * 1024, Mode: 0o1770 } });
    assert.equal(t.TmpfsData, 'mode=1770,size=64m');
  });

  it('refuses mixed options, missing fields and unknown types', () => {
    rejects(() => parseApiMount({ Type: 'volume', Target: '/x', BindOptions: { Propagation: 'rprivate' } }), 'invalid mount config for type "volume": field BindOptions must not be specified');
    rejects(() => parseApiMount({ Type: 'bind', Target: '/x' }), 'invalid mount config for type "bind": field Source must not be empty');
    rejects(() => parseApiMount({ Type: 'bind', Source: 'rel', Target: '/x' }), "invalid mount config for type \"bind\": invalid mount path: 'rel' mount path must be absolute");
    rejects(() => parseApiMount({ Type: 'bind', Source: '/h' }), 'invalid mount config for type "bind": field Target must not be empty');
    rejects(() => parseApiMount({ Type: 'tmpfs', Source: 'x', Target: '/t' }), 'invalid mount config for type "tmpfs": field Source must not be specified');
    rejects(() => parseApiMount({ Type: 'bind', Source: '/h', Target: '/x', BindOptions: { Propagation: 'weird' } }), 'invalid mount config for type "bind": invalid propagation mode: weird');
    rejects(() => parseApiMount({ Type: 'nfs', Target: '/x' }), 'invalid mount config for type "nfs": mount type unknown');
  });

  it('checks that a bind source exists unless CreateMountpoint is set', () => {
    const p = parseApiMount({ Type: 'bind', Source: '/nonexistent-berth-test', Target: '/x' });
    rejects(() => checkBindSource(p, () => false), 'invalid mount config for type "bind": bind source path does not exist: /nonexistent-berth-test');
    const c = parseApiMount({ Type: 'bind', Source: '/nonexistent-berth-test', Target: '/x', BindOptions: { CreateMountpoint: true } });
    checkBindSource(c, () => false);
  });
});

describe('tmpfs, volumes-from, modes, local options', () => {
  it('formats tmpfs data as moby does', () => {
    assert.equal(tmpfsData({ SizeBytes: 1000 }, false), 'size=1000');
    assert.equal(tmpfsData({ SizeBytes: 3 * 1024 }, true), 'ro,size=3k');
    assert.equal(tmpfsData({ Options: [['exec']] }, false), 'exec');
    assert.throws(() => tmpfsData({ Options: [['suid']] }, false), /invalid option: suid/);
  });

  it('parses --volumes-from', () => {
    assert.deepEqual(parseVolumesFrom('data'), { container: 'data', rw: true });
    assert.deepEqual(parseVolumesFrom('data:ro'), { container: 'data', rw: false });
    rejects(() => parseVolumesFrom('data:rshared'), 'invalid mode: rshared');
    rejects(() => parseVolumesFrom(''), 'volumes-from specification cannot be an empty string');
  });

  it('validates mount modes', () => {
    assert.equal(validMountMode('ro,z,rprivate,nocopy,cached'), true);
    assert.equal(validMountMode('z,Z'), false);
    assert.equal(validMountMode('ro,'), false);
  });

  it('validates local driver options as moby does', () => {
    validateLocalOptions({ type: 'tmpfs', device: 'tmpfs', o: 'size=100m,uid=1000' });
    validateLocalOptions({ size: '0' });
    rejects(() => validateLocalOptions({ foo: 'bar' }), 'invalid option: "foo"');
    rejects(() => validateLocalOptions({ o: 'bind' }), /missing required option: "(device|type)"/);
    rejects(() => validateLocalOptions({ type: 'tmpfs' }), 'missing required option: "device"');
    rejects(() => validateLocalOptions({ size: '10m' }), 'quota size requested but no quota support');
  });
});

describe('bind recursion and volume subpaths (Mounts BindOptions, VolumeOptions.Subpath)', () => {
  it('keeps the read-only recursion choice of a bind, refusing the combinations moby refuses', () => {
    const w = parseApiMount({ Type: 'bind', Source: '/h', Target: '/c', ReadOnly: true, BindOptions: { ReadOnlyNonRecursive: true } });
    assert.deepEqual([w.RW, w.ReadOnlyNonRecursive, w.ReadOnlyForceRecursive], [false, true, undefined]);
    const f = parseApiMount({ Type: 'bind', Source: '/h', Target: '/c', ReadOnly: true, BindOptions: { ReadOnlyForceRecursive: true, Propagation: 'rprivate' } });
    assert.deepEqual([f.ReadOnlyNonRecursive, f.ReadOnlyForceRecursive], [undefined, true]);
    rejects(() => parseApiMount({ Type: 'bind', Source: '/h', Target: '/c', BindOptions: { ReadOnlyNonRecursive: true } }), 'mount options conflict: !ReadOnly && BindOptions.ReadOnlyNonRecursive');
    rejects(() => parseApiMount({ Type: 'bind', Source: '/h', Target: '/c', BindOptions: { ReadOnlyForceRecursive: true } }), 'mount options conflict: !ReadOnly && BindOptions.ReadOnlyForceRecursive');
    rejects(
      () => parseApiMount({ Type: 'bind', Source: '/h', Target: '/c', ReadOnly: true, BindOptions: { ReadOnlyNonRecursive: true, ReadOnlyForceRecursive: true } }),
      'mount options conflict: ReadOnlyNonRecursive && BindOptions.ReadOnlyForceRecursive',
    );
  });

  it('reads rro unless the mount asks for ro on its top only or the kernel predates mount_setattr', () => {
    assert.equal(readOnlyOption({}, '6.1.0'), 'rro');
    assert.equal(readOnlyOption({}, '5.12.0-1-amd64'), 'rro');
    assert.equal(readOnlyOption({ ReadOnlyNonRecursive: true }, '6.1.0'), 'ro');
    assert.equal(readOnlyOption({}, '5.10.0'), 'ro');
    rejects(() => readOnlyOption({ ReadOnlyForceRecursive: true }, '5.10.0'), /recursively read-only mounts need Linux 5\.12/);
  });

  it('takes a relative subpath that stays within the volume, on named volumes only', () => {
    const v = parseApiMount({ Type: 'volume', Source: 'data', Target: '/d', VolumeOptions: { Subpath: 'a/./b/' } });
    assert.equal(v.Subpath, 'a/b/');
    assert.equal(parseApiMount({ Type: 'volume', Source: 'data', Target: '/d' }).Subpath, undefined);
    for (const bad of ['/abs', '..', '../x', 'a/../../x']) {
      rejects(() => parseApiMount({ Type: 'volume', Source: 'data', Target: '/d', VolumeOptions: { Subpath: bad } }), 'invalid mount config for type "volume": subpath must be a relative path within the volume');
    }
    rejects(() => parseApiMount({ Type: 'volume', Target: '/d', VolumeOptions: { Subpath: 'a' } }), 'invalid mount config for type "volume": must not set Subpath when using anonymous volumes');
    assert.equal(isLocalPath('a/../b'), true);
    assert.equal(isLocalPath(''), false);
  });
});

describe('image mounts (Mounts Type image, ImageOptions.Subpath)', () => {
  it('are read-only whatever was asked, keep the image as named and a local subpath', () => {
    const m = parseApiMount({ Type: 'image', Source: 'app:1', Target: '/app', ImageOptions: { Subpath: 'etc/conf' } });
    assert.deepEqual([m.Type, m.Name, m.RW, m.Subpath, m.Propagation], ['image', 'app:1', false, 'etc/conf', 'rprivate']);
    rejects(() => parseApiMount({ Type: 'image', Target: '/app' }), 'invalid mount config for type "image": field Source must not be empty');
    rejects(() => parseApiMount({ Type: 'image', Source: 'app:1', Target: '/app', ImageOptions: { Subpath: '../x' } }), 'invalid mount config for type "image": subpath must be a relative path within the image');
    rejects(() => parseApiMount({ Type: 'bind', Source: '/h', Target: '/app', ImageOptions: { Subpath: 'x' } }), 'invalid mount config for type "bind": field ImageOptions must not be specified');
  });
});
