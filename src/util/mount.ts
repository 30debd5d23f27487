/**
 * util/mount: makes and removes the mounts the snapshotter describes. With the
 * native/engine addon (util/nativeEngine) these are mount(2)/umount2(2) calls on
 * the thread pool; without it, mount(8)/umount(8) processes (the same results,
 * ~10-25 ms of fork and exec each). A mount with `cwd` has options holding
 * paths relative to that directory: the addon resolves them on a thread with a
 * private cwd, the tools run from it. Never changes the process's cwd.
 */
import { readFile } from 'node:fs/promises';
import { SystemError } from '../errdefs/errors.js';
import { run } from './process.js';
import { MNT_DETACH, MS, UMOUNT_NOFOLLOW, nativeEngine, type NativeEngine } from './nativeEngine.js';
import type { Mount } from '../snapshots/overlaySnapshotter.js';

export async function mountAll(mounts: readonly Mount[], target: string): Promise<void> {
  const sys = nativeEngine();
  for (const m of mounts) {
    if (sys !== null) await mountOne(sys, m, target);
    else await mountWithTool(m, target);
  }
}

/** The flags, propagation changes and data string of mount(2) for mount(8)-style options. */
export interface ParsedMountOptions {
  flags: number;
  /** Propagation changes (MS_PRIVATE, MS_SHARED…, with MS_REC for r*): each a mount(2) call of its own after the mount. */
  propagation: number[];
  /** What the file system itself parses (overlay's lowerdir=…, tmpfs's size=…), comma-joined. */
  data: string;
}

// containerd's mount_linux.go table: option → [clear instead of set, flag].
const FLAG_OPTIONS: Record<string, [boolean, number]> = {
  async: [true, MS.SYNCHRONOUS],
  atime: [true, MS.NOATIME],
  bind: [false, MS.BIND],
  defaults: [false, 0],
  dev: [true, MS.NODEV],
  diratime: [true, MS.NODIRATIME],
  dirsync: [false, MS.DIRSYNC],
  exec: [true, MS.NOEXEC],
  mand: [false, MS.MANDLOCK],
  noatime: [false, MS.NOATIME],
  nodev: [false, MS.NODEV],
  nodiratime: [false, MS.NODIRATIME],
  noexec: [false, MS.NOEXEC],
  nomand: [true, MS.MANDLOCK],
  norelatime: [true, MS.RELATIME],
  nostrictatime: [true, MS.STRICTATIME],
  nosuid: [false, MS.NOSUID],
  rbind: [false, MS.BIND | MS.REC],
  relatime: [false, MS.RELATIME],
  remount: [false, MS.REMOUNT],
  ro: [false, MS.RDONLY],
  rw: [true, MS.RDONLY],
  strictatime: [false, MS.STRICTATIME],
  suid: [true, MS.NOSUID],
  sync: [false, MS.SYNCHRONOUS],
};

const PROPAGATION_OPTIONS: Record<string, number> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

/** Splits mount(8)-style options into mount(2)'s flags and data (containerd's parseMountOptions). */
export function parseMountOptions(options: readonly string[]): ParsedMountOptions {
  let flags = 0;
  const propagation: number[] = [];
  const data: string[] = [];
  for (const o of options) {
    const f = FLAG_OPTIONS[o];
    if (f !== undefined) {
      flags = f[0] ? flags & ~f[1] : flags | f[1];
      continue;
    }
    const p = PROPAGATION_OPTIONS[o];
    if (p !== undefined) propagation.push(p);
    else data.push(o);
  }
  return { flags, propagation, data: data.join(',') };
}

/** mount(2) needs the data string in one page, NUL included. */
const MAX_MOUNT_DATA = 4095;

