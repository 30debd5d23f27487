/**
 * network/netns: persistent network namespaces, one per container, as
 * bind-mounted nsfs files under `<exec-root>/netns/` (never a global `ip
 * netns` name). Made with util-linux `unshare --net=FILE`, which also brings
 * loopback up in the same exec; removed by unmounting the file (the kernel
 * then destroys the namespace and the veths inside it). One namespace is
 * kept made ahead (`spare-<hex>`), so a container start takes a ready one
 * instead of waiting for two process spawns; it becomes that container's and
 * is never handed out again. The next spare is made a moment after one is
 * taken, not beside the start that took it. A user-namespaced container's namespace is made
 * by runc instead (it must belong to the container's user namespace): it gets
 * a placeholder file, bound to the runtime's namespace once the process exists.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isMounted, mountAll, unmount } from '../util/mount.js';
import { run } from '../util/process.js';

const SPARES = 1;

/**
 * How long after a spare is taken the next one is made. The two process spawns (unshare, ip) would
 * otherwise run beside the start that took it, on a small machine taking CPU from its `runc
 * create`; a start takes ~100-200 ms, so the next start usually still finds a spare ready.
 */
const REFILL_DELAY_MS = 150;

export class NetnsManager {
  private readonly spares: string[] = [];
  private filling: Promise<void> | null = null;
  private refillTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(readonly dir: string) {}

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  /** A new namespace with `lo` up, bound at `path`. */
  private async make(path: string): Promise<string> {
    // unshare bind-mounts the namespace onto an existing file.
    await writeFile(path, '', { mode: 0o400 });
    try {
      // vfork + execve: a fork of the whole daemon held its event loop ~1-2 ms per container.
      await run('unshare', [`--net=${path}`, 'ip', 'link', 'set', 'lo', 'up'], { noFork: true });
    } catch (e) {
      await unmount(path).catch(() => undefined);
      await rm(path, { force: true });
      throw e;
    }
    return path;
  }

  /** A fresh namespace for one container: a spare made ahead if there is one, else made now. */
  async take(): Promise<string> {
    const p = this.spares.shift();
    if (p !== undefined) {
      this.refillLater();
      return p;
    }
    this.refill();
    return this.make(join(this.dir, `ns-${randomBytes(8).toString('hex')}`));
  }

  private refillLater(): void {
    if (this.refillTimer !== undefined || this.closed) return;
    this.refillTimer = setTimeout(() => {
      this.refillTimer = undefined;
      this.refill();
    }, REFILL_DELAY_MS);
    this.refillTimer.unref();
  }

  /** Makes spares in the background, one at a time. */
  refill(): void {
    clearTimeout(this.refillTimer);
    this.refillTimer = undefined;
    if (this.filling || this.closed) return;
    this.filling = (async () => {
      while (!this.closed && this.spares.length < SPARES) {
        const p = await this.make(join(this.dir, `spare-${randomBytes(8).toString('hex')}`)).catch(() => null);
        if (p === null) break;
        if (this.closed) await this.remove(p).catch(() => undefined);
        else this.spares.push(p);
      }
    })().finally(() => {
      this.filling = null;
    });
  }

  /**
   * An empty file for a namespace the runtime will make (a user-namespaced container's own);
   * `bindFrom` binds it there once its process exists. Until then `remove` just deletes it.
   */
  async placeholder(): Promise<string> {
    const path = join(this.dir, `ns-${randomBytes(8).toString('hex')}`);
    await writeFile(path, '', { mode: 0o400 });
    return path;
  }

  /** Binds the network namespace of process `pid` at `path`, so it outlives that process. */
  async bindFrom(pid: number, path: string): Promise<void> {
    await mountAll([{ type: 'bind', source: `/proc/${pid}/ns/net`, options: ['bind'] }], path);
  }

  /** Unmounts and deletes a namespace file (the namespace goes with its last user). */
  async remove(path: string): Promise<void> {
    await unmount(path);
    await rm(path, { force: true });
  }

  /** Paths of every namespace file here (in use, spare, or left half-made by a crash). */
  async list(): Promise<string[]> {
    return (await readdir(this.dir).catch(() => [] as string[])).map((n) => join(this.dir, n));
  }

  /** Whether `path` is a spare this manager holds. */
  isSpare(path: string): boolean {
    return this.spares.includes(path);
  }

  /** Daemon stop: no spare outlives it. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.refillTimer);
    this.refillTimer = undefined;
    await this.filling;
    for (const p of this.spares.splice(0)) await this.remove(p).catch(() => undefined);
  }

  /** Whether a namespace is still bound at `path`. */
  mounted(path: string): Promise<boolean> {
    return isMounted(path);
  }
}
