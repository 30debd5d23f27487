/**
 * images/blobChunks: the plain bytes of a stored layer blob (a plain tar or gzip), read and
 * inflated synchronously on the calling thread (an unpack thread) into a few buffers that are
 * reused from chunk to chunk. It only reads the blob; it never writes anything.
 *
 * Why: fresh buffers per chunk cost more in page faults (kernel time zeroing and mapping new
 * pages, ~0.3 s per 200 MB here) than the copy itself, and Node's zlib stream sends every
 * 256 KiB through libuv's pool and back, a thread hand-off each that the daemon's downloads
 * queue behind. gzip goes through ISA-L (native/isal, B91) where it is built, else through
 * Node's zlib: Node 20 has no public streaming inflate into a caller's buffer, so this drives
 * the zlib handle's own synchronous write (what zlib.gunzipSync uses) behind a feature check.
 * `openBlobChunks` hands back the first bytes instead when neither can do it or the blob is
 * another compression, and the caller takes the stream path.
 *
 * Contract: a yielded chunk stays valid until the next-but-one pull (two output buffers in
 * turn); util/tar/reader copies whatever it keeps longer.
 */
import { closeSync, readSync } from 'node:fs';
import { InvalidArgumentError } from '../errdefs/errors.js';
import { DIRECT_CHUNK, giveBackBuffer, openForDirectRead, takeBuffer } from '../util/directIo.js';
import { isal, ISAL_ERRORS, type Isal } from '../util/isal.js';
import { detectCompression } from '../util/tar/decompress.js';

/**
 * Bytes per read: few, large reads, as large as a download's O_DIRECT writes (so a read
 * behind a download waits for one write). With O_DIRECT (B90: layer blobs are written
 * around the page cache, and reading one back through it would fill the cache with it after
 * all) every read is a whole aligned buffer at an aligned offset; the last one comes back short.
 */
export const READ_CHUNK = DIRECT_CHUNK;
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
  // node:zlib is loaded on first use (B100): where ISA-L is built it is never needed here.
  const z = process.getBuiltinModule('node:zlib').createGunzip() as unknown as ZlibInternals;
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
  /**
   * Gives the chunks' buffers back for reuse (util/directIo's pool): call once nothing uses a
   * chunk any more (after the consumer is done, not when the generator ends). Idempotent.
   */
  release(): void;
}

/** Where a blob's bytes are read from, front to back: its file, or one still downloading (images/growingBlob). */
export interface BlobSource {
  /**
   * Fills `buf` (DIRECT_ALIGN-aligned, from util/directIo takeBuffer, for O_DIRECT), or less
   * only at the end of the blob; 0 after it.
   */
  read(buf: Buffer): number;
  /** Idempotent. */
  close(): void;
}

/** A stored blob's file, read with O_DIRECT where the file system allows it (B90); `tryDirect` false: through the page cache. */
export function fileSource(path: string, tryDirect = true): BlobSource {
  let { fd, direct } = openForDirectRead(path, tryDirect);
  let pos = 0;
  return {
    read(buf: Buffer): number {
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, pos);
      } catch (e) {
        // Opened with O_DIRECT but not readable that way: read through the page cache.
        if (!direct || pos !== 0 || (e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
        closeSync(fd);
        ({ fd, direct } = openForDirectRead(path, false));
        n = readSync(fd, buf, 0, buf.length, pos);
      }
      pos += n;
      return n;
    },
    close(): void {
      // Once only: a second close could hit a descriptor number reused since.
      if (fd >= 0) closeSync(fd);
      fd = -1;
    },
  };
}

/**
 * The blob's plain bytes as reused-buffer chunks, or `{ head }` when it must take the stream
 * path (zstd, xz, bzip2, or no synchronous inflater). `count.read` follows the compressed
 * bytes read. The chunks own `source` (closing it when done); with `head` the caller still
 * owns it, and `head` holds the first read's bytes, to be used before reading on.
 * `zlib` forces Node's zlib for gzip (tests compare the two inflaters).
 */
