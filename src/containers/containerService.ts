/**
 * containers/containerService: the container lifecycle — create, start, stop,
 * restart, kill, pause, unpause, rename, update, wait, attach, logs, resize,
 * remove — restart policies with Docker's back-off, and recovery after a
 * daemon restart (live restore: running containers stay; policies resume).
 * Container state changes only through the state machine, under a
 * per-container lock. Talks to images (read-only), snapshots and the runtime;
 * knows nothing of HTTP.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { lstat, readdir } from 'node:fs/promises';
import { ConflictError, ForbiddenError, InvalidArgumentError, NotFoundError, NotImplementedError, NotModifiedError, SystemError, isConflict, messageOf } from '../errdefs/errors.js';
import type { EventBus } from '../events/eventBus.js';
import type { ImageStore } from '../images/imageStore.js';
import type { OverlaySnapshotter } from '../snapshots/overlaySnapshotter.js';
import { isMounted, mountAll, unmount } from '../util/mount.js';
import { removeFileSync } from '../util/smallFiles.js';
import { KeyedLock } from '../util/keyedLock.js';
import { ConmonRuntime, RuntimeCreateError } from '../runtime/conmonRuntime.js';
import { ExitWatcher, type ExitInfo } from '../runtime/exitWatcher.js';
import { attach as attachConmon, resize as resizeConmon } from '../runtime/attach.js';
import { readLogs, type LogEntry } from '../runtime/logs.js';
import { ContainerStore, validateName } from './containerStore.js';
import { commandOf, mergeImageConfig, validateCreateBody } from './createConfig.js';
import { buildContainerSpec, resourcesOf, resourceWarnings, writeEtcFiles } from './containerSpec.js';
import { randomName } from './names.js';
import { transition } from './stateMachine.js';
import { initialState, ZERO_TIME, type ContainerRecord } from './types.js';
import { parseSignal } from './signals.js';
import { ExecService } from './execService.js';
import { decideRestart, restartOnDaemonStart } from './restartPolicy.js';
import { mergeUpdate, validateUpdateBody } from './updateConfig.js';
import { BUILTIN_LOG_DEFAULTS, logPolicy, normalizeLogConfig, type LogDefaults, type LogPolicy } from './logConfig.js';
import { LogRotator } from './logRotator.js';
import { StatsService } from './statsService.js';
import { HealthMonitor } from './healthMonitor.js';
import { archivePath, exportRoot, extractInto, overlayChanges, statPath, type Change, type ExtractOptions, type PathStat } from './archive.js';
import { ContainerMounts, mountPointOf, type ResolveOptions } from './mountPoints.js';
import type { VolumeService } from '../volumes/volumeService.js';
import { withUserMounts } from '../runtime/spec.js';
import type { ContainerNetworking, ContainerNetworkView, NetworkSetUp } from '../network/containerNetworking.js';
import type { ContainerUserns } from './usernsRemap.js';
import type { Trash } from '../util/trash.js';
import { mountRootfs } from './rootfsMount.js';
import { graphDriverData, type GraphDriverData } from './graphDriver.js';
import { pumpStdin } from './stdinPump.js';
import { DEFAULT_ESCAPE_KEYS, EscapeProxy } from '../util/escapeKeys.js';

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

export interface WaitResult {
  StatusCode: number;
  Error: { Message: string } | null;
}

/** Where attached output goes; the API layer frames it (stdcopy or raw TTY). */
export interface AttachSink {
  stdout?: (chunk: Buffer) => void;
  stderr?: (chunk: Buffer) => void;
  /** The container's output is over (it exited or detached). */
  end: () => void;
}

export interface AttachRequest {
  stdin: Readable | null;
  sink: AttachSink;
  signal: AbortSignal;
  /** A TTY attach detaches when the client types these (moby: default ctrl-p ctrl-q). */
  detachKeys?: number[];
}

export interface LogsRequest {
  follow: boolean;
  stdout: boolean;
  stderr: boolean;
  tail: number;
  /** A Date, or nanoseconds since the epoch (a `logs -t` timestamp's precision). */
  since?: Date | bigint;
  until?: Date | bigint;
  signal: AbortSignal;
}

export interface ContainerServiceOptions {
  root: string;
  runtime: ConmonRuntime;
  cgroupParent: string;
  /** The daemon's default log options (rotation); default max-size 10m, max-file 3. */
  logDefaults?: LogDefaults;
  /** Volumes for the containers' mounts (containers/mountPoints). */
  volumes: VolumeService;
  /** Networks, ports, DNS and /etc files (network/); without it containers get loopback only. */
  networking?: ContainerNetworking;
  /** `berthd --userns-remap`: containers' root maps to an unprivileged host range (containers/usernsRemap). */
  userns?: ContainerUserns;
  /** Where removed containers' directories are deleted in the background (util/trash); without it, in place. */
  trash?: Trash;
}

interface Waiter {
  id: string;
  condition: WaitCondition;
  resolve: (r: WaitResult) => void;
}

interface RestartState {
  /** The back-off of the last restart, for the next one. */
  delayMs: number;
  timer?: NodeJS.Timeout | undefined;
}

/** Hooks other container features (log rotation, health checks) attach to the lifecycle. */
export interface LifecycleHooks {
  started?: (c: ContainerRecord) => void;
  stopped?: (c: ContainerRecord) => void;
  removed?: (id: string) => void;
}

export class ContainerService {
  readonly store: ContainerStore;
  private readonly lock = new KeyedLock();
  private readonly waiters = new Set<Waiter>();
  private readonly pendingAttach = new Map<string, AttachRequest[]>();
  private readonly exits: ExitWatcher;
  private readonly exitDir: string;
  private readonly restarts = new Map<string, RestartState>();
  /** Ids whose rootfs this process unmounted and has not mounted since (releaseRuntime skips the umount2). */
  private readonly rootfsUnmounted = new Set<string>();
  private readonly hooks: LifecycleHooks[] = [];
  private closed = false;
  /** `docker exec` instances of this service's containers. */
  readonly execs: ExecService;
  /** Keeps running containers' logs under their max-size × max-file. */
  readonly logRotator = new LogRotator();
  /** `stats` and `top`. */
  readonly stats: StatsService;
  /** Runs healthcheck probes of running containers. */
  readonly health: HealthMonitor;
  /** Volumes, binds and tmpfs mounts: resolved at create, set up at start, released at stop. */
  readonly mounts: ContainerMounts;

