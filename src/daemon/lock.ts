/**
 * daemon/lock: one berthd per data-root. A pid file created with O_EXCL; a
 * stale one (its process gone, or not a berthd) is taken over.
 */
import { open, readFile, rm } from 'node:fs/promises';
import { UnavailableError } from '../errdefs/errors.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function isBerthd(pid: number): Promise<boolean> {
  try {
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return /berthd|daemon\/main/.test(cmd);
  } catch {
    return false;
  }
}

export class DataRootLock {
  private constructor(private readonly path: string) {}

  static async acquire(path: string, dataRoot: string): Promise<DataRootLock> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fh = await open(path, 'wx', 0o644);
        await fh.writeFile(`${process.pid}\n`);
        await fh.close();
        return new DataRootLock(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
        if (pid > 0 && pid !== process.pid && alive(pid) && (await isBerthd(pid))) {
          throw new UnavailableError(`another berthd (pid ${pid}) is already using data-root ${dataRoot}`);
        }
        await rm(path, { force: true });
      }
    }
    throw new UnavailableError(`cannot lock data-root ${dataRoot}`);
  }

  async release(): Promise<void> {
    await rm(this.path, { force: true });
  }
}
