/**
 * containers/mountPoints: a container's volumes, binds and tmpfs mounts over
 * its life, in moby's order and with its rules —
 *   create: VolumesFrom, then Binds, then Mounts (duplicate destinations are a
 *     400), then the anonymous volumes of Config.Volumes and the image's
 *     VOLUMEs where nothing else is mounted; named volumes are created on
 *     first use. Everything is checked before anything is made, and what was
 *     made is undone if the create fails.
 *   start: volumes mounted (refcounted), volume subpaths and image mounts
 *     staged in the container's directory, missing -v sources made, file/dir
 *     mismatches refused before the process runs, an empty volume filled from
 *     the image (copy-up) on the container's first start; OCI mounts out
 *     (read-only ones recursively so, unless asked otherwise).
 *   stop: volumes released, staged mounts unmounted. rm -v / --rm: the
 *     anonymous volumes removed. cp on a stopped container: mountForCopy.
 * Reads the container's rootfs (mounted by the caller); writes in it only the mount points
 * `mountForCopy` (cp on a stopped container) needs, as Docker does.
 */
import { existsSync } from 'node:fs';
import { lstat, mkdir, stat, writeFile } from 'node:fs/promises';
import { release } from 'node:os';
import { dirname, join } from 'node:path';
import { InvalidArgumentError, NotFoundError, isNotFound } from '../errdefs/errors.js';
import type { OciMount } from '../runtime/ociTypes.js';
import type { Mount } from '../snapshots/overlaySnapshotter.js';
import { mountAll, unmount } from '../util/mount.js';
import { copyUp } from '../volumes/copyUp.js';
import { validateLocalOptions } from '../volumes/localDriver.js';
import { checkBindSource, cleanPath, parseApiMount, parseBind, parseVolumesFrom, toMountPoint, type ApiMount, type MountPoint, type ParsedMount } from '../volumes/mountSpec.js';
import { DEFAULT_DRIVER, validateLocalVolumeName } from '../volumes/names.js';
import type { VolumeService, VolumeUsers } from '../volumes/volumeService.js';
import { resolveInScope } from './archive.js';
import { releaseSubpaths, stageSubpath } from './volumeSubpath.js';
import type { ContainerConfig, ContainerRecord, HostConfig } from './types.js';

/** The image side of `--mount type=image` (the container service wires the image store and snapshotter). */
export interface ImageMountSource {
  /** The ID of the local image `ref` names; NotFoundError (`No such image: ref`) if none. */
  resolve(ref: string): string;
  /** The mounts that show image `id`'s filesystem read-only (overlay of its layers, or [] for none), for container `c`. */
  mounts(id: string, c: ContainerRecord): Promise<Mount[]>;
}

export interface ResolveOptions {
  /** The request came through API < 1.44: read-only mounts are read-only on their top mount only. */
  defaultReadOnlyNonRecursive?: boolean;
}

/** What create made: the mount points to record, and how to undo or keep the volumes it created. */
export interface ResolvedMounts {
  points: MountPoint[];
  /** The create failed: remove the volumes this create made. */
  rollback(): Promise<void>;
  /** The container record now holds the references. */
  commit(): void;
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

function duplicate(dest: string): InvalidArgumentError {
  return new InvalidArgumentError(`Duplicate mount point: ${dest}`);
}

/** Number of path components: parents sort before their children (moby's mountSort). */
function depth(p: string): number {
  return p === '/' ? 0 : p.split('/').length - 1;
}

/** Which containers name which volumes, for the volume service (`volume rm`, prune, dangling). */
export function volumeUsers(list: () => ContainerRecord[]): VolumeUsers {
  const scan = (name: string, runningOnly: boolean): string[] =>
    list()
      .filter((c) => (!runningOnly || c.State.Running) && (c.MountPoints ?? []).some((m) => m.Type === 'volume' && m.Name === name))
      .map((c) => c.Id);
  return { usersOf: (name) => scan(name, false), runningUsersOf: (name) => scan(name, true) };
}

/** Docker's `Mounts` array of inspect and ps (Name and Driver left out when empty, as Go's omitempty). */
export function mountsJson(c: ContainerRecord): Array<Record<string, unknown>> {
  return (c.MountPoints ?? []).map((m) => ({
    Type: m.Type,
    ...(m.Name ? { Name: m.Name } : {}),
    Source: m.Source,
    Destination: m.Destination,
    ...(m.Driver ? { Driver: m.Driver } : {}),
    Mode: m.Mode,
    RW: m.RW,
    Propagation: m.Propagation,
  }));
}

/** The mount point a (resolved, absolute) container path lies in, the deepest one; null for the rootfs. */
export function mountPointOf(c: ContainerRecord, path: string): MountPoint | null {
  let best: MountPoint | null = null;
  for (const m of c.MountPoints ?? []) {
    const d = m.Destination;
    if ((path === d || path.startsWith(d === '/' ? '/' : `${d}/`)) && (best === null || d.length > best.Destination.length)) best = m;
  }
  return best;
}

/** Docker's `ps --filter volume=`: a volume name or a mount destination. */
export function usesVolume(c: ContainerRecord, value: string): boolean {
  return (c.MountPoints ?? []).some((m) => m.Name === value || m.Destination === value);
}

export class ContainerMounts {
  /**
   * `dirOf(id)`: the container's directory, where volume subpaths and image mounts are staged
   * while it runs; `images`: where `--mount type=image` finds images (absent: refused).
   */
  constructor(
    private readonly volumes: VolumeService,
    private readonly dirOf: (id: string) => string,
    private readonly images?: ImageMountSource,
  ) {}

