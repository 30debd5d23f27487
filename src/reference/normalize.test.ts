// Test vectors re-typed from distribution/reference v0.6 normalize_test.go
// (TestValidateReferenceName, TestValidateRemoteName, TestParseRepositoryInfo,
// TestParseReferenceWithTagAndDigest, TestInvalidReferenceComponents,
// TestParseAnyReference, TestNormalizedSplitHostname, TestParseDockerRef), plus
// Docker's error wording and the Engine API name+tag helpers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isInvalidArgument } from '../errdefs/errors.js';
import { InvalidReferenceError, type ReferenceErrorReason } from './errors.js';
import {
  familiarName,
  familiarString,
  parseAnyReference,
  parseDockerRef,
  parseNormalizedNamed,
  splitDockerDomain,
  withDefaultTag,
} from './normalize.js';
import {
  fullName,
  isDigestReference,
  isNamed,
  parseReference,
  referenceString,
  withDigest,
  withTag,
} from './reference.js';
import { joinTagOrDigest, repoTagReference } from './form.js';

const HEX = 'dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c';
const ID = '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a';

function throwsReason(fn: () => unknown, reason: ReferenceErrorReason, message?: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InvalidReferenceError, `expected InvalidReferenceError, got ${String(err)}`);
    assert.equal(err.reason, reason);
    assert.ok(isInvalidArgument(err));
    if (message !== undefined) assert.equal(err.message, message);
    return true;
  });
}

describe('parseNormalizedNamed accepts and rejects names (TestValidateReferenceName)', () => {
  const valid = [
    'docker/docker',
    'library/debian',
    'debian',
    'localhost/library/debian',
    'localhost/debian',
    'LOCALDOMAIN/library/debian',
    'LOCALDOMAIN/debian',
    'docker.io/docker/docker',
    'docker.io/library/debian',
    'docker.io/debian',
    'index.docker.io/docker/docker',
    'index.docker.io/library/debian',
    'index.docker.io/debian',
    '127.0.0.1:5000/docker/docker',
    '127.0.0.1:5000/library/debian',
    '127.0.0.1:5000/debian',
    '192.168.0.1',
    '192.168.0.1:80',
    '192.168.0.1:8/debian',
    '192.168.0.2:25000/debian',
    'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev',
    '[fc00::1]:5000/docker',
    '[fc00::1]:5000/docker/docker',
    '[fc00:1:2:3:4:5:6:7]:5000/library/debian',
    `docker.io/${ID}`,
    'Docker/docker',
    'DOCKER/docker',
  ];
  for (const name of valid) {
    it(`accepts ${name}`, () => {
      parseNormalizedNamed(name);
    });
  }
  const invalid: [string, ReferenceErrorReason][] = [
    ['https://github.com/docker/docker', 'reference-invalid-format'],
    ['docker/Docker', 'name-contains-uppercase'],
    ['-docker', 'reference-invalid-format'],
    ['-docker/docker', 'reference-invalid-format'],
    ['-docker.io/docker/docker', 'reference-invalid-format'],
    ['docker///docker', 'reference-invalid-format'],
    ['docker.io/docker/Docker', 'name-contains-uppercase'],
    ['docker.io/docker///docker', 'reference-invalid-format'],
    ['[fc00::1]', 'reference-invalid-format'],
    ['[fc00::1]:5000', 'reference-invalid-format'],
    ['fc00::1:5000/debian', 'reference-invalid-format'],
    ['[fe80::1%eth0]:5000/debian', 'reference-invalid-format'],
    ['[2001:db8:3:4::192.0.2.33]:5000/debian', 'reference-invalid-format'],
    [ID, 'name-is-identifier'],
  ];
  for (const [name, reason] of invalid) {
    it(`rejects ${name} with ${reason}`, () => throwsReason(() => parseNormalizedNamed(name), reason));
  }
});

