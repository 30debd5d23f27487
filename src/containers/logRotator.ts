/**
 * containers/logRotator: keeps each running container's log under its
 * max-size × max-file. conmon 2.1.6 cannot rotate (its --log-size-max throws
 * the whole file away), so berthd does: when ctr.log reaches max-size it
 * shifts ctr.log.N (dropping the oldest), renames ctr.log to ctr.log.1 and
 * sends conmon the reopen message on the ctl fifo; conmon then creates a new
 * ctr.log. Bytes written between the rename and the reopen land in ctr.log.1,
 * so nothing is lost and runtime/logs.ts reads the set in order.
 *
 * A log is checked when its directory reports a change (throttled) and by a
 * slow safety poll. Rotation is per container and never concurrent with
 * itself. Never deletes anything but the rotated files it shifts out.
 */
import { watch, type FSWatcher } from 'node:fs';
import { open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { reopenLogs } from '../runtime/attach.js';
import type { LogPolicy } from './logConfig.js';

export interface LogRotatorOptions {
  /** Minimum time between two size checks of one log. Default 25 ms (bounds how far a fast writer overshoots max-size). */
  throttleMs?: number;
  /** Safety poll of every tracked log. Default 5 s. */
  pollMs?: number;
  /** Sends conmon the reopen message; default: the ctl fifo in the bundle dir. */
  reopen?: (bundleDir: string) => Promise<void>;
}

interface Tracked {
  logPath: string;
  bundleDir: string;
  policy: LogPolicy;
  watcher: FSWatcher | undefined;
  timer: NodeJS.Timeout | undefined;
  running: Promise<void> | undefined;
  again: boolean;
  lastCheck: number;
}

/** The rotated files of `logPath` that may exist under `maxFile`: ctr.log.1 … ctr.log.(maxFile-1). */
export function rotatedNames(logPath: string, maxFile: number): string[] {
  const out: string[] = [];
  for (let i = 1; i < Math.max(maxFile, 2); i++) out.push(`${logPath}.${i}`);
  return out;
}

export class LogRotator {
  private readonly tracked = new Map<string, Tracked>();
  private readonly poll: NodeJS.Timeout;
  private readonly throttleMs: number;
  private readonly reopen: (bundleDir: string) => Promise<void>;
  /** Rotations done (for tests and stats). */
  rotations = 0;

  constructor(opts: LogRotatorOptions = {}) {
    this.throttleMs = opts.throttleMs ?? 25;
    this.reopen = opts.reopen ?? reopenLogs;
    this.poll = setInterval(() => {
      for (const id of this.tracked.keys()) this.schedule(id);
    }, opts.pollMs ?? 5000);
    this.poll.unref();
  }

  /** Starts watching a running container's log (no-op without a size limit). */
  track(id: string, logPath: string, bundleDir: string, policy: LogPolicy): void {
    this.untrack(id);
    if (policy.driver === 'none' || policy.maxSize <= 0) return;
    const t: Tracked = { logPath, bundleDir, policy, watcher: undefined, timer: undefined, running: undefined, again: false, lastCheck: 0 };
    const name = basename(logPath);
    try {
      // The directory, not the file: the file is renamed away at each rotation.
      t.watcher = watch(dirname(logPath), { persistent: false }, (_ev, f) => {
        if (f === null || f === name) this.schedule(id);
      });
      t.watcher.on('error', () => undefined);
    } catch {
      t.watcher = undefined; // the poll still covers it
    }
    this.tracked.set(id, t);
    this.schedule(id);
  }

  untrack(id: string): void {
    const t = this.tracked.get(id);
    if (!t) return;
    t.watcher?.close();
    if (t.timer) clearTimeout(t.timer);
    this.tracked.delete(id);
  }

  close(): void {
    clearInterval(this.poll);
    for (const id of [...this.tracked.keys()]) this.untrack(id);
  }

  /** Resolves once any rotation under way for `id` is done (tests). */
  async settle(id: string): Promise<void> {
    await this.tracked.get(id)?.running;
  }

  private schedule(id: string): void {
    const t = this.tracked.get(id);
    if (!t || t.timer) return;
    if (t.running) {
      t.again = true;
      return;
    }
    const wait = Math.max(0, t.lastCheck + this.throttleMs - Date.now());
    t.timer = setTimeout(() => {
      t.timer = undefined;
      t.lastCheck = Date.now();
      t.running = this.check(t).finally(() => {
        t.running = undefined;
        if (t.again && this.tracked.get(id) === t) {
          t.again = false;
          this.schedule(id);
        }
      });
    }, wait);
    t.timer.unref();
  }

  /** conmon is gone (the container exited mid-rotation): leave an empty live file, as conmon would have. */
  private async ensureLive(logPath: string): Promise<void> {
    const fh = await open(logPath, 'a', 0o600).catch(() => undefined);
    await fh?.close();
  }

  private async check(t: Tracked): Promise<void> {
    let size: number;
    try {
      size = (await stat(t.logPath)).size;
    } catch {
      return; // not there yet (conmon creates it), or gone with the container
    }
    if (size < t.policy.maxSize) return;
    await this.rotate(t).catch(() => undefined);
  }

  private async rotate(t: Tracked): Promise<void> {
    const { logPath, policy } = t;
    const keep = policy.maxFile;
    if (keep <= 1) {
      // Only the live file is kept: move it aside, let conmon start a new one, drop the old.
      await rename(logPath, `${logPath}.1`);
      await this.reopen(t.bundleDir).catch(() => this.ensureLive(logPath));
      await unlink(`${logPath}.1`).catch(() => undefined);
    } else {
      await unlink(`${logPath}.${keep - 1}`).catch(() => undefined);
      for (let i = keep - 2; i >= 1; i--) await rename(`${logPath}.${i}`, `${logPath}.${i + 1}`).catch(() => undefined);
      await rename(logPath, `${logPath}.1`);
      await this.reopen(t.bundleDir).catch(() => this.ensureLive(logPath));
    }
    this.rotations++;
  }
}