  constructor(
    private readonly opts: ContainerServiceOptions,
    store: ContainerStore,
    private readonly images: ImageStore,
    private readonly snapshots: OverlaySnapshotter,
    private readonly events: EventBus,
  ) {
    this.store = store;
    this.mounts = new ContainerMounts(opts.volumes, (id) => this.dir(id), {
      resolve: (ref) => this.images.resolve(ref).id,
      mounts: async (imageId, c) => {
        const top = this.images.topSnapshot(this.images.resolve(imageId));
        const layers = top === null ? [] : this.snapshots.mounts(top);
        return (await this.opts.userns?.mounts(c.HostConfig, layers)) ?? layers;
      },
    });
    // Bad daemon defaults fail here, at start-up, rather than at every create.
    normalizeLogConfig(undefined, opts.logDefaults ?? BUILTIN_LOG_DEFAULTS);
    this.exitDir = join(opts.root, 'exits');
    this.exits = new ExitWatcher(this.exitDir, { persistDirFor: (id) => join(this.dir(id), 'persist') });
    this.execs = new ExecService({
      store,
      runtime: opts.runtime,
      events,
      dir: (id) => this.dir(id),
      eventAttributes: (c, extra) => this.eventAttributes(c, extra),
    });
    this.stats = new StatsService({
      get: (ref) => this.store.resolve(ref),
      cgroupParent: opts.cgroupParent,
      publish: (c, action) => this.publish(c, action),
    });
    this.health = new HealthMonitor({
      probe: (id, cmd, timeoutMs) => this.execs.runProbe(id, cmd, timeoutMs),
      save: (id, fn) =>
        this.lock.run(id, async () => {
          const c = this.store.get(id);
          if (!c || !c.State.Running || c.State.Restarting) return null;
          fn(c);
          this.store.update(c);
          return c;
        }),
      publish: (c, action) => this.publish(c, action),
    });
  }

  get runtime(): ConmonRuntime {
    return this.opts.runtime;
  }

  /** Registers lifecycle hooks (before init(), so recovered containers are reported too). */
  addHooks(h: LifecycleHooks): void {
    this.hooks.push(h);
  }

  /** How a container's log is kept (containers from before rotation existed get the defaults). */
  logPolicyOf(c: ContainerRecord): LogPolicy {
    const lc = c.HostConfig.LogConfig;
    return logPolicy(lc && lc.Type ? lc : normalizeLogConfig(undefined, this.opts.logDefaults ?? BUILTIN_LOG_DEFAULTS));
  }

  private fire(kind: keyof LifecycleHooks, arg: ContainerRecord | string, recovered = false): void {
    if (kind === 'started') {
      const c = arg as ContainerRecord;
      this.logRotator.track(c.Id, this.logPath(c.Id), this.dir(c.Id), this.logPolicyOf(c));
      this.stats.started(c);
      this.health.start(c, { resume: recovered });
    } else {
      const id = typeof arg === 'string' ? arg : arg.Id;
      this.logRotator.untrack(id);
      this.health.stop(id);
      if (kind === 'removed') this.stats.forget(id);
    }
    for (const h of this.hooks) {
      try {
        if (kind === 'removed') h.removed?.(arg as string);
        else h[kind]?.(arg as ContainerRecord);
      } catch {
        // a hook's failure is its own
      }
    }
  }

  /** Docker's container event attributes: the labels, image and name, plus `extra`. */
  eventAttributes(c: ContainerRecord, extra: Record<string, string> = {}): Record<string, string> {
    return { ...(c.Config.Labels ?? {}), image: c.Config.Image ?? '', name: c.Name.slice(1), ...extra };
  }

  /** Publishes a container event with Docker's attributes. */
  publish(c: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    this.events.publish('container', action, c.Id, this.eventAttributes(c, extra));
  }

  dir(id: string): string {
    return join(this.opts.root, 'containers', id);
  }

  logPath(id: string): string {
    return join(this.dir(id), 'ctr.log');
  }

  /** `inspect`'s GraphDriver.Data: the overlay directories of the container's root (null if its layer is gone). */
  graphDriver(c: ContainerRecord): GraphDriverData | null {
    try {
      return graphDriverData(this.snapshots.mounts(c.SnapshotKey), join(this.dir(c.Id), 'rootfs'));
    } catch {
      return null;
    }
  }

  async init(): Promise<void> {
    await mkdir(join(this.opts.root, 'containers'), { recursive: true });
    await mkdir(this.exitDir, { recursive: true });
    this.exits.on('exit', (id: string, info: ExitInfo) => {
      void this.handleExit(id, info);
    });
    await this.exits.start();
    this.opts.trash?.sweep();
    await this.recover();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.exits.close();
    this.execs.close();
    this.logRotator.close();
    this.health.close();
    for (const r of this.restarts.values()) if (r.timer) clearTimeout(r.timer);
    await this.opts.runtime.settle();
    await this.opts.trash?.settle();
  }

  // ---- create ------------------------------------------------------------

  async create(name: string | undefined, body: unknown, createOpts: ResolveOptions = {}): Promise<{ Id: string; Warnings: string[] }> {
    const { config, hostConfig } = validateCreateBody(body);
    this.opts.userns?.validate(hostConfig);
    if (!config.Image) throw new InvalidArgumentError('config cannot be empty in order to create a container');
    const image = this.images.resolve(config.Image);
    const merged = mergeImageConfig(config, image.config.config ?? {});
    const { path, args } = commandOf(merged);
    const id = randomBytes(32).toString('hex');
    const parent = this.images.topSnapshot(image);
    // moby's adaptContainerSettings: memory+swap defaults to twice the memory.
    if ((hostConfig.Memory ?? 0) > 0 && !hostConfig.MemorySwap) hostConfig.MemorySwap = (hostConfig.Memory ?? 0) * 2;
    hostConfig.LogConfig = normalizeLogConfig(hostConfig.LogConfig, this.opts.logDefaults ?? BUILTIN_LOG_DEFAULTS);
    const rec: ContainerRecord = {
      Id: id,
      Name: '',
      Created: new Date().toISOString(),
      Path: path,
      Args: args,
      Image: image.id,
      Config: merged,
      HostConfig: hostConfig,
      State: initialState(),
      RestartCount: 0,
      SnapshotKey: `container-${id}`,
      MonitorPid: 0,
      ManuallyStopped: false,
    };
    if (name) rec.Name = validateName(name);
    // Before the hostname default: host mode takes the host's name (network module).
    const netDoc = this.opts.networking?.prepareCreate(rec, (body as { NetworkingConfig?: unknown }).NetworkingConfig);
    if (!merged.Hostname) merged.Hostname = id.slice(0, 12);
    const mounts = await this.mounts.resolve(id, hostConfig, merged, (ref) => this.store.resolve(ref), createOpts);
    rec.MountPoints = mounts.points;
    mkdirSync(this.dir(id), { recursive: true, mode: 0o710 });
    try {
      await this.snapshots.prepare(rec.SnapshotKey, parent);
      try {
        await this.opts.userns?.prepareContainer(hostConfig, this.snapshots.fsPath(rec.SnapshotKey), this.dir(id));
        for (let retry = 0; ; retry++) {
          if (!name) rec.Name = `/${randomName(retry)}`;
          try {
            this.store.insert(rec);
            break;
          } catch (e) {
            if (name || !(e instanceof ConflictError) || retry > 10) throw e;
          }
        }
      } catch (e) {
        await this.snapshots.remove(rec.SnapshotKey).catch(() => undefined);
        throw e;
      }
    } catch (e) {
      await rm(this.dir(id), { recursive: true, force: true });
      await mounts.rollback();
      throw e;
    }
    mounts.commit();
    if (netDoc) this.opts.networking?.created(netDoc);
    this.publish(rec, 'create');
    // moby's warnings for limits this host's cgroups cannot honour (cgroup v2 only; none on v1).
    return { Id: id, Warnings: resourceWarnings(rec) };
  }

