// images/growingBlob: an unpack thread reading a layer behind its download (decisions B90).
// The writer runs in a worker thread here (the reader blocks the thread it runs on, as it
// blocks an unpack thread in berthd), through the real ContentStore ingest.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ContentStore } from '../content/contentStore.js';
import { sha256Of } from '../util/digest.js';
import { takeBuffer } from '../util/directIo.js';
import { READ_CHUNK } from './blobChunks.js';
import { DOWNLOAD_FAILED, GrowingBlob, GrowingBlobReader } from './growingBlob.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-growing-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Reads the whole blob the way unpackLayerFile does: whole buffers, the end a short read. */
function readAll(reader: GrowingBlobReader): Buffer {
  const parts: Buffer[] = [];
  const buf = takeBuffer(READ_CHUNK);
  try {
    for (;;) {
      const n = reader.read(buf);
      parts.push(Buffer.from(buf.subarray(0, n)));
      if (n < READ_CHUNK) break;
    }
  } finally {
    reader.close();
  }
  return Buffer.concat(parts);
}

/**
 * A worker that ingests `data` into the store at `root` in pieces with pauses, sharing a
 * GrowingBlob; it posts the ingest path first. `fail` makes it abort half-way.
 */
function startWriter(root: string, data: Buffer, fail: boolean): { worker: Worker; ingest: Promise<{ path: string; state: SharedArrayBuffer }>; done: Promise<void> } {
  const code = `
    const { parentPort, workerData } = await import('node:worker_threads');
    (await import('tsx/esm/api')).register();
    const { ContentStore } = await import(${JSON.stringify(new URL('../content/contentStore.ts', import.meta.url).href)});
    const { GrowingBlob } = await import(${JSON.stringify(new URL('./growingBlob.ts', import.meta.url).href)});
    const { root, data, digest, fail } = workerData;
    const store = new ContentStore(root);
    const blob = new GrowingBlob();
    const w = await store.writer({ digest, size: data.length }, { onWritten: (n) => blob.advance(n) });
    parentPort.postMessage({ path: w.ingestPath, state: blob.state });
    const bytes = Buffer.from(data);
    for (let off = 0; off < bytes.length; off += 300000) {
      if (fail && off > bytes.length / 2) { await w.abort(); blob.fail(); process.exit(0); }
      await w.write(bytes.subarray(off, off + 300000));
      await new Promise((r) => setTimeout(r, 5));
    }
    await w.commit();
    blob.complete(bytes.length);
  `;
  const worker = new Worker(code, { eval: true, workerData: { root, data, digest: sha256Of(data), fail } });
  const ingest = new Promise<{ path: string; state: SharedArrayBuffer }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const done = new Promise<void>((resolve, reject) => {
    worker.once('exit', () => resolve());
    worker.once('error', reject);
  });
  return { worker, ingest, done };
}

describe('GrowingBlobReader', () => {
  it('reads a blob behind its ingest, byte for byte, ending with the blob', async () => {
    const root = join(dir, 'a');
    const store = new ContentStore(root);
    await store.init();
    const data = randomBytes(3 * READ_CHUNK + 777);
    const w = startWriter(root, data, false);
    const { path, state } = await w.ingest;
    const got = readAll(new GrowingBlobReader({ state, ingestPath: path, blobPath: store.path(sha256Of(data)) }));
    await w.done;
    assert.equal(got.length, data.length);
    assert.ok(got.equals(data));
  });

  it('stops with an error when the download fails, whatever it has read', async () => {
    const root = join(dir, 'b');
    const store = new ContentStore(root);
    await store.init();
    const data = randomBytes(4 * READ_CHUNK);
    const w = startWriter(root, data, true);
    const { path, state } = await w.ingest;
    assert.throws(() => readAll(new GrowingBlobReader({ state, ingestPath: path, blobPath: store.path(sha256Of(data)) })), new RegExp(DOWNLOAD_FAILED));
    await w.done;
  });

  it('opens the installed blob when the ingest file is already gone, and fails fast on a failed one', () => {
    const data = randomBytes(READ_CHUNK + 5);
    const blobPath = join(dir, 'installed');
    writeFileSync(blobPath, data);
    const done = new GrowingBlob();
    done.complete(data.length);
    assert.ok(readAll(new GrowingBlobReader({ state: done.state, ingestPath: join(dir, 'gone'), blobPath })).equals(data));
    const failed = new GrowingBlob();
    failed.fail();
    failed.complete(1); // no effect once it has ended
    assert.equal(failed.failed, true);
    assert.throws(() => new GrowingBlobReader({ state: failed.state, ingestPath: join(dir, 'gone'), blobPath }).read(Buffer.alloc(10)), new RegExp(DOWNLOAD_FAILED));
  });
});
