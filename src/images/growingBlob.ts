/**
 * images/growingBlob: a layer blob that is still downloading, shared between the download
 * (the daemon's event loop, which writes the ingest file) and the unpack thread that reads it
 * behind the writer (decisions B90). The state lives in a SharedArrayBuffer the unpack request
 * carries to the thread: how many bytes of the file are written and readable, and whether the
 * download is still going, complete (the blob verified against its digest and installed) or
 * failed. The reader never reads past what is written, and wakes on every change.
 *
 * Only the writer side may change the state; every way a download ends must call
 * `complete` or `fail` (the reader would otherwise wait for bytes that never come).
 */
import { closeSync, readSync } from 'node:fs';
import { InvalidArgumentError } from '../errdefs/errors.js';
import { openForDirectRead } from '../util/directIo.js';
import type { BlobSource } from './blobChunks.js';

/** Int32 slots: a change counter (waited on), the status; then one float64: bytes written. */
const SEQ = 0;
const STATUS = 1;
const WRITING = 0;
const COMPLETE = 1;
const FAILED = 2;

/** What crosses to the unpack thread. */
export interface GrowingBlobRef {
  state: SharedArrayBuffer;
  /** The ingest file being written. */
  ingestPath: string;
  /** Where the blob lies once installed (the ingest file is renamed there). */
  blobPath: string;
}

/** The writer's side. */
export class GrowingBlob {
  private readonly ints: Int32Array;
  private readonly written: Float64Array;
  readonly state = new SharedArrayBuffer(16);

  constructor() {
    this.ints = new Int32Array(this.state, 0, 2);
    this.written = new Float64Array(this.state, 8, 1);
  }

  /** `bytes` from the start of the file are written and can be read. */
  advance(bytes: number): void {
    if (Atomics.load(this.ints, STATUS) !== WRITING) return;
    this.written[0] = bytes;
    this.bump();
  }

  /** The blob is whole, verified and installed at its blob path: `size` bytes. */
  complete(size: number): void {
    if (Atomics.load(this.ints, STATUS) !== WRITING) return;
    this.written[0] = size;
    Atomics.store(this.ints, STATUS, COMPLETE);
    this.bump();
  }

  /** The download failed or was stopped: the reader stops with an error. */
  fail(): void {
    if (Atomics.load(this.ints, STATUS) !== WRITING) return;
    Atomics.store(this.ints, STATUS, FAILED);
    this.bump();
  }

  get failed(): boolean {
    return Atomics.load(this.ints, STATUS) === FAILED;
  }

  private bump(): void {
    Atomics.add(this.ints, SEQ, 1);
    Atomics.notify(this.ints, SEQ);
  }
}

/** The message an unpack stopped by its download's failure ends with (the download reports the cause). */
export const DOWNLOAD_FAILED = 'the layer download stopped';

/** Bound on one wait: a missed wake-up costs at most this long. */
const WAIT_MS = 200;

/**
 * The reader's side (an unpack thread): the blob's bytes in order, read behind the writer,
 * blocking the thread while it waits. `read` fills `buf` (a whole READ size, aligned) or
 * returns less only at the end of the blob, as a file read does.
 */
export class GrowingBlobReader implements BlobSource {
  private readonly ints: Int32Array;
  private readonly written: Float64Array;
  private fd = -1;
  private direct = false;
  private pos = 0;

  constructor(private readonly ref: GrowingBlobRef) {
    this.ints = new Int32Array(ref.state, 0, 2);
    this.written = new Float64Array(ref.state, 8, 1);
  }

  /** Waits until `need` bytes are written or the download has ended; the bytes available and whether that is all. */
  private waitFor(need: number): { available: number; done: boolean } {
    for (;;) {
      const seq = Atomics.load(this.ints, SEQ);
      const status = Atomics.load(this.ints, STATUS);
      const written = this.written[0] as number;
      if (status === FAILED) throw new InvalidArgumentError(DOWNLOAD_FAILED);
      if (status === COMPLETE || written >= need) return { available: written, done: status === COMPLETE };
      Atomics.wait(this.ints, SEQ, seq, WAIT_MS);
    }
  }

  private open(): void {
    if (this.fd >= 0) return;
    // The download may have installed the blob (renaming the ingest file) before this
    // thread got to it; then it is complete and at its blob path.
    try {
      ({ fd: this.fd, direct: this.direct } = openForDirectRead(this.ref.ingestPath));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      if (!this.waitFor(Number.MAX_SAFE_INTEGER).done) throw e;
      ({ fd: this.fd, direct: this.direct } = openForDirectRead(this.ref.blobPath));
    }
  }

  read(buf: Buffer): number {
    this.open();
    const { available, done } = this.waitFor(this.pos + buf.length);
    const len = Math.min(buf.length, available - this.pos);
    if (len <= 0) return 0;
    // Whole aligned reads even for the tail (O_DIRECT): the file holds at least `available`
    // bytes, and only those are used.
    let n = 0;
    while (n < len) {
      let got: number;
      try {
        got = readSync(this.fd, buf, n, this.direct ? buf.length - n : len - n, this.pos + n);
      } catch (e) {
        // Opened with O_DIRECT but not readable that way: read through the page cache.
        if (!this.direct || n !== 0 || (e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
        const path = Atomics.load(this.ints, STATUS) === COMPLETE ? this.ref.blobPath : this.ref.ingestPath;
        closeSync(this.fd);
        ({ fd: this.fd, direct: this.direct } = openForDirectRead(path, false));
        continue;
      }
      if (got === 0) break;
      n += got;
    }
    if (n < len && !done) throw new Error(`growing blob: read ${n} of ${len} written bytes`);
    const used = Math.min(n, len);
    this.pos += used;
    return used;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

