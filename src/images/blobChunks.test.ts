// blobChunks: the reused-buffer, synchronous read and inflate of a stored blob, checked against
// zlib and GNU tar; and util/tar/reader fed by a producer that reuses its buffers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { isInvalidArgument } from '../errdefs/errors.js';
import { readTar } from '../util/tar/reader.js';
import { fileSource, openBlobChunks } from './blobChunks.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-blobchunks-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Every chunk copied at once: what a consumer that uses each chunk before the next pull sees. */
function collect(path: string, zlib = false): { bytes: Buffer; read: number; compression: string } {
  const count = { read: 0 };
  const b = openBlobChunks(fileSource(path), count, { zlib });
  assert.ok('chunks' in b);
  const parts: Buffer[] = [];
  for (const c of b.chunks) parts.push(Buffer.from(c));
  return { bytes: Buffer.concat(parts), read: count.read, compression: b.compression };
}

for (const zlib of [false, true]) describe(`openBlobChunks (gzip through ${zlib ? 'zlib' : 'ISA-L where built'})`, () => {
  // Text and random bytes: several output buffers, several input reads, odd lengths.
  const plain = Buffer.concat([Buffer.from('abc '.repeat(700_000)), randomBytes(2_500_003)]);

  it('inflates gzip to the same bytes as zlib, counting the compressed bytes read', () => {
    const gz = gzipSync(plain);
    const p = join(dir, 'a.gz');
    writeFileSync(p, gz);
    const got = collect(p, zlib);
    assert.equal(got.compression, 'gzip');
    assert.equal(got.bytes.length, plain.length);
    assert.ok(got.bytes.equals(plain));
    assert.equal(got.read, gz.length);
  });

  it('passes a plain blob through unchanged, an empty one as no chunk', () => {
    const p = join(dir, 'a.tar');
    writeFileSync(p, plain);
    const got = collect(p, zlib);
    assert.equal(got.compression, 'none');
    assert.ok(got.bytes.equals(plain));
    writeFileSync(p, Buffer.alloc(0));
    assert.equal(collect(p, zlib).bytes.length, 0);
  });

  it('reads concatenated gzip members as one stream (as gzip -dc)', () => {
    const p = join(dir, 'multi.gz');
    writeFileSync(p, Buffer.concat([gzipSync(Buffer.from('first ')), gzipSync(Buffer.from('second'))]));
    assert.equal(collect(p, zlib).bytes.toString(), 'first second');
  });

  it('refuses truncated and corrupt gzip with an invalid-argument error', () => {
    const gz = gzipSync(plain);
    const p = join(dir, 'bad.gz');
    writeFileSync(p, gz.subarray(0, gz.length - 1000));
    assert.throws(() => collect(p, zlib), (e: unknown) => isInvalidArgument(e) && /unexpected end of file/.test(String(e)));
    const corrupt = Buffer.from(gz);
    corrupt.fill(0xff, 100, 200);
    writeFileSync(p, corrupt);
    assert.throws(() => collect(p, zlib), (e: unknown) => isInvalidArgument(e) && /invalid gzip data/.test(String(e)));
  });

  it('reads blobs whose size is a whole number of reads (the end is the empty read after them)', () => {
    const exact = randomBytes(2 * 1024 * 1024);
    const p = join(dir, 'exact.tar');
    writeFileSync(p, exact);
    assert.ok(collect(p, zlib).bytes.equals(exact));
    // A gzip blob of exactly 2 MiB: stored (level 0) blocks grow by one byte per input byte.
    let n = 2 * 1024 * 1024 - 400;
    let gz = gzipSync(exact.subarray(0, n), { level: 0 });
    while (gz.length < 2 * 1024 * 1024) gz = gzipSync(exact.subarray(0, ++n), { level: 0 });
    if (gz.length === 2 * 1024 * 1024) {
      const pg = join(dir, 'exact.gz');
      writeFileSync(pg, gz);
      const got = collect(pg, zlib);
      assert.equal(got.read, gz.length);
      assert.ok(got.bytes.equals(exact.subarray(0, n)));
    }
  });

  it('ends at zero padding after a member, and refuses other bytes there', () => {
    const p = join(dir, 'padded.gz');
    writeFileSync(p, Buffer.concat([gzipSync(plain), Buffer.alloc(3000)]));
    assert.ok(collect(p, zlib).bytes.equals(plain));
    writeFileSync(p, Buffer.concat([gzipSync(Buffer.from('data')), Buffer.from('garbage')]));
    assert.throws(() => collect(p, zlib), (e: unknown) => isInvalidArgument(e) && /invalid gzip data/.test(String(e)));
  });

  it('leaves zstd, xz and bzip2 to the stream path (null)', () => {
    const p = join(dir, 'a.zst');
    writeFileSync(p, Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]));
    const src = fileSource(p);
    const opened = openBlobChunks(src, { read: 0 });
    src.close();
    assert.ok(!('chunks' in opened));
    assert.deepEqual([...opened.head], [0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]);
  });
});

describe('readTar over reused buffers', () => {
  it('reads what GNU tar wrote, long names and pax xattrs included, while the producer overwrites old chunks', async () => {
    const src = join(dir, 'tree');
    mkdirSync(join(src, 'd'), { recursive: true });
    const long = `${'n'.repeat(150)}/${'m'.repeat(120)}`;
    mkdirSync(join(src, 'd', 'n'.repeat(150)), { recursive: true });
    const files: Record<string, Buffer> = { 'd/small': Buffer.from('hi\n'), [`d/${long}`]: randomBytes(300_001), 'd/big': randomBytes(1_200_000) };
    for (const [name, data] of Object.entries(files)) writeFileSync(join(src, name), data);
    try {
      execFileSync('setfattr', ['-n', 'user.k', '-v', 'v'.repeat(40), join(src, 'd', 'small')]);
    } catch {
      // a filesystem without user xattrs: the rest of the test still holds
    }
    const tarPath = join(dir, 'tree.tar');
    execFileSync('tar', ['--format=pax', '--xattrs', '-cf', tarPath, '-C', src, 'd']);
    const tar = readFileSync(tarPath);
    // 1000-byte chunks from two buffers in turn; a chunk is scribbled over two pulls later.
    async function* reusing(): AsyncGenerator<Buffer> {
      const bufs = [Buffer.alloc(1000), Buffer.alloc(1000)];
      for (let off = 0, i = 0; off < tar.length; off += 1000, i ^= 1) {
        const b = bufs[i] as Buffer;
        b.fill(0xee);
        const n = tar.copy(b, 0, off, off + 1000);
        yield b.subarray(0, n);
      }
    }
    const seen = new Map<string, string>();
    let xattr: Buffer | undefined;
    for await (const { header, body } of readTar(reusing())) {
      const h = createHash('sha256');
      for await (const c of body) h.update(c);
      seen.set(header.name, h.digest('hex'));
      xattr ??= header.xattrs.get('user.k');
    }
    for (const [name, data] of Object.entries(files)) {
      assert.equal(seen.get(name), createHash('sha256').update(data).digest('hex'), name);
    }
    if (xattr !== undefined) assert.equal(xattr.toString(), 'v'.repeat(40));
  });
});
