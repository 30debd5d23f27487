// util/directIo: O_DIRECT writes of whole aligned buffers with a padded, truncated tail, and
// the aligned buffers they need (decisions B90).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIRECT_ALIGN, DIRECT_CHUNK, DirectFileWriter, alignedBuffer, openForDirectRead } from './directIo.js';
import { nativeEngine } from './nativeEngine.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-directio-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const haveAddon = nativeEngine()?.alignmentOffset !== undefined;
/** ext4 (this project's usual data-root) takes O_DIRECT; elsewhere the fallback is as good. */
const onExt4 = (): boolean => execFileSync('stat', ['-f', '-c', '%T', dir], { encoding: 'utf8' }).trim() === 'ext2/ext3';

describe('alignedBuffer', { skip: haveAddon ? false : 'native/engine is not built' }, () => {
  it('hands out aligned views of the size asked, and refuses sizes that are no multiple of the alignment', () => {
    for (let i = 0; i < 20; i++) {
      const b = alignedBuffer(DIRECT_ALIGN * (1 + i));
      assert.ok(b !== null);
      assert.equal(b.length, DIRECT_ALIGN * (1 + i));
      assert.equal(nativeEngine()?.alignmentOffset?.(b, DIRECT_ALIGN), 0);
    }
    assert.equal(alignedBuffer(DIRECT_ALIGN + 1), null);
    assert.throws(() => nativeEngine()?.alignmentOffset?.(Buffer.alloc(1), 3), /power of two/);
  });
});

describe('DirectFileWriter', { skip: haveAddon ? false : 'native/engine is not built' }, () => {
  const sizes = [0, 1, DIRECT_ALIGN - 1, DIRECT_ALIGN, DIRECT_ALIGN + 1, DIRECT_CHUNK, DIRECT_CHUNK + 1, 3 * DIRECT_CHUNK + 12_345];

  it('writes exactly the bytes given, whatever the sizes of the pieces and the total', async () => {
    for (const size of sizes) {
      const data = randomBytes(size);
      const path = join(dir, `f${size}`);
      const w = await DirectFileWriter.create(path, 0o644);
      assert.ok(w !== null);
      if (onExt4()) assert.equal(w.direct, true);
      // Pieces of odd sizes, like a socket's, some larger than a buffer.
      for (let off = 0, i = 0; off < size; i++) {
        const n = Math.min(size - off, [1, 777, 65_536, DIRECT_CHUNK + 3, 4096][i % 5] as number);
        await w.write(data.subarray(off, off + n));
        off += n;
      }
      await w.finish();
      const got = readFileSync(path);
      assert.equal(got.length, size, `size ${size}`);
      assert.ok(got.equals(data), `content of ${size}`);
    }
  });

  it('refuses a path that exists, and discard closes without finishing', async () => {
    const path = join(dir, 'exists');
    writeFileSync(path, 'x');
    await assert.rejects(DirectFileWriter.create(path, 0o644), /EEXIST/);
    const p2 = join(dir, 'discarded');
    const w = await DirectFileWriter.create(p2, 0o644);
    assert.ok(w !== null);
    await w.write(randomBytes(DIRECT_CHUNK + 10));
    await w.discard();
    await w.discard();
    assert.ok(existsSync(p2));
    await assert.rejects(w.finish(), /after close/);
  });

  it('reads back through openForDirectRead in aligned pieces, the last one short', async () => {
    const data = randomBytes(2 * DIRECT_CHUNK + 100);
    const path = join(dir, 'readback');
    const w = await DirectFileWriter.create(path, 0o644);
    assert.ok(w !== null);
    await w.write(data);
    await w.finish();
    const { fd, direct } = openForDirectRead(path);
    if (onExt4()) assert.equal(direct, true);
    const buf = (direct && alignedBuffer(DIRECT_CHUNK)) || Buffer.alloc(DIRECT_CHUNK);
    const parts: Buffer[] = [];
    try {
      for (;;) {
        const n = readSync(fd, buf, 0, DIRECT_CHUNK, null);
        parts.push(Buffer.from(buf.subarray(0, n)));
        if (n < DIRECT_CHUNK) break;
      }
    } finally {
      closeSync(fd);
    }
    assert.deepEqual(parts.map((p) => p.length), [DIRECT_CHUNK, DIRECT_CHUNK, 100]);
    assert.ok(Buffer.concat(parts).equals(data));
  });
});
