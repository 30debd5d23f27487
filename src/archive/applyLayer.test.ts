// Path rules of applyLayer, as pure functions (the filesystem behaviour is tested in test/integration/archive).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isUnsafeTarPath, normalizeTarPath } from './applyLayer.js';

describe('isUnsafeTarPath', () => {
  it('refuses absolute names and ".." that climbs out of the root', () => {
    for (const name of ['/etc/passwd', '/', '..', '../x', 'a/../../x', './../x', 'a/b/../../../x', 'a\0b']) {
      assert.equal(isUnsafeTarPath(name), true, name);
    }
  });

  it('accepts ./-prefixed, doubled slashes and ".." that stays inside', () => {
    for (const name of ['./', '.', './a', 'a//b/', 'a/../b', 'a/b/../../c', '...', '..a', 'a..', '.wh..wh..opq']) {
      assert.equal(isUnsafeTarPath(name), false, name);
    }
  });
});

describe('normalizeTarPath', () => {
  it('gives the relative path inside the root ("" for the root itself)', () => {
    assert.equal(normalizeTarPath('./'), '');
    assert.equal(normalizeTarPath('./usr/bin/'), 'usr/bin');
    assert.equal(normalizeTarPath('a//b/./c'), 'a/b/c');
    assert.equal(normalizeTarPath('a/../b'), 'b');
    assert.equal(normalizeTarPath('../b'), null);
  });
});
