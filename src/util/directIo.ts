/**
 * util/directIo: files written and read with O_DIRECT, for layer blobs (decisions B90). A
 * layer blob is written once and read once soon after (its unpack) or much later (push,
 * save); through the page cache each of its pages is a freshly allocated page that the kernel
 * copies into, writes back at the fsync and keeps until memory runs short. With O_DIRECT the
 * bytes go from a reused buffer of ours to the disk and back.
 *
 * O_DIRECT needs the memory address, the file offset and the length aligned to the device's
 * logical block: buffers come from `alignedBuffer` (4096-aligned views, through the native
 * addon), every write but the last is a whole buffer, and the last is padded with zeros to the
 * alignment and the file then truncated to its real size. Where the addon is missing or the
 * file system refuses O_DIRECT (EINVAL at open or at the first write), everything goes through
 * the page cache as before; nothing else changes.
 */
import { close, constants, fsync, ftruncate, open, openSync, write } from 'node:fs';
import { promisify } from 'node:util';
import { memoryReleased } from './memoryReleased.js';
import { nativeEngine } from './nativeEngine.js';

/** BERTH_NO_DIRECT_IO=1: every blob through the page cache, as where O_DIRECT is refused (tests and benchmarks of that path). */
const DIRECT_OFF = process.env['BERTH_NO_DIRECT_IO'] === '1';

/** The alignment asked of O_DIRECT buffers, offsets and lengths: a page, which covers any logical block size Linux has. */
export const DIRECT_ALIGN = 4096;

const openP = promisify(open);
const closeP = promisify(close);
const fsyncP = promisify(fsync);
const ftruncateP = promisify(ftruncate);
function writeP(fd: number, buf: Uint8Array, off: number, len: number, pos: number): Promise<number> {
  return new Promise((resolve, reject) => write(fd, buf, off, len, pos, (e, n) => (e ? reject(e) : resolve(n))));
}

/**
 * `size` bytes (a multiple of DIRECT_ALIGN) whose first byte is DIRECT_ALIGN-aligned, or null
 * when the native addon cannot say where a buffer lies. A view of a slightly larger Buffer:
 * V8 never moves a backing store, so the view stays aligned for its life.
 */
export function alignedBuffer(size: number): Buffer | null {
  const offsetOf = nativeEngine()?.alignmentOffset;
  if (offsetOf === undefined || size % DIRECT_ALIGN !== 0) return null;
  const raw = Buffer.allocUnsafeSlow(size + DIRECT_ALIGN);
  const off = offsetOf(raw, DIRECT_ALIGN);
  return raw.subarray(off, off + size);
}

/**
 * Aligned buffers kept for reuse, per size, on this thread. Every first touch of a fresh page
 * is a page fault, and on this project's VMs a page fault costs ~18 µs (a 1 MiB buffer: ~4.6 ms
 * of CPU): downloads and unpacks take their buffers from here and give them back. A size's
 * pool holds at most POOL_MAX; all are freed (detached, not left for a garbage collection)
 * once none has been given back for POOL_IDLE_MS, so an idle daemon keeps none of it.
 */
const POOL_MAX = 8;
const POOL_IDLE_MS = 2_000;
const pools = new Map<number, Buffer[]>();
let poolTimer: NodeJS.Timeout | null = null;

/** A buffer of `size` bytes (a multiple of DIRECT_ALIGN), aligned where the addon can say so; give it back when done. */
export function takeBuffer(size: number): Buffer {
  return pools.get(size)?.pop() ?? alignedBuffer(size) ?? Buffer.allocUnsafe(size);
}

/**
 * Frees `b` now (every view of it becomes empty); without the addon it is left to the GC, as
 * is a buffer that shares its memory with others (Node's small-Buffer pool).
 */
export function releaseBuffer(b: Buffer): void {
  if (b.buffer.byteLength > b.length + DIRECT_ALIGN) return;
  nativeEngine()?.releaseBuffer?.(b);
}

/** Gives back a takeBuffer() buffer that nothing uses any more (no view of it kept, no I/O in flight). */
export function giveBackBuffer(b: Buffer): void {
  let pool = pools.get(b.length);
  if (pool === undefined) pools.set(b.length, (pool = []));
  if (pool.length < POOL_MAX) pool.push(b);
  else releaseBuffer(b);
  if (poolTimer !== null) clearTimeout(poolTimer);
  poolTimer = setTimeout(() => {
    poolTimer = null;
    for (const p of pools.values()) for (const x of p.splice(0)) releaseBuffer(x);
    memoryReleased();
  }, POOL_IDLE_MS);
  poolTimer.unref();
}

function isEinval(e: unknown): boolean {
  return (e as NodeJS.ErrnoException | null)?.code === 'EINVAL';
}

/** Bytes per O_DIRECT write of a blob: large enough that the per-write cost is small. */
export const DIRECT_CHUNK = 1024 * 1024;

/**
 * A new file written front to back in DIRECT_CHUNK pieces: `write` gathers the caller's chunks
 * into one of two aligned buffers and writes each full one asynchronously while the other
 * fills; `finish` writes the rest, truncates the padding away, fsyncs and closes. `direct`
 * says whether O_DIRECT was used in the end. Not safe for concurrent calls: await each.
 */
