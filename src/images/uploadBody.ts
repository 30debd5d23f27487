/**
 * images/uploadBody: a stored blob as the body of a registry upload, read with O_DIRECT (where
 * the file system allows it) into two reused aligned buffers: the next chunk is read on libuv's
 * pool while the current one is sent. A layer blob is written around the page cache (B90), so
 * through a read stream its bytes would come from the disk into fresh page-cache pages, then
 * into a fresh 64 KiB buffer per chunk, every page of both a page fault (~18 µs on this
 * project's VMs): for a 148 MB image that was 0.4–0.8 s of CPU against ~0.03 s this way
 * (decisions B96).
 *
 * The buffers are reused, so a chunk must be done with before the next one is asked for. That is
 * how undici writes an iterable body (the one consumer here, RegistryClient.uploadBlob): each
 * chunk goes to a corked socket, and when write() returns false — always, for a chunk over the
 * socket's high-water mark (16 KiB; ours are 1 MiB) — it waits for 'drain', everything handed to
 * the kernel, before it pulls the next. Never give this to a consumer that queues chunks.
 */
import { closeSync, read } from 'node:fs';
import { DIRECT_CHUNK, giveBackBuffer, openForDirectRead, takeBuffer } from '../util/directIo.js';
import type { Isal } from '../util/isal.js';

function readAt(fd: number, buf: Buffer, pos: number): Promise<number> {
  return new Promise((resolve, reject) => read(fd, buf, 0, buf.length, pos, (e, n) => (e ? reject(e) : resolve(n))));
}

/**
 * The `size` bytes of the file at `path`, in chunks of up to DIRECT_CHUNK bytes (views of reused
 * buffers: see above); `onChunk` is told the bytes sent so far. Throws if the file is not `size`
 * bytes long. Ends the read and frees its buffers when the consumer stops early.
 */
export async function* storedBlobBody(path: string, size: number, onChunk?: (sent: number) => void): AsyncGenerator<Buffer, void, undefined> {
  let { fd, direct } = openForDirectRead(path);
  const bufs = [takeBuffer(DIRECT_CHUNK), takeBuffer(DIRECT_CHUNK)] as const;
  let pending: Promise<number> | null = null;
  try {
    const first = async (): Promise<number> => {
      try {
        return await readAt(fd, bufs[0], 0);
      } catch (e) {
        // Opened with O_DIRECT but not readable that way: read through the page cache.
        if (!direct || (e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
        closeSync(fd);
        fd = -1;
        ({ fd, direct } = openForDirectRead(path, false));
        return readAt(fd, bufs[0], 0);
      }
    };
    pending = first();
    let pos = 0;
    let i = 0;
    for (;;) {
      const n = await pending;
      pending = null;
      const cur = bufs[i] as Buffer;
      i ^= 1;
      // Resumed: the chunk yielded before is done with, so its buffer takes the read after this one.
      if (n === DIRECT_CHUNK) pending = readAt(fd, bufs[i] as Buffer, pos + n);
      pos += n;
      if (n > 0) {
        onChunk?.(pos);
        yield cur.subarray(0, n);
      }
      if (pending === null) break;
    }
    if (pos !== size) throw new Error(`blob file ${path} holds ${pos} bytes, not ${size}`);
  } finally {
    // A read may still be filling a buffer: let it land before the buffer goes back.
    if (pending !== null) await pending.catch(() => 0);
    giveBackBuffer(bufs[0]);
    giveBackBuffer(bufs[1]);
    if (fd >= 0) closeSync(fd);
  }
}

/**
 * gzip (ISA-L level 1, on libuv's pool) of `input`'s chunks, as chunks of one reused output
 * buffer, for the same kind of consumer as storedBlobBody (done with a chunk before it asks for
 * the next). Each input chunk is consumed whole before the next is asked for. `onOutput` sees
 * every output chunk (the caller hashes them: the blob's digest is known only at the end).
 */
export async function* isalGzipBody(lib: Isal, input: AsyncIterable<Buffer>, onOutput: (chunk: Buffer) => void): AsyncGenerator<Buffer, void, undefined> {
  const handle = lib.createDeflater();
  const out = takeBuffer(DIRECT_CHUNK);
  const res = new Int32Array(3);
  const step = (chunk: Buffer, last: boolean): Promise<void> =>
    new Promise((resolve, reject) =>
      // ISA-L's deflate codes (invalid flush, parameter, level...) are for callers that set them wrong: no names here.
      lib.deflate(handle, chunk, out, res, last, (code) => (code === 0 ? resolve() : reject(new Error(`gzip (ISA-L) failed with code ${code}`)))),
    );
  const empty = Buffer.alloc(0);
  // A generator is only ever stopped at a yield, and no call is in flight there: `out` is free in `finally`.
  try {
    for await (const chunk of input) {
      let off = 0;
      while (off < chunk.length) {
        await step(chunk.subarray(off), false);
        off += res[0] as number;
        const n = res[1] as number;
        if (n > 0) {
          const c = out.subarray(0, n);
          onOutput(c);
          yield c;
        }
      }
    }
    for (;;) {
      await step(empty, true);
      const n = res[1] as number;
      const ended = res[2] === 1;
      if (n > 0) {
        const c = out.subarray(0, n);
        onOutput(c);
        yield c;
      }
      if (ended) break;
    }
  } finally {
    giveBackBuffer(out);
  }
}
