/**
 * util/nativeEngine: the small N-API addon in native/engine (built by
 * scripts/setup.sh; decisions B53): mount(2) and umount2(2), so making and
 * undoing a container's rootfs costs a syscall on the thread pool instead of a
 * mount(8)/umount(8) process, malloc_trim(3) and V8's LowMemoryNotification, and a vfork-based spawn of conmon and
 * runc (util/spawnPiped, util/process), ext4's top-directory flag (B87), and where a buffer
 * lies in memory, for O_DIRECT (B90). Owns loading that addon and
 * the Linux flag values; never throws for a missing addon (`nativeEngine()` is
 * then null: util/mount falls back to the tools, nothing is trimmed), never
 * decides what to mount or when to trim.
 */
import { loadNativeAddon } from './nativeAddon.js';

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

/** What the addon exports. mount/umount reject with an Error whose `code` is the errno name (EBUSY…). */
export interface NativeEngine {
  /**
   * mount(2) on a thread-pool thread. With `cwd`, on a thread of its own with a
   * private working directory (relative paths in `data` resolve against it; the
   * process's cwd is untouched).
   */
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null, cwd: string | null): Promise<void>;
  umount(target: string, flags: number): Promise<void>;
  /** malloc_trim(0) on a thread-pool thread; true when memory went back to the kernel. */
  mallocTrim(): Promise<boolean>;
  /**
   * V8's LowMemoryNotification on the calling thread's heap: full collections that compact
   * it and shrink its young generation, synchronously (~30 ms for berthd's ~10 MB heap,
   * measured). Absent from builds older than B99.
   */
  reduceHeap?(): void;
  /**
   * vfork + execve of `file` (absolute; argv[0] included in `argv`) in `cwd`, with exactly
   * `env`: stdin /dev/null; stderr, and as `flags` say stdout and fd 3, pipes whose read ends
   * (non-blocking) are returned (-1: not asked for; stdout is then /dev/null). flags (default
   * 3): 1 a new session, 2 the fd 3 pipe, 4 the stdout pipe. Throws an errno Error. Absent
   * from builds older than B67.
   */
  spawnPiped?(file: string, argv: string[], env: string[], cwd: string, flags?: number): { pid: number; stdout?: number; stdin?: number; stderr: number; fd3: number };
  /** Reaps a spawnPiped child on the thread pool (holding a pool thread while it runs): its exit code, or -signal. */
  waitPid?(pid: number): Promise<number>;
  /** waitpid(pid, WNOHANG): the exit code or -signal once it has exited, null while it runs; throws ECHILD. */
  tryWaitPid?(pid: number): number | null;
  /**
   * Sets the "top of a directory hierarchy" inode flag (chattr +T) on directory `path`:
   * true once it is set, false on a file system without it (not ext2/3/4). Throws an errno
   * Error. Absent from builds older than B87.
   */
  setTopDir?(path: string): boolean;
  /**
   * How many bytes into `bytes` its first `align`-aligned address lies (0: already aligned);
   * `align` a power of two. For O_DIRECT buffers (util/directIo). Absent from builds older than B90.
   */
  alignmentOffset?(bytes: Uint8Array, align: number): number;
  /**
   * Detaches the ArrayBuffer under `bytes`, freeing its memory now rather than at a later GC;
   * every view of it becomes empty. Absent from builds older than B90.
   */
  releaseBuffer?(bytes: Uint8Array): void;
}

let addon: NativeEngine | null | undefined;

/**
 * The addon, or null when it is not built (or built for another Node ABI). Loaded once.
 * BERTH_NO_NATIVE=1 pretends it is missing (tests and benchmarks of the fallbacks).
 */
export function nativeEngine(): NativeEngine | null {
  if (addon !== undefined) return addon;
  addon = process.env['BERTH_NO_NATIVE'] === '1' ? null : loadNativeAddon<NativeEngine>('engine');
  return addon;
}
