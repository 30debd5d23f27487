import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getTimestamp, parseGoDuration } from './timestamp.js';

describe('parseGoDuration', () => {
  it('reads Go durations in nanoseconds', () => {
    assert.equal(parseGoDuration('42m'), 42 * 60e9);
    assert.equal(parseGoDuration('1h30m'), 5400e9);
    assert.equal(parseGoDuration('1.5s'), 1.5e9);
    assert.equal(parseGoDuration('-2ms'), -2e6);
    assert.equal(parseGoDuration('0'), 0);
  });

  it('rejects what Go rejects', () => {
    assert.throws(() => parseGoDuration('42'), /missing unit/);
    assert.throws(() => parseGoDuration('1d'), /unknown unit "d"/);
    assert.throws(() => parseGoDuration(''), /invalid duration/);
  });
});

describe('getTimestamp', () => {
  const now = new Date(Date.UTC(2024, 0, 2, 12, 0, 0));

  it('counts a duration back from now, in whole seconds', () => {
    assert.equal(getTimestamp('42m', now), String(now.getTime() / 1000 - 42 * 60));
  });

  it('turns RFC 3339 times with a zone into seconds.nanoseconds', () => {
    assert.equal(getTimestamp('2013-01-02T13:23:37Z', now), '1357133017.000000000');
    assert.equal(getTimestamp('2013-01-02T13:23:37.5+01:00', now), '1357129417.500000000');
  });

  it('passes a Unix timestamp through and refuses garbage', () => {
    assert.equal(getTimestamp('1357133017.1', now), '1357133017.1');
    assert.throws(() => getTimestamp('yesterday', now), /failed to parse value as time or duration: "yesterday"/);
  });
});
