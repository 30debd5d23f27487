// Test vectors re-typed from distribution/reference v0.6 reference_test.go
// (TestReferenceParse, TestWithNameFailure, TestDomainAndPath, TestSerialization,
// TestWithTag, TestWithDigest, TestParseNamed) and go-digest's Parse rules.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isInvalidArgument } from '../errdefs/errors.js';
import { InvalidReferenceError, type ReferenceErrorReason } from './errors.js';
import { validateDigest } from './digest.js';
import {
  fullName,
  parseReference,
  referenceString,
  trimNamed,
  withDigest,
  withName,
  withTag,
  type Reference,
} from './reference.js';
import { parseNamed } from './normalize.js';

const F64 = 'f'.repeat(64);

/** Assert that fn throws an InvalidReferenceError with this reason (and message, if given). */
function throwsReason(fn: () => unknown, reason: ReferenceErrorReason, message?: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InvalidReferenceError, `expected InvalidReferenceError, got ${String(err)}`);
    assert.equal(err.reason, reason);
    assert.ok(isInvalidArgument(err), 'must map to 400 (invalid-argument)');
    if (message !== undefined) assert.equal(err.message, message);
    return true;
  });
}

describe('parseReference (TestReferenceParse)', () => {
  interface Case {
    input: string;
    err?: ReferenceErrorReason;
    repository?: string;
    domain?: string;
    tag?: string;
    digest?: string;
  }
  const cases: Case[] = [
    { input: 'test_com', repository: 'test_com' },
    { input: 'test.com:tag', repository: 'test.com', tag: 'tag' },
    { input: 'test.com:5000', repository: 'test.com', tag: '5000' },
    { input: 'test.com/repo:tag', domain: 'test.com', repository: 'test.com/repo', tag: 'tag' },
    { input: 'test:5000/repo', domain: 'test:5000', repository: 'test:5000/repo' },
    { input: 'test:5000/repo:tag', domain: 'test:5000', repository: 'test:5000/repo', tag: 'tag' },
    {
      input: `test:5000/repo@sha256:${F64}`,
      domain: 'test:5000',
      repository: 'test:5000/repo',
      digest: `sha256:${F64}`,
    },
    {
      input: `test:5000/repo:tag@sha256:${F64}`,
      domain: 'test:5000',
      repository: 'test:5000/repo',
      tag: 'tag',
      digest: `sha256:${F64}`,
    },
    { input: '', err: 'name-empty' },
    { input: ':justtag', err: 'reference-invalid-format' },
    { input: `@sha256:${F64}`, err: 'reference-invalid-format' },
    { input: 'repo@sha256:ffffffffffffffffffffffffffffffffff', err: 'checksum-invalid-length' },
    { input: `validname@invaliddigest:${F64}`, err: 'digest-unsupported' },
    { input: 'Uppercase:tag', err: 'name-contains-uppercase' },
    { input: 'test:5000/Uppercase/lowercase:tag', err: 'name-contains-uppercase' },
    { input: 'lowercase:Uppercase', repository: 'lowercase', tag: 'Uppercase' },
    { input: `domain/${'a'.repeat(256)}:tag`, err: 'name-too-long' },
    {
      input: 'a/'.repeat(127) + 'a:tag-puts-this-over-max',
      domain: 'a',
      repository: 'a/'.repeat(127) + 'a',
      tag: 'tag-puts-this-over-max',
    },
    { input: 'aa/asdf$$^/aa', err: 'reference-invalid-format' },
    { input: 'sub-dom1.foo.com/bar/baz/quux', domain: 'sub-dom1.foo.com', repository: 'sub-dom1.foo.com/bar/baz/quux' },
    {
      input: 'sub-dom1.foo.com/bar/baz/quux:some-long-tag',
      domain: 'sub-dom1.foo.com',
      repository: 'sub-dom1.foo.com/bar/baz/quux',
      tag: 'some-long-tag',
    },
    {
      input: 'b.gcr.io/test.example.com/my-app:test.example.com',
      domain: 'b.gcr.io',
      repository: 'b.gcr.io/test.example.com/my-app',
      tag: 'test.example.com',
    },
    { input: 'xn--n3h.com/myimage:xn--n3h.com', domain: 'xn--n3h.com', repository: 'xn--n3h.com/myimage', tag: 'xn--n3h.com' },
    {
      input: `xn--7o8h.com/myimage:xn--7o8h.com@sha256:${F64}`,
      domain: 'xn--7o8h.com',
      repository: 'xn--7o8h.com/myimage',
      tag: 'xn--7o8h.com',
      digest: `sha256:${F64}`,
    },
    { input: 'foo_bar.com:8080', repository: 'foo_bar.com', tag: '8080' },
    { input: 'foo/foo_bar.com:8080', domain: 'foo', repository: 'foo/foo_bar.com', tag: '8080' },
    { input: '192.168.1.1', repository: '192.168.1.1' },
    { input: '192.168.1.1:tag', repository: '192.168.1.1', tag: 'tag' },
    { input: '192.168.1.1:5000', repository: '192.168.1.1', tag: '5000' },
    { input: '192.168.1.1/repo', domain: '192.168.1.1', repository: '192.168.1.1/repo' },
    { input: '192.168.1.1:5000/repo', domain: '192.168.1.1:5000', repository: '192.168.1.1:5000/repo' },
    { input: '192.168.1.1:5000/repo:5050', domain: '192.168.1.1:5000', repository: '192.168.1.1:5000/repo', tag: '5050' },
    { input: '[2001:db8::1]', err: 'reference-invalid-format' },
    { input: '[2001:db8::1]:5000', err: 'reference-invalid-format' },
    { input: '[2001:db8::1]:tag', err: 'reference-invalid-format' },
    { input: '[2001:db8::1]/repo', domain: '[2001:db8::1]', repository: '[2001:db8::1]/repo' },
    {
      input: '[2001:db8:1:2:3:4:5:6]/repo:tag',
      domain: '[2001:db8:1:2:3:4:5:6]',
      repository: '[2001:db8:1:2:3:4:5:6]/repo',
      tag: 'tag',
    },
    { input: '[2001:db8::1]:5000/repo', domain: '[2001:db8::1]:5000', repository: '[2001:db8::1]:5000/repo' },
    {
      input: '[2001:db8::1]:5000/repo:tag',
      domain: '[2001:db8::1]:5000',
      repository: '[2001:db8::1]:5000/repo',
      tag: 'tag',
    },
    {
      input: `[2001:db8::1]:5000/repo@sha256:${F64}`,
      domain: '[2001:db8::1]:5000',
      repository: '[2001:db8::1]:5000/repo',
      digest: `sha256:${F64}`,
    },
    {
      input: `[2001:db8::1]:5000/repo:tag@sha256:${F64}`,
      domain: '[2001:db8::1]:5000',
      repository: '[2001:db8::1]:5000/repo',
      tag: 'tag',
      digest: `sha256:${F64}`,
    },
    { input: '[2001:db8::]:5000/repo', domain: '[2001:db8::]:5000', repository: '[2001:db8::]:5000/repo' },
    { input: '[::1]:5000/repo', domain: '[::1]:5000', repository: '[::1]:5000/repo' },
    { input: '[fe80::1%eth0]:5000/repo', err: 'reference-invalid-format' },
    { input: '[fe80::1%@invalidzone]:5000/repo', err: 'reference-invalid-format' },
    {
      input: `example.com/${'a'.repeat(255)}:tag`,
      domain: 'example.com',
      repository: `example.com/${'a'.repeat(255)}`,
      tag: 'tag',
    },
    // Not in upstream's table: registries that link sha384/sha512 accept them
    // (upstream's test binary does not import crypto/sha512, so there it is
    // "unsupported"; a real dockerd links it through crypto/tls).
    {
      input: `validname@sha512:${'f'.repeat(128)}`,
      repository: 'validname',
      digest: `sha512:${'f'.repeat(128)}`,
    },
    { input: `validname@sha512:${F64}`, err: 'checksum-invalid-length' },
    { input: `validname@sha256:${'F'.repeat(64)}`, err: 'checksum-invalid-format' },
    { input: `validname@SHA256:${F64}`, err: 'checksum-invalid-format' },
    { input: `a:${'t'.repeat(128)}`, repository: 'a', tag: 't'.repeat(128) },
    { input: `a:${'t'.repeat(129)}`, err: 'reference-invalid-format' },
  ];
  for (const tc of cases) {
    const label = JSON.stringify(tc.input.length > 80 ? tc.input.slice(0, 77) + '...' : tc.input);
    if (tc.err !== undefined) {
      const reason = tc.err;
      it(`rejects ${label} with ${reason}`, () => throwsReason(() => parseReference(tc.input), reason));
      continue;
    }
    it(`parses ${label}`, () => {
      const r = parseReference(tc.input);
      assert.equal(referenceString(r), tc.input);
      assert.equal(fullName(r), tc.repository);
      assert.equal(r.domain, tc.domain ?? '');
      assert.equal(r.tag, tc.tag);
      assert.equal(r.digest, tc.digest);
      assert.ok(!('tag' in r) || r.tag !== undefined, 'no explicit undefined tag');
    });
  }

  it('uses upstream wording for each error', () => {
    throwsReason(() => parseReference(''), 'name-empty', 'repository name must have at least one component');
    throwsReason(() => parseReference(':x'), 'reference-invalid-format', 'invalid reference format');
    throwsReason(() => parseReference('Up:tag'), 'name-contains-uppercase', 'repository name must be lowercase');
    throwsReason(
      () => parseReference(`x/${'a'.repeat(256)}`),
      'name-too-long',
      'repository name must not be more than 255 characters',
    );
    throwsReason(() => parseReference(`a@sha256:${'f'.repeat(40)}`), 'checksum-invalid-length', 'invalid checksum digest length');
    throwsReason(() => parseReference(`a@md5:${F64}`), 'digest-unsupported', 'unsupported digest algorithm');
  });
});

