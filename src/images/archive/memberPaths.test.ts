import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cleanMemberPath, LinkTable } from './memberPaths.js';

describe('cleanMemberPath', () => {
  it('cleans ./, doubled and trailing slashes and inner ..', () => {
    assert.equal(cleanMemberPath('./blobs//sha256/abc'), 'blobs/sha256/abc');
    assert.equal(cleanMemberPath('blobs/sha256/'), 'blobs/sha256');
    assert.equal(cleanMemberPath('a/b/../c'), 'a/c');
    assert.equal(cleanMemberPath('/manifest.json'), 'manifest.json');
    assert.equal(cleanMemberPath('./'), '');
  });

  it('refuses a member that climbs out of the archive root, and NUL bytes', () => {
    assert.throws(() => cleanMemberPath('../etc/passwd'), /points outside the archive/);
    assert.throws(() => cleanMemberPath('a/../../b'), /points outside the archive/);
    assert.throws(() => cleanMemberPath('a\0b'), /NUL/);
  });
});

describe('LinkTable.resolve', () => {
  it('follows a relative symlink from the link directory, as old docker save tars use them', () => {
    const t = new LinkTable();
    t.add('bbb/layer.tar', 'symlink', '../aaa/layer.tar');
    assert.equal(t.resolve('bbb/layer.tar'), 'aaa/layer.tar');
    assert.equal(t.resolve('ccc/layer.tar'), 'ccc/layer.tar');
  });

  it('follows directory symlinks, absolute targets (archive root) and hardlinks', () => {
    const t = new LinkTable();
    t.add('d', 'symlink', 'real/dir');
    t.add('abs', 'symlink', '/blobs/sha256/x');
    t.add('hard', 'hardlink', 'blobs/sha256/y');
    assert.equal(t.resolve('d/file'), 'real/dir/file');
    assert.equal(t.resolve('abs'), 'blobs/sha256/x');
    assert.equal(t.resolve('hard'), 'blobs/sha256/y');
  });

  it('refuses a link out of the root and a link loop', () => {
    const t = new LinkTable();
    t.add('out', 'symlink', '../../etc/shadow');
    assert.throws(() => t.resolve('out'), /points outside the archive/);
    t.add('a', 'symlink', 'b');
    t.add('b', 'symlink', 'a');
    assert.throws(() => t.resolve('a'), /too many levels of links/);
  });
});
