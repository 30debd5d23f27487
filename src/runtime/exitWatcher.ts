/**
 * runtime/exitWatcher: turns conmon's exit files (<exitDir>/<id>, one shared
 * directory) into `exit` events with Docker's numbers, and reads them back for
 * recovery after a daemon restart.
 *
 * conmon writes the file with g_file_set_contents (temp file `<id>.XXXXXX`, then
 * rename), so a file under the id's own name is complete; names that are not
 * container ids (the temp files) are ignored, and content that does not parse is
 * retried on the next event or re-scan.
 *
 * Numbers: conmon already writes 128+signal for a container killed by a signal
 * (137 for SIGKILL, 143 for SIGTERM) — what Docker reports. OOM: conmon creates
 * `<persistDir>/oom` (before the exit file: it handles the cgroup OOM event inside
 * its main loop, which ends with the exit).
 *
 * Never deletes anything the caller did not ask it to (remove()), never kills.
 */
import { EventEmitter } from 'node:events';
import { closeSync, constants as fsConstants, existsSync, fstatSync, openSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import type { Stats } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { removeFileSync } from '../util/smallFiles.js';
import { persistFiles } from './conmonRuntime.js';

export interface ExitInfo {
  /** Docker's exit code: the process's status, or 128+signal. */
  exitCode: number;
  /** When conmon wrote the exit file (its mtime). */
  exitedAt: Date;
  oomKilled: boolean;
}

export interface ExitWatcherOptions {
  /** Where a container's persist dir is (to find conmon's `oom` marker). Without it, oomKilled is always false. */
  persistDirFor?: (id: string) => string | undefined;
  /** Full re-scan interval, for events fs.watch missed. Default 2000 ms. */
  rescanMs?: number;
}

export interface ExitWatcherEvents {
  exit: [id: string, info: ExitInfo];
  error: [err: Error];
}

/** Container ids berth gives to conmon: no dots, so conmon's "<id>.XXXXXX" temp files never match. */
const EXIT_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** Parses an exit file's content; null while it is not a complete number. */
export function parseExitFile(content: string): number | null {
  const m = /^\s*(-?\d+)\s*$/.exec(content);
  if (m?.[1] === undefined) return null;
  const n = Number(m[1]);
  // conmon writes -1 when it could not learn the status; Docker has no such code, 255 is its "unknown".
  return n < 0 ? 255 : n;
}

export class ExitWatcher extends EventEmitter<ExitWatcherEvents> {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** id → identity (inode and code) of the exit file already reported (so one file is reported once). */
  private readonly reported = new Map<string, string>();
  private closed = false;

  constructor(
    readonly exitDir: string,
    private readonly opts: ExitWatcherOptions = {},
  ) {
    super();
  }

  /**
   * Starts watching. Exit files already present are reported too (exits that
   * happened while berthd was down and were not remove()d yet), so listen first.
   */
  async start(): Promise<void> {
    await mkdir(this.exitDir, { recursive: true });
    this.watcher = watch(this.exitDir, { persistent: false }, (_event, name) => {
      if (typeof name === 'string' && name !== '') this.check(name);
      else void this.scan();
    });
    this.watcher.on('error', (e) => this.report(e));
    this.timer = setInterval(() => void this.scan(), this.opts.rescanMs ?? 2000);
    this.timer.unref();
    await this.scan();
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  /** The exit recorded for `id`, or null if conmon has not written one (still running, or never started). */
  readExit(id: string): Promise<ExitInfo | null> {
    return Promise.resolve(this.readExitFile(id)?.info ?? null);
  }

  /**
   * The exit file's content, its identity (inode and code) and the OOM marker. Read
   * synchronously: an exit is on the path of every `docker run`'s result, and as async calls
   * these were six thread-pool round trips for a few bytes (decisions B86). Being synchronous,
   * a check reads and reports in one step: a remove() cannot fall between the two, so an exit
   * the daemon has handled (and a `restart` after it) is never reported again (B75). null while
   * the file is missing or incomplete.
   */
  private readExitFile(id: string): { info: ExitInfo; identity: string } | null {
    const file = join(this.exitDir, id);
    let content: string;
    let st: Stats;
    let fd: number;
    try {
      fd = openSync(file, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    } catch {
      return null;
    }
    try {
      st = fstatSync(fd);
      if (!st.isFile() || st.size > 64) return null;
      content = readFileSync(fd, 'utf8');
    } catch {
      return null;
    } finally {
      closeSync(fd);
    }
    const oomKilled = this.oomKilled(id);
    const code = parseExitFile(content);
    if (code === null) return null;
    // Identity without the mtime: the fstat comes before the read, so for a file written in place it
    // can see the mtime from before the write whose content the read got, and a second look would then
    // count the same exit twice. A new exit of the id is a new file (conmon renames a temp file in).
    return { info: { exitCode: code, exitedAt: st.mtime, oomKilled }, identity: `${st.ino}:${code}` };
  }

  /** Deletes the exit file once the daemon has recorded the exit, so a restart does not report it again. */
  async remove(id: string): Promise<void> {
    this.reported.delete(id);
    // Synchronous: on the path of every start and every --rm removal (decisions B86).
    try {
      removeFileSync(join(this.exitDir, id));
    } catch {
      // not a file we can remove: the next exit of the id replaces it anyway
    }
    return Promise.resolve();
  }

  /** An unheard 'error' would throw and take the daemon down: report only to listeners. */
  private report(e: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', e);
  }

  private oomKilled(id: string): boolean {
    const dir = this.opts.persistDirFor?.(id);
    if (dir === undefined) return false;
    return existsSync(persistFiles(dir).oom);
  }

  private async scan(): Promise<void> {
    if (this.closed) return;
    let names: string[];
    try {
      names = await readdir(this.exitDir);
    } catch (e) {
      this.report(e as Error);
      return;
    }
    const present = new Set(names);
    // Forget files that vanished, so a new exit of the same id is reported.
    for (const id of this.reported.keys()) if (!present.has(id)) this.reported.delete(id);
    for (const n of names) this.check(n);
  }

  private check(name: string): void {
    if (this.closed || !EXIT_NAME_RE.test(name)) return;
    this.checkNow(name);
  }

  private checkNow(id: string): void {
    const read = this.readExitFile(id);
    if (read === null) {
      // Gone (forget it, so a new exit of the id is reported), or incomplete: the next event or scan retries.
      if (!existsSync(join(this.exitDir, id))) this.reported.delete(id);
      return;
    }
    if (this.reported.get(id) === read.identity || this.closed) return;
    this.reported.set(id, read.identity);
    this.emit('exit', id, read.info);
  }
}