  // ---- start -------------------------------------------------------------

  async start(ref: string): Promise<void> {
    const first = this.store.resolve(ref);
    let attempted = false;
    try {
      await this.lock.run(first.Id, async () => {
        const c = this.store.resolve(first.Id);
        if (c.State.Paused) throw new ConflictError('cannot start a paused container, try unpause instead');
        if (c.State.Running) throw new NotModifiedError('container already started');
        if (c.State.Status === 'removing' || c.State.Status === 'dead') {
          throw new ConflictError(`container ${c.Id.slice(0, 12)} is marked for removal and cannot be started`);
        }
        attempted = true;
        // A start by the user begins a new restart history (moby resets the restart manager).
        this.cancelRestart(c.Id);
        c.RestartCount = 0;
        await this.startLocked(c);
      });
    } catch (e) {
      // As moby: a --rm container that failed to start is removed (the docker CLI waits for that).
      if (attempted && first.HostConfig.AutoRemove) await this.remove(first.Id, { force: true, volumes: true }).catch(() => undefined);
      throw e;
    }
  }

  private async startLocked(c: ContainerRecord): Promise<void> {
    const dir = this.dir(c.Id);
    const rootfs = join(dir, 'rootfs');
    // Metadata operations on the path of every start: synchronous (B86).
    mkdirSync(rootfs, { recursive: true });
    mkdirSync(join(dir, 'persist'), { recursive: true });
    removeFileSync(join(dir, 'persist', 'exit'));
    removeFileSync(join(dir, 'persist', 'oom'));
    await this.exits.remove(c.Id);
    await this.releaseRuntime(c);
    const layerMounts = this.snapshots.mounts(c.SnapshotKey);
    this.rootfsUnmounted.delete(c.Id);
    await mountRootfs((await this.opts.userns?.mounts(c.HostConfig, layerMounts)) ?? layerMounts, rootfs, {
      volatile: c.HostConfig.AutoRemove === true,
      ranBefore: c.State.StartedAt !== ZERO_TIME,
    });
    let pid: number;
    let conmonPid: number;
    let net: NetworkSetUp | null = null;
    try {
      net = (await this.opts.networking?.setUp(c, dir, { netnsInContainerUserns: this.opts.userns?.appliesTo(c.HostConfig) === true })) ?? null;
      await writeEtcFiles(c, dir, net?.files);
      await this.opts.userns?.prepareBundle(c, dir, rootfs);
      const userMounts = await this.mounts.setup(c, rootfs);
      const spec = await buildContainerSpec(c, dir, rootfs, this.opts.cgroupParent, net?.namespace);
      withUserMounts(userMounts)(spec);
      this.opts.userns?.specOpt(c.HostConfig, await this.opts.userns.joinableUserns(c.HostConfig, net?.userns))?.(spec);
      await this.opts.runtime.writeSpec(dir, spec);
      const created = await this.opts.runtime.create({
        id: c.Id,
        bundleDir: dir,
        logPath: this.logPath(c.Id),
        logDriver: this.logPolicyOf(c).driver === 'none' ? 'none' : 'file',
        exitDir: this.exitDir,
        persistDir: join(dir, 'persist'),
        tty: c.Config.Tty === true,
        openStdin: c.Config.OpenStdin === true,
        stdinOnce: c.Config.StdinOnce === true,
      });
      pid = created.pid;
      conmonPid = created.conmonPid;
    } catch (e) {
      await unmount(rootfs).catch(() => undefined);
      await this.mounts.release(c);
      await this.opts.networking?.release(c.Id);
      if (e instanceof RuntimeCreateError) {
        const msg = e.runtimeMessage;
        c.State.ExitCode = e.exitCode ?? 128;
        c.State.Error = `failed to create task for container: OCI runtime create failed: ${msg}: unknown`;
        this.store.update(c);
        this.failPendingAttach(c.Id);
        throw new InvalidArgumentError(c.State.Error);
      }
      // As moby's start: the failure is the container's State.Error, exit code 128 if none was set.
      c.State.Error = messageOf(e);
      if (c.State.ExitCode === 0) c.State.ExitCode = 128;
      this.store.update(c);
      this.failPendingAttach(c.Id);
      throw e;
    }
    try {
      // The CNI ADDs ran while runc created the container; they must be done before it starts.
      await net?.ready(pid);
    } catch (e) {
      await this.opts.runtime.delete(c.Id, { force: true }).catch(() => undefined);
      await unmount(rootfs).catch(() => undefined);
      await this.mounts.release(c);
      await this.opts.networking?.release(c.Id);
      this.failPendingAttach(c.Id);
      throw e;
    }
    // Attach before the process runs, so a client sees every byte (docker run attaches, then starts).
    const pending = this.pendingAttach.get(c.Id) ?? [];
    this.pendingAttach.delete(c.Id);
    for (const req of pending) {
      await this.connectAttach(c, req).catch((e: unknown) => {
        req.sink.end();
        void e;
      });
    }
    try {
      await this.opts.runtime.start(c.Id);
    } catch (e) {
      await this.opts.runtime.delete(c.Id, { force: true }).catch(() => undefined);
      await unmount(rootfs).catch(() => undefined);
      await this.mounts.release(c);
      await this.opts.networking?.release(c.Id);
      throw new SystemError(`cannot start container: ${messageOf(e)}`, { cause: e });
    }
    c.State = transition(c.State, 'running', c.Name);
    c.State.Pid = pid;
    c.State.ExitCode = 0;
    c.State.Error = '';
    c.State.OOMKilled = false;
    c.State.StartedAt = new Date().toISOString();
    c.State.FinishedAt = ZERO_TIME;
    c.MonitorPid = conmonPid;
    c.ManuallyStopped = false;
    this.store.update(c);
    this.publish(c, 'start');
    this.fire('started', c);
    // A very short-lived container may have exited before we recorded it running.
    const early = await this.exits.readExit(c.Id);
    if (early) setImmediate(() => void this.handleExit(c.Id, early));
  }

