/**
 * content/: the content-addressed blob store (D4). Blobs live at
 * `<root>/content/blobs/sha256/<hex>` and are only ever created through an
 * ingest: temp file, hash while writing, fsync, verify digest/size, rename.
 * A blob that is present is therefore complete and correct. It never parses
 * what it stores. Layer-sized ingests are written with O_DIRECT where the file
 * system allows it (decisions B90).
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream, writeSync, type ReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError, NotFoundError } from '../errdefs/errors.js';
import { fsyncDir } from '../util/atomic.js';
import { DirectFileWriter } from '../util/directIo.js';
import { digestHex, type Digest } from '../util/digest.js';

export interface BlobInfo {
  digest: Digest;
  size: number;
}

export interface Expected {
  digest?: Digest;
  size?: number;
}

/** Where an ingest's bytes go: the temp file, through the page cache or around it. */
interface IngestSink {
  write(chunk: Uint8Array): Promise<void>;
  /** Everything written, fsynced and closed. */
  finish(): Promise<void>;
  /** Closed without finishing. */
  discard(): Promise<void>;
}

/** Through the page cache, written as it comes. */
class BufferedSink implements IngestSink {
  private written = 0;

  constructor(
    private readonly fh: FileHandle,
    private readonly onWritten: ((bytes: number) => void) | undefined,
  ) {}

  async write(chunk: Uint8Array): Promise<void> {
    // A blocking write: callers hand over runs of a few hundred KiB, which the page cache takes
    // in well under a millisecond, while an async write hands each run to libuv's pool and back:
    // two thread switches that, on a busy host, cost more than the write (and queue behind the
    // pool's other work). The durability point is finish()'s fsync, which stays async.
    let off = 0;
    while (off < chunk.length) off += writeSync(this.fh.fd, chunk, off, chunk.length - off);
    this.written += chunk.length;
    this.onWritten?.(this.written);
  }

  async finish(): Promise<void> {
    await this.fh.sync();
    await this.fh.close();
  }

  async discard(): Promise<void> {
    await this.fh.close().catch(() => undefined);
  }
}

export interface WriterOptions {
  /**
   * Write around the page cache (O_DIRECT) where the file system allows it (decisions B90);
   * the default, for layers. Small blobs (manifests, configs) go through the page cache.
   */
  direct?: boolean;
  /**
   * Told how many bytes from the start of the ingest file are written (readable by another
   * descriptor) as the ingest goes: an unpack thread reads a layer behind its download (B90).
   */
  onWritten?: (bytes: number) => void;
}

/**
 * An open ingest. Write chunks in order, then `commit()` or `abort()`.
 * `commit()` always closes the writer, even when it throws; an aborted or failed
 * writer leaves nothing in the store.
 */
export class ContentWriter {
  private hash: Hash = createHash('sha256');
  private written = 0;
  private closed = false;

  /** @internal made by ContentStore.writer */
  constructor(
    private readonly store: ContentStore,
    private readonly sink: IngestSink,
    /** The ingest file, renamed to the blob's path by a successful commit. */
    readonly ingestPath: string,
    private readonly expected: Expected,
    /** Whether write() gathers small chunks itself (callers need not batch them). */
    readonly gathers: boolean,
  ) {}

  get size(): number {
    return this.written;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.closed) throw new Error('ContentWriter: write after close');
    this.hash.update(chunk);
    this.written += chunk.length;
    if (this.expected.size !== undefined && this.written > this.expected.size) {
      throw new InvalidArgumentError(`blob larger than expected size ${this.expected.size}`);
    }
    await this.sink.write(chunk);
  }

  async commit(): Promise<BlobInfo> {
    if (this.closed) throw new Error('ContentWriter: commit after close');
    this.closed = true;
    try {
      const digest: Digest = `sha256:${this.hash.digest('hex')}`;
      if (this.expected.size !== undefined && this.written !== this.expected.size) {
        throw new InvalidArgumentError(
          `Cannot commit blob "${this.expected.digest ?? digest}": expected size ${this.expected.size}, got ${this.written}`,
        );
      }
      if (this.expected.digest !== undefined && this.expected.digest !== digest) {
        throw new InvalidArgumentError(`Cannot commit blob: expected digest ${this.expected.digest}, got ${digest}`);
      }
      await this.sink.finish();
      await this.store.install(this.ingestPath, digest);
      return { digest, size: this.written };
    } catch (e) {
      await this.sink.discard();
      await rm(this.ingestPath, { force: true });
      throw e;
    }
  }

  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.sink.discard();
    await rm(this.ingestPath, { force: true });
  }
}

export class ContentStore {
  private readonly blobDir: string;
  private readonly ingestDir: string;

  constructor(root: string) {
    this.blobDir = join(root, 'blobs', 'sha256');
    this.ingestDir = join(root, 'ingest');
  }

  async init(): Promise<void> {
    await mkdir(this.blobDir, { recursive: true });
    // Leftover temp files are from ingests a crash interrupted: never valid blobs.
    await rm(this.ingestDir, { recursive: true, force: true });
    await mkdir(this.ingestDir, { recursive: true });
  }

  path(digest: Digest): string {
    return join(this.blobDir, digestHex(digest));
  }

  async info(digest: Digest): Promise<BlobInfo> {
    try {
      const st = await stat(this.path(digest));
      return { digest, size: st.size };
    } catch {
      throw new NotFoundError(`content ${digest}: not found`);
    }
  }

  async has(digest: Digest): Promise<boolean> {
    return stat(this.path(digest)).then(
      () => true,
      () => false,
    );
  }

  async writer(expected: Expected = {}, options: WriterOptions = {}): Promise<ContentWriter> {
    const tmp = join(this.ingestDir, randomBytes(12).toString('hex'));
    if (options.direct !== false) {
      const direct = await DirectFileWriter.create(tmp, 0o644, options.onWritten);
      if (direct !== null) return new ContentWriter(this, direct, tmp, expected, true);
    }
    const fh = await open(tmp, 'wx', 0o644);
    return new ContentWriter(this, new BufferedSink(fh, options.onWritten), tmp, expected, false);
  }

  /** Stores a small in-memory blob (manifests, configs). */
  async put(data: Uint8Array, expected: Expected = {}): Promise<BlobInfo> {
    const w = await this.writer(expected, { direct: false });
    try {
      await w.write(data);
    } catch (e) {
      await w.abort();
      throw e;
    }
    return w.commit();
  }

  async readAll(digest: Digest, maxBytes: number): Promise<Buffer> {
    const { size } = await this.info(digest);
    if (size > maxBytes) throw new InvalidArgumentError(`content ${digest} is ${size} bytes, over the ${maxBytes} limit`);
    const fh = await open(this.path(digest), 'r');
    try {
      return await fh.readFile();
    } finally {
      await fh.close();
    }
  }

  /** Every stored blob's digest. */
  async list(): Promise<Digest[]> {
    return (await readdir(this.blobDir)).filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}` as Digest);
  }

  reader(digest: Digest): ReadStream {
    return createReadStream(this.path(digest));
  }

  async delete(digest: Digest): Promise<void> {
    await rm(this.path(digest), { force: true });
  }

  /** @internal called by ContentWriter.commit */
  async install(tmpPath: string, digest: Digest): Promise<void> {
    // Same bytes under the same name: whichever rename lands last is identical.
    await rename(tmpPath, this.path(digest));
    await fsyncDir(this.blobDir);
  }
}
