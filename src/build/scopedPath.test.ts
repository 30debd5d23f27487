// In-scope path resolution (moby's FollowSymlinkInScope): symlinks are followed inside the root only.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { escapesRoot, resolveInScope, type LstatFn } from './scopedPath.js';
import { goMatch, containsWildcards } from './copySource.js';

const tree = (links: Record<string, string>, files: string[] = []): LstatFn => (rel) => {
  if (rel in links) return { symlink: true, target: links[rel] as string };
  return files.includes(rel) ? { symlink: false } : null;
};

describe('resolveInScope', () => {
  it('follows relative and absolute links without leaving the root', () => {
    const fs = tree({ up: '../../../etc/passwd', abs: '/etc/passwd', dir: 'real', loop: 'loop' }, ['real', 'real/f']);
    assert.equal(resolveInScope('up', fs), 'etc/passwd');
    assert.equal(resolveInScope('abs', fs), 'etc/passwd');
    assert.equal(resolveInScope('dir/f', fs), 'real/f');
    assert.equal(resolveInScope('/a/../../b', fs), 'b');
    assert.throws(() => resolveInScope('loop', fs), /too many links/);
  });

  it('tells paths that climb out of the root', () => {
    assert.equal(escapesRoot('../x'), true);
    assert.equal(escapesRoot('a/../../x'), true);
    assert.equal(escapesRoot('a/../x'), false);
    assert.equal(escapesRoot('./x/..'), false);
  });
});

describe('goMatch (filepath.Match)', () => {
  it('matches as Go does: * and ? stop at "/", classes, escapes', () => {
    assert.equal(goMatch('*.txt', 'a.txt'), true);
    assert.equal(goMatch('*.txt', 'd/a.txt'), false);
    assert.equal(goMatch('d/*.txt', 'd/a.txt'), true);
    assert.equal(goMatch('file?', 'file1'), true);
    assert.equal(goMatch('[a-c]x', 'bx'), true);
    assert.equal(goMatch('[^a-c]x', 'bx'), false);
    assert.equal(goMatch('\\*', '*'), true);
    assert.equal(goMatch('[', 'x'), false);
    assert.equal(containsWildcards('a\\*b'), false);
    assert.equal(containsWildcards('a*b'), true);
  });
});