  // ---- exit handling and restart policies --------------------------------

  /** `ofRunStartedAt`: the exit belongs to the run that started then (recovery); a later run ignores it. */
  private async handleExit(id: string, info: ExitInfo, ofRunStartedAt?: string): Promise<void> {
    let autoRemove = false;
    let restartIn: number | undefined;
    await this.lock.run(id, async () => {
      const c = this.store.get(id);
      // Restarting: no process is running, so no exit can be meant for it.
      if (!c || !c.State.Running || c.State.Restarting) return;
      // The watcher may have handled this exit and the policy restarted the container meanwhile.
      if (ofRunStartedAt !== undefined && c.State.StartedAt !== ofRunStartedAt) return;
      await this.releaseRuntime(c, false);
      const ranForMs = info.exitedAt.getTime() - Date.parse(c.State.StartedAt);
      const decision = decideRestart(
        c.HostConfig.RestartPolicy,
        { exitCode: info.exitCode, ranForMs, manuallyStopped: c.ManuallyStopped, restartCount: c.RestartCount },
        this.restarts.get(id)?.delayMs ?? 0,
      );
      const restart = decision.restart && !this.closed && !c.HostConfig.AutoRemove;
      c.State = transition(c.State, restart ? 'restarting' : 'exited', c.Name);
      c.State.Pid = 0;
      c.State.ExitCode = info.exitCode;
      c.State.OOMKilled = info.oomKilled;
      c.State.FinishedAt = info.exitedAt.toISOString();
      c.MonitorPid = 0;
      this.store.update(c);
      if (info.oomKilled) this.publish(c, 'oom');
      this.publish(c, 'die', { exitCode: String(info.exitCode), execDuration: String(Math.max(0, Math.round(ranForMs / 1000))) });
      this.fire('stopped', c);
      this.notifyWaiters(id, ['not-running', 'next-exit'], { StatusCode: info.exitCode, Error: null });
      if (restart) {
        this.restarts.set(id, { delayMs: decision.delayMs });
        restartIn = decision.delayMs;
      } else {
        this.restarts.delete(id);
        autoRemove = c.HostConfig.AutoRemove === true;
      }
    });
    if (restartIn !== undefined) this.scheduleRestart(id, restartIn);
    // --rm takes the container's anonymous volumes with it, as Docker's does.
    if (autoRemove) await this.remove(id, { force: true, volumes: true, runtimeInBackground: true }).catch(() => undefined);
  }

  private scheduleRestart(id: string, ms: number): void {
    const st = this.restarts.get(id) ?? { delayMs: ms };
    if (st.timer) clearTimeout(st.timer);
    st.timer = setTimeout(() => {
      st.timer = undefined;
      void this.lock
        .run(id, async () => {
          const c = this.store.get(id);
          if (!c || c.State.Status !== 'restarting' || this.closed) return;
          c.RestartCount++;
          try {
            await this.startLocked(c);
          } catch (e) {
            // As moby: a restart that cannot start leaves the container stopped.
            const cur = this.store.get(id) ?? c;
            cur.State = transition(cur.State, 'exited', cur.Name);
            cur.State.Error = messageOf(e);
            cur.RestartCount = c.RestartCount;
            this.store.update(cur);
            this.restarts.delete(id);
            this.notifyWaiters(id, ['not-running'], { StatusCode: cur.State.ExitCode, Error: null });
          }
        })
        .catch(() => undefined);
    }, ms);
    st.timer.unref();
    this.restarts.set(id, st);
  }

  /** Stops a pending restart; returns whether one was pending. */
  private cancelRestart(id: string): boolean {
    const st = this.restarts.get(id);
    const pending = st?.timer !== undefined;
    if (st?.timer) clearTimeout(st.timer);
    this.restarts.delete(id);
    return pending;
  }

  /** A container waiting to be restarted becomes exited (stop, kill or rm of it). */
  private async abortRestarting(id: string, manually: boolean): Promise<boolean> {
    let was = false;
    await this.lock.run(id, async () => {
      const c = this.store.get(id);
      if (!c || !c.State.Restarting) return;
      was = true;
      this.cancelRestart(id);
      c.State = transition(c.State, 'exited', c.Name);
      if (manually) c.ManuallyStopped = true;
      this.store.update(c);
      this.notifyWaiters(id, ['not-running'], { StatusCode: c.State.ExitCode, Error: null });
    });
    return was;
  }

  /**
   * Runtime state and rootfs mount of a stopped container. `runc delete` runs alongside the
   * rest; with waitForRuntime false it may still run after this returns (the runtime makes
   * any later use of the id wait for it, and removes what a crash left at the next start).
   */
  private async releaseRuntime(c: ContainerRecord, waitForRuntime = true): Promise<void> {
    // Both checks are file reads; the tools are only run when there is something to undo.
    if (this.opts.runtime.known(c.Id)) this.opts.runtime.deleteInBackground(c.Id);
    // A --rm removal follows the exit's release at once: its second umount2 would only say EINVAL.
    if (!this.rootfsUnmounted.has(c.Id)) {
      await unmount(join(this.dir(c.Id), 'rootfs')).catch(() => undefined);
      this.rootfsUnmounted.add(c.Id);
    }
    await this.mounts.release(c);
    await this.opts.networking?.release(c.Id);
    if (waitForRuntime) await this.opts.runtime.deleted(c.Id);
  }

