// decompressStream against the real compressors (gzip, zstd, xz, bzip2) as the oracle.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { isInvalidArgument } from '../../errdefs/errors.js';
import { decompressStream, detectCompression } from './decompress.js';

const has = (tool: string): boolean => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0;
const compress = (tool: string, data: Buffer): Buffer => execFileSync(tool, ['-c'], { input: data, maxBuffer: 1 << 28 });

async function collect(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** Feeds a buffer in small chunks, as a socket would. */
const chunks = (b: Buffer, n = 3): Readable =>
  Readable.from(Array.from({ length: Math.ceil(b.length / n) }, (_, i) => b.subarray(i * n, i * n + n)));

/** PIDs of our own direct children (to see that a decoder process does not outlive its stream). */
function childPids(): number[] {
  const me = String(process.pid);
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]?.split(' ')[1] === me;
    } catch {
      return false;
    }
  }).map(Number);
}

// 3 MB, compressible but not trivially: big enough for several chunks and a real child pipe.
const DATA = Buffer.from(Array.from({ length: 3 << 20 }, (_, i) => (i * i + (i >> 9)) & 0xff));

describe('decompressStream', () => {
  it('passes a plain stream through untouched, including one shorter than the sniffed bytes', async () => {
    for (const data of [DATA, Buffer.from('ab'), Buffer.alloc(0)]) {
      const { stream, compression } = await decompressStream(chunks(data, 65536));
      assert.equal(compression, 'none');
      assert.deepEqual(await collect(stream), data);
    }
  });

  it('decodes gzip (also multi-member, as pigz writes) from a stream whose first chunks are tiny', async () => {
    const gz = Buffer.concat([gzipSync(DATA.subarray(0, 1000)), gzipSync(DATA.subarray(1000))]);
    // The magic bytes arrive split over several chunks.
    const { stream, compression } = await decompressStream(Readable.from([gz.subarray(0, 1), gz.subarray(1, 3), gz.subarray(3)]));
    assert.equal(compression, 'gzip');
    assert.deepEqual(await collect(stream), DATA);
  });

  for (const tool of ['zstd', 'xz', 'bzip2'] as const) {
    it(`decodes ${tool} through the system tool`, { skip: !has(tool) && `${tool} not installed` }, async () => {
      const packed = compress(tool, DATA);
      assert.equal(detectCompression(packed), tool);
      const { stream, compression } = await decompressStream(chunks(packed, 4096));
      assert.equal(compression, tool);
      assert.deepEqual(await collect(stream), DATA);
    });
  }

  it('reports truncated or corrupt gzip as an invalid argument', async () => {
    const gz = gzipSync(DATA);
    const { stream } = await decompressStream(Readable.from([gz.subarray(0, gz.length - 100)]));
    await assert.rejects(collect(stream), (e: Error) => isInvalidArgument(e) && /gzip/.test(e.message));
    const bad = Buffer.from(gz);
    bad.fill(0x55, 100, 200);
    const r2 = await decompressStream(Readable.from([bad]));
    await assert.rejects(collect(r2.stream), (e: Error) => isInvalidArgument(e));
  });

  it('reports corrupt zstd as an invalid argument naming the tool', { skip: !has('zstd') && 'zstd not installed' }, async () => {
    const z = compress('zstd', DATA);
    const { stream } = await decompressStream(Readable.from([z.subarray(0, z.length >> 1)]));
    await assert.rejects(collect(stream), (e: Error) => isInvalidArgument(e) && /zstd/.test(e.message));
  });

  it('stops the decoder process when the consumer destroys the stream', { skip: !has('zstd') && 'zstd not installed' }, async () => {
    const before = new Set(childPids());
    const z = compress('zstd', Buffer.concat([DATA, DATA, DATA, DATA]));
    // A source that never ends keeps zstd waiting for input unless we kill it.
    const src = new Readable({ read() {} });
    src.push(z.subarray(0, 1 << 16));
    const { stream } = await decompressStream(src);
    const spawned = childPids().filter((p) => !before.has(p));
    assert.equal(spawned.length, 1);
    stream.destroy();
    for (let i = 0; i < 100 && childPids().some((p) => spawned.includes(p)); i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(childPids().filter((p) => spawned.includes(p)), []);
    assert.equal(src.destroyed, true);
  });

  it('stops on abort', async () => {
    const ac = new AbortController();
    const src = new Readable({ read() {} });
    src.push(gzipSync(DATA).subarray(0, 1000));
    const { stream } = await decompressStream(src, { signal: ac.signal });
    const p = collect(stream);
    ac.abort();
    await assert.rejects(p, (e: Error) => e.name === 'AbortError');
    assert.equal(src.destroyed, true);
  });
});