describe('parseNormalizedNamed applies the path rules (TestValidateRemoteName)', () => {
  const valid = [
    'docker/docker',
    'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev',
    'docker-rules/docker',
    'docker---rules/docker',
    'doc/docker',
    'd/docker',
    'jess/t',
    'dock__er/docker',
  ];
  for (const name of valid) {
    it(`accepts ${name}`, () => {
      parseNormalizedNamed(name);
    });
  }
  const longNamespace =
    'this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255/docker';
  const invalid: [string, ReferenceErrorReason][] = [
    ['docker/Docker', 'name-contains-uppercase'],
    ['docker///docker', 'reference-invalid-format'],
    [ID, 'name-is-identifier'],
    ['-docker/docker', 'reference-invalid-format'],
    ['docker-/docker', 'reference-invalid-format'],
    ['-docker-/docker', 'reference-invalid-format'],
    ['____/____', 'reference-invalid-format'],
    ['_docker/_docker', 'reference-invalid-format'],
    ['dock..er/docker', 'reference-invalid-format'],
    ['dock_.er/docker', 'reference-invalid-format'],
    ['dock-.er/docker', 'reference-invalid-format'],
    ['docker/', 'reference-invalid-format'],
    [longNamespace, 'name-too-long'],
  ];
  for (const [name, reason] of invalid) {
    it(`rejects ${name.slice(0, 60)} with ${reason}`, () => throwsReason(() => parseNormalizedNamed(name), reason));
  }
});

describe('familiar, full and ambiguous spellings agree (TestParseRepositoryInfo)', () => {
  interface Case {
    remote: string;
    familiar: string;
    full: string;
    ambiguous?: string;
    domain: string;
  }
  const cases: Case[] = [
    { remote: 'fooo', familiar: 'localhost/fooo', full: 'localhost/fooo', ambiguous: 'localhost/fooo', domain: 'localhost' },
    {
      remote: 'fooo/bar',
      familiar: 'localhost/fooo/bar',
      full: 'localhost/fooo/bar',
      ambiguous: 'localhost/fooo/bar',
      domain: 'localhost',
    },
    { remote: 'fooo', familiar: 'LOCALDOMAIN/fooo', full: 'LOCALDOMAIN/fooo', ambiguous: 'LOCALDOMAIN/fooo', domain: 'LOCALDOMAIN' },
    {
      remote: 'fooo/bar',
      familiar: 'LOCALDOMAIN/fooo/bar',
      full: 'LOCALDOMAIN/fooo/bar',
      ambiguous: 'LOCALDOMAIN/fooo/bar',
      domain: 'LOCALDOMAIN',
    },
    { remote: 'fooo/bar', familiar: 'fooo/bar', full: 'docker.io/fooo/bar', ambiguous: 'index.docker.io/fooo/bar', domain: 'docker.io' },
    { remote: 'library/ubuntu', familiar: 'ubuntu', full: 'docker.io/library/ubuntu', ambiguous: 'library/ubuntu', domain: 'docker.io' },
    { remote: 'nonlibrary/ubuntu', familiar: 'nonlibrary/ubuntu', full: 'docker.io/nonlibrary/ubuntu', domain: 'docker.io' },
    { remote: 'other/library', familiar: 'other/library', full: 'docker.io/other/library', domain: 'docker.io' },
    {
      remote: 'private/moonbase',
      familiar: '127.0.0.1:8000/private/moonbase',
      full: '127.0.0.1:8000/private/moonbase',
      domain: '127.0.0.1:8000',
    },
    { remote: 'privatebase', familiar: '127.0.0.1:8000/privatebase', full: '127.0.0.1:8000/privatebase', domain: '127.0.0.1:8000' },
    { remote: 'private/moonbase', familiar: 'example.com/private/moonbase', full: 'example.com/private/moonbase', domain: 'example.com' },
    { remote: 'privatebase', familiar: 'example.com/privatebase', full: 'example.com/privatebase', domain: 'example.com' },
    {
      remote: 'private/moonbase',
      familiar: 'example.com:8000/private/moonbase',
      full: 'example.com:8000/private/moonbase',
      domain: 'example.com:8000',
    },
    {
      remote: 'privatebasee',
      familiar: 'example.com:8000/privatebasee',
      full: 'example.com:8000/privatebasee',
      domain: 'example.com:8000',
    },
    {
      remote: 'library/ubuntu-12.04-base',
      familiar: 'ubuntu-12.04-base',
      full: 'docker.io/library/ubuntu-12.04-base',
      ambiguous: 'index.docker.io/library/ubuntu-12.04-base',
      domain: 'docker.io',
    },
    { remote: 'library/foo', familiar: 'foo', full: 'docker.io/library/foo', ambiguous: 'docker.io/foo', domain: 'docker.io' },
    { remote: 'library/foo/bar', familiar: 'library/foo/bar', full: 'docker.io/library/foo/bar', domain: 'docker.io' },
    { remote: 'store/foo/bar', familiar: 'store/foo/bar', full: 'docker.io/store/foo/bar', domain: 'docker.io' },
    { remote: 'bar', familiar: 'Foo/bar', full: 'Foo/bar', domain: 'Foo' },
    { remote: 'bar', familiar: 'FOO/bar', full: 'FOO/bar', domain: 'FOO' },
    // Beyond upstream's table: IPv6 registries.
    { remote: 'foo', familiar: '[::1]:5000/foo', full: '[::1]:5000/foo', domain: '[::1]:5000' },
  ];
  for (const tc of cases) {
    const spellings = [tc.familiar, tc.full, ...(tc.ambiguous !== undefined ? [tc.ambiguous] : [])];
    for (const s of new Set(spellings)) {
      it(`${s} has familiar name ${tc.familiar} and full name ${tc.full}`, () => {
        const r = parseNormalizedNamed(s);
        assert.equal(familiarName(r), tc.familiar);
        assert.equal(fullName(r), tc.full);
        assert.equal(referenceString(r), tc.full);
        assert.equal(r.domain, tc.domain);
        assert.equal(r.path, tc.remote);
      });
    }
  }
});