async function mountOne(sys: NativeEngine, m: Mount, target: string): Promise<void> {
  const bind = m.type === 'bind';
  const opts = parseMountOptions(bind ? ['bind', ...m.options] : m.options);
  if (Buffer.byteLength(opts.data) > MAX_MOUNT_DATA) {
    throw new SystemError(`cannot mount ${m.type} on ${target}: its options are ${Buffer.byteLength(opts.data)} bytes, more than the ${MAX_MOUNT_DATA} mount(2) takes`);
  }
  // As mount(8): a bind mount ignores the flags of its first call except MS_REC; read-only and
  // the other per-mount flags take a remount of the bind.
  const first = bind ? opts.flags & (MS.BIND | MS.REC) : opts.flags;
  try {
    await sys.mount(m.source, target, bind ? null : m.type, first, bind || opts.data === '' ? null : opts.data, m.cwd ?? null);
  } catch (e) {
    throw mountError(e, `mount ${m.type === 'bind' ? '--bind' : `-t ${m.type}`} ${m.source} ${target}`);
  }
  try {
    const rest = opts.flags & ~(MS.BIND | MS.REC | MS.REMOUNT);
    if (bind && rest !== 0) await sys.mount(null, target, null, MS.REMOUNT | MS.BIND | rest, null, null);
    for (const p of opts.propagation) await sys.mount(null, target, null, p, null, null);
  } catch (e) {
    await sys.umount(target, MNT_DETACH).catch(() => undefined);
    throw mountError(e, `mount -o remount ${target}`);
  }
}

function mountError(e: unknown, what: string): Error {
  const err = e as NodeJS.ErrnoException;
  return new SystemError(`${what} failed: ${err.message}${err.code ? ` (${err.code})` : ''}`, { cause: e });
}

async function mountWithTool(m: Mount, target: string): Promise<void> {
  const args = m.type === 'bind' ? ['--bind', m.source, target] : ['-t', m.type, m.source, target];
  const opts = m.type === 'bind' ? m.options.filter((o) => o !== 'rbind' && o !== 'rw' && o !== 'ro') : m.options;
  if (opts.length > 0) args.push('-o', opts.join(','));
  await run('mount', args, m.cwd !== undefined ? { cwd: m.cwd } : {});
  if (m.type === 'bind' && m.options.includes('ro')) await run('mount', ['-o', 'remount,bind,ro', target]);
}

/** Unmounts `target`; a target that is not mounted is not an error. A busy one is detached. */
export async function unmount(target: string): Promise<void> {
  const sys = nativeEngine();
  if (sys === null) return unmountWithTool(target);
  // Never through a symlink at the end of `target` (the tool path checks the literal path in
  // mountinfo first, which a symlink never matches).
  try {
    await sys.umount(target, UMOUNT_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // EINVAL: not a mount point; ENOENT: no such path. Neither is mounted.
    if (code === 'EINVAL' || code === 'ENOENT') return;
    if (code !== 'EBUSY') throw mountError(e, `umount ${target}`);
    // Busy (a process still holds it): detach it so the container can go away.
    try {
      await sys.umount(target, MNT_DETACH | UMOUNT_NOFOLLOW);
    } catch (e2) {
      throw mountError(e2, `umount -l ${target}`);
    }
  }
}

async function unmountWithTool(target: string): Promise<void> {
  if (!(await isMounted(target))) return;
  try {
    await run('umount', [target]);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/not mounted|no mount point|not found|No such file/i.test(msg)) return;
    // Busy (a process still holds it): detach it so the container can go away.
    await run('umount', ['-l', target]);
  }
}

/** Whether `target` is a mount point, from /proc/self/mountinfo (no process spawned). */
export async function isMounted(target: string): Promise<boolean> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  // Field 5 is the mount point, with spaces and backslashes octal-escaped.
  const escaped = target.replace(/\\/g, '\\134').replace(/ /g, '\\040').replace(/\t/g, '\\011').replace(/\n/g, '\\012');
  for (const line of info.split('\n')) {
    if (line.split(' ')[4] === escaped) return true;
  }
  return false;
}