  private notifyWaiters(id: string, conditions: WaitCondition[], result: WaitResult): void {
    for (const w of [...this.waiters]) {
      if (w.id === id && conditions.includes(w.condition)) {
        this.waiters.delete(w);
        w.resolve(result);
      }
    }
  }

  // ---- wait --------------------------------------------------------------

  /**
   * Registers a wait synchronously (so a wait sent before start catches the
   * exit) and returns the promise of its result.
   */
  wait(ref: string, condition: WaitCondition, signal?: AbortSignal): Promise<WaitResult> {
    const c = this.store.resolve(ref);
    if (condition === 'not-running' && !c.State.Running) {
      return Promise.resolve({ StatusCode: c.State.ExitCode, Error: null });
    }
    return new Promise((resolve) => {
      const w: Waiter = { id: c.Id, condition, resolve };
      this.waiters.add(w);
      signal?.addEventListener('abort', () => this.waiters.delete(w), { once: true });
    });
  }

  /** Resolves true once the container's process is gone (false after `ms`). */
  private waitForExit(id: string, ms: number): Promise<boolean> {
    const c = this.store.get(id);
    if (!c || !c.State.Running || c.State.Restarting) return Promise.resolve(true);
    return new Promise((resolve) => {
      const ac = new AbortController();
      const timer =
        ms >= 0
          ? setTimeout(() => {
              ac.abort();
              resolve(false);
            }, ms)
          : null;
      void this.wait(id, 'next-exit', ac.signal).then(() => {
        if (timer) clearTimeout(timer);
        resolve(true);
      });
    });
  }

  // ---- stop / restart / kill ---------------------------------------------

  async stop(ref: string, opts: { timeout?: number; signal?: string }): Promise<void> {
    const c = this.store.resolve(ref);
    const sig = parseSignal(opts.signal || c.Config.StopSignal || 'SIGTERM');
    if (await this.abortRestarting(c.Id, true)) {
      this.publish(c, 'stop');
      return;
    }
    if (!c.State.Running) throw new NotModifiedError('container already stopped');
    const timeout = opts.timeout ?? c.Config.StopTimeout ?? 10;
    await this.lock.run(c.Id, async () => {
      const cur = this.store.get(c.Id);
      if (cur) {
        cur.ManuallyStopped = true;
        this.store.update(cur);
      }
    });
    this.cancelRestart(c.Id);
    this.publish(c, 'kill', { signal: String(sig) });
    // A paused process cannot act on the signal: let it run again first.
    if (c.State.Paused) await this.opts.runtime.resume(c.Id).catch(() => undefined);
    await this.opts.runtime.kill(c.Id, sig).catch(() => undefined);
    if (!(await this.waitForExit(c.Id, timeout < 0 ? -1 : timeout * 1000))) {
      this.publish(c, 'kill', { signal: '9' });
      await this.opts.runtime.kill(c.Id, 'KILL', true).catch(() => undefined);
      if (!(await this.waitForExit(c.Id, 30_000))) {
        throw new SystemError(`cannot stop container: ${c.Id.slice(0, 12)}: tried to kill container, but did not receive an exit event`);
      }
    }
    this.publish(c, 'stop');
  }

  /** Docker's restart: stop (if running) with the timeout, then start. */
  async restart(ref: string, opts: { timeout?: number; signal?: string }): Promise<void> {
    const c = this.store.resolve(ref);
    try {
      await this.stop(c.Id, opts);
    } catch (e) {
      if (!(e instanceof NotModifiedError)) throw new SystemError(`Cannot restart container ${ref}: ${messageOf(e)}`, { cause: e });
    }
    try {
      await this.start(c.Id);
    } catch (e) {
      if (e instanceof NotModifiedError) return;
      throw e;
    }
    this.publish(this.store.get(c.Id) ?? c, 'restart');
  }

  async kill(ref: string, signal?: string): Promise<void> {
    const c = this.store.resolve(ref);
    const sig = parseSignal(signal || 'SIGKILL');
    if (!c.State.Running) throw new ConflictError(`cannot kill container: ${ref}: container ${c.Id} is not running`);
    // moby: killing with the stop signal (or KILL) ends any restart policy, like a stop.
    const stopSig = parseSignal(c.Config.StopSignal || 'SIGTERM');
    const ends = sig === 9 || !c.Config.StopSignal || sig === stopSig;
    if (c.State.Restarting) {
      if (ends) await this.abortRestarting(c.Id, true);
      this.publish(c, 'kill', { signal: String(sig) });
      return;
    }
    if (ends) {
      this.cancelRestart(c.Id);
      await this.lock.run(c.Id, async () => {
        const cur = this.store.get(c.Id);
        if (cur && cur.State.Running) {
          cur.ManuallyStopped = true;
          this.store.update(cur);
        }
      });
    }
    try {
      await this.opts.runtime.kill(c.Id, sig);
    } catch (e) {
      if (isConflict(e) || e instanceof NotFoundError) throw new ConflictError(`cannot kill container: ${ref}: container ${c.Id} is not running`);
      throw e;
    }
    this.publish(c, 'kill', { signal: String(sig) });
    if (sig === 9) await this.waitForExit(c.Id, 10_000);
  }

  // ---- pause / unpause ---------------------------------------------------

  async pause(ref: string): Promise<void> {
    const first = this.store.resolve(ref);
    await this.lock.run(first.Id, async () => {
      const c = this.store.resolve(first.Id);
      if (!c.State.Running) throw new ConflictError(`container ${c.Id} is not running`);
      if (c.State.Restarting) throw new ConflictError(`Container ${c.Id} is restarting, wait until the container is running`);
      if (c.State.Paused) throw new ConflictError(`Container ${c.Id} is already paused`);
      try {
        await this.opts.runtime.pause(c.Id);
      } catch (e) {
        throw new SystemError(`Cannot pause container ${c.Id}: ${messageOf(e)}`, { cause: e });
      }
      c.State = transition(c.State, 'paused', c.Name);
      this.store.update(c);
      this.publish(c, 'pause');
    });
  }

  async unpause(ref: string): Promise<void> {
    const first = this.store.resolve(ref);
    await this.lock.run(first.Id, async () => {
      const c = this.store.resolve(first.Id);
      if (!c.State.Paused) throw new ConflictError(`Container ${c.Id} is not paused`);
      try {
        await this.opts.runtime.resume(c.Id);
      } catch (e) {
        throw new SystemError(`Cannot unpause container ${c.Id}: ${messageOf(e)}`, { cause: e });
      }
      c.State = transition(c.State, 'running', c.Name);
      this.store.update(c);
      this.publish(c, 'unpause');
    });
  }

