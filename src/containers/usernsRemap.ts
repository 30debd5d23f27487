/**
 * containers/usernsRemap: what `berthd --userns-remap` means for one container
 * — unless it asked for `--userns=host`: Docker's create-time refusals, the
 * container layer and bundle files owned by the mapped root, lower layers
 * swapped for their shifted copies (snapshots/remappedLayers), and the user
 * namespace in the OCI spec. ContainerService calls it at create and start;
 * it never starts, mounts or removes anything itself.
 */
import { chown, lstat, mkdir, readlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InvalidArgumentError } from '../errdefs/errors.js';
import type { Mount } from '../snapshots/overlaySnapshotter.js';
import type { RemappedLayers } from '../snapshots/remappedLayers.js';
import { toContainer, toHost, type IdMap } from '../util/idmap.js';
import type { IdShift } from './archive.js';
import { withUserNamespace } from '../runtime/userns.js';
import type { SpecOpt } from '../runtime/spec.js';
import type { ContainerRecord, HostConfig } from './types.js';

export interface RemapIds {
  map: IdMap;
  /** Host uid/gid of the container's root. */
  rootUid: number;
  rootGid: number;
}

function usernsMode(h: HostConfig): string {
  const m = h['UsernsMode'];
  return typeof m === 'string' ? m : '';
}

export class ContainerUserns {
  constructor(
    readonly ids: RemapIds,
    private readonly layers: RemappedLayers,
  ) {}

  /** Whether the container runs in the daemon's user namespace (not `--userns=host`). */
  appliesTo(h: HostConfig): boolean {
    return usernsMode(h) !== 'host';
  }

  /** moby's verifyPlatformContainerSettings for a remapping daemon; throws 400s. */
  validate(h: HostConfig): void {
    const mode = usernsMode(h);
    if (mode !== '' && mode !== 'host') throw new InvalidArgumentError(`invalid USER NS mode: "${mode}": only "host" is supported`);
    if (!this.appliesTo(h)) return;
    if (h.Privileged === true) {
      throw new InvalidArgumentError(
        'privileged mode is incompatible with user namespaces.  You must run the container in the host namespace when running privileged mode',
      );
    }
    if (h.NetworkMode === 'host') throw new InvalidArgumentError("cannot share the host's network namespace when user namespaces are enabled");
    if (h['PidMode'] === 'host') throw new InvalidArgumentError('cannot share the host PID namespace when user namespaces are enabled');
  }

  /**
   * At create: the container layer (upper and work dirs) belongs to the
   * mapped root, and its bundle directory (0710) lets that group through, so
   * runc's init — already inside the namespace — reaches the bind sources.
   */
  async prepareContainer(h: HostConfig, upperFs: string, containerDir: string): Promise<void> {
    if (!this.appliesTo(h)) return;
    await chown(upperFs, this.ids.rootUid, this.ids.rootGid);
    await chown(join(dirname(upperFs), 'work'), this.ids.rootUid, this.ids.rootGid).catch(() => undefined);
    await chown(containerDir, 0, this.ids.rootGid);
  }

  /** The rootfs mounts to use: lower layers replaced by their shifted copies. */
  async mounts(h: HostConfig, mounts: Mount[]): Promise<Mount[]> {
    return this.appliesTo(h) ? this.layers.mounts(mounts) : mounts;
  }

  /**
   * At start, what Docker gives the remapped root: /etc/hostname, /etc/hosts,
   * /etc/resolv.conf to edit, the top directory of each local volume still
   * owned by host root (a new, empty volume), and a working directory made
   * for it when the image lacks one. Bind sources stay as the user made them.
   */
  async prepareBundle(c: ContainerRecord, containerDir: string, rootfs: string): Promise<void> {
    if (!this.appliesTo(c.HostConfig)) return;
    const root = { uid: this.ids.rootUid, gid: this.ids.rootGid };
    for (const f of ['hostname', 'hosts', 'resolv.conf']) {
      const p = join(containerDir, f);
      if (await lstat(p).then((s) => s.isFile(), () => false)) await chown(p, root.uid, root.gid);
    }
    for (const m of c.MountPoints ?? []) {
      if (m.Type !== 'volume' || (m.Driver !== 'local' && m.Driver !== '') || m.Source === '') continue;
      const st = await lstat(m.Source).catch(() => null);
      if (st?.isDirectory() && st.uid === 0 && st.gid === 0) await chown(m.Source, root.uid, root.gid);
    }
    await this.ensureWorkdir(rootfs, c.Config.WorkingDir || '/');
  }

