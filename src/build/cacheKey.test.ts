// The build cache key: the same step on the same parent with the same content hits on any checkout;
// content, modes, owners, parent, platform, expanded step and used values each change it; mtimes and
// ordering do not.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cacheKey, fingerprint, type FileFingerprint } from './cacheKey.js';

const base = { parent: 'sha256:aaa', platform: 'linux/amd64', step: 'COPY ["a"] /a' };
const file = (over: Partial<FileFingerprint> = {}): FileFingerprint => ({ path: 'a', type: 'file', mode: 0o644, uid: 0, gid: 0, content: 'c0ffee', ...over });

describe('cacheKey', () => {
  it('is stable for the same inputs and shaped like a digest', () => {
    const k = cacheKey({ ...base, sources: [fingerprint([file()])] });
    assert.equal(k, cacheKey({ ...base, sources: [fingerprint([file()])] }));
    assert.match(k, /^sha256:[0-9a-f]{64}$/);
  });

  it('changes with the parent image, the platform, the step text and extra state', () => {
    const k = cacheKey(base);
    assert.notEqual(k, cacheKey({ ...base, parent: 'sha256:bbb' }));
    assert.notEqual(k, cacheKey({ ...base, platform: 'linux/arm64' }));
    assert.notEqual(k, cacheKey({ ...base, step: 'COPY ["a"] /b' }));
    assert.notEqual(k, cacheKey({ ...base, extra: { cmdSet: true } }));
    assert.equal(cacheKey({ ...base, extra: { cmdSet: false } }), cacheKey({ ...base, extra: { cmdSet: false } }));
  });

  it('changes with the values of the variables the step used, not their order', () => {
    const a = cacheKey({ ...base, vars: new Map([['A', '1'], ['B', '2']]) });
    assert.equal(a, cacheKey({ ...base, vars: { B: '2', A: '1' } }));
    assert.notEqual(a, cacheKey({ ...base, vars: { A: '1', B: '3' } }));
    assert.notEqual(a, cacheKey({ ...base, vars: { A: '1' } }));
  });

  it('follows content, mode and owner of copied files but never mtimes (a fingerprint has none)', () => {
    const k = (f: FileFingerprint[]): string => cacheKey({ ...base, sources: [fingerprint(f)] });
    const ref = k([file(), file({ path: 'dir', type: 'dir', content: '' })]);
    assert.equal(ref, k([file({ path: 'dir', type: 'dir', content: '' }), file()]), 'order of files does not matter');
    assert.notEqual(ref, k([file({ content: 'beef' }), file({ path: 'dir', type: 'dir', content: '' })]));
    assert.notEqual(ref, k([file({ mode: 0o755 }), file({ path: 'dir', type: 'dir', content: '' })]));
    assert.notEqual(ref, k([file({ uid: 1000 }), file({ path: 'dir', type: 'dir', content: '' })]));
    assert.notEqual(ref, k([file({ gid: 5 }), file({ path: 'dir', type: 'dir', content: '' })]));
    assert.notEqual(ref, k([file({ path: 'b' }), file({ path: 'dir', type: 'dir', content: '' })]));
    assert.notEqual(ref, k([file(), file({ path: 'dir', type: 'symlink', content: 'x' })]));
    assert.notEqual(ref, k([file()]), 'a file more or less changes it');
  });

  it('keeps the order of sources (they land in that order)', () => {
    const a = fingerprint([file()]);
    const b = fingerprint([file({ path: 'b' })]);
    assert.notEqual(cacheKey({ ...base, sources: [a, b] }), cacheKey({ ...base, sources: [b, a] }));
  });

  it('ignores permission bits beyond 07777 (file type bits from stat)', () => {
    assert.equal(fingerprint([file({ mode: 0o100644 })]), fingerprint([file({ mode: 0o644 })]));
  });
});
