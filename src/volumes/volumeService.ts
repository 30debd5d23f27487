/**
 * volumes/volumeService: named and anonymous volumes — create (an existing
 * name returns the volume), inspect, list with Docker's filters, remove
 * (refused while any container, running or not, refers to it), prune — and
 * mounting them for containers: a volume with driver options is mounted when
 * its first user starts and unmounted when its last user stops.
 *
 * Knows containers only through the `VolumeUsers` callbacks the daemon wires
 * in (which container records name a volume); never reads container records
 * or touches a container's filesystem itself. Publishes Docker's volume events.
 */
import { ConflictError, InvalidArgumentError, NotFoundError } from '../errdefs/errors.js';
import type { EventBus } from '../events/eventBus.js';
import type { Db } from '../metadata/db.js';
import { KeyedLock } from '../util/keyedLock.js';
import { LocalDriver, needsMount, validateLocalOptions } from './localDriver.js';
import { ANONYMOUS_LABEL, DEFAULT_DRIVER, anonymousVolumeName, validateLocalVolumeName } from './names.js';
import { VolumeStore, type VolumeRecord } from './volumeStore.js';

/** Which containers refer to a volume; the containers service answers. */
export interface VolumeUsers {
  /** IDs of every container (any state) whose mounts name the volume. */
  usersOf(name: string): string[];
  /** IDs of the running (or restarting) containers whose mounts name the volume. */
  runningUsersOf(name: string): string[];
}

export interface CreateVolumeRequest {
  /** "" makes an anonymous volume (a random 64-hex name and the anonymous label). */
  name: string;
  driver?: string;
  options?: Record<string, string> | null;
  labels?: Record<string, string> | null;
}

/** The Engine API's Volume object, fields in moby's order. */
export interface VolumeJson {
  CreatedAt: string;
  Driver: string;
  Labels: Record<string, string> | null;
  Mountpoint: string;
  Name: string;
  Options: Record<string, string> | null;
  Scope: 'local';
  UsageData?: { RefCount: number; Size: number };
}

export type VolumeFilters = Map<string, string[]>;

