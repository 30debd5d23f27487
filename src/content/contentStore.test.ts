import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContentStore } from './contentStore.js';
import { sha256Of } from '../util/digest.js';

describe('ContentStore', () => {
  let dir: string;
  let store: ContentStore;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-cs-'));
    store = new ContentStore(dir);
    await store.init();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('stores a blob under its digest and reads it back', async () => {
    const data = Buffer.from('hello blob');
    const info = await store.put(data);
    assert.equal(info.digest, sha256Of(data));
    assert.equal(info.size, data.length);
    assert.deepEqual(await store.readAll(info.digest, 1024), data);
    assert.equal(await store.has(info.digest), true);
  });

  it('commit() rejects a digest mismatch and keeps nothing', async () => {
    const before = readdirSync(join(dir, 'blobs', 'sha256')).length;
    await assert.rejects(store.put(Buffer.from('abc'), { digest: sha256Of('abd') }), /expected digest/);
    assert.equal(readdirSync(join(dir, 'blobs', 'sha256')).length, before);
    assert.deepEqual(readdirSync(join(dir, 'ingest')), []);
  });

  it('rejects a blob shorter or longer than expected, keeping nothing', async () => {
    await assert.rejects(store.put(Buffer.from('abc'), { size: 4 }), /expected size 4, got 3/);
    await assert.rejects(store.put(Buffer.from('abcde'), { size: 4 }), /larger than expected size 4/);
    assert.deepEqual(readdirSync(join(dir, 'ingest')), []);
  });

  it('refuses to read a blob into memory over the caller limit', async () => {
    const info = await store.put(Buffer.alloc(2048, 1));
    await assert.rejects(store.readAll(info.digest, 1024), /over the 1024 limit/);
  });

  it('init() clears ingests a crash left behind', async () => {
    const w = await store.writer();
    await w.write(Buffer.from('partial'));
    await store.init();
    assert.deepEqual(readdirSync(join(dir, 'ingest')), []);
  });

  it('stores a layer-sized blob written in odd pieces byte for byte, and an aborted one leaves nothing', async () => {
    // Layer ingests go around the page cache where they can (decisions B90): whole aligned
    // writes, the tail padded and truncated away; the file must be exactly what was hashed.
    const data = randomBytes(3 * 1024 * 1024 + 4321);
    const w = await store.writer({ digest: sha256Of(data), size: data.length });
    for (let off = 0; off < data.length; off += 65_521) await w.write(data.subarray(off, off + 65_521));
    const info = await w.commit();
    assert.equal(info.digest, sha256Of(data));
    assert.ok(readFileSync(store.path(info.digest)).equals(data));
    const a = await store.writer({ size: data.length });
    await a.write(data.subarray(0, 2 * 1024 * 1024 + 1));
    await a.abort();
    assert.deepEqual(readdirSync(join(dir, 'ingest')), []);
  });
});
