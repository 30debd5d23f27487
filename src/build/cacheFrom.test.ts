// moby's cache-from matching: the source must start with the parent's history and layers, its next
// entry must carry the same created_by, metadata steps take only empty-layer entries, the layer index
// counts only entries that added layers, and another platform never matches.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ImageRecord } from '../images/imageStore.js';
import type { HistoryEntry } from '../oci/image.js';
import type { Digest } from '../util/digest.js';
import { CacheFromSources, isValidParent } from './cacheFrom.js';

const d = (n: number): Digest => `sha256:${String(n).padStart(64, '0')}` as Digest;
function img(id: number, history: HistoryEntry[], diffIds: number[], arch = 'amd64'): ImageRecord {
  return {
    id: d(1000 + id),
    manifestDigest: d(2000 + id),
    created: '',
    size: 0,
    lastTagTime: null,
    tags: [],
    repoDigests: [],
    parent: '',
    config: { os: 'linux', architecture: arch, rootfs: { type: 'layers', diff_ids: diffIds.map(d) }, history },
  };
}
const base = img(1, [{ created: 't0', created_by: 'ADD rootfs' }], [1]);
const built = img(2, [{ created: 't0', created_by: 'ADD rootfs' }, { created: 't1', created_by: '/bin/sh -c #(nop) WORKDIR /app', empty_layer: true }, { created: 't2', created_by: '/bin/sh -c make' }, { created: 't3', created_by: '/bin/sh -c #(nop)  CMD ["x"]', empty_layer: true }], [1, 2]);
const amd64 = { os: 'linux', architecture: 'amd64' };

describe('cache-from matching', () => {
  it('takes the entry after the parent when created_by matches', () => {
    const m = new CacheFromSources([built]);
    const w = m.match(base, '/bin/sh -c #(nop) WORKDIR /app', amd64, true);
    assert.equal(w?.layerIndex, null, 'an empty_layer entry adds no layer');
    assert.equal(w?.entry.created, 't1');
    assert.equal(m.match(base, '/bin/sh -c make', amd64, true), null, 'not the next entry');
    assert.equal(m.match(base, '/bin/sh -c #(nop) WORKDIR /other', amd64, true), null);
  });

  it('counts only layer-adding entries for the layer index, and refuses a metadata step a layer entry', () => {
    const parent = img(3, (built.config.history ?? []).slice(0, 2), [1]);
    const m = new CacheFromSources([built]);
    assert.equal(m.match(parent, '/bin/sh -c make', amd64, true)?.layerIndex, 1);
    assert.equal(m.match(parent, '/bin/sh -c make', amd64, false), null);
  });

  it('needs the parent\'s history and layers as a prefix', () => {
    assert.equal(isValidParent(built, base), true);
    assert.equal(isValidParent(built, null), true);
    assert.equal(isValidParent(built, img(4, [{ created: 'other', created_by: 'ADD rootfs' }], [1])), false, 'history differs');
    assert.equal(isValidParent(built, img(5, [{ created: 't0', created_by: 'ADD rootfs' }], [9])), false, 'layers differ');
    assert.equal(isValidParent(built, built), false, 'not built on itself');
    assert.equal(isValidParent(img(6, [], []), null), false, 'no history, nothing to match');
  });

  it('never matches another platform', () => {
    const arm = img(7, built.config.history ?? [], [1, 2], 'arm64');
    assert.equal(new CacheFromSources([arm]).match(base, '/bin/sh -c #(nop) WORKDIR /app', amd64, false), null);
  });
});
