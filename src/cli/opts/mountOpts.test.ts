import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bindFromVolumeFlag, parseMountFlag, parseVolumeFlag } from './mountOpts.js';

describe('-v (docker volumespec.Parse)', () => {
  it('tells anonymous volumes, named volumes and binds apart', () => {
    assert.deepEqual(parseVolumeFlag('/data'), { type: 'volume', source: '', target: '/data' });
    assert.deepEqual(parseVolumeFlag('vol:/data'), { type: 'volume', source: 'vol', target: '/data' });
    assert.deepEqual(parseVolumeFlag('/h:/c:ro'), { type: 'bind', source: '/h', target: '/c' });
    assert.deepEqual(parseVolumeFlag('./rel:/c'), { type: 'bind', source: './rel', target: '/c' });
  });

  it('makes relative bind sources absolute and leaves the rest as typed', () => {
    assert.equal(bindFromVolumeFlag('./rel:/in:ro', '/work'), '/work/rel:/in:ro');
    assert.equal(bindFromVolumeFlag('named:/n', '/work'), 'named:/n');
    assert.equal(bindFromVolumeFlag('/abs:/n:rw,z', '/work'), '/abs:/n:rw,z');
    assert.equal(bindFromVolumeFlag('/data', '/work'), null);
  });

  it('refuses empty sections and too many colons with docker\'s messages', () => {
    assert.throws(() => parseVolumeFlag('a::b'), /^Error: invalid spec: a::b: empty section between colons$/);
    assert.throws(() => parseVolumeFlag('a:/b:ro:x'), /^Error: invalid spec: a:\/b:ro:x: too many colons$/);
    assert.throws(() => parseVolumeFlag(''), /invalid empty volume spec/);
  });
});

describe('--mount (docker opts.MountOpt)', () => {
  it('parses a bind with options into the API object, in Go field order', () => {
    const m = parseMountFlag('type=bind,source=/src,target=/dst,readonly,bind-propagation=rslave', '/');
    assert.deepEqual(m, { Type: 'bind', Source: '/src', Target: '/dst', ReadOnly: true, BindOptions: { Propagation: 'rslave' } });
    assert.deepEqual(Object.keys(m), ['Type', 'Source', 'Target', 'ReadOnly', 'BindOptions']);
  });

  it('defaults to a volume and reads volume options (quoted CSV fields keep their commas)', () => {
    const m = parseMountFlag('src=data,dst=/data,volume-nocopy,volume-label=a=b,volume-driver=local,"volume-opt=o=size=1m,uid=1000",volume-opt=type=tmpfs', '/');
    assert.deepEqual(m, {
      Type: 'volume',
      Source: 'data',
      Target: '/data',
      VolumeOptions: { NoCopy: true, Labels: { a: 'b' }, DriverConfig: { Name: 'local', Options: { o: 'size=1m,uid=1000', type: 'tmpfs' } } },
    });
  });

  it('reads tmpfs size (units) and mode (octal)', () => {
    assert.deepEqual(parseMountFlag('type=tmpfs,dst=/t,tmpfs-size=64m,tmpfs-mode=1770', '/'), {
      Type: 'tmpfs',
      Target: '/t',
      TmpfsOptions: { SizeBytes: 64 * 1024 * 1024, Mode: 0o1770 },
    });
  });

  it('makes ./relative sources absolute', () => {
    assert.equal(parseMountFlag('type=bind,src=./x,dst=/x', '/home/u').Source, '/home/u/x');
  });

  it('refuses what docker refuses', () => {
    assert.throws(() => parseMountFlag('', '/'), /value is empty/);
    assert.throws(() => parseMountFlag('type=bind,bogus=1', '/'), /unknown option 'bogus' in 'bogus=1'/);
    assert.throws(() => parseMountFlag('type=bind,target', '/'), /invalid field 'target' must be a key=value pair/);
    assert.throws(() => parseMountFlag('type=tmpfs,dst=/t,volume-nocopy', '/'), /cannot mix 'volume-\*' options with mount type 'tmpfs'/);
    assert.throws(() => parseMountFlag('type=tmpfs,tmpfs-size=lots', '/'), /invalid value for tmpfs-size: lots/);
    assert.throws(() => parseMountFlag('type=tmpfs,tmpfs-mode=99', '/'), /invalid value for tmpfs-mode: 99/);
    assert.throws(() => parseMountFlag('type=bind,ro=maybe', '/'), /invalid boolean value \("maybe"\)/);
    assert.throws(() => parseMountFlag('type=bind,src= /x', '/'), /value should not have whitespace/);
    assert.throws(() => parseMountFlag('type=bind,"src=/x', '/'), /extraneous or missing " in quoted-field/);
  });
});
