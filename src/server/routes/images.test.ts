import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NotFoundError } from '../../errdefs/errors.js';
import { createdWindow } from './images.js';

describe('createdWindow (GET /images/json before, since, until)', () => {
  const created: Record<string, number> = { a: 1000, b: 2000, c: 3000 };
  const createdOf = (ref: string): number => {
    const t = created[ref];
    if (t === undefined) throw new NotFoundError(`No such image: ${ref}`);
    return t;
  };
  const win = (f: Record<string, string[]>) => createdWindow(new Map(Object.entries(f)), createdOf, 10_000_000);

  it('no filters: no bounds', () => assert.deepEqual(win({}), { after: null, before: null }));
  it('before takes the earliest image, since the latest', () => {
    assert.deepEqual(win({ before: ['c', 'b'], since: ['a', 'b'] }), { after: 2000, before: 2000 });
  });
  it('until joins before; the earlier bound wins', () => {
    assert.deepEqual(win({ before: ['c'], until: ['1970-01-01T00:00:02Z'] }), { after: null, before: 2000 });
    assert.deepEqual(win({ until: ['1h'] }), { after: null, before: 10_000_000 - 3_600_000 });
  });
  it('an unknown image is NotFound; a bad time is refused', () => {
    assert.throws(() => win({ before: ['zzz'] }), NotFoundError);
    assert.throws(() => win({ until: ['not a time'] }), /failed to parse value as time or duration/);
  });
});
