/**
 * util/atomic: crash-safe file replacement. Readers see the old file or the new
 * one, never a torn mix, and a crash leaves at worst a stray temp file.
 */
import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { open, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** A temp file beside `path` (rename is only atomic within one filesystem). */
function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
}

/** fsync a directory so a rename inside it survives a power cut. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Writes `data` to `path` atomically: temp file in the same directory (rename is
 * only atomic within one filesystem), fsync the data (else the rename can reach
 * the disk before the bytes), rename over the target, fsync the directory (else
 * the rename itself can be lost).
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const tmp = tempPathFor(path);
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fsyncDir(dirname(path));
}

/**
 * Replaces `path` with `data` through a temp file and a rename, like
 * writeFileAtomic — readers see the old file or the new one — but fsyncs
 * nothing. Only for files the engine derives and rewrites before every use
 * (a container's config.json, an exec's process spec): after a power cut they
 * are rewritten anyway, and two fsyncs cost 10-30 ms on a busy disk (measured),
 * on the path of every container start.
 */
export async function replaceFile(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const tmp = tempPathFor(path);
  try {
    await writeFile(tmp, data, { mode, flag: 'wx' });
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

/**
 * replaceFile, synchronously: for a small file on the path of every container start, where
 * the four thread-pool round trips of the async calls cost more than the write (decisions B86).
 */
export function replaceFileSync(path: string, data: string | Uint8Array, mode = 0o644): void {
  const tmp = tempPathFor(path);
  try {
    writeFileSync(tmp, data, { mode, flag: 'wx' });
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // never written
    }
    throw e;
  }
}
