// Test vectors re-typed from distribution/reference v0.6 normalize_test.go
// (TestMatch, TestMatchError) and Go's src/path/match_test.go.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidReferenceError } from './errors.js';
import { familiarMatch, pathMatch } from './match.js';
import { parseAnyReference } from './normalize.js';

function throwsBadPattern(fn: () => unknown): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InvalidReferenceError);
    assert.equal(err.reason, 'bad-pattern');
    assert.equal(err.message, 'syntax error in pattern');
    return true;
  });
}

describe('pathMatch behaves as Go path.Match', () => {
  const cases: [string, string, boolean | 'bad'][] = [
    ['abc', 'abc', true],
    ['*', 'abc', true],
    ['*c', 'abc', true],
    ['a*', 'a', true],
    ['a*', 'abc', true],
    ['a*', 'ab/c', false],
    ['a*/b', 'abc/b', true],
    ['a*/b', 'a/c/b', false],
    ['a*b*c*d*e*/f', 'axbxcxdxe/f', true],
    ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true],
    ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false],
    ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false],
    ['a*b?c*x', 'abxbbxdbxebxczzx', true],
    ['a*b?c*x', 'abxbbxdbxebxczzy', false],
    ['ab[c]', 'abc', true],
    ['ab[b-d]', 'abc', true],
    ['ab[e-g]', 'abc', false],
    ['ab[^c]', 'abc', false],
    ['ab[^b-d]', 'abc', false],
    ['ab[^e-g]', 'abc', true],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'ab', false],
    ['a?b', 'a☺b', true],
    ['a[^a]b', 'a☺b', true],
    ['a???b', 'a☺b', false],
    ['a[^a][^a][^a]b', 'a☺b', false],
    ['[a-ζ]*', 'α', true],
    ['*[a-ζ]', 'A', false],
    ['a?b', 'a/b', false],
    ['a*b', 'a/b', false],
    ['[\\]a]', ']', true],
    ['[\\-]', '-', true],
    ['[x\\-]', 'x', true],
    ['[x\\-]', '-', true],
    ['[x\\-]', 'z', false],
    ['[\\-x]', 'x', true],
    ['[\\-x]', '-', true],
    ['[\\-x]', 'a', false],
    ['[]a]', ']', 'bad'],
    ['[-]', '-', 'bad'],
    ['[x-]', 'x', 'bad'],
    ['[x-]', '-', 'bad'],
    ['[x-]', 'z', 'bad'],
    ['[-x]', 'x', 'bad'],
    ['[-x]', '-', 'bad'],
    ['[-x]', 'a', 'bad'],
    ['\\', 'a', 'bad'],
    ['[a-b-c]', 'a', 'bad'],
    ['[', 'a', 'bad'],
    ['[^', 'a', 'bad'],
    ['[^bc', 'a', 'bad'],
    ['a[', 'a', 'bad'],
    ['a[', 'ab', 'bad'],
    ['a[', 'x', 'bad'],
    ['a/b[', 'x', 'bad'],
    ['*x', 'xxx', true],
  ];
  for (const [pattern, name, want] of cases) {
    if (want === 'bad') {
      it(`reports ${JSON.stringify(pattern)} as a bad pattern (name ${JSON.stringify(name)})`, () =>
        throwsBadPattern(() => pathMatch(pattern, name)));
    } else {
      it(`${want ? 'matches' : 'does not match'} ${JSON.stringify(name)} against ${JSON.stringify(pattern)}`, () =>
        assert.equal(pathMatch(pattern, name), want));
    }
  }
  it('stays fast on a pattern of many stars', () => {
    const t = performance.now();
    assert.equal(pathMatch('*a'.repeat(50) + 'b', 'a'.repeat(5000)), false);
    assert.ok(performance.now() - t < 1000);
  });
});

describe('familiarMatch (TestMatch, TestMatchError)', () => {
  const cases: [string, string, boolean][] = [
    ['foo', 'foo/**/ba[rz]', false],
    ['foo/any/bat', 'foo/**/ba[rz]', false],
    ['foo/a/bar', 'foo/**/ba[rz]', true],
    ['foo/b/baz', 'foo/**/ba[rz]', true],
    ['foo/c/baz:tag', 'foo/**/ba[rz]', true],
    ['foo/c/baz:tag', 'foo/*/baz:tag', true],
    ['foo/c/baz:tag', 'foo/c/baz:tag', true],
    ['example.com/foo/c/baz:tag', '*/foo/c/baz', true],
    ['example.com/foo/c/baz:tag', 'example.com/foo/c/baz', true],
    // Beyond upstream: the `docker images --filter reference=` uses.
    ['busybox:latest', 'busy*', true],
    ['busybox:latest', 'busybox:*', true],
    ['busybox:latest', 'library/busybox', false],
    ['docker.io/library/busybox:1.36', 'busybox:1.*', true],
  ];
  for (const [reference, pattern, want] of cases) {
    it(`${want ? 'matches' : 'does not match'} ${reference} against ${pattern}`, () => {
      assert.equal(familiarMatch(pattern, parseAnyReference(reference)), want);
    });
  }
  it('reports a malformed pattern', () => {
    throwsBadPattern(() => familiarMatch('[-x]', parseAnyReference('foo')));
  });
});