describe('withName (TestWithNameFailure, TestDomainAndPath)', () => {
  const failures: [string, ReferenceErrorReason][] = [
    ['', 'reference-invalid-format'],
    [':justtag', 'reference-invalid-format'],
    [`@sha256:${F64}`, 'reference-invalid-format'],
    [`validname@invaliddigest:${F64}`, 'reference-invalid-format'],
    ['example.com/repo:tag', 'reference-invalid-format'],
    [`example.com/${'a'.repeat(256)}`, 'name-too-long'],
    ['aa/asdf$$^/aa', 'reference-invalid-format'],
  ];
  for (const [input, reason] of failures) {
    it(`rejects ${JSON.stringify(input.slice(0, 60))} with ${reason}`, () => throwsReason(() => withName(input), reason));
  }
  const splits: [string, string, string][] = [
    ['test.com/foo', 'test.com', 'foo'],
    ['test_com/foo', '', 'test_com/foo'],
    ['test:8080/foo', 'test:8080', 'foo'],
    ['test.com:8080/foo', 'test.com:8080', 'foo'],
    ['test-com:8080/foo', 'test-com:8080', 'foo'],
    ['xn--n3h.com:18080/foo', 'xn--n3h.com:18080', 'foo'],
    ['[::1]:5000/foo', '[::1]:5000', 'foo'],
  ];
  for (const [input, domain, path] of splits) {
    it(`splits ${input} into "${domain}" and "${path}"`, () => {
      const r = withName(input);
      assert.deepEqual({ ...r }, { domain, path });
    });
  }
});