  /** Creates the missing parts of the working directory owned by the mapped root (never through a symlink). */
  private async ensureWorkdir(rootfs: string, dir: string): Promise<void> {
    const parts = dir.split('/').filter((p) => p !== '' && p !== '.');
    if (parts.includes('..')) return; // refused later by the spec builder, with its message
    let cur = rootfs;
    for (const p of parts) {
      cur = join(cur, p);
      const st = await lstat(cur).catch(() => null);
      if (st !== null) {
        if (!st.isDirectory()) return;
        continue;
      }
      await mkdir(cur, { mode: 0o755 });
      await chown(cur, this.ids.rootUid, this.ids.rootGid);
    }
  }

  /**
   * For commit: how a file's host owner in this container layer reads inside
   * the container (ids outside the map read as nobody, 65534, as the kernel
   * shows them); undefined when the layer is not remapped (its top directory
   * is not owned by the mapped root).
   */
  async layerIds(upperFs: string): Promise<((uid: number, gid: number) => { uid: number; gid: number }) | undefined> {
    const st = await lstat(upperFs).catch(() => null);
    if (st === null || st.uid !== this.ids.rootUid) return undefined;
    const { uids, gids } = this.ids.map;
    return (uid, gid) => ({ uid: toContainer(uids, uid) ?? 65534, gid: toContainer(gids, gid) ?? 65534 });
  }

  /**
   * For cp and export: owners as the container sees them and back (Docker's IdentityMapping);
   * undefined for `--userns=host`. An owner outside the map cannot be written into the container.
   */
  idShift(h: HostConfig): IdShift | undefined {
    if (!this.appliesTo(h)) return undefined;
    const { uids, gids } = this.ids.map;
    return {
      toContainer: (uid, gid) => ({ uid: toContainer(uids, uid) ?? 65534, gid: toContainer(gids, gid) ?? 65534 }),
      toHost: (uid, gid) => {
        const u = toHost(uids, uid);
        const g = toHost(gids, gid);
        // moby's idtools wording.
        if (u === null) throw new InvalidArgumentError(`Container ID ${uid} cannot be mapped to a host ID`);
        if (g === null) throw new InvalidArgumentError(`Container ID ${gid} cannot be mapped to a host ID`);
        return { uid: u, gid: g };
      },
      hostUid: (uid) => toHost(uids, uid),
    };
  }

  /**
   * `--network container:X` (`candidate` is X's `/proc/<pid>/ns/user`): the user namespace to join
   * with X's network namespace, as Docker does — X's own, when X runs in one (remapped: it then
   * owns that network namespace). Undefined when X is in the host's (`--userns=host`).
   */
  async joinableUserns(h: HostConfig, candidate: string | undefined): Promise<string | undefined> {
    if (!this.appliesTo(h) || candidate === undefined) return undefined;
    const [theirs, host] = await Promise.all([readlink(candidate).catch(() => null), readlink('/proc/self/ns/user')]);
    return theirs !== null && theirs !== host ? candidate : undefined;
  }

  /**
   * The spec change: a user namespace with the daemon's maps — `joinUserns` (from
   * joinableUserns) joined instead of a new one made; null for `--userns=host`.
   */
  specOpt(h: HostConfig, joinUserns?: string): SpecOpt | null {
    if (!this.appliesTo(h)) return null;
    const userns = withUserNamespace(this.ids.map);
    return (spec) => {
      userns(spec);
      const net = spec.linux.namespaces.find((n) => n.type === 'network');
      if (joinUserns !== undefined && net?.path !== undefined) {
        // The joined network namespace belongs to this user namespace: sysfs can be mounted.
        // runc joins the user namespace first, and keeps the maps for its own use (as Docker passes them).
        const user = spec.linux.namespaces.find((n) => n.type === 'user');
        if (user !== undefined) user.path = joinUserns;
        return;
      }
      if (net === undefined || net.path !== undefined) {
        // Only the owner of a network namespace may mount sysfs; the host's, or one made by the host
        // (`container:` a --userns=host container), belongs to the host's user namespace, so runc's
        // mount would fail with EPERM. Bind the host's /sys instead (podman does the same); the
        // mapped root cannot write it. (A remapped container's own namespace is made by runc inside
        // its user namespace: network/containerNetworking SetUpOptions.)
        spec.mounts = spec.mounts.map((m) =>
          m.type === 'sysfs' ? { destination: m.destination, type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] } : m,
        );
      }
    };
  }
}
