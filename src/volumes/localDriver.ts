/**
 * volumes/localDriver: Docker's `local` volume driver on disk — a volume's data
 * lives in `<data-root>/volumes/<name>/_data`; with driver options (`type`,
 * `device`, `o`, as `mount -t TYPE -o O DEVICE`) that directory is a mount
 * point, mounted while a container uses the volume. Owns the directories and
 * those mounts only; reference counting is the volume service's.
 *
 * Never removes a directory that is still a mount point: deleting through a
 * mounted `o=bind` volume would delete the user's host files.
 */
import { lstat, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError, SystemError, messageOf } from '../errdefs/errors.js';
import { isMounted, unmount } from '../util/mount.js';
import { run } from '../util/process.js';

const VALID_OPTS = new Set(['type', 'o', 'device', 'size']);
/** moby's mandatoryOpts: an option that makes no sense without the others. */
const MANDATORY: Record<string, string[]> = { device: ['type'], type: ['device'], o: ['device', 'type'] };

/** Checks driver options as moby's local driver does (400 on anything it would refuse). */
export function validateLocalOptions(opts: Readonly<Record<string, string>> | null): void {
  if (!opts) return;
  for (const k of Object.keys(opts)) {
    if (!VALID_OPTS.has(k)) throw new InvalidArgumentError(`invalid option: ${JSON.stringify(k)}`);
  }
  const size = opts['size'];
  if (size !== undefined) {
    const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)i?b?$/i.exec(size.trim());
    if (!m) throw new InvalidArgumentError(`invalid size: '${size}'`);
    // Quotas need project quotas on the data-root's filesystem; berth does not set them up.
    if (Number(m[1]) > 0) throw new InvalidArgumentError('quota size requested but no quota support');
  }
  for (const [opt, needs] of Object.entries(MANDATORY)) {
    if (opts[opt] === undefined) continue;
    for (const n of needs) if (opts[n] === undefined) throw new InvalidArgumentError(`missing required option: ${JSON.stringify(n)}`);
  }
}

/** Whether a volume with these options is a mount (tmpfs, bind, a device…) rather than a plain directory. */
export function needsMount(opts: Readonly<Record<string, string>> | null): boolean {
  return !!opts && ((opts['device'] ?? '') !== '' || (opts['type'] ?? '') !== '');
}

/** A password in the mount options must not reach an error message or a log. */
function hidePassword(text: string, o: string): string {
  const m = /(?:^|,)password=([^,]*)/.exec(o);
  return m?.[1] ? text.split(`password=${m[1]}`).join('password=********') : text;
}

export class LocalDriver {
  readonly root: string;

  constructor(dataRoot: string) {
    this.root = join(dataRoot, 'volumes');
  }

  async init(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o701 });
  }

  /** The directory the volume's data is in (and, with options, the mount point). */
  dataPath(name: string): string {
    return join(this.root, name, '_data');
  }

  /** Makes the volume's directories (0701 root, 0755 data, as Docker). Existing ones are kept. */
  async create(name: string): Promise<void> {
    await mkdir(join(this.root, name), { recursive: true, mode: 0o701 });
    await mkdir(this.dataPath(name), { recursive: true, mode: 0o755 });
  }

  /** Mounts the volume's device on its data directory unless it already is. */
  async mount(name: string, opts: Readonly<Record<string, string>>): Promise<void> {
    const target = this.dataPath(name);
    await mkdir(target, { recursive: true, mode: 0o755 });
    if (await isMounted(target)) return;
    const device = opts['device'] ?? '';
    if (device === '') throw new SystemError(`error while mounting volume '${target}': missing device in volume options`);
    const o = opts['o'] ?? '';
    const args = ['-t', opts['type'] || 'none'];
    if (o !== '') args.push('-o', o);
    args.push(device, target);
    try {
      await run('mount', args);
    } catch (e) {
      throw new SystemError(hidePassword(`error while mounting volume '${target}': failed to mount local volume: ${messageOf(e)}`, o));
    }
  }

  /** Unmounts the data directory when it is mounted; throws if it stays mounted. */
  async unmount(name: string): Promise<void> {
    const target = this.dataPath(name);
    if (!(await isMounted(target))) return;
    await run('umount', [target]).catch(() => undefined);
    if (await isMounted(target)) throw new SystemError(`error while unmounting volume '${name}': ${target} is busy`);
  }

  async isMounted(name: string): Promise<boolean> {
    return isMounted(this.dataPath(name));
  }

  /** Removes the volume's directories; a mounted data directory is unmounted first (or the removal refused). */
  async remove(name: string): Promise<void> {
    const target = this.dataPath(name);
    if (await isMounted(target)) {
      await unmount(target);
      if (await isMounted(target)) throw new SystemError(`remove ${name}: ${target} is still mounted`);
    }
    await rm(join(this.root, name), { recursive: true, force: true });
  }

  /** Names of the volume directories on disk (for reconciling with the database after a crash). */
  async listDirs(): Promise<string[]> {
    const out: string[] = [];
    for (const e of await readdir(this.root, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) out.push(e.name);
    }
    return out;
  }

  /** Bytes used by the volume's files (Docker's UsageData.Size); -1 when it cannot be read. */
  async size(name: string): Promise<number> {
    return dirSize(this.dataPath(name)).catch(() => -1);
  }

  /** True when the data directory holds nothing (the condition for copying image content in). */
  async isEmpty(name: string): Promise<boolean> {
    return (await readdir(this.dataPath(name)).catch(() => [])).length === 0;
  }
}

/** Bytes of the files under `dir`, never following symlinks (du's apparent size). */
async function dirSize(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await dirSize(p);
    else total += (await lstat(p)).size;
  }
  return total;
}