describe('tags, digests and familiar strings', () => {
  it('keeps both tag and digest (TestParseReferenceWithTagAndDigest)', () => {
    const short = 'busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa';
    const r = parseNormalizedNamed(short);
    assert.equal(referenceString(r), `docker.io/library/${short}`);
    assert.equal(r.tag, 'latest');
    assert.equal(r.digest, 'sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa');
    assert.equal(familiarString(r), short);
  });
  it('rejects invalid components (TestInvalidReferenceComponents)', () => {
    throwsReason(() => parseNormalizedNamed('-foo'), 'reference-invalid-format');
    const r = parseNormalizedNamed('busybox');
    throwsReason(() => withTag(r, '-foo'), 'tag-invalid-format');
    throwsReason(() => withDigest(r, 'foo'), 'digest-invalid-format');
  });
  const familiar: [string, string, string][] = [
    ['busybox', 'busybox:latest', 'docker.io/library/busybox:latest'],
    ['myreg:5000/a/b:tag', 'myreg:5000/a/b:tag', 'myreg:5000/a/b:tag'],
    [`localhost:5000/x@sha256:${HEX}`, `localhost:5000/x@sha256:${HEX}`, `localhost:5000/x@sha256:${HEX}`],
    ['index.docker.io/library/redis:7', 'redis:7', 'docker.io/library/redis:7'],
    ['docker.io/dmcgowan/myapp', 'dmcgowan/myapp:latest', 'docker.io/dmcgowan/myapp:latest'],
    ['library/foo/bar', 'library/foo/bar:latest', 'docker.io/library/foo/bar:latest'],
    ['[::1]:5000/foo', '[::1]:5000/foo:latest', '[::1]:5000/foo:latest'],
  ];
  for (const [input, fam, full] of familiar) {
    it(`shows ${input} with default tag as ${fam} (full ${full})`, () => {
      const r = withDefaultTag(parseNormalizedNamed(input));
      assert.equal(familiarString(r), fam);
      assert.equal(referenceString(r), full);
    });
  }
  it('withDefaultTag leaves a digest-only reference untagged', () => {
    const r = withDefaultTag(parseNormalizedNamed(`busybox@sha256:${HEX}`));
    assert.equal(r.tag, undefined);
    assert.equal(familiarString(r), `busybox@sha256:${HEX}`);
  });
  it('familiarString of a bare digest is the digest', () => {
    assert.equal(familiarString({ digest: `sha256:${HEX}` }), `sha256:${HEX}`);
  });
});

