/**
 * containers/mountPoints: a container's volumes, binds and tmpfs mounts over
 * its life, in moby's order and with its rules —
 *   create: VolumesFrom, then Binds, then Mounts (duplicate destinations are a
 *     400), then the anonymous volumes of Config.Volumes and the image's
 *     VOLUMEs where nothing else is mounted; named volumes are created on
 *     first use. Everything is checked before anything is made, and what was
 *     made is undone if the create fails.
 *   start: volumes mounted (refcounted), missing -v sources made, file/dir
 *     mismatches refused before the process runs, an empty volume filled from
 *     the image (copy-up) on the container's first start; OCI mounts out.
 *   stop: volumes released. rm -v / --rm: the anonymous volumes removed.
 * Reads the container's rootfs (mounted by the caller); never writes in it.
 */
import { lstat, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError, NotFoundError, isNotFound } from '../errdefs/errors.js';
import type { OciMount } from '../runtime/ociTypes.js';
import { copyUp } from '../volumes/copyUp.js';
import { validateLocalOptions } from '../volumes/localDriver.js';
import { checkBindSource, cleanPath, parseApiMount, parseBind, parseVolumesFrom, toMountPoint, type ApiMount, type MountPoint, type ParsedMount } from '../volumes/mountSpec.js';
import { DEFAULT_DRIVER, validateLocalVolumeName } from '../volumes/names.js';
import type { VolumeService, VolumeUsers } from '../volumes/volumeService.js';
import { resolveInScope } from './archive.js';
import type { ContainerConfig, ContainerRecord, HostConfig } from './types.js';

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

/** Docker's `ps --filter volume=`: a volume name or a mount destination. */
export function usesVolume(c: ContainerRecord, value: string): boolean {
  return (c.MountPoints ?? []).some((m) => m.Name === value || m.Destination === value);
}

export class ContainerMounts {
  constructor(private readonly volumes: VolumeService) {}

  // ---- create ------------------------------------------------------------

  /**
   * Resolves the mounts a create asks for into mount points, creating the
   * named and anonymous volumes they need. `lookup` finds a --volumes-from
   * container. Bad input throws before any volume is made.
   */
  async resolve(id: string, h: HostConfig, config: ContainerConfig, lookup: (ref: string) => ContainerRecord): Promise<ResolvedMounts> {
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
    try {
      for (const mp of list) {
        if (mp.Type === 'tmpfs') {
          out.push(tmpfsMount(mp));
          continue;
        }
        let source = mp.Source;
        if (mp.Type === 'volume') {
          source = await this.volumes.mount(mp.Name, c.Id, { destination: mp.Destination, rw: mp.RW, propagation: mp.Propagation });
          mounted.push(mp.Name);
        } else if (!(await stat(source).catch(() => null))) {
          if (!mp.CreateSource) throw new InvalidArgumentError(`invalid mount config for type "bind": bind source path does not exist: ${source}`);
          await mkdir(source, { recursive: true, mode: 0o755 });
        }
        const underOther = list.some((o) => o !== mp && o.Destination !== mp.Destination && mp.Destination.startsWith(`${o.Destination === '/' ? '' : o.Destination}/`));
        const inImage = join(rootfs, await resolveInScope(rootfs, mp.Destination));
        if (!underOther) await checkKinds(source, inImage, mp.Destination);
        if (mp.Type === 'volume' && mp.CopyData) {
          await copyUp(inImage, source);
          mp.CopyData = false;
        }
        const options = [mp.NonRecursive ? 'bind' : 'rbind'];
        if (!mp.RW) options.push('ro');
        options.push(mp.Propagation || 'rprivate');
        out.push({ destination: mp.Destination, type: 'bind', source, options });
      }
    } catch (e) {
      for (const name of mounted) await this.volumes.unmount(name, c.Id).catch(() => undefined);
      throw e;
    }
    return out;
  }

  /** The container stopped (or never started): its volumes are no longer in use by it. Idempotent. */
  async release(c: ContainerRecord): Promise<void> {
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