describe('round trip through a string (TestSerialization)', () => {
  const cases: [string, string, string | undefined, string | undefined][] = [
    ['example.com:8000/named', 'example.com:8000/named', undefined, undefined],
    ['example.com:8000/named:tagged', 'example.com:8000/named', 'tagged', undefined],
    [
      'other.com/named@sha256:1234567890098765432112345667890098765432112345667890098765432112',
      'other.com/named',
      undefined,
      'sha256:1234567890098765432112345667890098765432112345667890098765432112',
    ],
  ];
  for (const [input, name, tag, digest] of cases) {
    it(`keeps ${input} identical through parse and print`, () => {
      const r = parseReference(input);
      assert.equal(fullName(r), name);
      assert.equal(r.tag, tag);
      assert.equal(r.digest, digest);
      const again = parseReference(JSON.parse(JSON.stringify(referenceString(r))) as string);
      assert.deepEqual(again, r);
    });
  }
});

describe('withTag and withDigest (TestWithTag, TestWithDigest)', () => {
  const shortDigest = 'sha256:1234567890098765432112345667890098765';
  const tagCases: [string, string | undefined, string, string][] = [
    ['test.com/foo', undefined, 'tag', 'test.com/foo:tag'],
    ['foo', undefined, 'tag2', 'foo:tag2'],
    ['test.com:8000/foo', undefined, 'tag4', 'test.com:8000/foo:tag4'],
    ['test.com:8000/foo', undefined, 'TAG5', 'test.com:8000/foo:TAG5'],
    ['test.com:8000/foo', shortDigest, 'TAG5', `test.com:8000/foo:TAG5@${shortDigest}`],
  ];
  for (const [name, digest, tag, combined] of tagCases) {
    it(`withTag builds ${combined}`, () => {
      let r: Reference = withName(name);
      if (digest !== undefined) r = withDigest(r, digest);
      assert.equal(referenceString(withTag(r, tag)), combined);
    });
  }
  const digestCases: [string, string | undefined, string][] = [
    ['test.com/foo', undefined, `test.com/foo@${shortDigest}`],
    ['foo', undefined, `foo@${shortDigest}`],
    ['test.com:8000/foo', undefined, `test.com:8000/foo@${shortDigest}`],
    ['test.com:8000/foo', 'latest', `test.com:8000/foo:latest@${shortDigest}`],
  ];
  for (const [name, tag, combined] of digestCases) {
    it(`withDigest builds ${combined}`, () => {
      let r: Reference = withName(name);
      if (tag !== undefined) r = withTag(r, tag);
      assert.equal(referenceString(withDigest(r, shortDigest)), combined);
    });
  }
  it('withTag rejects "-foo" and a 129-character tag', () => {
    throwsReason(() => withTag(withName('busybox'), '-foo'), 'tag-invalid-format', 'invalid tag format');
    throwsReason(() => withTag(withName('busybox'), 'x'.repeat(129)), 'tag-invalid-format');
  });
  it('withDigest rejects "foo"', () => {
    throwsReason(() => withDigest(withName('busybox'), 'foo'), 'digest-invalid-format', 'invalid digest format');
  });
  it('withTag replaces an existing tag', () => {
    assert.equal(referenceString(withTag(parseReference('a/b:one'), 'two')), 'a/b:two');
  });
  it('trimNamed drops tag and digest', () => {
    assert.deepEqual(trimNamed(parseReference(`a/b:one@sha256:${F64}`)), { domain: 'a', path: 'b' });
  });
});

