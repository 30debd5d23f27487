import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PassThrough, Readable } from 'node:stream';
import { STDERR, STDOUT, SYSTEMERR, StdcopyDemuxer, StdcopyError, demuxStream, encodeFrame } from './stdcopy.js';

function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

describe('StdcopyDemuxer', () => {
  it('reassembles frames split at every possible byte boundary', () => {
    const wire = Buffer.concat([encodeFrame(STDOUT, 'hello '), encodeFrame(STDERR, 'oops'), encodeFrame(STDOUT, 'world')]);
    for (let size = 1; size <= wire.length; size++) {
      const got: Array<[number, string]> = [];
      const d = new StdcopyDemuxer((s, p) => got.push([s, p.toString()]));
      for (let i = 0; i < wire.length; i += size) d.push(wire.subarray(i, i + size));
      assert.deepEqual(got, [
        [STDOUT, 'hello '],
        [STDERR, 'oops'],
        [STDOUT, 'world'],
      ], `chunk size ${size}`);
      assert.equal(d.buffered, 0);
    }
  });

  it('delivers an empty frame and waits for a partial payload', () => {
    const got: string[] = [];
    const d = new StdcopyDemuxer((_s, p) => got.push(p.toString()));
    d.push(encodeFrame(STDOUT, ''));
    const f = encodeFrame(STDOUT, 'abcdef');
    d.push(f.subarray(0, 10));
    assert.deepEqual(got, ['']);
    assert.equal(d.buffered, 10);
    d.push(f.subarray(10));
    assert.deepEqual(got, ['', 'abcdef']);
  });

  it('rejects an unknown stream byte', () => {
    const d = new StdcopyDemuxer(() => undefined);
    const bad = encodeFrame(STDOUT, 'x');
    bad[0] = 7;
    assert.throws(() => d.push(bad), (e: unknown) => e instanceof StdcopyError && /Unrecognized input header: 7/.test(e.message));
  });
});

describe('demuxStream', () => {
  it('copies stdout and stderr frames to their writers', async () => {
    const out = collect();
    const err = collect();
    const src = Readable.from([Buffer.concat([encodeFrame(STDOUT, 'a'), encodeFrame(STDERR, 'b')]).subarray(0, 5), Buffer.concat([encodeFrame(STDOUT, 'a'), encodeFrame(STDERR, 'b')]).subarray(5)]);
    await demuxStream(src, out.stream, err.stream);
    assert.equal(out.text(), 'a');
    assert.equal(err.text(), 'b');
  });

  it('ends with the daemon error carried in a systemerr frame', async () => {
    const out = collect();
    const src = Readable.from([encodeFrame(STDOUT, 'partial'), encodeFrame(SYSTEMERR, 'container gone')]);
    await assert.rejects(demuxStream(src, out.stream, undefined), /error from daemon in stream: container gone/);
    assert.equal(out.text(), 'partial');
  });
});