describe('parseAnyReference tells IDs from names (TestParseAnyReference)', () => {
  const cases: [string, string, boolean?][] = [
    ['redis', 'docker.io/library/redis'],
    ['redis:latest', 'docker.io/library/redis:latest'],
    ['docker.io/library/redis:latest', 'docker.io/library/redis:latest'],
    [`redis@sha256:${HEX}`, `docker.io/library/redis@sha256:${HEX}`],
    [`docker.io/library/redis@sha256:${HEX}`, `docker.io/library/redis@sha256:${HEX}`],
    ['dmcgowan/myapp', 'docker.io/dmcgowan/myapp'],
    ['dmcgowan/myapp:latest', 'docker.io/dmcgowan/myapp:latest'],
    ['docker.io/mcgowan/myapp:latest', 'docker.io/mcgowan/myapp:latest'],
    [`dmcgowan/myapp@sha256:${HEX}`, `docker.io/dmcgowan/myapp@sha256:${HEX}`],
    [`docker.io/dmcgowan/myapp@sha256:${HEX}`, `docker.io/dmcgowan/myapp@sha256:${HEX}`],
    [HEX, `sha256:${HEX}`, true],
    [`sha256:${HEX}`, `sha256:${HEX}`, true],
    [HEX.slice(0, 63), `docker.io/library/${HEX.slice(0, 63)}`],
    ['dbcc1', 'docker.io/library/dbcc1'],
    // Beyond upstream: a short "sha256:…" is a name with a tag, as upstream parses it.
    ['sha256:dbcc1', 'docker.io/library/sha256:dbcc1'],
  ];
  for (const [input, equivalent, isDigest] of cases) {
    it(`reads ${input.slice(0, 50)} as ${isDigest === true ? 'a digest' : 'a name'}`, () => {
      const r = parseAnyReference(input);
      assert.equal(referenceString(r), equivalent);
      if (isDigest === true) {
        assert.ok(isDigestReference(r));
        assert.deepEqual(r, { digest: equivalent });
      } else {
        assert.ok(isNamed(r));
        assert.deepEqual(r, parseReference(equivalent));
      }
    });
  }
  it('rejects a malformed name with the normalised error', () => {
    throwsReason(() => parseAnyReference('Busybox'), 'name-contains-uppercase');
  });
});

describe('splitting the registry off a name (TestNormalizedSplitHostname)', () => {
  const cases: [string, string, string][] = [
    ['test.com/foo', 'test.com', 'foo'],
    ['test_com/foo', 'docker.io', 'test_com/foo'],
    ['docker/migrator', 'docker.io', 'docker/migrator'],
    ['test.com:8080/foo', 'test.com:8080', 'foo'],
    ['test-com:8080/foo', 'test-com:8080', 'foo'],
    ['foo', 'docker.io', 'library/foo'],
    ['xn--n3h.com/foo', 'xn--n3h.com', 'foo'],
    ['xn--n3h.com:18080/foo', 'xn--n3h.com:18080', 'foo'],
    ['docker.io/foo', 'docker.io', 'library/foo'],
    ['docker.io/library/foo', 'docker.io', 'library/foo'],
    ['docker.io/library/foo/bar', 'docker.io', 'library/foo/bar'],
    // Beyond upstream's table.
    ['index.docker.io/foo', 'docker.io', 'library/foo'],
    ['localhost/foo', 'localhost', 'foo'],
    ['localhost', 'docker.io', 'library/localhost'],
    ['[::1]:5000/foo', '[::1]:5000', 'foo'],
    ['[::1]/foo/bar/baz', '[::1]', 'foo/bar/baz'],
  ];
  for (const [input, domain, path] of cases) {
    it(`puts ${input} on ${domain} as ${path}`, () => {
      const r = parseNormalizedNamed(input);
      assert.equal(r.domain, domain);
      assert.equal(r.path, path);
    });
  }
  it('splitDockerDomain keeps the tag in the remainder', () => {
    assert.deepEqual(splitDockerDomain('busybox:1.36'), { domain: 'docker.io', remainder: 'library/busybox:1.36' });
    assert.deepEqual(splitDockerDomain('myreg:5000/a/b:tag'), { domain: 'myreg:5000', remainder: 'a/b:tag' });
  });
});

