import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { onReadableEnd } from './readableEnd.js';

describe('onReadableEnd', () => {
  it('calls back for a stream that ends later, once', async () => {
    const s = new PassThrough();
    let n = 0;
    onReadableEnd(s, () => n++);
    s.resume();
    s.end();
    await new Promise((r) => setImmediate(r));
    assert.equal(n, 1);
  });

  it('calls back for a stream that had already ended before anyone listened', async () => {
    const s = new PassThrough();
    s.end();
    s.read(0);
    await new Promise((r) => setImmediate(r));
    assert.equal(s.readableEnded, true);
    let n = 0;
    onReadableEnd(s, () => n++);
    await new Promise((r) => setImmediate(r));
    assert.equal(n, 1);
  });
});
