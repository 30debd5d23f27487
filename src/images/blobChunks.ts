/**
 * images/blobChunks: the plain bytes of a stored layer blob (a plain tar or gzip), read and
 * inflated synchronously on the calling thread (an unpack thread) into a few buffers that are
 * reused from chunk to chunk. It only reads the blob; it never writes anything.
 *
 * Why: fresh buffers per chunk cost more in page faults (kernel time zeroing and mapping new
 * pages, ~0.3 s per 200 MB here) than the copy itself, and Node's zlib stream sends every
 * 256 KiB through libuv's pool and back, a thread hand-off each that the daemon's downloads
 * queue behind. Node 20 has no public streaming inflate into a caller's buffer, so this drives
 * the zlib handle's own synchronous write (what zlib.gunzipSync uses) behind a feature check;
 * `openBlobChunks` returns null when that is not there or the blob is another compression, and
 * the caller takes the stream path.
 *
 * Contract: a yielded chunk stays valid until the next-but-one pull (two output buffers in
 * turn); util/tar/reader copies whatever it keeps longer.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { constants as zc, createGunzip } from 'node:zlib';
import { InvalidArgumentError } from '../errdefs/errors.js';
import { detectCompression } from '../util/tar/decompress.js';

/** Compressed bytes per read: few, large reads (the page cache has the blob: it was just written). */
const READ_CHUNK = 1024 * 1024;
/** Plain bytes per yielded chunk: large enough that per-chunk costs downstream stay small. */
const OUT_CHUNK = 256 * 1024;

/** The part of Node's zlib binding used here (lib/zlib.js processChunkSync). */
interface ZlibHandle {
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
  onerror: (message: string, errno: number, code: string) => void;
  close(): void;
}

interface ZlibInternals {
  _handle?: ZlibHandle | null;
  _writeState?: Uint32Array;
}

/** A gunzip handle usable synchronously with our own buffers, or null on a Node without it. */
function syncGunzip(): { handle: ZlibHandle; state: Uint32Array; error: () => Error | null } | null {
  const z = createGunzip() as unknown as ZlibInternals;
  const handle = z._handle;
  const state = z._writeState;
  if (!handle || typeof handle.writeSync !== 'function' || typeof handle.close !== 'function' || !(state instanceof Uint32Array) || state.length < 2) {
    return null;
  }
  let err: Error | null = null;
  // Called synchronously from inside writeSync on corrupt or truncated data; replacing it also
  // keeps the unused stream object from emitting anything.
  handle.onerror = (message, _errno, code) => {
    err = new InvalidArgumentError(`invalid gzip data: ${message} (${code})`);
  };
  return { handle, state, error: () => err };
}

export interface BlobChunks {
  chunks: Generator<Buffer, void, undefined>;
  compression: 'none' | 'gzip';
}

/**
 * The blob's plain bytes as reused-buffer chunks, or null when it must take the stream path
 * (zstd, xz, bzip2, or no synchronous zlib). `count.read` follows the compressed bytes read.
 */
export function openBlobChunks(path: string, count: { read: number }): BlobChunks | null {
  const fd = openSync(path, 'r');
  let handedOff = false;
  try {
    const input = Buffer.allocUnsafe(READ_CHUNK);
    const first = readSync(fd, input, 0, READ_CHUNK, null);
    const compression = detectCompression(input.subarray(0, first));
    if (compression === 'none') {
      handedOff = true;
      return { chunks: plainChunks(fd, input, first, count), compression };
    }
    if (compression !== 'gzip') return null;
    const z = syncGunzip();
    if (z === null) return null;
    handedOff = true;
    return { chunks: inflateChunks(fd, input, first, count, z), compression };
  } finally {
    if (!handedOff) closeSync(fd);
  }
}

/** A plain tar: the reads themselves, into two buffers in turn. */
function* plainChunks(fd: number, first: Buffer, firstLen: number, count: { read: number }): Generator<Buffer, void, undefined> {
  try {
    let cur: Buffer = first;
    let next: Buffer = Buffer.allocUnsafe(READ_CHUNK);
    let n = firstLen;
    while (n > 0) {
      count.read += n;
      yield cur.subarray(0, n);
      [cur, next] = [next, cur];
      n = readSync(fd, cur, 0, READ_CHUNK, null);
    }
  } finally {
    closeSync(fd);
  }
}

function* inflateChunks(
  fd: number,
  input: Buffer,
  firstLen: number,
  count: { read: number },
  z: { handle: ZlibHandle; state: Uint32Array; error: () => Error | null },
): Generator<Buffer, void, undefined> {
  let out = Buffer.allocUnsafe(OUT_CHUNK);
  let spare = Buffer.allocUnsafe(OUT_CHUNK);
  let outOff = 0;
  let inLen = firstLen;
  let inOff = 0;
  let eof = firstLen === 0;
  count.read += firstLen;
  try {
    for (;;) {
      if (inOff === inLen && !eof) {
        inLen = readSync(fd, input, 0, READ_CHUNK, null);
        inOff = 0;
        if (inLen === 0) eof = true;
        count.read += inLen;
      }
      const availIn = inLen - inOff;
      const availOut = OUT_CHUNK - outOff;
      z.handle.writeSync(eof ? zc.Z_FINISH : zc.Z_NO_FLUSH, input, inOff, availIn, out, outOff, availOut);
      const e = z.error();
      if (e !== null) throw e;
      const outLeft = z.state[0] as number;
      const inLeft = z.state[1] as number;
      inOff += availIn - inLeft;
      outOff += availOut - outLeft;
      if (outOff === OUT_CHUNK) {
        yield out;
        [out, spare] = [spare, out];
        outOff = 0;
        continue;
      }
      // Output space left and input left over: the gzip stream has ended (zlib stopped
      // taking input), as Node's Gunzip stream ends its output there too.
      const ended = inLeft > 0 || (eof && outLeft > 0);
      if (ended) break;
    }
    if (outOff > 0) yield out.subarray(0, outOff);
  } finally {
    z.handle.close();
    closeSync(fd);
  }
}
