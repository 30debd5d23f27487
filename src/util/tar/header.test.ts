// The block and pax record codec on its own.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodePaxRecord, formatPaxTime, parsePaxRecords, parsePaxTime, splitUstarPath } from './header.js';

describe('pax records', () => {
  it('count their own length correctly across digit boundaries, for any value bytes', () => {
    for (let n = 0; n < 1100; n++) {
      const value = Buffer.alloc(n, 0x0a); // newlines inside values are fine: the length frames them
      const rec = encodePaxRecord('k', value);
      assert.equal(Number(rec.toString('latin1').split(' ')[0]), rec.length, `value length ${n}`);
      const m = new Map<string, Buffer>();
      parsePaxRecords(rec, m);
      assert.deepEqual(m.get('k'), value);
    }
  });

  it('parse and format times with nanoseconds, negative ones included', () => {
    assert.equal(parsePaxTime('1700000000.123456789'), 1_700_000_000_123_456_789n);
    assert.equal(parsePaxTime('1.5'), 1_500_000_000n);
    assert.equal(parsePaxTime('-1.5'), -1_500_000_000n);
    assert.equal(parsePaxTime('12.1234567891234'), 12_123_456_789n);
    assert.equal(formatPaxTime(1_700_000_000_120_000_000n), '1700000000.12');
    assert.equal(formatPaxTime(-1_500_000_000n), '-1.5');
    assert.throws(() => parsePaxTime('1e9'));
  });

  it('reject a record whose length does not match', () => {
    assert.throws(() => parsePaxRecords(Buffer.from('30 path=x\n'), new Map()), /length/);
    assert.throws(() => parsePaxRecords(Buffer.from('8 pathx\n'), new Map()), /=/);
  });
});

describe('splitUstarPath', () => {
  it('splits at a slash so that the name fits 100 bytes and the prefix 155', () => {
    const p = Buffer.from(`${'a'.repeat(150)}/${'b'.repeat(99)}`);
    const s = splitUstarPath(p);
    assert.equal(s?.prefix.length, 150);
    assert.equal(s?.name.length, 99);
    assert.equal(splitUstarPath(Buffer.from('c'.repeat(101))), null);
    assert.equal(splitUstarPath(Buffer.from(`${'a'.repeat(156)}/b`)), null);
  });
});
