/**
 * util/trash: deletes directory trees off the caller's path. discard() renames a
 * tree into the data-root's trash directory (one rename on the same file system:
 * its old name is free at once) and deletes it there in the background; sweep()
 * at start-up deletes what a crash left in the trash. A container's removal (a
 * `--rm` run's last step, which the docker CLI waits for) thus costs two renames
 * instead of a recursive delete of its bundle and upper dir (decisions B68).
 *
 * Owns: the trash directory and the deletes under way in it. Never: decides what
 * to discard; follows or deletes anything outside the trees it was given (a
 * rename moves a mount point below the tree along with it, exactly as the
 * recursive delete it replaces would have gone into it — callers unmount first).
 */
import { randomBytes } from 'node:crypto';
import { renameSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';

export class Trash {
  private ready: Promise<void> | undefined;
  private readonly pending = new Set<Promise<void>>();

  constructor(readonly dir: string) {}

  /**
   * Removes `path` (a directory tree, or nothing): moved into the trash and deleted there
   * in the background. Where it cannot be moved (another file system), deleted in place
   * before this resolves.
   */
  async discard(path: string): Promise<void> {
    this.ready ??= mkdir(this.dir, { recursive: true, mode: 0o700 }).then(() => undefined);
    let moved: string;
    try {
      await this.ready;
      moved = join(this.dir, `${basename(path)}-${randomBytes(4).toString('hex')}`);
      // Synchronous: one rename on the path of every container and layer removal (decisions B86).
      renameSync(path, moved);
    } catch (e) {
      // ENOENT: nothing to remove — or the trash itself went missing: make it again next time.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') this.ready = undefined;
      await rm(path, { recursive: true, force: true });
      return;
    }
    this.track(rm(moved, { recursive: true, force: true }));
  }

  /** Deletes everything in the trash (what a daemon that died left there); in the background. */
  sweep(): void {
    this.track(
      readdir(this.dir)
        .then((names) => Promise.all(names.map((n) => rm(join(this.dir, n), { recursive: true, force: true }))))
        .then(() => undefined),
    );
  }

  /** Resolves once the deletes under way have ended (shutdown, tests), at most `ms`. */
  async settle(ms = 10_000): Promise<void> {
    if (this.pending.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.pending]),
      new Promise<void>((r) => {
        timer = setTimeout(r, ms);
      }),
    ]);
    clearTimeout(timer);
  }

  private track(p: Promise<void>): void {
    // A failed delete stays in the trash for the next sweep.
    const t: Promise<void> = p.catch(() => undefined).finally(() => this.pending.delete(t));
    this.pending.add(t);
  }
}