  // ---- create ------------------------------------------------------------

  /**
   * Resolves the mounts a create asks for into mount points, creating the
   * named and anonymous volumes they need. `lookup` finds a --volumes-from
   * container. Bad input throws before any volume is made.
   */
  async resolve(id: string, h: HostConfig, config: ContainerConfig, lookup: (ref: string) => ContainerRecord, opts: ResolveOptions = {}): Promise<ResolvedMounts> {
    if (h.Binds !== undefined && h.Binds !== null && !isStringArray(h.Binds)) throw new InvalidArgumentError('invalid JSON: HostConfig.Binds must be an array of strings');
    if (h.VolumesFrom !== undefined && h.VolumesFrom !== null && !isStringArray(h.VolumesFrom)) throw new InvalidArgumentError('invalid JSON: HostConfig.VolumesFrom must be an array of strings');
    const apiMounts = h['Mounts'] as unknown;
    if (apiMounts !== undefined && apiMounts !== null && !Array.isArray(apiMounts)) throw new InvalidArgumentError('invalid JSON: HostConfig.Mounts must be an array');
    const tmpfs = new Set(Object.keys(h.Tmpfs ?? {}).map(cleanPath));
    const points = new Map<string, ParsedMount>();
    /** Mounts imported from another container: their volumes exist already. */
    const imported = new Set<ParsedMount>();
    /** Destinations taken by Binds and Mounts (volumes-from entries may be overridden). */
    const taken = new Set<string>();

    for (const spec of h.VolumesFrom ?? []) {
      const { container, rw } = parseVolumesFrom(spec);
      let src: ContainerRecord;
      try {
        src = lookup(container);
      } catch (e) {
        if (isNotFound(e)) throw new InvalidArgumentError((e as Error).message);
        throw e;
      }
      for (const m of src.MountPoints ?? []) {
        const p: ParsedMount = { ...m, RW: m.RW && rw, CopyData: false, volumeLabels: null, volumeOptions: null };
        points.set(p.Destination, p);
        imported.add(p);
      }
    }
    const volumeDriver = typeof h['VolumeDriver'] === 'string' ? h['VolumeDriver'] : '';
    for (const raw of h.Binds ?? []) {
      const p = parseBind(raw);
      if (p.Type === 'volume') p.Driver = volumeDriver;
      if (taken.has(p.Destination) || tmpfs.has(p.Destination)) throw duplicate(p.Destination);
      taken.add(p.Destination);
      points.set(p.Destination, p);
    }
    for (const m of (apiMounts as ApiMount[] | null | undefined) ?? []) {
      const p = parseApiMount(m);
      checkBindSource(p);
      if (taken.has(p.Destination) || tmpfs.has(p.Destination)) throw duplicate(m.Target ?? p.Destination);
      taken.add(p.Destination);
      points.set(p.Destination, p);
    }
    const anonymousFromConfig = new Set<ParsedMount>();
    for (const spec of Object.keys(config.Volumes ?? {})) {
      const dest = cleanPath(spec);
      if (points.has(dest) || tmpfs.has(dest)) continue;
      if (!dest.startsWith('/') || dest === '/') {
        throw new InvalidArgumentError(`invalid mount config for type "volume": invalid mount path: '${spec}' mount path must be absolute`);
      }
      const p = parseApiMount({ Type: 'volume', Target: dest });
      p.Driver = volumeDriver;
      points.set(dest, p);
      anonymousFromConfig.add(p);
    }

    // moby's defaultReadOnlyNonRecursive: through API < 1.44 a read-only bind is read-only on its top mount only.
    if (opts.defaultReadOnlyNonRecursive) {
      for (const p of points.values()) if (p.Type === 'bind' && !p.RW && !imported.has(p) && !p.ReadOnlyForceRecursive) p.ReadOnlyNonRecursive = true;
    }

    for (const p of points.values()) {
      if (p.Type !== 'image' || imported.has(p)) continue;
      if (!this.images) throw new InvalidArgumentError('invalid mount config for type "image": image mounts are not supported by this daemon');
      p.Source = this.images.resolve(p.Name);
    }

    // Everything a volume creation could refuse is checked before the first one is made.
    for (const p of points.values()) {
      if (p.Type !== 'volume' || imported.has(p)) continue;
      if (p.Driver !== '' && p.Driver !== DEFAULT_DRIVER) throw new NotFoundError(`error looking up volume plugin ${p.Driver}: plugin "${p.Driver}" not found`);
      if (p.Name !== '') validateLocalVolumeName(p.Name);
      try {
        validateLocalOptions(p.volumeOptions);
      } catch (e) {
        throw new InvalidArgumentError(`create ${p.Name}: ${(e as Error).message}`);
      }
    }
    for (const p of imported) if (p.Type === 'volume') this.volumes.get(p.Name);

    const created: string[] = [];
    const ref = `create-${id}`;
    const rollback = async (): Promise<void> => {
      this.volumes.release(ref);
      for (const name of created) await this.volumes.remove(name).catch(() => undefined);
    };
    try {
      this.volumes.hold(ref, [...points.values()].filter((p) => p.Type === 'volume' && p.Name !== '').map((p) => p.Name));
      for (const p of points.values()) {
        if (p.Type !== 'volume' || imported.has(p)) continue;
        const { volume, created: isNew } = await this.volumes.create({ name: p.Name, driver: p.Driver, options: p.volumeOptions, labels: p.volumeLabels });
        this.volumes.hold(ref, [volume.name]);
        if (isNew) created.push(volume.name);
        p.Name = volume.name;
        p.Driver = volume.driver;
        p.Source = this.volumes.dataPath(volume.name);
        // moby's setBindModeIfNull, for volumes from Binds and Mounts (not Config.Volumes).
        if (p.Mode === '' && !anonymousFromConfig.has(p)) p.Mode = 'z';
      }
    } catch (e) {
      await rollback();
      throw e;
    }
    return {
      points: [...points.values()].map(toMountPoint),
      rollback,
      commit: () => this.volumes.release(ref),
    };
  }

