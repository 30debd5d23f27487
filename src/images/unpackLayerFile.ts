/**
 * images/unpackLayerFile: unpack one stored layer blob (any compression) into
 * a directory, hashing the uncompressed bytes on the way (the diff ID). Runs
 * on an unpack thread (unpackPool.ts) or, where no worker can load, inline.
 * Gzip and plain blobs are read and inflated synchronously into reused buffers
 * (images/blobChunks); other compressions go through decompressStream.
 * It writes only under `dest`, and when it rejects, nothing it started is
 * still running (a decompressor process included).
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { Readable } from 'node:stream';
import { applyLayer } from '../archive/applyLayer.js';
import { decompressStream } from '../util/tar/decompress.js';
import { openBlobChunks } from './blobChunks.js';

export interface UnpackFileRequest {
  blobPath: string;
  dest: string;
}

export interface UnpackFileResult {
  /** sha256 of the uncompressed tar. */
  diffId: string;
  /** Uncompressed bytes. */
  bytes: number;
}

/** Blob read size: a layer is read in few, large reads (the page cache has it: it was just written). */
const READ_CHUNK = 1024 * 1024;
const PROGRESS_MS = 100;

/**
 * The blob's bytes, read with blocking reads: this runs on a thread of its own, and a read
 * from the page cache costs less than a trip through libuv's pool. It also keeps that pool
 * (4 threads, shared with the daemon's main thread) free for the inflate work and for the
 * downloads' writes, which would otherwise queue behind these reads.
 */
function* readFileChunks(path: string, count: { read: number }): Generator<Buffer> {
  const fd = openSync(path, 'r');
  try {
    for (;;) {
      const buf = Buffer.allocUnsafe(READ_CHUNK);
      const n = readSync(fd, buf, 0, READ_CHUNK, null);
      if (n === 0) return;
      count.read += n;
      yield n < READ_CHUNK ? buf.subarray(0, n) : buf;
    }
  } finally {
    closeSync(fd);
  }
}
/** Bound on waiting for a killed decompressor to be reaped. */
const REAP_WAIT_MS = 5000;

/** Passes chunks through, hashing each: cheaper per chunk than a Transform stream. */
async function* hashing(src: AsyncIterable<Buffer>, hash: Hash): AsyncGenerator<Buffer> {
  for await (const chunk of src) {
    hash.update(chunk);
    yield chunk;
  }
}

/** Passes reused-buffer chunks through, hashing each (blobChunks' fast path). */
async function* hashingSync(src: Iterable<Buffer>, hash: Hash): AsyncGenerator<Buffer> {
  for (const chunk of src) {
    hash.update(chunk);
    yield chunk;
  }
}

/** The fast path: plain or gzip blobs, inflated on this thread into reused buffers (blobChunks). */
async function unpackChunks(
  chunks: Generator<Buffer, void, undefined>,
  dest: string,
  count: { read: number },
  onRead: (n: number) => void,
  signal: AbortSignal | undefined,
): Promise<UnpackFileResult> {
  const ticker = setInterval(() => onRead(count.read), PROGRESS_MS);
  try {
    const hash = createHash('sha256');
    const report = await applyLayer(hashingSync(chunks, hash), dest, signal ? { whiteouts: 'overlay', signal } : { whiteouts: 'overlay' });
    onRead(count.read);
    return { diffId: `sha256:${hash.digest('hex')}`, bytes: report.bytes };
  } finally {
    clearInterval(ticker);
    // Closes the blob and frees the inflater, also when applyLayer stopped early.
    chunks.return();
  }
}

/** `onRead(n)` reports compressed bytes read so far, for progress (about every 100 ms). */
export async function unpackLayerFile(req: UnpackFileRequest, onRead: (n: number) => void, signal?: AbortSignal): Promise<UnpackFileResult> {
  signal?.throwIfAborted();
  const count = { read: 0 };
  const fast = openBlobChunks(req.blobPath, count);
  if (fast !== null) return unpackChunks(fast.chunks, req.dest, count, onRead, signal);
  const file = Readable.from(readFileChunks(req.blobPath, count), { objectMode: false });
  // Polled, not reported per chunk.
  const ticker = setInterval(() => onRead(count.read), PROGRESS_MS);
  let decoder: Awaited<ReturnType<typeof decompressStream>> | null = null;
  try {
    decoder = await decompressStream(file, signal ? { signal } : {});
    const hash = createHash('sha256');
    // The tar reader reads to the end of the input, padding after the end-of-archive
    // blocks included: the diff ID covers every byte.
    const report = await applyLayer(hashing(decoder.stream, hash), req.dest, signal ? { whiteouts: 'overlay', signal } : { whiteouts: 'overlay' });
    onRead(count.read);
    return { diffId: `sha256:${hash.digest('hex')}`, bytes: report.bytes };
  } catch (e) {
    file.destroy();
    decoder?.stream.destroy();
    throw e;
  } finally {
    clearInterval(ticker);
    // A helper process (zstd, xz, bzip2) is reaped before this thread may be ended.
    if (decoder) await Promise.race([decoder.done, new Promise((r) => setTimeout(r, REAP_WAIT_MS).unref())]);
  }
}
