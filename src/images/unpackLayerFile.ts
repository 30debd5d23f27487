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
import { Readable } from 'node:stream';
import { applyLayer } from '../archive/applyLayer.js';
import { decompressStream } from '../util/tar/decompress.js';
import { alignedBuffer } from '../util/directIo.js';
import { fileSource, openBlobChunks, READ_CHUNK, type BlobChunks, type BlobSource } from './blobChunks.js';
import { GrowingBlobReader, type GrowingBlobRef } from './growingBlob.js';

export interface UnpackFileRequest {
  blobPath: string;
  dest: string;
  /** The blob is still downloading: read it behind the download (B90). */
  growing?: GrowingBlobRef;
}

export interface UnpackFileResult {
  /** sha256 of the uncompressed tar. */
  diffId: string;
  /** Uncompressed bytes. */
  bytes: number;
}

const PROGRESS_MS = 100;

/**
 * The rest of a blob for the stream path (zstd, xz, bzip2): what openBlobChunks read first,
 * then fresh buffers (the stream keeps them). Blocking reads: this runs on a thread of its
 * own, and libuv's pool (shared with the daemon's main thread) stays free for the downloads.
 */
function* sourceChunks(source: BlobSource, head: Buffer, count: { read: number }): Generator<Buffer> {
  try {
    count.read += head.length;
    if (head.length > 0) yield head;
    if (head.length < READ_CHUNK) return;
    for (;;) {
      // Fresh: the stream keeps what it is given.
      const buf = alignedBuffer(READ_CHUNK) ?? Buffer.allocUnsafe(READ_CHUNK);
      const n = source.read(buf);
      if (n === 0) return;
      count.read += n;
      yield n < READ_CHUNK ? buf.subarray(0, n) : buf;
      if (n < READ_CHUNK) return;
    }
  } finally {
    source.close();
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
  source: BlobSource,
  { chunks, release }: BlobChunks,
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
    // Closes the blob and frees the inflater, also when applyLayer stopped early; a generator
    // that never started runs no finally, so the source is closed here too.
    chunks.return();
    source.close();
    release();
  }
}

/** `onRead(n)` reports compressed bytes read so far, for progress (about every 100 ms). */
export async function unpackLayerFile(req: UnpackFileRequest, onRead: (n: number) => void, signal?: AbortSignal): Promise<UnpackFileResult> {
  signal?.throwIfAborted();
  const count = { read: 0 };
  const source = req.growing ? new GrowingBlobReader(req.growing) : fileSource(req.blobPath);
  let opened: ReturnType<typeof openBlobChunks>;
  try {
    opened = openBlobChunks(source, count);
  } catch (e) {
    source.close();
    throw e;
  }
  if ('chunks' in opened) return unpackChunks(source, opened, req.dest, count, onRead, signal);
  const file = Readable.from(sourceChunks(source, opened.head, count), { objectMode: false });
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
    // The chunk generator closes the source when it runs; one that never started cannot.
    source.close();
    throw e;
  } finally {
    clearInterval(ticker);
    // A helper process (zstd, xz, bzip2) is reaped before this thread may be ended.
    if (decoder) await Promise.race([decoder.done, new Promise((r) => setTimeout(r, REAP_WAIT_MS).unref())]);
  }
}