export function openBlobChunks(source: BlobSource, count: { read: number }, opts: { zlib?: boolean } = {}): BlobChunks | { head: Buffer } {
  const input = takeBuffer(READ_CHUNK);
  const first = source.read(input);
  const compression = detectCompression(input.subarray(0, first));
  const withBuffers = (chunks: (b: [Buffer, Buffer]) => Generator<Buffer, void, undefined>, size: number, kind: 'none' | 'gzip'): BlobChunks => {
    const owned: Buffer[] = [input, takeBuffer(size), takeBuffer(size)];
    const release = (): void => {
      for (const b of owned.splice(0)) giveBackBuffer(b);
    };
    return { chunks: chunks([owned[1] as Buffer, owned[2] as Buffer]), compression: kind, release };
  };
  if (compression === 'none') return withBuffers(([second]) => plainChunks(source, input, second, first, count), READ_CHUNK, 'none');
  if (compression !== 'gzip') return { head: input.subarray(0, first) };
  const lib = opts.zlib === true ? null : isal();
  if (lib !== null) return withBuffers((outs) => isalChunks(source, input, first, outs, count, lib), OUT_CHUNK, 'gzip');
  const z = syncGunzip();
  if (z === null) return { head: input.subarray(0, first) };
  return withBuffers((outs) => inflateChunks(source, input, first, outs, count, z), OUT_CHUNK, 'gzip');
}

/** A plain tar: the reads themselves, into two buffers in turn. */
function* plainChunks(source: BlobSource, first: Buffer, second: Buffer, firstLen: number, count: { read: number }): Generator<Buffer, void, undefined> {
  try {
    let cur: Buffer = first;
    let next: Buffer = second;
    let n = firstLen;
    while (n > 0) {
      count.read += n;
      yield cur.subarray(0, n);
      // A short read is the end (another read from there would be unaligned for O_DIRECT).
      if (n < READ_CHUNK) break;
      [cur, next] = [next, cur];
      n = source.read(cur);
    }
  } finally {
    source.close();
  }
}

/**
 * gzip through ISA-L (B91), into the same two output buffers in turn. Members follow one
 * another until the input ends or the byte after a member is zero (padding), as Node's
 * gunzip reads them; anything else after a member must be another member.
 */
function* isalChunks(
  source: BlobSource,
  input: Buffer,
  firstLen: number,
  outs: [Buffer, Buffer],
  count: { read: number },
  lib: Isal,
): Generator<Buffer, void, undefined> {
  const h = lib.createInflater();
  const res = new Int32Array(3);
  let [out, spare] = outs;
  let outOff = 0;
  let inLen = firstLen;
  let inOff = 0;
  // A short read is the end (another read from there would be unaligned for O_DIRECT).
  let eof = firstLen < READ_CHUNK;
  let memberEnded = false;
  count.read += firstLen;
  try {
    for (;;) {
      if (inOff === inLen) {
        if (eof) break;
        inLen = source.read(input);
        inOff = 0;
        if (inLen < READ_CHUNK) eof = true;
        count.read += inLen;
        if (inLen === 0) break;
      }
      if (memberEnded) {
        if (input[inOff] === 0) break;
        lib.reset(h);
        memberEnded = false;
      }
      const code = lib.inflate(h, input.subarray(inOff, inLen), out.subarray(outOff), res);
      if (code < 0) throw new InvalidArgumentError(`invalid gzip data: ${ISAL_ERRORS[code] ?? `ISA-L error ${code}`}`);
      const used = res[0] as number;
      const made = res[1] as number;
      inOff += used;
      outOff += made;
      if (res[2] === 1) memberEnded = true;
      else if (used === 0 && made === 0) throw new InvalidArgumentError('invalid gzip data: the decoder made no progress');
      if (outOff === OUT_CHUNK) {
        yield out;
        [out, spare] = [spare, out];
        outOff = 0;
      }
    }
    if (!memberEnded) throw new InvalidArgumentError('invalid gzip data: unexpected end of file');
    if (outOff > 0) yield out.subarray(0, outOff);
  } finally {
    source.close();
  }
}

/** gzip through Node's own zlib binding, synchronously (where ISA-L is not built). */
function* inflateChunks(
  source: BlobSource,
  input: Buffer,
  firstLen: number,
  outs: [Buffer, Buffer],
  count: { read: number },
  z: { handle: ZlibHandle; state: Uint32Array; error: () => Error | null },
): Generator<Buffer, void, undefined> {
  const zc = process.getBuiltinModule('node:zlib').constants;
  let [out, spare] = outs;
  let outOff = 0;
  let inLen = firstLen;
  let inOff = 0;
  // A short read is the end (another read from there would be unaligned for O_DIRECT).
  let eof = firstLen < READ_CHUNK;
  count.read += firstLen;
  try {
    for (;;) {
      if (inOff === inLen && !eof) {
        inLen = source.read(input);
        inOff = 0;
        if (inLen < READ_CHUNK) eof = true;
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
    source.close();
  }
}
