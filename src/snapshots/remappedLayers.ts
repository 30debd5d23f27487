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
 * File capabilities (chown drops security.capability) are put back as
 * revision 3 with the container root's host uid as their root uid, as the
 * kernel would write them from inside the namespace (util/fileCapabilities).
 * Rewrites mount specs; never mounts.
 */
import { randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { chmod, lchown, lstat, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { capabilityForNamespace, readFileCapabilities, writeFileCapabilities } from '../util/fileCapabilities.js';
import { SystemError } from '../errdefs/errors.js';
import { sameIdMap, toHost, type IdMap } from '../util/idmap.js';
import { run } from '../util/process.js';
import type { Mount } from './overlaySnapshotter.js';

const DIR = 'u';
const STAMP = '.idmap';
/**
 * What a copy holds beyond shifted owners; a stamp of another format means copies made by an
 * older berthd (1: before file capabilities were carried over), which are made again.
 */
const FORMAT = 2;

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

  /** Drops copies made for another map or by an older format, half-made copies, and copies of layers that are gone. */
  async init(): Promise<void> {
    const stampPath = join(this.dir, STAMP);
    const stamp = await readFile(stampPath, 'utf8').catch(() => '');
    let same = false;
    try {
      const parsed = JSON.parse(stamp) as { format?: number; map?: IdMap };
      same = parsed.format === FORMAT && parsed.map !== undefined && sameIdMap(parsed.map, this.map);
    } catch {
      same = false;
    }
    if (!same) await rm(this.dir, { recursive: true, force: true });
    await mkdir(this.dir, { recursive: true, mode: 0o711 });
    await writeFile(stampPath, JSON.stringify({ format: FORMAT, map: this.map }));
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
      const caps = await readFileCapabilities(tmp);
      await this.shiftTree(tmp);
      await writeFileCapabilities(this.shiftedCapabilities(caps));
      await rename(tmp, target);
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
  }

  /** The copies' capabilities: for the container's root; one whose root uid is outside the map is dropped. */
  private shiftedCapabilities(caps: ReadonlyMap<string, Buffer>): Map<string, Buffer> {
    const out = new Map<string, Buffer>();
    for (const [path, value] of caps) {
      const shifted = capabilityForNamespace(value, (uid) => toHost(this.map.uids, uid));
      if (shifted !== null) out.set(path, shifted);
    }
    return out;
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