  // ---- start ---------------------------------------------------------------

  /**
   * Prepares the container's mounts for a start and returns them as OCI
   * mounts (parents before children). `c.MountPoints` is updated (copy-up
   * done); the caller saves the record. On failure nothing stays mounted.
   */
  async setup(c: ContainerRecord, rootfs: string): Promise<OciMount[]> {
    const list = [...(c.MountPoints ?? [])].sort((a, b) => depth(a.Destination) - depth(b.Destination));
    const out: OciMount[] = [];
    const mounted: string[] = [];
    let staged = 0;
    let images = 0;
    // What a previous run left staged (a crash); checked synchronously, as nearly every start has none (B86).
    for (const d of ['subpaths', 'images']) {
      const staging = join(this.dirOf(c.Id), d);
      if (existsSync(staging)) await releaseSubpaths(staging);
    }
    try {
      for (const mp of list) {
        if (mp.Type === 'tmpfs') {
          out.push(tmpfsMount(mp));
          continue;
        }
        let source = mp.Source;
        if (mp.Type === 'image') {
          source = await this.stageImage(c, mp, join(this.dirOf(c.Id), 'images', String(images++)));
        } else if (mp.Type === 'volume') {
          source = await this.volumes.mount(mp.Name, c.Id, { destination: mp.Destination, rw: mp.RW, propagation: mp.Propagation });
          mounted.push(mp.Name);
          if (mp.Subpath !== undefined) source = await stageSubpath(source, mp.Subpath, join(this.dirOf(c.Id), 'subpaths', String(staged++)));
        } else if (!(await stat(source).catch(() => null))) {
          if (!mp.CreateSource) throw new InvalidArgumentError(`invalid mount config for type "bind": bind source path does not exist: ${source}`);
          await mkdir(source, { recursive: true, mode: 0o755 });
        }
        const underOther = list.some((o) => o !== mp && o.Destination !== mp.Destination && mp.Destination.startsWith(`${o.Destination === '/' ? '' : o.Destination}/`));
        const inImage = join(rootfs, await resolveInScope(rootfs, mp.Destination));
        if (!underOther) await checkKinds(source, inImage, mp.Destination);
        // A subpath mount shows part of a volume: the image's content is not copied into it (moby).
        if (mp.Type === 'volume' && mp.CopyData && mp.Subpath === undefined) {
          await copyUp(inImage, source);
          mp.CopyData = false;
        }
        const options = [mp.NonRecursive ? 'bind' : 'rbind'];
        if (!mp.RW) options.push(readOnlyOption(mp));
        options.push(mp.Propagation || 'rprivate');
        out.push({ destination: mp.Destination, type: 'bind', source, options });
      }
    } catch (e) {
      await releaseSubpaths(join(this.dirOf(c.Id), 'images')).catch(() => undefined);
      await releaseSubpaths(join(this.dirOf(c.Id), 'subpaths')).catch(() => undefined);
      for (const name of mounted) await this.volumes.unmount(name, c.Id).catch(() => undefined);
      throw e;
    }
    return out;
  }

