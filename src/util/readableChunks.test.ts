import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PassThrough, Readable } from 'node:stream';
import { readableChunks } from './readableChunks.js';

describe('readableChunks', () => {
  it('yields every chunk as written, without joining them, and ends with the stream', async () => {
    const p = new PassThrough();
    const parts = Array.from({ length: 100 }, (_, i) => Buffer.alloc(1000, i));
    for (const b of parts) p.write(b);
    p.end();
    const got: Buffer[] = [];
    for await (const c of readableChunks(p, 4)) got.push(c);
    assert.equal(got.length, 100);
    assert.ok(got.every((c, i) => c.equals(parts[i] as Buffer)));
  });

  it('throws the stream error, and a close before the end', async () => {
    const bad = new Readable({ read() {} });
    bad.push(Buffer.from('a'));
    setImmediate(() => bad.destroy(new Error('boom')));
    await assert.rejects(async () => {
      for await (const _ of readableChunks(bad)) void _;
    }, /boom/);
    const cut = new Readable({ read() {} });
    setImmediate(() => cut.destroy());
    await assert.rejects(async () => {
      for await (const _ of readableChunks(cut)) void _;
    }, /premature close/);
  });

  it('destroys the stream when the loop is left early', async () => {
    const p = new PassThrough();
    p.write(Buffer.from('x'));
    p.write(Buffer.from('y'));
    for await (const _ of readableChunks(p)) break;
    assert.equal(p.destroyed, true);
  });
});
