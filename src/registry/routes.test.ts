import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RegistryError } from './errors.js';
import { matchRoute } from './routes.js';

describe('matchRoute', () => {
  it('matches every endpoint, repository names with slashes included', () => {
    assert.deepEqual(matchRoute('/v2/'), { kind: 'base' });
    assert.deepEqual(matchRoute('/v2'), { kind: 'base' });
    assert.deepEqual(matchRoute('/v2/_catalog'), { kind: 'catalog' });
    assert.deepEqual(matchRoute('/token'), { kind: 'token' });
    assert.deepEqual(matchRoute('/v2/a/b/c/manifests/latest'), { kind: 'manifest', name: 'a/b/c', ref: 'latest' });
    assert.deepEqual(matchRoute('/v2/a/blobs/sha256%3Aab'), { kind: 'blob', name: 'a', digest: 'sha256:ab' });
    assert.deepEqual(matchRoute('/v2/a/blobs/uploads/'), { kind: 'uploads', name: 'a' });
    assert.deepEqual(matchRoute('/v2/a/blobs/uploads'), { kind: 'uploads', name: 'a' });
    assert.deepEqual(matchRoute('/v2/a/blobs/uploads/u-1'), { kind: 'upload', name: 'a', id: 'u-1' });
    assert.deepEqual(matchRoute('/v2/a/tags/list'), { kind: 'tags', name: 'a' });
    assert.deepEqual(matchRoute('/v2/a/referrers/sha256:x'), { kind: 'referrers', name: 'a', digest: 'sha256:x' });
  });

  it('matches from the end, so names may contain "blobs" or "manifests" components', () => {
    assert.deepEqual(matchRoute('/v2/x/blobs/y/blobs/sha256:1'), { kind: 'blob', name: 'x/blobs/y', digest: 'sha256:1' });
    assert.deepEqual(matchRoute('/v2/x/manifests/y/manifests/v1'), { kind: 'manifest', name: 'x/manifests/y', ref: 'v1' });
    assert.deepEqual(matchRoute('/v2/x/blobs/uploads/blobs/uploads/'), { kind: 'uploads', name: 'x/blobs/uploads' });
  });

  it('unknown paths are undefined; bad names throw NAME_INVALID', () => {
    assert.equal(matchRoute('/v1/x'), undefined);
    assert.equal(matchRoute('/v2/x/unknown'), undefined);
    assert.throws(() => matchRoute('/v2/UP/tags/list'), (e: unknown) => e instanceof RegistryError && e.code === 'NAME_INVALID');
    assert.throws(() => matchRoute('/v2/a//b/tags/list'), (e: unknown) => e instanceof RegistryError && e.code === 'NAME_INVALID');
  });
});
