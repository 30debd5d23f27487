/**
 * snapshots/remappedLayers: image layers as a user-namespaced container can
 * use them (--userns-remap). Overlay checks permissions against the lower
 * layers' real owners, so a container whose root is host uid 100000 cannot
 * write a root-owned lower file even through copy-up (kernel-recipes §5, the
 * overlay trap), and runc 1.1 has no idmapped mounts. So, as Docker keeps a
 * storage area per remap, each layer gets one copy with every owner shifted
 * into the map, made on first use at `<root>/u/<link>` — the same short
 * relative form as `l/<link>`, so long chains still fit one mount page.
 * `u/.idmap` records the map the copies were made for; another map (the flag
 * changed) discards them all.
 * Rewrites mount specs; never mounts. Copies lose file capabilities
 * (chown drops security.capability), as a v2 capability would not apply in
 * the namespace anyway.
 */
import { randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { chmod, lchown, lstat, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SystemError } from '../errdefs/errors.js';
import { sameIdMap, toHost, type IdMap } from '../util/idmap.js';
import { run } from '../util/process.js';
import type { Mount } from './overlaySnapshotter.js';

const DIR = 'u';
const STAMP = '.idmap';

export class RemappedLayers {
  private readonly making = new Map<string, Promise<void>>();

  constructor(
    /** The overlay snapshotter's root (holds `l/`). */
    private readonly root: string,
    private readonly map: IdMap,
  ) {}

  private get dir(): string {
    return join(this.root, DIR);
  }

  /** Drops copies made for another map, half-made copies, and copies of layers that are gone. */
  async init(): Promise<void> {
    const stampPath = join(this.dir, STAMP);
    const stamp = await readFile(stampPath, 'utf8').catch(() => '');
    let same = false;
    try {
      same = stamp !== '' && sameIdMap(JSON.parse(stamp) as IdMap, this.map);
    } catch {
      same = false;
    }
    if (!same) await rm(this.dir, { recursive: true, force: true });
    await mkdir(this.dir, { recursive: true, mode: 0o711 });
    await writeFile(stampPath, JSON.stringify(this.map));
    const links = new Set(await readdir(join(this.root, 'l')).catch(() => [] as string[]));
    for (const name of await readdir(this.dir)) {
      if (name === STAMP) continue;
      if (name.startsWith('.tmp-') || !links.has(name)) await rm(join(this.dir, name), { recursive: true, force: true });
    }
  }

  /** A container's rootfs mounts with every lower layer replaced by its shifted copy. */
  async mounts(mounts: readonly Mount[]): Promise<Mount[]> {
    const out: Mount[] = [];
    for (const m of mounts) {
      if (m.type !== 'overlay') {
        out.push(m);
        continue;
      }
      const options: string[] = [];
      for (const o of m.options) {
        if (!o.startsWith('lowerdir=')) {
          options.push(o);
          continue;
        }
        const lowers = o.slice('lowerdir='.length).split(':');
        const shifted: string[] = [];
        for (const l of lowers) {
          if (!l.startsWith('l/')) throw new SystemError(`cannot remap lower layer "${l}": not a snapshot link`);
          const link = l.slice(2);
          await this.ensure(link);
          shifted.push(`${DIR}/${link}`);
        }
        options.push(`lowerdir=${shifted.join(':')}`);
      }
      out.push({ ...m, options });
    }
    return out;
  }

  /** Makes `u/<link>` once, even when several containers start on it at the same time. */
  private ensure(link: string): Promise<void> {
    let p = this.making.get(link);
    if (p === undefined) {
      p = this.make(link).finally(() => this.making.delete(link));
      this.making.set(link, p);
    }
    return p;
  }

  private async make(link: string): Promise<void> {
    const target = join(this.dir, link);
    if (await lstat(target).then(() => true, () => false)) return;
    const tmp = join(this.dir, `.tmp-${link}-${randomBytes(4).toString('hex')}`);
    try {
      // cp -a keeps what a layer holds: whiteout devices, hard links, opaque xattrs, sparse files.
      await mkdir(tmp, { mode: 0o755 });
      await run('cp', ['-a', '--reflink=auto', `${join(this.root, 'l', link)}/.`, `${tmp}/`]);
      await this.shiftTree(tmp);
      await rename(tmp, target);
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
  }

  /** Shifts the owner of every entry under `dir` (itself included) into the map. */
  private async shiftTree(dir: string): Promise<void> {
    const stack = [dir];
    await this.shift(dir);
    while (stack.length > 0) {
      const d = stack.pop() as string;
      const entries: Dirent[] = await readdir(d, { withFileTypes: true });
      for (const e of entries) {
        const p = join(d, e.name);
        await this.shift(p);
        if (e.isDirectory()) stack.push(p);
      }
    }
  }

  private async shift(path: string): Promise<void> {
    const st = await lstat(path);
    const uid = toHost(this.map.uids, st.uid);
    const gid = toHost(this.map.gids, st.gid);
    if (uid === null || gid === null) {
      throw new SystemError(`cannot remap "${path}": owner ${st.uid}:${st.gid} is outside the user namespace map`);
    }
    await lchown(path, uid, gid);
    // chown clears set-user-ID and set-group-ID: put them back (not on symlinks, which have no mode).
    if ((st.mode & 0o6000) !== 0 && !st.isSymbolicLink()) await chmod(path, st.mode & 0o7777);
  }
}