  /**
   * For `cp` into or out of a stopped container (moby's mountVolumes): its volumes and binds
   * mounted at their destinations inside its mounted `rootfs`, rprivate (an unmount must never
   * propagate), read-only where the container has them so; a missing mount point is made in the
   * container's layer, as Docker does. tmpfs and image mounts are skipped (nothing of the
   * container's to copy), and so
   * is a bind whose source is gone. Returns the undo (children before parents); on failure
   * nothing stays mounted. The caller holds the container's lock, so no start interleaves.
   */
  async mountForCopy(c: ContainerRecord, rootfs: string): Promise<() => Promise<void>> {
    const list = [...(c.MountPoints ?? [])].filter((m) => m.Type !== 'tmpfs' && m.Type !== 'image').sort((a, b) => depth(a.Destination) - depth(b.Destination));
    const made: string[] = [];
    const volumes: string[] = [];
    const staging = join(this.dirOf(c.Id), 'subpaths');
    let staged = 0;
    const undo = async (): Promise<void> => {
      for (const t of made.reverse()) await unmount(t).catch(() => undefined);
      await releaseSubpaths(staging).catch(() => undefined);
      for (const name of volumes) await this.volumes.unmount(name, c.Id).catch(() => undefined);
    };
    try {
      for (const mp of list) {
        let source = mp.Source;
        if (mp.Type === 'volume') {
          source = await this.volumes.mount(mp.Name, c.Id, { destination: mp.Destination, rw: mp.RW, propagation: mp.Propagation });
          volumes.push(mp.Name);
          if (mp.Subpath !== undefined) source = await stageSubpath(source, mp.Subpath, join(staging, String(staged++)));
        }
        const st = await stat(source).catch(() => null);
        if (st === null) continue;
        const dest = join(rootfs, await resolveInScope(rootfs, mp.Destination));
        const there = await lstat(dest).catch(() => null);
        if (there === null) {
          if (st.isDirectory()) await mkdir(dest, { recursive: true, mode: 0o755 });
          else {
            await mkdir(dirname(dest), { recursive: true, mode: 0o755 });
            await writeFile(dest, '', { flag: 'a', mode: 0o644 });
          }
        } else if (there.isDirectory() !== st.isDirectory()) continue;
        await mountAll([{ type: 'bind', source, options: [mp.NonRecursive ? 'bind' : 'rbind', mp.RW ? 'rw' : 'ro', 'rprivate'] }], dest);
        made.push(dest);
      }
    } catch (e) {
      await undo();
      throw e;
    }
    return undo;
  }