  // ---- rename / update ---------------------------------------------------

  async rename(ref: string, newName: string): Promise<void> {
    if (newName === '') throw new InvalidArgumentError('Neither old nor new names may be empty');
    const wanted = validateName(newName);
    const first = this.store.resolve(ref);
    await this.lock.run(first.Id, async () => {
      const c = this.store.resolve(first.Id);
      const oldName = c.Name;
      if (oldName === wanted) throw new InvalidArgumentError('Renaming a container with the same name as its current name');
      c.Name = wanted;
      this.store.rename(c);
      this.publish(c, 'rename', { oldName });
    });
  }

  async update(ref: string, body: unknown): Promise<{ Warnings: string[] }> {
    const u = validateUpdateBody(body);
    const first = this.store.resolve(ref);
    let warnings: string[] = [];
    await this.lock.run(first.Id, async () => {
      const c = this.store.resolve(first.Id);
      if (c.State.Status === 'removing' || c.State.Status === 'dead') {
        throw new ConflictError(`Cannot update container ${c.Id}: container is marked for removal and cannot be "update"`);
      }
      const next = mergeUpdate(c.HostConfig, u);
      const updated: ContainerRecord = { ...c, HostConfig: next };
      const resources = resourcesOf(updated);
      if (c.State.Running && !c.State.Restarting) {
        try {
          await this.opts.runtime.update(c.Id, resources);
        } catch (e) {
          throw new SystemError(`Cannot update container ${c.Id}: ${messageOf(e)}`, { cause: e });
        }
      }
      this.store.update(updated);
      this.publish(updated, 'update');
      warnings = resourceWarnings(updated);
    });
    return { Warnings: warnings };
  }

  // ---- remove ------------------------------------------------------------

  /**
   * `runtimeInBackground` (--rm after an exit): report the container removed without waiting
   * for `runc delete` (runtime/conmonRuntime: nothing can use the id again, a crash is swept at start).
   */
  async remove(ref: string, opts: { force: boolean; volumes: boolean; runtimeInBackground?: boolean }): Promise<void> {
    const c = this.store.resolve(ref);
    if (c.State.Restarting) {
      if (!opts.force) {
        throw new ConflictError(`cannot remove container "${c.Name}": container is restarting: stop the container before removing or force remove`);
      }
      await this.abortRestarting(c.Id, true);
    } else if (c.State.Running) {
      if (!opts.force) {
        throw new ConflictError(
          `cannot remove container "${c.Name}": container is ${c.State.Paused ? 'paused' : 'running'}: stop the container before removing or force remove`,
        );
      }
      this.cancelRestart(c.Id);
      await this.lock.run(c.Id, async () => {
        const cur = this.store.get(c.Id);
        if (cur) {
          cur.ManuallyStopped = true;
          this.store.update(cur);
        }
      });
      if (c.State.Paused) await this.opts.runtime.resume(c.Id).catch(() => undefined);
      await this.opts.runtime.kill(c.Id, 'KILL', true).catch(() => undefined);
      await this.waitForExit(c.Id, 30_000);
    }
    let exitCode = 0;
    await this.lock.run(c.Id, async () => {
      const cur = this.store.get(c.Id);
      if (!cur) throw new NotFoundError(`No such container: ${ref}`);
      if (cur.State.Status === 'removing') throw new ConflictError(`removal of container ${ref} is already in progress`);
      if (cur.State.Running && !opts.force) throw new ConflictError(`cannot remove container "${cur.Name}": container is running`);
      exitCode = cur.State.ExitCode;
      this.cancelRestart(cur.Id);
      cur.State = transition(cur.State, 'removing', cur.Name);
      this.store.update(cur);
      try {
        await this.releaseRuntime(cur, false);
        // Independent of each other once the rootfs is unmounted.
        await Promise.all([
          this.snapshots.stat(cur.SnapshotKey) ? this.snapshots.remove(cur.SnapshotKey) : undefined,
          this.opts.trash !== undefined ? this.opts.trash.discard(this.dir(cur.Id)) : rm(this.dir(cur.Id), { recursive: true, force: true }),
          this.exits.remove(cur.Id),
        ]);
        if (opts.runtimeInBackground !== true) await this.opts.runtime.deleted(cur.Id);
      } catch (e) {
        cur.State = transition(cur.State, 'dead', cur.Name);
        cur.State.Error = messageOf(e);
        this.store.update(cur);
        throw new SystemError(`unable to remove filesystem for ${cur.Id}: ${messageOf(e)}`, { cause: e });
      }
      this.store.delete(cur.Id);
      this.rootfsUnmounted.delete(cur.Id);
      await this.mounts.removed(cur, opts.volumes);
      this.opts.networking?.removed(cur.Id);
    });
    this.failPendingAttach(c.Id);
    this.execs.forgetContainer(c.Id);
    this.fire('removed', c.Id);
    this.publish(c, 'destroy');
    this.notifyWaiters(c.Id, ['removed', 'not-running', 'next-exit'], { StatusCode: exitCode, Error: null });
  }

  // ---- attach / resize / logs -------------------------------------------

  /** Attaches now if running, else when the container next starts. */
  async attach(ref: string, req: AttachRequest): Promise<void> {
    const c = this.store.resolve(ref);
    this.publish(c, 'attach');
    if (c.State.Running && !c.State.Restarting) {
      await this.connectAttach(c, req);
      return;
    }
    if (c.State.Status === 'created' || c.State.Status === 'exited' || c.State.Restarting) {
      const list = this.pendingAttach.get(c.Id) ?? [];
      list.push(req);
      this.pendingAttach.set(c.Id, list);
      req.signal.addEventListener(
        'abort',
        () => {
          const l = this.pendingAttach.get(c.Id);
          if (l) this.pendingAttach.set(c.Id, l.filter((r) => r !== req));
        },
        { once: true },
      );
      return;
    }
    req.sink.end();
  }

  private failPendingAttach(id: string): void {
    const l = this.pendingAttach.get(id) ?? [];
    this.pendingAttach.delete(id);
    for (const r of l) r.sink.end();
  }

