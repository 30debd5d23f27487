import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseMountOptions } from './mount.js';
import { MS } from './nativeEngine.js';

describe('parseMountOptions', () => {
  it('keeps file-system options as data, in order', () => {
    assert.deepEqual(parseMountOptions(['lowerdir=l/a:l/b', 'upperdir=3/fs', 'workdir=3/work']), {
      flags: 0,
      propagation: [],
      data: 'lowerdir=l/a:l/b,upperdir=3/fs,workdir=3/work',
    });
  });

  it('turns mount(8) flag words into MS_* flags; a later word undoes an earlier one', () => {
    const p = parseMountOptions(['rbind', 'ro', 'nosuid', 'nodev', 'size=64m']);
    assert.equal(p.flags, MS.BIND | MS.REC | MS.RDONLY | MS.NOSUID | MS.NODEV);
    assert.equal(p.data, 'size=64m');
    assert.equal(parseMountOptions(['ro', 'rw']).flags, 0);
    assert.equal(parseMountOptions(['noexec', 'exec', 'defaults']).flags, 0);
  });

  it('gives propagation changes apart: each is a mount(2) call of its own', () => {
    assert.deepEqual(parseMountOptions(['bind', 'rprivate', 'shared']), { flags: MS.BIND, propagation: [MS.PRIVATE | MS.REC, MS.SHARED], data: '' });
  });
});