  /**
   * An image's filesystem, read-only, mounted at `target` for the container's run; with a
   * subpath, the host path of that path inside it (resolved in the image's scope: the image
   * cannot change under it, so no pinning is needed). Nothing stays mounted on failure.
   */
  private async stageImage(c: ContainerRecord, mp: MountPoint, target: string): Promise<string> {
    if (!this.images) throw new InvalidArgumentError('invalid mount config for type "image": image mounts are not supported by this daemon');
    const layers = await this.images.mounts(mp.Source, c);
    await mkdir(target, { recursive: true, mode: 0o700 });
    if (layers.length === 0) return target;
    await mountAll(layers.map((l) => (l.type === 'overlay' ? l : { ...l, options: [...l.options.filter((o) => o !== 'rw'), 'ro'] })), target);
    if (mp.Subpath === undefined) return target;
    const inImage = join(target, await resolveInScope(target, `/${mp.Subpath}`));
    if (!(await lstat(inImage).catch(() => null))) {
      await unmount(target).catch(() => undefined);
      throw new InvalidArgumentError(`cannot access path ${mp.Subpath} in image ${mp.Name}: no such file or directory`);
    }
    return inImage;
  }

  /** The container stopped (or never started): its volumes are no longer in use by it. Idempotent. */
  async release(c: ContainerRecord): Promise<void> {
    if ((c.MountPoints ?? []).some((m) => m.Subpath !== undefined)) await releaseSubpaths(join(this.dirOf(c.Id), 'subpaths')).catch(() => undefined);
    if ((c.MountPoints ?? []).some((m) => m.Type === 'image')) await releaseSubpaths(join(this.dirOf(c.Id), 'images')).catch(() => undefined);
    for (const mp of c.MountPoints ?? []) {
      if (mp.Type === 'volume') await this.volumes.unmount(mp.Name, c.Id).catch(() => undefined);
    }
  }

  // ---- remove ----------------------------------------------------------------

  /** The container is gone; with `anonymous` (rm -v, --rm) its anonymous volumes go too, unless another container uses them. */
  async removed(c: ContainerRecord, anonymous: boolean): Promise<void> {
    if (!anonymous) return;
    for (const mp of c.MountPoints ?? []) {
      if (mp.Type !== 'volume' || !mp.Anonymous) continue;
      // In use by another container (--volumes-from) or already gone: not this removal's business.
      // Any other failure leaves the volume for `volume rm`: the container is gone either way.
      await this.volumes.remove(mp.Name).catch(() => undefined);
    }
  }
}

/**
 * The read-only option of a bind or volume mount (moby's withMounts): recursively read-only
 * (`rro`: runc's mount_setattr(AT_RECURSIVE)) unless asked otherwise or the kernel is older
 * than 5.12, where `bind-recursive=readonly` fails instead of falling back.
 */
export function readOnlyOption(mp: Pick<MountPoint, 'ReadOnlyNonRecursive' | 'ReadOnlyForceRecursive'>, kernel = release()): 'ro' | 'rro' {
  if (mp.ReadOnlyNonRecursive) return 'ro';
  const [major = 0, minor = 0] = kernel.split('.').map((x) => parseInt(x, 10));
  if (major > 5 || (major === 5 && minor >= 12)) return 'rro';
  if (mp.ReadOnlyForceRecursive) throw new InvalidArgumentError(`recursively read-only mounts need Linux 5.12 or later (this kernel is ${kernel})`);
  return 'ro';
}

/** A file cannot be mounted onto a directory nor a directory onto a file; runc would fail mid-start. */
async function checkKinds(source: string, inImage: string, destination: string): Promise<void> {
  const dst = await lstat(inImage).catch(() => null);
  if (!dst) return;
  const src = await stat(source);
  if (src.isDirectory() === dst.isDirectory()) return;
  throw new InvalidArgumentError(
    // The kernel's answer either way is ENOTDIR, which is what Docker reports.
    `error mounting "${source}" to rootfs at "${destination}": not a directory: ` +
      'Are you trying to mount a directory onto a file (or vice-versa)? Check if the specified host path exists and is the expected type',
  );
}

/** A tmpfs from --mount type=tmpfs: noexec,nosuid,nodev unless its options say otherwise (moby's MergeTmpfsOptions). */
function tmpfsMount(mp: MountPoint): OciMount {
  const user = mp.TmpfsData === '' ? [] : mp.TmpfsData.split(',');
  const base = ['noexec', 'nosuid', 'nodev'].filter((o) => !user.some((u) => u === o || u === o.slice(2)));
  return { destination: mp.Destination, type: 'tmpfs', source: 'tmpfs', options: [...base, ...user] };
}