  private async connectAttach(c: ContainerRecord, req: AttachRequest): Promise<void> {
    const wantStdin = req.stdin !== null && c.Config.OpenStdin === true;
    const conn = await attachConmon(this.dir(c.Id), { stdin: wantStdin });
    let ended = false;
    const finish = (): void => {
      if (ended) return;
      ended = true;
      req.sink.end();
    };
    conn.stdout.on('data', (b: Buffer) => req.sink.stdout?.(b));
    conn.stderr.on('data', (b: Buffer) => req.sink.stderr?.(b));
    conn.on('end', finish);
    conn.on('error', finish);
    req.signal.addEventListener('abort', () => conn.close(), { once: true });
    const stdin = req.stdin;
    if (wantStdin && stdin) {
      const detach = (): void => {
        conn.close();
        finish();
      };
      pumpStdin(stdin, conn, c.Config.Tty ? new EscapeProxy(req.detachKeys ?? DEFAULT_ESCAPE_KEYS) : undefined, {
        onDetach: detach,
        // The client may have half-closed before the container started (`run -i … </dev/null`).
        // As moby's CopyStreams: the end of stdin closes the container's stdin only for a StdinOnce
        // container without a TTY; otherwise it ends this attach (a detach: the CLIs half-close after
        // ctrl-p ctrl-q) and the container runs on.
        onEnd: () => (c.Config.StdinOnce && !c.Config.Tty ? conn.closeStdin() : detach()),
        onWriteError: finish,
      });
    }
  }

  async resize(ref: string, rows: number, cols: number): Promise<void> {
    const c = this.store.resolve(ref);
    if (!c.State.Running || c.State.Restarting) throw new ConflictError(`Container ${c.Id} is not running`);
    if (!c.Config.Tty) return;
    await resizeConmon(this.dir(c.Id), { rows, cols });
    this.publish(c, 'resize', { height: String(rows), width: String(cols) });
  }

  logs(ref: string, req: LogsRequest): { tty: boolean; entries: AsyncIterable<LogEntry> } {
    const c = this.store.resolve(ref);
    if (this.logPolicyOf(c).driver === 'none') {
      throw new NotImplementedError('configured logging driver does not support reading');
    }
    const follow = req.follow && c.State.Running;
    const stopFollowing = follow ? this.wait(c.Id, 'not-running', req.signal).then(() => undefined) : Promise.resolve();
    const opts: Parameters<typeof readLogs>[1] = { follow, tail: req.tail, signal: req.signal, stopFollowing };
    if (req.since !== undefined) opts.since = req.since;
    if (req.until !== undefined) opts.until = req.until;
    return { tty: c.Config.Tty === true, entries: readLogs(this.logPath(c.Id), opts) };
  }

  // ---- filesystem: cp, diff, export ---------------------------------------

  /**
   * Runs `fn` on the container's filesystem as a user sees it: a running container's
   * own view (/proc/<pid>/root, its mounts included), else its snapshot mounted for the
   * time of the call (under the container's lock, so a start cannot interleave).
   */
  private async withRoot<T>(ref: string, fn: (root: string, c: ContainerRecord) => Promise<T>, opts: { rootfsOnly?: boolean } = {}): Promise<T> {
    const c = this.store.resolve(ref);
    const live = (x: ContainerRecord): boolean => x.State.Running && !x.State.Restarting && x.State.Pid > 0;
    if (live(c) && !opts.rootfsOnly) return fn(`/proc/${c.State.Pid}/root`, c);
    return this.lock.run(c.Id, async () => {
      const cur = this.store.get(c.Id);
      if (!cur) throw new NotFoundError(`No such container: ${ref}`);
      if (live(cur) && !opts.rootfsOnly) return fn(`/proc/${cur.State.Pid}/root`, cur);
      if (cur.State.Status === 'removing' || cur.State.Status === 'dead') throw new ConflictError(`container ${cur.Id} is marked for removal`);
      const rootfs = join(this.dir(cur.Id), 'rootfs');
      await mkdir(rootfs, { recursive: true });
      const mounted = await isMounted(rootfs);
      // A user-namespaced container's own lower layers (owner-shifted copies), as when it runs.
      const layers = this.snapshots.mounts(cur.SnapshotKey);
      if (!mounted) {
        this.rootfsUnmounted.delete(cur.Id);
        await mountAll((await this.opts.userns?.mounts(cur.HostConfig, layers)) ?? layers, rootfs);
      }
      try {
        // As Docker: cp sees a stopped container's volumes and binds too (mounted for the call).
        const unmountVolumes = opts.rootfsOnly ? null : await this.mounts.mountForCopy(cur, rootfs);
        try {
          return await fn(rootfs, cur);
        } finally {
          await unmountVolumes?.();
        }
      } finally {
        if (!mounted) await unmount(rootfs).catch(() => undefined);
      }
    });
  }

  /** `HEAD /containers/{id}/archive`: the stat of a path in the container. */
  async archiveStat(ref: string, path: string): Promise<PathStat> {
    if (path === '') throw new InvalidArgumentError('no path given');
    return this.withRoot(ref, async (root, c) => (await statPath(root, path, c.Id)).stat);
  }

  /** `GET /containers/{id}/archive`: `ready(stat)` is called before any tar byte is written to `out`. */
  async archiveGet(ref: string, path: string, out: Writable, ready: (stat: PathStat) => void): Promise<void> {
    if (path === '') throw new InvalidArgumentError('no path given');
    await this.withRoot(ref, async (root, c) => {
      const st = await statPath(root, path, c.Id);
      ready(st.stat);
      this.publish(c, 'archive-path');
      await archivePath(root, st.resolved, st.abs, out, this.opts.userns?.idShift(c.HostConfig));
    });
  }

  /** `PUT /containers/{id}/archive`: extracts a tar into a directory of the container. */
  async archivePut(ref: string, path: string, tar: Readable, opts: ExtractOptions): Promise<void> {
    if (path === '') throw new InvalidArgumentError('no path given');
    await this.withRoot(ref, async (root, c) => {
      const st = await statPath(root, path.endsWith('/') ? path : `${path}/`, c.Id).catch((e: unknown) => {
        if (e instanceof NotFoundError) throw new NotFoundError(`Could not find the file ${path} in container ${c.Id}`);
        throw e;
      });
      // moby's checkIfPathIsInAVolume: a read-only mount refuses, a read-only rootfs only outside mounts.
      const inMount = mountPointOf(c, st.resolved.replace(/\/\.?$/, '') || '/');
      if (inMount !== null && !inMount.RW) throw new InvalidArgumentError('mounted volume is marked read-only');
      if (inMount === null && c.HostConfig.ReadonlyRootfs) throw new ForbiddenError('container rootfs is marked read-only');
      if ((st.stat.mode & 2 ** 31) === 0) throw new InvalidArgumentError('extraction point is not a directory');
      const ids = this.opts.userns?.idShift(c.HostConfig);
      await extractInto(root, st.resolved, tar, ids ? { ...opts, ids } : opts);
      this.publish(c, 'extract-to-dir');
    });
  }

