import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytesSize, formatGoG, humanDuration, humanSince, humanSizeWithPrecision, ramInBytes } from './units.js';

describe('humanDuration', () => {
  it('follows go-units boundaries', () => {
    const s = 1000;
    const cases: Array<[number, string]> = [
      [0, 'Less than a second'],
      [999, 'Less than a second'],
      [1 * s, '1 second'],
      [59 * s, '59 seconds'],
      [60 * s, 'About a minute'],
      [119 * s, 'About a minute'],
      [120 * s, '2 minutes'],
      [59 * 60 * s, '59 minutes'],
      [60 * 60 * s, 'About an hour'],
      [89 * 60 * s, 'About an hour'],
      [90 * 60 * s, '2 hours'],
      [47 * 3600 * s, '47 hours'],
      [48 * 3600 * s, '2 days'],
      [14 * 24 * 3600 * s, '2 weeks'],
      [60 * 24 * 3600 * s, '2 months'],
      [730 * 24 * 3600 * s, '2 years'],
    ];
    for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, `${ms}ms`);
  });

  it('adds "ago" for a Unix timestamp', () => {
    assert.equal(humanSince(1000, 1000 * 1000 + 65_000), 'About a minute ago');
  });
});

describe('sizes', () => {
  it('formats like Go %g with 3 significant digits', () => {
    assert.equal(humanSizeWithPrecision(0, 3), '0B');
    assert.equal(humanSizeWithPrecision(999, 3), '999B');
    assert.equal(humanSizeWithPrecision(1234, 3), '1.23kB');
    assert.equal(humanSizeWithPrecision(2_129_920, 3), '2.13MB');
    assert.equal(humanSizeWithPrecision(100_000_000, 3), '100MB');
    assert.equal(humanSizeWithPrecision(999_999, 3), '1e+03kB');
  });

  it('formats binary sizes with 4 significant digits', () => {
    assert.equal(bytesSize(25_270_000_000), '23.53GiB');
    assert.equal(bytesSize(1024), '1KiB');
  });

  it('matches strconv.FormatFloat(g) on edge cases', () => {
    assert.equal(formatGoG(1.5, 3), '1.5');
    assert.equal(formatGoG(0.0001234, 3), '0.000123');
    assert.equal(formatGoG(0.00001234, 3), '1.23e-05');
    assert.equal(formatGoG(123456, 3), '1.23e+05');
  });
});

describe('ramInBytes', () => {
  it('reads docker memory units', () => {
    assert.equal(ramInBytes('512m'), 512 * 1024 * 1024);
    assert.equal(ramInBytes('1g'), 1024 ** 3);
    assert.equal(ramInBytes('1.5G'), 1.5 * 1024 ** 3);
    assert.equal(ramInBytes('100KiB'), 102400);
    assert.equal(ramInBytes('64'), 64);
    assert.equal(ramInBytes('64b'), 64);
    assert.equal(ramInBytes('10 MB'), 10 * 1024 * 1024);
  });

  it('rejects what go-units rejects, with its wording', () => {
    assert.throws(() => ramInBytes('abc'), /invalid size: 'abc'/);
    assert.throws(() => ramInBytes('12q'), /invalid suffix: 'q'/);
    assert.throws(() => ramInBytes('1mx'), /invalid suffix: 'mx'/);
    assert.throws(() => ramInBytes('-1'), /invalid size/);
  });
});
