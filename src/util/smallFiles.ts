/**
 * util/smallFiles: removing a file synchronously, for the paths every container start and exit
 * takes (decisions B86). An async fs call is a round trip through libuv's thread pool — a
 * hand-off to a worker and back through the event loop — which costs more than the unlink
 * itself; `fs.rm` of a file is two more (it lstats twice first). (Its sibling for writing a
 * small file is util/atomic replaceFileSync.)
 */
import { unlinkSync } from 'node:fs';

/** Removes a file; one that is not there is fine. */
export function removeFileSync(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}
