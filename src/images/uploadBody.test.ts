// images/uploadBody: a stored blob read for an upload, through two reused buffers (decisions B96).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIRECT_CHUNK } from '../util/directIo.js';
import { storedBlobBody } from './uploadBody.js';

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
