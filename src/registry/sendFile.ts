/**
 * registry/sendFile: streams a byte range of an open file to an HTTP response
 * through a small pool of reused buffers: one is being written to the socket
 * while the next chunks are read into the others.
 *
 * Why not `createReadStream().pipe(res)`: a read stream allocates a fresh
 * buffer for every chunk. For a 200 MB layer that is hundreds of fresh
 * mappings the kernel must fault in and zero (measured: ~10x the CPU of
 * reading into a reused buffer), and garbage that V8 only collects after
 * ~32 MB of it piles up, which is what made the registry's RSS double during
 * pulls. Node has no sendfile(2); reading into the same few buffers is the
 * closest it gets.
 *
 * A buffer goes back to the pool only once the socket is done with it (the
 * write callback) and no read into it is pending. Never closes the file or
 * ends the response: the caller owns both.
 */
import type { FileHandle } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { BLOB_READ_CHUNK, SEND_BUFFERS_KEPT, SEND_READ_AHEAD } from './limits.js';

/** Free buffers of one size, kept for reuse up to a bound. */
class BufferPool {
  private readonly free: Buffer[] = [];

  constructor(
    readonly size: number,
    private readonly keep: number,
  ) {}

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }

  give(b: Buffer): void {
    if (this.free.length < this.keep) this.free.push(b);
  }
}

const pool = new BufferPool(BLOB_READ_CHUNK, SEND_BUFFERS_KEPT);

/** The client hung up before the last byte was handed to the socket. */
export class ClientGone extends Error {}

/** Resolves once `res`'s socket has taken `chunk` (so its buffer may be reused). */
function writeChunk(res: ServerResponse, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    if (res.destroyed) {
      reject(new ClientGone('client went away'));
      return;
    }
    // A write on a destroyed connection never calls back: 'close' covers that case.
    const onClose = (): void => reject(new ClientGone('client went away'));
    res.once('close', onClose);
    res.write(chunk, (err) => {
      res.off('close', onClose);
      if (err === null || err === undefined) resolve();
      else reject(new ClientGone(err.message));
    });
  });
}

/** Fills `len` bytes of `buf` from `pos` (a short read only at the end of the file, which is an error here). */
async function readExact(fh: FileHandle, buf: Buffer, pos: number, len: number): Promise<number> {
  let got = 0;
  while (got < len) {
    const { bytesRead } = await fh.read(buf, got, len - got, pos + got);
    if (bytesRead === 0) throw new Error(`file ended at byte ${pos + got}, ${len - got} bytes short`);
    got += bytesRead;
  }
  return got;
}

/**
 * Writes bytes [start, end] (inclusive) of `fh` to `res` (headers already set).
 * The next chunks are read (SEND_READ_AHEAD buffers in all) while one is
 * written, so waiting for a thread-pool read overlaps with the socket write.
 * Rejects with ClientGone when the client disconnects, or with the read error.
 */
export async function sendFile(res: ServerResponse, fh: FileHandle, start: number, end: number): Promise<void> {
  const stop = end + 1;
  if (stop <= start) return;
  const reads: { buf: Buffer; done: Promise<number> }[] = [];
  const free: Buffer[] = [];
  let next = start;
  const readAhead = (): void => {
    while (reads.length < SEND_READ_AHEAD && next < stop) {
      const buf = free.pop() ?? pool.take();
      const len = Math.min(buf.length, stop - next);
      const done = readExact(fh, buf, next, len);
      // Handled when its turn comes (or when giving up); never an unhandled rejection meanwhile.
      done.catch(() => undefined);
      reads.push({ buf, done });
      next += len;
    }
  };
  try {
    readAhead();
    while (reads.length > 0) {
      const head = reads[0] as { buf: Buffer; done: Promise<number> };
      const n = await head.done;
      await writeChunk(res, n === head.buf.length ? head.buf : head.buf.subarray(0, n));
      reads.shift();
      free.push(head.buf);
      readAhead();
    }
  } finally {
    // Reads still filling buffers must land before anyone else gets those buffers.
    for (const r of reads) {
      await r.done.catch(() => undefined);
      free.push(r.buf);
    }
    for (const b of free) pool.give(b);
  }
}