/** Go's time.Format(time.RFC3339) in local time: seconds, "Z" or ±hh:mm. */
export function rfc3339Local(iso: string): string {
  const d = new Date(iso);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const zone = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${p2(Math.floor(Math.abs(off) / 60))}:${p2(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}T${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}${zone}`;
}

/** strconv.ParseBool. */
function parseGoBool(v: string): boolean | null {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return null;
}

function checkKeys(f: VolumeFilters, allowed: readonly string[]): void {
  for (const k of f.keys()) if (!allowed.includes(k)) throw new InvalidArgumentError(`invalid filter '${k}'`);
}

/** `label=key` / `label=key=value`: every one given must match. */
function labelsMatch(filters: readonly string[], labels: Record<string, string> | null): boolean {
  const l = labels ?? {};
  return filters.every((f) => {
    const i = f.indexOf('=');
    return i < 0 ? f in l : l[f.slice(0, i)] === f.slice(i + 1);
  });
}

/** filters.Args.Match: an exact value, or a regular expression that matches somewhere. */
function nameMatches(patterns: readonly string[], name: string): boolean {
  return patterns.some((p) => {
    if (p === name) return true;
    try {
      return new RegExp(p).test(name);
    } catch {
      return false;
    }
  });
}

export class VolumeService {
  private readonly store: VolumeStore;
  private readonly driver: LocalDriver;
  private readonly lock = new KeyedLock();
  /** In-flight references (a container being created), so a prune cannot take a volume from under it. */
  private readonly holds = new Map<string, Set<string>>();
  /** Containers of this daemon's lifetime that have the volume mounted (started, not yet stopped). */
  private readonly mountRefs = new Map<string, Set<string>>();
  private users: VolumeUsers = { usersOf: () => [], runningUsersOf: () => [] };
  private pruning = false;

  constructor(
    db: Db,
    dataRoot: string,
    private readonly events: EventBus,
  ) {
    this.store = new VolumeStore(db);
    this.driver = new LocalDriver(dataRoot);
  }

  /** Wires in the containers' view of who uses which volume (the daemon does, once both exist). */
  setUsers(users: VolumeUsers): void {
    this.users = users;
  }

  /**
   * Makes the volumes directory and reconciles it with the database after a
   * crash: a directory without a row was never (or no longer) a volume; a row
   * whose directory went missing gets an empty one back.
   */
  async init(): Promise<void> {
    await this.driver.init();
    const known = new Set(this.store.list().map((v) => v.name));
    for (const dir of await this.driver.listDirs()) {
      if (!known.has(dir) && !(await this.driver.isMounted(dir))) await this.driver.remove(dir).catch(() => undefined);
    }
    for (const name of known) await this.driver.create(name);
  }

  // ---- create / get / list -------------------------------------------------

  /** `POST /volumes/create`; an existing name (same driver) returns that volume. `created` says whether it is new. */
  async create(req: CreateVolumeRequest): Promise<{ volume: VolumeRecord; created: boolean }> {
    const driver = req.driver || DEFAULT_DRIVER;
    if (driver !== DEFAULT_DRIVER) throw new NotFoundError(`error looking up volume plugin ${driver}: plugin "${driver}" not found`);
    const anonymous = req.name === '';
    const name = anonymous ? anonymousVolumeName() : req.name;
    validateLocalVolumeName(name);
    const options = req.options ?? null;
    try {
      validateLocalOptions(options);
    } catch (e) {
      throw new InvalidArgumentError(`create ${name}: ${(e as Error).message}`);
    }
    const labels = anonymous ? { ...(req.labels ?? {}), [ANONYMOUS_LABEL]: '' } : (req.labels ?? null);
    return this.lock.run(name, async () => {
      const existing = this.store.get(name);
      if (existing) {
        if (existing.driver !== driver) throw new ConflictError(`create ${name}: volume name must be unique`);
        return { volume: existing, created: false };
      }
      const rec: VolumeRecord = { name, driver, created: new Date().toISOString(), labels, options, anonymous };
      await this.driver.create(name);
      try {
        this.store.insert(rec);
      } catch (e) {
        await this.driver.remove(name).catch(() => undefined);
        throw e;
      }
      this.events.publish('volume', 'create', name, { driver });
      return { volume: rec, created: true };
    });
  }

  get(name: string): VolumeRecord {
    const v = this.store.get(name);
    if (!v) throw new NotFoundError(`get ${name}: no such volume`);
    return v;
  }

  /** The volume as the API shows it; `usage` adds UsageData (size on disk, containers referring to it). */
  async present(v: VolumeRecord, opts: { usage?: boolean } = {}): Promise<VolumeJson> {
    const out: VolumeJson = {
      CreatedAt: rfc3339Local(v.created),
      Driver: v.driver,
      Labels: v.labels,
      Mountpoint: this.driver.dataPath(v.name),
      Name: v.name,
      Options: v.options,
      Scope: 'local',
    };
    if (opts.usage) out.UsageData = { RefCount: this.usersOf(v.name).length, Size: await this.driver.size(v.name) };
    return out;
  }

  /** `GET /volumes` with Docker's filters: dangling, driver, label, name. */
  list(filters: VolumeFilters): VolumeRecord[] {
    checkKeys(filters, ['dangling', 'driver', 'label', 'name']);
    let dangling: boolean | null = null;
    const d = filters.get('dangling');
    if (d && d.length > 0) {
      const b = parseGoBool(d[0] as string);
      if (b === null || d.length > 1) throw new InvalidArgumentError(`invalid filter 'dangling=${d.join(',')}'`);
      dangling = b;
    }
    const drivers = filters.get('driver');
    const labels = filters.get('label');
    const names = filters.get('name');
    return this.store.list().filter((v) => {
      if (drivers && drivers.length > 0 && !drivers.includes(v.driver)) return false;
      if (names && names.length > 0 && !nameMatches(names, v.name)) return false;
      if (labels && !labelsMatch(labels, v.labels)) return false;
      if (dangling !== null && (this.usersOf(v.name).length === 0) !== dangling) return false;
      return true;
    });
  }

  // ---- references ------------------------------------------------------------

  /** Containers referring to the volume: recorded ones plus those being created right now. */
  usersOf(name: string): string[] {
    const ids = new Set(this.users.usersOf(name));
    for (const id of this.holds.get(name) ?? []) ids.add(id);
    return [...ids];
  }

  /** Marks `names` as in use by `ref` (a container being created) until release(). */
  hold(ref: string, names: readonly string[]): void {
    for (const n of names) {
      const s = this.holds.get(n) ?? new Set<string>();
      s.add(ref);
      this.holds.set(n, s);
    }
  }

  release(ref: string): void {
    for (const [n, s] of this.holds) {
      s.delete(ref);
      if (s.size === 0) this.holds.delete(n);
    }
  }

  // ---- remove / prune ----------------------------------------------------------

  /**
   * `DELETE /volumes/{name}`: 409 while any container refers to it. `force`
   * makes a missing volume a success (moby's purge-on-error), never removes
   * one in use.
   */
  async remove(name: string, opts: { force?: boolean } = {}): Promise<void> {
    await this.lock.run(name, async () => {
      const v = this.store.get(name);
      if (!v) {
        if (opts.force) return;
        throw new NotFoundError(`get ${name}: no such volume`);
      }
      const users = this.usersOf(name);
      if (users.length > 0) throw new ConflictError(`remove ${name}: volume is in use - [${users.join(', ')}]`);
      await this.driver.remove(name);
      this.store.delete(name);
      this.mountRefs.delete(name);
      this.events.publish('volume', 'destroy', name, { driver: v.driver });
    });
  }

  /**
   * `POST /volumes/prune`: unused local volumes without mount options —
   * anonymous ones only unless the filter says `all=true` — matching the
   * label filters. Returns what went and the bytes freed.
   */
  async prune(filters: VolumeFilters): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }> {
    checkKeys(filters, ['label', 'label!', 'all']);
    let all = false;
    const a = filters.get('all') ?? [];
    if (a.length > 1) throw new InvalidArgumentError(`invalid filter 'all=[${a.join(' ')}]': only one value is expected`);
    if (a.length === 1) {
      const b = parseGoBool(a[0] as string);
      if (b === null) throw new InvalidArgumentError(`invalid filter 'all': strconv.ParseBool: parsing ${JSON.stringify(a[0])}: invalid syntax`);
      all = b;
    }
    if (this.pruning) throw new ConflictError('a prune operation is already running');
    this.pruning = true;
    try {
      const labels = [...(filters.get('label') ?? []), ...(all ? [] : [ANONYMOUS_LABEL])];
      const notLabels = filters.get('label!') ?? [];
      const deleted: string[] = [];
      let reclaimed = 0;
      for (const v of this.store.list()) {
        if (v.driver !== DEFAULT_DRIVER || (v.options && Object.keys(v.options).length > 0)) continue;
        if (!labelsMatch(labels, v.labels)) continue;
        if (notLabels.some((f) => labelsMatch([f], v.labels))) continue;
        if (this.usersOf(v.name).length > 0) continue;
        const size = await this.driver.size(v.name);
        try {
          await this.remove(v.name);
        } catch {
          // taken by a container meanwhile, or gone: skip it, as Docker does
          continue;
        }
        deleted.push(v.name);
        reclaimed += Math.max(0, size);
      }
      this.events.publish('volume', 'prune', '', { reclaimed: String(reclaimed) });
      return { VolumesDeleted: deleted, SpaceReclaimed: reclaimed };
    } finally {
      this.pruning = false;
    }
  }

  // ---- mounting for containers ---------------------------------------------------

  /**
   * The host path a container mounts for the volume, mounting the volume's
   * device first when it has one and no other user has mounted it yet.
   * Every mount() is paired with an unmount() for the same container.
   */
  async mount(name: string, containerId: string, detail: { destination: string; rw: boolean; propagation: string }): Promise<string> {
    return this.lock.run(name, async () => {
      const v = this.get(name);
      if (needsMount(v.options)) await this.driver.mount(name, v.options ?? {});
      else await this.driver.create(name);
      const refs = this.mountRefs.get(name) ?? new Set<string>();
      refs.add(containerId);
      this.mountRefs.set(name, refs);
      this.events.publish('volume', 'mount', name, {
        driver: v.driver,
        container: containerId,
        destination: detail.destination,
        'read/write': String(detail.rw),
        propagation: detail.propagation,
      });
      return this.driver.dataPath(name);
    });
  }

  /**
   * The container no longer uses the volume. Its device is unmounted when no
   * other container has it mounted — counting, after a daemon restart, the
   * containers recorded as running. Safe to call when nothing was mounted.
   */
  async unmount(name: string, containerId: string): Promise<void> {
    await this.lock.run(name, async () => {
      const refs = this.mountRefs.get(name);
      const had = refs?.delete(containerId) ?? false;
      if (refs && refs.size === 0) this.mountRefs.delete(name);
      const v = this.store.get(name);
      if (!v) return;
      if (had) this.events.publish('volume', 'unmount', name, { driver: v.driver, container: containerId });
      if (!needsMount(v.options) || (refs && refs.size > 0)) return;
      if (this.users.runningUsersOf(name).some((id) => id !== containerId)) return;
      await this.driver.unmount(name);
    });
  }

  /** Whether the volume's data directory holds nothing yet (image content is copied only into an empty volume). */
  isEmpty(name: string): Promise<boolean> {
    return this.driver.isEmpty(name);
  }

  dataPath(name: string): string {
    return this.driver.dataPath(name);
  }
}
