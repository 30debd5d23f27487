/**
 * network/bridgeClaim: one berthd per default bridge on a host. The bridge
 * name also names the daemon's iptables chains, so two daemons sharing one
 * would overwrite each other's rules and hand out the same addresses. A claim
 * is a small file (`/run/lock/berth-bridge-<name>`: pid, data-root) made with
 * O_EXCL; a claim whose process is gone (or is not a berthd) is taken over.
 */
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

export interface BridgeOwner {
  pid: number;
  dataRoot: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function isBerthd(pid: number): Promise<boolean> {
  const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return /berthd|daemon\/main/.test(cmd);
}

export class BridgeClaim {
  private constructor(private readonly path: string) {}

  /** The claim on `name` for this daemon, or who holds it (another live berthd with another data-root). */
  static async take(name: string, dataRoot: string, dir = '/run/lock'): Promise<BridgeClaim | BridgeOwner> {
    const path = join(dir, `berth-bridge-${name}`);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fh = await open(path, 'wx', 0o644);
        await fh.writeFile(`${process.pid}\n${dataRoot}\n`);
        await fh.close();
        return new BridgeClaim(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const [pidText = '', root = ''] = (await readFile(path, 'utf8').catch(() => '')).split('\n');
        const pid = Number(pidText);
        if (pid > 0 && pid !== process.pid && root !== dataRoot && alive(pid) && (await isBerthd(pid))) return { pid, dataRoot: root };
        await rm(path, { force: true });
      }
    }
    throw new Error(`cannot claim bridge ${name} (${path})`);
  }

  async release(): Promise<void> {
    await rm(this.path, { force: true });
  }
}
