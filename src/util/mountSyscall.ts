/**
 * util/mountSyscall: mount(2) and umount2(2) through the small N-API addon in
 * native/mount (built by scripts/setup.sh; decisions B33), so making and undoing
 * a container's rootfs costs a syscall on the thread pool instead of a
 * mount(8)/umount(8) process. Owns loading that addon and the Linux flag
 * values; never throws for a missing addon (`mountSyscalls()` is then null and
 * util/mount falls back to the tools), never decides what to mount.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** Linux's MS_* mount flags and umount2 flags (include/uapi/linux/mount.h: a stable ABI). */
export const MS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  SYNCHRONOUS: 0x10,
  REMOUNT: 0x20,
  MANDLOCK: 0x40,
  DIRSYNC: 0x80,
  NOATIME: 0x400,
  NODIRATIME: 0x800,
  BIND: 0x1000,
  REC: 0x4000,
  UNBINDABLE: 0x20000,
  PRIVATE: 0x40000,
  SLAVE: 0x80000,
  SHARED: 0x100000,
  RELATIME: 0x200000,
  STRICTATIME: 0x1000000,
} as const;
export const MNT_DETACH = 0x2;
/** umount2: a symlink as the last component is not followed (EINVAL: not a mount point). */
export const UMOUNT_NOFOLLOW = 0x8;

/** What the addon exports. Both reject with an Error whose `code` is the errno name (EBUSY…). */
export interface MountSyscalls {
  /**
   * mount(2) on a thread-pool thread. With `cwd`, on a thread of its own with a
   * private working directory (relative paths in `data` resolve against it; the
   * process's cwd is untouched).
   */
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null, cwd: string | null): Promise<void>;
  umount(target: string, flags: number): Promise<void>;
}

const ADDON_REL = join('native', 'mount', 'build', 'Release', 'mount.node');

let addon: MountSyscalls | null | undefined;

/** The addon, or null when it is not built (or built for another Node ABI). Loaded once. */
export function mountSyscalls(): MountSyscalls | null {
  if (addon !== undefined) return addon;
  addon = null;
  if (process.env['BERTH_NO_MOUNT_ADDON'] === '1') return addon;
  const require = createRequire(import.meta.url);
  // The repo root: two levels above src/util (tsx) or three above dist/src/util (compiled).
  const here = import.meta.dirname;
  for (const p of [join(here, '..', '..', ADDON_REL), join(here, '..', '..', '..', ADDON_REL)]) {
    if (!existsSync(p)) continue;
    try {
      addon = require(p) as MountSyscalls;
      break;
    } catch {
      // a stale build for another Node ABI: try the next, else fall back to the tools
    }
  }
  return addon;
}
