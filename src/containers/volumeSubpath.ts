/**
 * containers/volumeSubpath: `--mount type=volume,volume-subpath=P` — the
 * directory P of a mounted volume, pinned for the container's run by a bind
 * mount in the container's directory (`subpaths/<n>`), so that runc mounts
 * what was checked and not whatever the path names a moment later (moby pins
 * it with safepath for the same reason). P is resolved in the volume's scope
 * (a symlink cannot lead out of it); after the bind, the root of the new mount
 * in /proc/self/mountinfo — the dentry path the kernel really bound — must be
 * the path that was resolved, or a component was swapped in between and the
 * start fails. Mounts and unmounts only under the staging directory it is given.
 */
import { lstat, mkdir, readdir, readFile, realpath, rmdir, unlink, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { InvalidArgumentError } from '../errdefs/errors.js';
import { mountAll, unmount } from '../util/mount.js';
import { resolveInScope } from './archive.js';

interface MountInfoEntry {
  root: string;
  mountPoint: string;
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

async function mountInfo(): Promise<MountInfoEntry[]> {
  const out: MountInfoEntry[] = [];
  for (const line of (await readFile('/proc/self/mountinfo', 'utf8')).split('\n')) {
    const f = line.split(' ');
    if (f.length < 5) continue;
    out.push({ root: unescape(f[3] as string), mountPoint: unescape(f[4] as string) });
  }
  return out;
}

/** The dentry path (relative to its file system's root) of host path `p`, from the mount that covers it. */
function dentryPath(entries: MountInfoEntry[], p: string): string | null {
  let best: MountInfoEntry | null = null;
  for (const e of entries) {
    const mp = e.mountPoint;
    const covers = mp === '/' || p === mp || p.startsWith(`${mp}/`);
    // Later entries on the same mount point are on top of earlier ones.
    if (covers && (best === null || mp.length >= best.mountPoint.length)) best = e;
  }
  if (best === null) return null;
  const rest = best.mountPoint === '/' ? p : p.slice(best.mountPoint.length);
  return posix.join(best.root, rest);
}

/**
 * Binds `<volumeData>/<subpath>` (resolved in the volume's scope) onto `target` and returns
 * `target`. The subpath must exist and be a directory or file; nothing stays mounted on failure.
 */
export async function stageSubpath(volumeData: string, subpath: string, target: string): Promise<string> {
  // The data-root's own path may hold symlinks; mountinfo shows real paths. The volume's
  // directory itself is the engine's, not the container's, so its real path cannot be swapped.
  const base = await realpath(volumeData);
  const inVolume = await resolveInScope(base, `/${subpath}`);
  const source = join(base, inVolume);
  const st = await lstat(source).catch((e: NodeJS.ErrnoException) => {
    throw new InvalidArgumentError(`cannot access path ${join(volumeData, subpath)}: ${e.code === 'ENOENT' ? 'no such file or directory' : e.message}`);
  });
  if (!st.isDirectory() && !st.isFile()) throw new InvalidArgumentError(`cannot access path ${join(volumeData, subpath)}: not a directory or regular file`);
  await mkdir(join(target, '..'), { recursive: true, mode: 0o700 });
  if (st.isDirectory()) await mkdir(target, { recursive: true, mode: 0o700 });
  else await writeFile(target, '', { mode: 0o600 });
  await mountAll([{ type: 'bind', source, options: ['rbind', 'rprivate'] }], target);
  const entries = await mountInfo();
  const staged = [...entries].reverse().find((e) => e.mountPoint === target);
  const expected = dentryPath(entries.filter((e) => e !== staged), source);
  if (!staged || expected === null || staged.root !== expected) {
    await unmount(target).catch(() => undefined);
    throw new InvalidArgumentError(`path ${subpath} escapes base ${volumeData}: it changed while it was being mounted`);
  }
  return target;
}

/**
 * Unmounts and removes everything staged in `dir` (idempotent; a missing dir is nothing to do).
 * Never removes recursively: whatever is still mounted there makes it fail, never reach into a volume.
 */
export async function releaseSubpaths(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => null);
  if (entries === null) return;
  for (const e of entries) {
    const p = join(dir, e.name);
    await unmount(p);
    if (e.isDirectory()) await rmdir(p);
    else await unlink(p);
  }
  await rmdir(dir);
}
