/**
 * util/smallFiles: synchronous operations on small files and directories, for the paths every
 * container start and exit takes (decisions B86). An async fs call is a round trip through
 * libuv's thread pool — a hand-off to a worker and back through the event loop — which costs
 * more than a metadata operation or a write of a few KiB into the page cache; `fs.rm` of a file
 * is two of them (it lstats twice). Never used for data of unbounded size.
 */
import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** Removes a file; one that is not there is fine. */
export function removeFileSync(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/** Writes `data` to a temp file beside `path` and renames it over `path` (readers never see half a file). */
export function replaceFileSync(path: string, data: string | Uint8Array, mode = 0o644): void {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
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
