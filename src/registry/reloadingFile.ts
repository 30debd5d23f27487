/**
 * registry/reloadingFile: a configuration file (htpasswd, ACL) that the
 * running registry picks up again when it changes — no restart. The file is
 * looked at (one stat) at most every `checkMs`, and only when a request needs
 * it, so an idle registry does no work and a busy one one stat a second.
 * Replacing the file by rename (what editors and `htpasswd` do) and editing
 * it in place both count as changes (inode, size, mtime, ctime).
 *
 * A file that no longer parses, or is gone, keeps the last good version in
 * force and is reported once per change through `log`: a half-written file
 * must not lock everyone out. Only the first load fails hard.
 */
import { readFile, stat } from 'node:fs/promises';
import { InvalidArgumentError } from '../errdefs/errors.js';

export interface ReloadOptions {
  /** What the file is, for messages ("htpasswd file"). */
  what: string;
  /** Least time between two looks at the file (ms). */
  checkMs: number;
  log?: (line: string) => void;
}

async function signature(path: string): Promise<string> {
  const st = await stat(path, { bigint: true });
  return `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

export class ReloadingFile<T> {
  private checkedAt = Date.now();
  private inFlight: Promise<T> | undefined;
  /** Signature of the last version reported as bad, so it is reported once. */
  private reportedBad = '';

  private constructor(
    readonly path: string,
    private readonly parse: (text: string, source: string) => T,
    private readonly opts: ReloadOptions,
    private value: T,
    private sig: string,
  ) {}

  /** Loads the file now; a missing or invalid file is an InvalidArgumentError naming it. */
  static async load<T>(path: string, parse: (text: string, source: string) => T, opts: ReloadOptions): Promise<ReloadingFile<T>> {
    let sig: string;
    let text: string;
    try {
      sig = await signature(path);
      text = await readFile(path, 'utf8');
    } catch (e) {
      throw new InvalidArgumentError(`cannot read ${opts.what} "${path}": ${(e as Error).message}`);
    }
    return new ReloadingFile(path, parse, opts, parse(text, path), sig);
  }

  /** The current version (re-read first if it changed and `checkMs` has passed). */
  get(now = Date.now()): Promise<T> {
    if (now - this.checkedAt < this.opts.checkMs) return Promise.resolve(this.value);
    this.inFlight ??= this.refresh().finally(() => {
      this.checkedAt = Date.now();
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async refresh(): Promise<T> {
    let sig: string;
    try {
      sig = await signature(this.path);
      if (sig === this.sig) return this.value;
      const text = await readFile(this.path, 'utf8');
      // Read after stat: if the file changed in between, the next look sees a new signature and reads again.
      this.value = this.parse(text, this.path);
      this.sig = sig;
      this.opts.log?.(`registry: reloaded ${this.opts.what} ${this.path}`);
    } catch (e) {
      const key = `${(e as Error).message}`;
      if (key !== this.reportedBad) {
        this.reportedBad = key;
        this.opts.log?.(`registry: keeping the previous ${this.opts.what}: ${(e as Error).message}`);
      }
    }
    return this.value;
  }
}