describe('parseNamed requires canonical form (TestParseNamed)', () => {
  const cases: [string, string, string][] = [
    ['test.com/foo', 'test.com', 'foo'],
    ['test:8080/foo', 'test:8080', 'foo'],
    ['docker.io/library/foo', 'docker.io', 'library/foo'],
  ];
  for (const [input, domain, path] of cases) {
    it(`accepts ${input}`, () => {
      const r = parseNamed(input);
      assert.equal(r.domain, domain);
      assert.equal(r.path, path);
    });
  }
  for (const input of ['test_com/foo', 'test.com', 'foo', 'library/foo', 'docker.io/foo']) {
    it(`rejects ${input} as not canonical`, () =>
      throwsReason(() => parseNamed(input), 'name-not-canonical', 'repository name must be canonical'));
  }
});

describe('validateDigest follows go-digest', () => {
  const cases: [string, ReferenceErrorReason | undefined][] = [
    [`sha256:${F64}`, undefined],
    [`sha384:${'a'.repeat(96)}`, undefined],
    [`sha512:${'0'.repeat(128)}`, undefined],
    [F64, 'checksum-invalid-format'],
    ['sha256:', 'checksum-invalid-format'],
    [`:${F64}`, 'checksum-invalid-format'],
    [`sha256:${'f'.repeat(63)}`, 'checksum-invalid-length'],
    [`sha256:${'f'.repeat(63)}g`, 'checksum-invalid-format'],
    [`sha256:${'A'.repeat(64)}`, 'checksum-invalid-format'],
    [`foo+bar.baz:${F64}`, 'digest-unsupported'],
    [`Sha256:${F64}`, 'checksum-invalid-format'],
    [`sha256:${F64}:x`, 'checksum-invalid-length'],
  ];
  for (const [input, reason] of cases) {
    if (reason === undefined) {
      it(`accepts ${input.slice(0, 20)}…`, () => assert.equal(validateDigest(input), input));
    } else {
      it(`rejects ${JSON.stringify(input.slice(0, 24))} with ${reason}`, () => throwsReason(() => validateDigest(input), reason));
    }
  }
});
