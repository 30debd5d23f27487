// images/uploadBody: a stored blob read for an upload, through two reused buffers (decisions B96).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DIRECT_CHUNK } from '../util/directIo.js';
import { isal } from '../util/isal.js';
import { isalGzipBody, storedBlobBody } from './uploadBody.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-upload-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Copies each chunk before asking for the next, as a socket writer that waits for 'drain' is done with it. */
async function collect(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of body) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

describe('storedBlobBody', () => {
  for (const [what, size] of [
    ['several chunks and a short tail', 3 * DIRECT_CHUNK + 4097],
    ['a whole number of chunks', 2 * DIRECT_CHUNK],
    ['less than a block', 100],
    ['nothing', 0],
  ] as const) {
    it(`yields the file byte for byte: ${what}`, async () => {
      const data = randomBytes(size);
      const path = join(dir, `blob-${size}`);
      writeFileSync(path, data);
      const seen: number[] = [];
      const got = await collect(storedBlobBody(path, size, (n) => seen.push(n)));
      assert.ok(got.equals(data));
      assert.equal(seen.at(-1) ?? 0, size);
    });
  }

  it('fails when the file is not the size the blob should have', async () => {
    const path = join(dir, 'short');
    writeFileSync(path, randomBytes(DIRECT_CHUNK + 10));
    await assert.rejects(collect(storedBlobBody(path, DIRECT_CHUNK + 11)), /holds 1048586 bytes, not 1048587/);
  });

  it('stops reading when the consumer stops early', async () => {
    const path = join(dir, 'early');
    writeFileSync(path, randomBytes(4 * DIRECT_CHUNK));
    const body = storedBlobBody(path, 4 * DIRECT_CHUNK);
    const first = await body.next();
    assert.equal(first.done, false);
    // return() waits for the read in flight, then frees the buffers and closes the file.
    assert.deepEqual(await body.return(undefined), { done: true, value: undefined });
    assert.deepEqual(await body.next(), { done: true, value: undefined });
  });
});

describe('isalGzipBody', { skip: isal() === null ? 'the ISA-L addon is not built' : false }, () => {
  for (const [what, make] of [
    ['incompressible bytes over several output buffers', () => randomBytes(3 * DIRECT_CHUNK + 123)],
    ['text that compresses well', () => Buffer.from('layer text '.repeat(400_000))],
    ['nothing', () => Buffer.alloc(0)],
  ] as const) {
    it(`makes a gzip stream that gunzips to the input: ${what}`, async () => {
      const data = make();
      const path = join(dir, `gz-${data.length}`);
      writeFileSync(path, data);
      const lib = isal();
      assert.ok(lib);
      const seen: Buffer[] = [];
      const out = await collect(isalGzipBody(lib, storedBlobBody(path, data.length), (c) => seen.push(Buffer.from(c))));
      assert.ok(Buffer.concat(seen).equals(out));
      assert.ok(gunzipSync(out).equals(data));
    });
  }
});
