import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deviceMappings, validateDevice } from './deviceOpts.js';

describe('--device (docker CLI validateLinuxPath + parseLinuxDevice)', () => {
  it('splits host, container path and permissions with docker defaults', () => {
    assert.deepEqual(deviceMappings(['/dev/fuse']), [{ PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' }]);
    assert.deepEqual(deviceMappings(['/dev/sda:/dev/xvdc:rwm']), [{ PathOnHost: '/dev/sda', PathInContainer: '/dev/xvdc', CgroupPermissions: 'rwm' }]);
    assert.deepEqual(deviceMappings(['/dev/sda:r']), [{ PathOnHost: '/dev/sda', PathInContainer: '/dev/sda', CgroupPermissions: 'r' }]);
    assert.deepEqual(deviceMappings(['/dev/sda:/dev/xvdc']), [{ PathOnHost: '/dev/sda', PathInContainer: '/dev/xvdc', CgroupPermissions: 'rwm' }]);
    assert.deepEqual(deviceMappings(['/dev/sda:/dev/./xvdc/']), [{ PathOnHost: '/dev/sda', PathInContainer: '/dev/xvdc', CgroupPermissions: 'rwm' }]);
  });

  it('refuses what docker refuses, with its words', () => {
    assert.throws(() => validateDevice('/dev/a:/b:rw:x'), /^Error: bad format for path: \/dev\/a:\/b:rw:x$/);
    assert.throws(() => validateDevice(':/dev/b'), /^Error: bad format for path: :\/dev\/b$/);
    assert.throws(() => validateDevice('/dev/a:/dev/b:rwx'), /^Error: bad mode specified: rwx$/);
    assert.throws(() => validateDevice('/dev/a:/dev/b:rr'), /^Error: bad mode specified: rr$/);
    assert.throws(() => validateDevice('/dev/a:relative'), /^Error: relative is not an absolute path$/);
    assert.throws(() => validateDevice('relative'), /^Error: relative is not an absolute path$/);
  });
});
