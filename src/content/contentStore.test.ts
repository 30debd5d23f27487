import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
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
});
