/**
 * volumes/copyUp: Docker's initialisation of an empty volume from the image —
 * the directory's contents (and the directory's own owner, mode and times)
 * copied into the volume's data directory with owners, modes, times, hard
 * links, symlinks (as links), special files and xattrs kept, through
 * `cp -a`. Copies only into an empty directory; never follows a symlink in
 * the source tree. The caller resolves `src` safely inside the container's
 * root first.
 */
import { lstat, readdir } from 'node:fs/promises';
import { run } from '../util/process.js';

/** Copies `src`'s contents into `dst` when `dst` is empty and `src` a directory; returns whether it copied. */
export async function copyUp(src: string, dst: string): Promise<boolean> {
  const st = await lstat(src).catch(() => null);
  if (!st?.isDirectory()) return false;
  if ((await readdir(dst)).length > 0) return false;
  // "src/." into "dst": the contents, and the attributes of src itself onto dst.
  await run('cp', ['-a', '--', `${src}/.`, dst]);
  return true;
}
