import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compareVersions, splitVersion } from './version.js';

describe('API version prefix', () => {
  it('strips /vX.Y and defaults to the newest version', () => {
    assert.deepEqual(splitVersion('/v1.44/containers/json'), { version: '1.44', path: '/containers/json' });
    assert.deepEqual(splitVersion('/containers/json'), { version: '1.51', path: '/containers/json' });
  });
  it('refuses versions outside the supported range with Docker wording', () => {
    assert.throws(() => splitVersion('/v1.12/info'), /client version 1.12 is too old/);
    assert.throws(() => splitVersion('/v1.52/info'), /client version 1.52 is too new/);
  });
  it('compares numerically, not as strings', () => {
    assert.equal(compareVersions('1.9', '1.10'), -1);
    assert.equal(compareVersions('1.51', '1.51'), 0);
  });
});