describe('parseDockerRef makes a reference tagged or digested (TestParseDockerRef)', () => {
  const d = 'sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582';
  const cases: [string, string][] = [
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:latest', 'docker.io/library/busybox:latest'],
    [`busybox@${d}`, `docker.io/library/busybox@${d}`],
    ['library/busybox', 'docker.io/library/busybox:latest'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['docker.io/library/busybox', 'docker.io/library/busybox:latest'],
    ['docker.io/busybox:latest', 'docker.io/library/busybox:latest'],
    ['library/busybox:latest', 'docker.io/library/busybox:latest'],
    ['docker.io/library/busybox:latest', 'docker.io/library/busybox:latest'],
    ['gcr.io/library/busybox', 'gcr.io/library/busybox:latest'],
    [`gcr.io/library/busybox:latest@${d}`, `gcr.io/library/busybox@${d}`],
  ];
  for (const [input, expected] of cases) {
    it(`turns ${input.slice(0, 50)} into ${expected.slice(0, 50)}`, () => {
      const out = referenceString(parseDockerRef(input));
      assert.equal(out, expected);
      parseReference(out);
    });
  }
});

describe("Docker's error messages", () => {
  it('names the offending repository when it has capitals', () => {
    throwsReason(
      () => parseNormalizedNamed('Busybox'),
      'name-contains-uppercase',
      'invalid reference format: repository name (library/Busybox) must be lowercase',
    );
    throwsReason(
      () => parseNormalizedNamed('myreg:5000/Foo/bar:Tag'),
      'name-contains-uppercase',
      'invalid reference format: repository name (Foo/bar) must be lowercase',
    );
  });
  it('refuses a 64-hex repository name', () => {
    throwsReason(
      () => parseNormalizedNamed(ID),
      'name-is-identifier',
      `invalid repository name (${ID}), cannot specify 64-byte hexadecimal strings`,
    );
  });
  it('says "invalid reference format" for junk', () => {
    throwsReason(() => parseNormalizedNamed('a b'), 'reference-invalid-format', 'invalid reference format');
    throwsReason(() => parseNormalizedNamed('busybox:'), 'reference-invalid-format', 'invalid reference format');
  });
  it('says the name is too long past 255 characters of path', () => {
    parseNormalizedNamed(`example.com/${'a'.repeat(255)}`);
    throwsReason(
      () => parseNormalizedNamed(`example.com/${'a'.repeat(256)}`),
      'name-too-long',
      'repository name must not be more than 255 characters',
    );
    // "library/" counts towards the limit for familiar names.
    throwsReason(() => parseNormalizedNamed('a'.repeat(250)), 'name-too-long');
  });
});

describe('joinTagOrDigest (POST /images/create?fromImage&tag)', () => {
  const cases: [string, string, string][] = [
    ['busybox', 'latest', 'docker.io/library/busybox:latest'],
    ['busybox', '', 'docker.io/library/busybox'],
    ['busybox:', '', 'docker.io/library/busybox'],
    ['busybox:1.35', '1.36', 'docker.io/library/busybox:1.36'],
    ['busybox', `sha256:${HEX}`, `docker.io/library/busybox@sha256:${HEX}`],
    ['busybox:1.36', `sha256:${HEX}`, `docker.io/library/busybox@sha256:${HEX}`],
    [`busybox@sha256:${HEX}`, 'v1', `docker.io/library/busybox:v1@sha256:${HEX}`],
    ['[::1]:5000/foo', 'dev', '[::1]:5000/foo:dev'],
  ];
  for (const [name, tag, expected] of cases) {
    it(`joins ${name.slice(0, 30)} and ${JSON.stringify(tag.slice(0, 20))} into ${expected.slice(0, 50)}`, () => {
      assert.equal(referenceString(joinTagOrDigest(name, tag)), expected);
    });
  }
  it('rejects a bad tag and a bad name', () => {
    throwsReason(() => joinTagOrDigest('busybox', 'bad tag'), 'tag-invalid-format', 'invalid tag format');
    // Looks like a digest but is not valid: treated as a tag, which ':' makes invalid.
    throwsReason(() => joinTagOrDigest('busybox', 'sha256:abc'), 'tag-invalid-format');
    throwsReason(() => joinTagOrDigest('Busybox', 'latest'), 'name-contains-uppercase');
  });
});

describe('repoTagReference (import, commit, tag, push)', () => {
  it('defaults the tag to latest and replaces one in repo', () => {
    assert.equal(referenceString(repoTagReference('foo', '') ?? { digest: 'none' }), 'docker.io/library/foo:latest');
    assert.equal(referenceString(repoTagReference('foo:a', '') ?? { digest: 'none' }), 'docker.io/library/foo:a');
    assert.equal(referenceString(repoTagReference('foo:a', 'b') ?? { digest: 'none' }), 'docker.io/library/foo:b');
  });
  it('returns undefined for an empty repo', () => {
    assert.equal(repoTagReference('', 'x'), undefined);
  });
  it('refuses a digest', () => {
    throwsReason(() => repoTagReference(`foo@sha256:${HEX}`, ''), 'digest-not-allowed', 'cannot import digest reference');
  });
});
