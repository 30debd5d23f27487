/**
 * content/: the content-addressed blob store (D4). Blobs live at
 * `<root>/content/blobs/sha256/<hex>` and are only ever created through an
 * ingest: temp file, hash while writing, fsync, verify digest/size, rename.
 * A blob that is present is therefore complete and correct. It never parses
 * what it stores.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream, writeSync, type ReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError, NotFoundError } from '../errdefs/errors.js';
import { fsyncDir } from '../util/atomic.js';
import { digestHex, type Digest } from '../util/digest.js';

export interface BlobInfo {
  digest: Digest;
  size: number;
}

export interface Expected {
  digest?: Digest;
  size?: number;
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

  constructor(
    private readonly store: ContentStore,
    private readonly fh: FileHandle,
    private readonly tmpPath: string,
    private readonly expected: Expected,
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
    // A blocking write: callers hand over runs of a few hundred KiB, which the page cache takes
    // in well under a millisecond, while an async write hands each run to libuv's pool and back:
    // two thread switches that, on a busy host, cost more than the write (and queue behind the
    // pool's other work). The durability point is commit()'s fsync, which stays async.
    let off = 0;
    while (off < chunk.length) off += writeSync(this.fh.fd, chunk, off, chunk.length - off);
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
      await this.fh.sync();
      await this.fh.close();
      await this.store.install(this.tmpPath, digest);
      return { digest, size: this.written };
    } catch (e) {
      await this.fh.close().catch(() => undefined);
      await rm(this.tmpPath, { force: true });
      throw e;
    }
  }

  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close().catch(() => undefined);
    await rm(this.tmpPath, { force: true });
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

  async writer(expected: Expected = {}): Promise<ContentWriter> {
    const tmp = join(this.ingestDir, randomBytes(12).toString('hex'));
    const fh = await open(tmp, 'wx', 0o644);
    return new ContentWriter(this, fh, tmp, expected);
  }

  /** Stores a small in-memory blob (manifests, configs). */
  async put(data: Uint8Array, expected: Expected = {}): Promise<BlobInfo> {
    const w = await this.writer(expected);
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
