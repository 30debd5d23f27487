/**
 * registry/blobStore: where the registry's bytes live under its root —
 * finished blobs in a ContentStore (`<root>/content/blobs/sha256/<hex>`,
 * shared by every repository), uploads and manifests being written in
 * `<root>/uploads/`, same filesystem so that finishing is one rename.
 *
 * The final rename happens inside the SQLite write transaction that records
 * the blob (installSync, called from RegistryDb.immediate): gc deletes files
 * inside the same kind of transaction, so a rename and a gc unlink of the same
 * digest can never interleave. That is also why the ContentStore's own
 * writer (which renames on its own schedule) is not used for ingest here.
 * Never decides what is referenced (gc.ts does).
 */
import { randomBytes } from 'node:crypto';
import { renameSync, unlinkSync } from 'node:fs';
import { mkdir, open, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ContentStore } from '../content/contentStore.js';
import { fsyncDir } from '../util/atomic.js';
import type { Digest } from '../util/digest.js';

export class BlobStore {
  readonly content: ContentStore;
  readonly blobDir: string;
  readonly uploadDir: string;

  constructor(readonly root: string) {
    this.content = new ContentStore(join(root, 'content'));
    this.blobDir = join(root, 'content', 'blobs', 'sha256');
    this.uploadDir = join(root, 'uploads');
  }

  /** Creates the directories. Does not clear anything (uploads may be resumed after a restart). */
  async init(): Promise<void> {
    await mkdir(this.blobDir, { recursive: true });
    await mkdir(this.uploadDir, { recursive: true });
  }

  path(digest: Digest): string {
    return this.content.path(digest);
  }

  /**
   * Opens a blob for reading, or undefined when its file is gone (a row
   * without a file only follows a crash inside gc; callers answer 404).
   */
  async open(digest: Digest): Promise<FileHandle | undefined> {
    try {
      return await open(this.path(digest), 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async exists(digest: Digest): Promise<boolean> {
    return this.content.has(digest);
  }

  async size(digest: Digest): Promise<number | undefined> {
    return stat(this.path(digest)).then(
      (s) => s.size,
      () => undefined,
    );
  }

  /** Writes a small blob (a manifest) to a fsynced temp file; install it with installSync. */
  async writeTemp(data: Uint8Array): Promise<string> {
    const tmp = join(this.uploadDir, `m-${randomBytes(12).toString('hex')}.tmp`);
    const fh = await open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } catch (e) {
      await fh.close().catch(() => undefined);
      await rm(tmp, { force: true });
      throw e;
    }
    await fh.close();
    return tmp;
  }

  /**
   * Moves a verified, fsynced temp file into place as `digest`. Synchronous on
   * purpose: it runs inside a SQLite write transaction (see header). Same bytes
   * under the same name, so replacing an existing file is harmless.
   */
  installSync(tmpPath: string, digest: Digest): void {
    renameSync(tmpPath, this.path(digest));
  }

  /** Makes renames into the blob directory durable (after the transaction). */
  async syncDir(): Promise<void> {
    await fsyncDir(this.blobDir);
  }

  /** Removes a blob file; only gc calls this, inside its transaction. */
  deleteSync(digest: Digest): void {
    try {
      unlinkSync(this.path(digest));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
}