export class DirectFileWriter {
  private buf: Buffer;
  private spare: Buffer;
  private fill = 0;
  private pos = 0;
  private pending: Promise<void> | null = null;
  private closed = false;

  private constructor(
    private fd: number,
    private readonly path: string,
    private isDirect: boolean,
    bufs: [Buffer, Buffer],
    private readonly onWritten: ((bytes: number) => void) | undefined,
  ) {
    [this.buf, this.spare] = bufs;
  }

  /**
   * Creates `path` (O_EXCL, `mode`) for direct writes; null when direct I/O cannot be had here
   * (no addon, or the file system refuses O_DIRECT at open: nothing is created then).
   * `onWritten(bytes)` is told, after each whole-buffer write, how many bytes from the start
   * of the file are written (readable by another descriptor); not for the padded last one.
   */
  static async create(path: string, mode: number, onWritten?: (bytes: number) => void): Promise<DirectFileWriter | null> {
    if (DIRECT_OFF || nativeEngine()?.alignmentOffset === undefined) return null;
    let fd: number;
    try {
      fd = await openP(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_DIRECT, mode);
    } catch (e) {
      if (isEinval(e)) return null;
      throw e;
    }
    return new DirectFileWriter(fd, path, true, [takeBuffer(DIRECT_CHUNK), takeBuffer(DIRECT_CHUNK)], onWritten);
  }

  get direct(): boolean {
    return this.isDirect;
  }

  async write(chunk: Uint8Array): Promise<void> {
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(chunk.length - off, DIRECT_CHUNK - this.fill);
      this.buf.set(n === chunk.length ? chunk : chunk.subarray(off, off + n), this.fill);
      this.fill += n;
      off += n;
      if (this.fill === DIRECT_CHUNK) await this.handOff();
    }
  }

  /** Writes the full buffer in the background once the previous write is done, and fills the other. */
  private async handOff(): Promise<void> {
    await this.settle();
    const full = this.buf;
    const pos = this.pos;
    this.buf = this.spare;
    this.spare = full;
    this.fill = 0;
    this.pos += DIRECT_CHUNK;
    const p = this.writeAt(full, DIRECT_CHUNK, pos).then(() => this.onWritten?.(pos + DIRECT_CHUNK));
    // Seen by the next settle(); until then a failure must not count as unhandled.
    p.catch(() => undefined);
    this.pending = p;
  }

  private async settle(): Promise<void> {
    const p = this.pending;
    this.pending = null;
    if (p !== null) await p;
  }

  private async writeAt(buf: Buffer, len: number, pos: number): Promise<void> {
    let done = 0;
    try {
      while (done < len) done += await writeP(this.fd, buf, done, len - done, pos + done);
    } catch (e) {
      // A file system that opens with O_DIRECT but will not write that way: the first write
      // failed, so the file is empty; go on through the page cache.
      if (!(this.isDirect && pos === 0 && done === 0 && isEinval(e))) throw e;
      await closeP(this.fd);
      this.fd = await openP(this.path, constants.O_WRONLY);
      this.isDirect = false;
      while (done < len) done += await writeP(this.fd, buf, done, len - done, pos + done);
    }
  }

  /** Writes what is left, makes the file exactly as long as what was written, fsyncs and closes. */
  async finish(): Promise<void> {
    if (this.closed) throw new Error('DirectFileWriter: finish after close');
    await this.settle();
    if (this.fill > 0) {
      const size = this.pos + this.fill;
      if (this.isDirect) {
        const padded = Math.ceil(this.fill / DIRECT_ALIGN) * DIRECT_ALIGN;
        this.buf.fill(0, this.fill, padded);
        await this.writeAt(this.buf, padded, this.pos);
        // writeAt may have fallen back to buffered writes, which took the padding too.
        await ftruncateP(this.fd, size);
      } else {
        await this.writeAt(this.buf, this.fill, this.pos);
      }
      this.pos = size;
      this.fill = 0;
    }
    await fsyncP(this.fd);
    this.closed = true;
    this.giveBack();
    await closeP(this.fd);
  }

  /** The buffers go back to the pool once nothing is in flight (closed, settled). */
  private giveBack(): void {
    giveBackBuffer(this.buf);
    giveBackBuffer(this.spare);
  }

  /** Closes without finishing (the caller removes the file). */
  async discard(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.settle().catch(() => undefined);
    this.giveBack();
    await closeP(this.fd).catch(() => undefined);
  }
}

/**
 * Opens `path` for reading with O_DIRECT where the file system allows it; `direct` says which
 * it got. Reads of a direct descriptor must use an alignedBuffer, aligned offsets and lengths.
 */
export function openForDirectRead(path: string, tryDirect = true): { fd: number; direct: boolean } {
  if (tryDirect && !DIRECT_OFF && nativeEngine()?.alignmentOffset !== undefined) {
    try {
      return { fd: openSync(path, constants.O_RDONLY | constants.O_DIRECT), direct: true };
    } catch (e) {
      if (!isEinval(e)) throw e;
    }
  }
  return { fd: openSync(path, constants.O_RDONLY), direct: false };
}