  /** `docker diff`: the container layer's changes against the image. */
  async changes(ref: string): Promise<Change[]> {
    const c = this.store.resolve(ref);
    const upper = this.snapshots.fsPath(c.SnapshotKey);
    const m = this.snapshots.mounts(c.SnapshotKey)[0];
    const lowerOpt = m?.options.find((o) => o.startsWith('lowerdir='));
    const lowers = lowerOpt ? lowerOpt.slice('lowerdir='.length).split(':').map((l) => (l.startsWith('/') ? l : join(m?.cwd ?? '/', l))) : [];
    return overlayChanges(upper, lowers);
  }

  /** `docker export`: a tar of the container's root filesystem (without its mounts). */
  async export(ref: string, out: Writable): Promise<void> {
    await this.withRoot(
      ref,
      async (root, c) => {
        this.publish(c, 'export');
        await exportRoot(root, out, this.opts.userns?.idShift(c.HostConfig));
      },
      { rootfsOnly: true },
    );
  }

  /** `docker container prune`: removes stopped containers matching the filters. */
  async prune(filters: Map<string, string[]>): Promise<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }> {
    for (const k of filters.keys()) if (k !== 'until' && k !== 'label' && k !== 'label!') throw new InvalidArgumentError(`invalid filter '${k}'`);
    const untils = (filters.get('until') ?? []).map((u) => {
      const t = /^\d+(\.\d+)?$/.test(u) ? Number(u) * 1000 : Date.parse(u);
      if (Number.isNaN(t)) throw new InvalidArgumentError(`invalid filter 'until=${u}'`);
      return t;
    });
    const labelMatch = (labels: Record<string, string>, f: string): boolean => {
      const i = f.indexOf('=');
      return i < 0 ? f in labels : labels[f.slice(0, i)] === f.slice(i + 1);
    };
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const c of this.store.list()) {
      if (c.State.Running || c.State.Status === 'removing') continue;
      if (untils.some((t) => Date.parse(c.Created) >= t)) continue;
      const labels = c.Config.Labels ?? {};
      if (!(filters.get('label') ?? []).every((f) => labelMatch(labels, f))) continue;
      if ((filters.get('label!') ?? []).some((f) => labelMatch(labels, f))) continue;
      const size = await dirSize(this.snapshots.fsPath(c.SnapshotKey)).catch(() => 0);
      try {
        await this.remove(c.Id, { force: false, volumes: false });
        deleted.push(c.Id);
        reclaimed += size;
      } catch {
        // removed meanwhile, or started: leave it
      }
    }
    this.events.publish('container', 'prune', '', { reclaimed: String(reclaimed) });
    return { ContainersDeleted: deleted.length > 0 ? deleted : null, SpaceReclaimed: reclaimed };
  }

  // ---- recovery ----------------------------------------------------------

  /**
   * After a daemon (re)start: containers still running under conmon stay
   * running and controllable; those that exited meanwhile get their exit codes
   * (and their restart policy); containers whose policy says so start again.
   */
  private async recover(): Promise<void> {
    const toStart: string[] = [];
    for (const c of this.store.list()) {
      if (c.State.Restarting) {
        // berthd went down while a restart was pending: resume it.
        this.restarts.set(c.Id, { delayMs: 0 });
        this.scheduleRestart(c.Id, 0);
      } else if (c.State.Running) {
        const st = await this.opts.runtime.state(c.Id).catch(() => null);
        if (st && (st.status === 'running' || st.status === 'paused')) {
          if ((st.status === 'paused') !== c.State.Paused) {
            c.State = transition(c.State, st.status === 'paused' ? 'paused' : 'running', c.Name);
            this.store.update(c);
          }
          this.fire('started', c, true);
          continue;
        }
        const exit = (await this.exits.readExit(c.Id)) ?? { exitCode: 255, exitedAt: new Date(), oomKilled: false };
        await this.handleExit(c.Id, exit, c.State.StartedAt);
      } else if (c.State.Status === 'removing') {
        c.State = transition(c.State, 'dead', c.Name);
        this.store.update(c);
      } else {
        // Created or exited: nothing may be left running or mounted for it.
        await this.releaseRuntime(c);
        if (
          c.State.Status === 'exited' &&
          restartOnDaemonStart(c.HostConfig.RestartPolicy, {
            exitCode: c.State.ExitCode,
            manuallyStopped: c.ManuallyStopped,
            restartCount: c.RestartCount,
            wasRestarting: false,
          })
        ) {
          toStart.push(c.Id);
        }
      }
    }
    // runc state of containers removed while its background `runc delete` was cut short.
    await this.opts.runtime.removeOrphans((id) => this.store.get(id) !== null);
    // What dead containers left of their networks goes; running ones hold their ports again.
    await this.opts.networking?.recover();
    // Started in the background: the API is up meanwhile, as with dockerd.
    for (const id of toStart) {
      void this.lock
        .run(id, async () => {
          const c = this.store.get(id);
          if (!c || c.State.Running) return;
          await this.startLocked(c);
        })
        .catch(() => undefined);
    }
  }

  // ---- queries -----------------------------------------------------------

  get(ref: string): ContainerRecord {
    return this.store.resolve(ref);
  }

  /** Every container, newest first: shared read-only views (ContainerStore.listView). */
  list(): ContainerRecord[] {
    return this.store.listView();
  }

  usingImage(imageId: string): string[] {
    // `--mount type=image` holds an image as a container's own image does.
    const mounting = this.store
      .listView()
      .filter((c) => c.Image !== imageId && (c.MountPoints ?? []).some((m) => m.Type === 'image' && m.Source === imageId))
      .map((c) => c.Id);
    return [...this.store.usingImage(imageId), ...mounting];
  }

  /** NetworkSettings, ports and networks of a container as inspect and `ps` show them. */
  networkView(c: ContainerRecord): ContainerNetworkView | null {
    return this.opts.networking?.settings(c) ?? null;
  }
}

/** Bytes of regular files under `dir` (a container layer's size), never following symlinks. */
async function dirSize(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await dirSize(p);
    else if (e.isFile()) total += (await lstat(p)).size;
  }
  return total;
}
