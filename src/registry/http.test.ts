import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseContentRange, parseRange } from './http.js';

describe('parseRange (blob GET)', () => {
  it('reads a-b, a- and -n against the size, clamping the end', () => {
    assert.deepEqual(parseRange('bytes=0-9', 100), { start: 0, end: 9 });
    assert.deepEqual(parseRange('bytes=90-', 100), { start: 90, end: 99 });
    assert.deepEqual(parseRange('bytes=90-500', 100), { start: 90, end: 99 });
    assert.deepEqual(parseRange('bytes=-10', 100), { start: 90, end: 99 });
    assert.deepEqual(parseRange('bytes=-1000', 100), { start: 0, end: 99 });
  });
  it('is unsatisfiable past the end or reversed; ignores what it does not handle', () => {
    assert.equal(parseRange('bytes=100-', 100), 'unsatisfiable');
    assert.equal(parseRange('bytes=5-4', 100), 'unsatisfiable');
    assert.equal(parseRange('bytes=-0', 100), 'unsatisfiable');
    assert.equal(parseRange('bytes=0-1,5-6', 100), undefined);
    assert.equal(parseRange('items=0-1', 100), undefined);
    assert.equal(parseRange(undefined, 100), undefined);
  });
});

describe('parseContentRange (upload chunk)', () => {
  it('reads start-end with or without a bytes prefix', () => {
    assert.deepEqual(parseContentRange('0-99'), { start: 0, end: 99 });
    assert.deepEqual(parseContentRange('bytes=100-199'), { start: 100, end: 199 });
    assert.deepEqual(parseContentRange('bytes 100-199/*'), { start: 100, end: 199 });
    assert.equal(parseContentRange(undefined), undefined);
  });
  it('rejects garbage and reversed ranges', () => {
    assert.equal(parseContentRange('abc'), 'invalid');
    assert.equal(parseContentRange('9-3'), 'invalid');
    assert.equal(parseContentRange('-3'), 'invalid');
  });
});
