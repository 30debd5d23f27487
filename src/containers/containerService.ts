/**
 * containers/containerService: the container lifecycle — create, start, stop,
 * kill, wait, attach, logs, resize, remove — and recovery after a daemon
 * restart. Container state changes only through the state machine, under a
 * per-container lock. Talks to images (read-only), snapshots and the runtime;
 * knows nothing of HTTP.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ConflictError, InvalidArgumentError, NotFoundError, NotModifiedError, SystemError, messageOf } from '../errdefs/errors.js';
import type { EventBus } from '../events/eventBus.js';
import type { ImageStore } from '../images/imageStore.js';
import type { OverlaySnapshotter } from '../snapshots/overlaySnapshotter.js';
import { mountAll, unmount } from '../util/mount.js';
import { KeyedLock } from '../util/keyedLock.js';
import { ConmonRuntime, RuntimeCreateError } from '../runtime/conmonRuntime.js';
import { ExitWatcher, type ExitInfo } from '../runtime/exitWatcher.js';
import { attach as attachConmon, resize as resizeConmon } from '../runtime/attach.js';
import { readLogs, type LogEntry } from '../runtime/logs.js';
import { ContainerStore, validateName } from './containerStore.js';
import { commandOf, mergeImageConfig, validateCreateBody } from './createConfig.js';
import { buildContainerSpec, writeEtcFiles } from './containerSpec.js';
import { randomName } from './names.js';
import { transition } from './stateMachine.js';
import { initialState, ZERO_TIME, type ContainerRecord } from './types.js';
import { parseSignal } from './signals.js';

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
}

export interface LogsRequest {
  follow: boolean;
  stdout: boolean;
  stderr: boolean;
  tail: number;
  since?: Date;
  until?: Date;
  signal: AbortSignal;
}

export interface ContainerServiceOptions {
  root: string;
  runtime: ConmonRuntime;
  cgroupParent: string;
}

interface Waiter {
  id: string;
  condition: WaitCondition;
  resolve: (r: WaitResult) => void;
}

export class ContainerService {
  readonly store: ContainerStore;
  private readonly lock = new KeyedLock();
  private readonly waiters = new Set<Waiter>();
  private readonly pendingAttach = new Map<string, AttachRequest[]>();
  private readonly exits: ExitWatcher;
  private readonly exitDir: string;

  constructor(
    private readonly opts: ContainerServiceOptions,
    store: ContainerStore,
    private readonly images: ImageStore,
    private readonly snapshots: OverlaySnapshotter,
    private readonly events: EventBus,
  ) {
    this.store = store;
    this.exitDir = join(opts.root, 'exits');
    this.exits = new ExitWatcher(this.exitDir, { persistDirFor: (id) => join(this.dir(id), 'persist') });
  }

  dir(id: string): string {
    return join(this.opts.root, 'containers', id);
  }

  async init(): Promise<void> {
    await mkdir(join(this.opts.root, 'containers'), { recursive: true });
    await mkdir(this.exitDir, { recursive: true });
    this.exits.on('exit', (id: string, info: ExitInfo) => {
      void this.handleExit(id, info);
    });
    await this.exits.start();
    await this.recover();
  }

  async close(): Promise<void> {
    this.exits.close();
  }

  // ---- create ------------------------------------------------------------

  async create(name: string | undefined, body: unknown): Promise<{ Id: string; Warnings: string[] }> {
    const { config, hostConfig } = validateCreateBody(body);
    if (!config.Image) throw new InvalidArgumentError('config cannot be empty in order to create a container');
    const image = this.images.resolve(config.Image);
    const merged = mergeImageConfig(config, image.config.config ?? {});
    const { path, args } = commandOf(merged);
    const id = randomBytes(32).toString('hex');
    const parent = this.images.topSnapshot(image);
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
    if (!merged.Hostname) merged.Hostname = id.slice(0, 12);
    await mkdir(this.dir(id), { recursive: true, mode: 0o710 });
    try {
      await this.snapshots.prepare(rec.SnapshotKey, parent);
      try {
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
      throw e;
    }
    this.events.publish('container', 'create', id, { image: config.Image, name: rec.Name.slice(1) });
    return { Id: id, Warnings: [] };
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
        await this.startLocked(c);
      });
    } catch (e) {
      // As moby: a --rm container that failed to start is removed (the docker CLI waits for that).
      if (attempted && first.HostConfig.AutoRemove) await this.remove(first.Id, { force: true, volumes: false }).catch(() => undefined);
      throw e;
    }
  }

  private async startLocked(c: ContainerRecord): Promise<void> {
    const dir = this.dir(c.Id);
    const rootfs = join(dir, 'rootfs');
    await mkdir(rootfs, { recursive: true });
    await mkdir(join(dir, 'persist'), { recursive: true });
    await this.exits.remove(c.Id);
    await rm(join(dir, 'persist', 'exit'), { force: true });
    await rm(join(dir, 'persist', 'oom'), { force: true });
    await this.releaseRuntime(c);
    await mountAll(this.snapshots.mounts(c.SnapshotKey), rootfs);
    let pid: number;
    let conmonPid: number;
    try {
      await writeEtcFiles(c, dir);
      const spec = await buildContainerSpec(c, dir, rootfs, this.opts.cgroupParent);
      await this.opts.runtime.writeSpec(dir, spec);
      const created = await this.opts.runtime.create({
        id: c.Id,
        bundleDir: dir,
        logPath: this.logPath(c.Id),
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
      if (e instanceof RuntimeCreateError) {
        const msg = e.runtimeMessage;
        c.State.ExitCode = e.exitCode ?? 128;
        c.State.Error = `failed to create task for container: OCI runtime create failed: ${msg}: unknown`;
        this.store.update(c);
        this.failPendingAttach(c.Id);
        throw new InvalidArgumentError(c.State.Error);
      }
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
    this.events.publish('container', 'start', c.Id, { name: c.Name.slice(1), image: c.Config.Image ?? '' });
    // A very short-lived container may have exited before we recorded it running.
    const early = await this.exits.readExit(c.Id);
    if (early) setImmediate(() => void this.handleExit(c.Id, early));
  }

  logPath(id: string): string {
    return join(this.dir(id), 'ctr.log');
  }

  // ---- exit handling -----------------------------------------------------

  private async handleExit(id: string, info: ExitInfo): Promise<void> {
    let autoRemove = false;
    await this.lock.run(id, async () => {
      const c = this.store.get(id);
      if (!c || !(c.State.Running || c.State.Restarting)) return;
      await this.releaseRuntime(c);
      c.State = transition(c.State, 'exited', c.Name);
      c.State.Pid = 0;
      c.State.ExitCode = info.exitCode;
      c.State.OOMKilled = info.oomKilled;
      c.State.FinishedAt = info.exitedAt.toISOString();
      c.MonitorPid = 0;
      this.store.update(c);
      if (info.oomKilled) this.events.publish('container', 'oom', id, { name: c.Name.slice(1) });
      this.events.publish('container', 'die', id, { exitCode: String(info.exitCode), name: c.Name.slice(1) });
      this.notifyWaiters(id, ['not-running', 'next-exit'], { StatusCode: info.exitCode, Error: null });
      autoRemove = c.HostConfig.AutoRemove === true;
    });
    if (autoRemove) await this.remove(id, { force: true, volumes: false }).catch(() => undefined);
  }

  /** Runtime state and rootfs mount of a stopped container. */
  private async releaseRuntime(c: ContainerRecord): Promise<void> {
    // Both checks are file reads; the tools are only run when there is something to undo.
    if (this.opts.runtime.known(c.Id)) await this.opts.runtime.delete(c.Id, { force: true }).catch(() => undefined);
    await unmount(join(this.dir(c.Id), 'rootfs')).catch(() => undefined);
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
    if (condition === 'not-running' && !c.State.Running && !c.State.Restarting) {
      return Promise.resolve({ StatusCode: c.State.ExitCode, Error: null });
    }
    return new Promise((resolve) => {
      const w: Waiter = { id: c.Id, condition, resolve };
      this.waiters.add(w);
      signal?.addEventListener('abort', () => this.waiters.delete(w), { once: true });
    });
  }

  private waitForExit(id: string, ms: number): Promise<boolean> {
    const c = this.store.get(id);
    if (!c || !c.State.Running) return Promise.resolve(true);
    return new Promise((resolve) => {
      const ac = new AbortController();
      const timer = ms >= 0 ? setTimeout(() => {
        ac.abort();
        resolve(false);
      }, ms) : null;
      void this.wait(id, 'not-running', ac.signal).then(() => {
        if (timer) clearTimeout(timer);
        resolve(true);
      });
    });
  }

  // ---- stop / kill -------------------------------------------------------

  async stop(ref: string, opts: { timeout?: number; signal?: string }): Promise<void> {
    const c = this.store.resolve(ref);
    if (!c.State.Running) throw new NotModifiedError('container already stopped');
    const sig = parseSignal(opts.signal || c.Config.StopSignal || 'SIGTERM');
    const timeout = opts.timeout ?? c.Config.StopTimeout ?? 10;
    await this.lock.run(c.Id, async () => {
      const cur = this.store.get(c.Id);
      if (cur) {
        cur.ManuallyStopped = true;
        this.store.update(cur);
      }
    });
    if (c.State.Paused) await this.opts.runtime.resume(c.Id).catch(() => undefined);
    await this.opts.runtime.kill(c.Id, sig).catch(() => undefined);
    if (await this.waitForExit(c.Id, timeout < 0 ? -1 : timeout * 1000)) return;
    await this.opts.runtime.kill(c.Id, 'KILL', true).catch(() => undefined);
    if (!(await this.waitForExit(c.Id, 30_000))) {
      throw new SystemError(`cannot stop container: ${c.Id.slice(0, 12)}: tried to kill container, but did not receive an exit event`);
    }
  }

  async kill(ref: string, signal?: string): Promise<void> {
    const c = this.store.resolve(ref);
    const sig = parseSignal(signal || 'SIGKILL');
    if (!c.State.Running) throw new ConflictError(`cannot kill container: ${ref}: container ${c.Id} is not running`);
    await this.opts.runtime.kill(c.Id, sig);
    if (sig === 9) await this.waitForExit(c.Id, 10_000);
  }

  // ---- remove ------------------------------------------------------------

  async remove(ref: string, opts: { force: boolean; volumes: boolean }): Promise<void> {
    const c = this.store.resolve(ref);
    if (c.State.Running || c.State.Paused) {
      if (!opts.force) {
        throw new ConflictError(
          `cannot remove container "${c.Name}": container is ${c.State.Paused ? 'paused' : 'running'}: stop the container before removing or force remove`,
        );
      }
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
      cur.State = transition(cur.State, 'removing', cur.Name);
      this.store.update(cur);
      try {
        await this.releaseRuntime(cur);
        if (this.snapshots.stat(cur.SnapshotKey)) await this.snapshots.remove(cur.SnapshotKey);
        await rm(this.dir(cur.Id), { recursive: true, force: true });
        await this.exits.remove(cur.Id);
      } catch (e) {
        cur.State = transition(cur.State, 'dead', cur.Name);
        cur.State.Error = messageOf(e);
        this.store.update(cur);
        throw new SystemError(`unable to remove filesystem for ${cur.Id}: ${messageOf(e)}`, { cause: e });
      }
      this.store.delete(cur.Id);
    });
    this.failPendingAttach(c.Id);
    this.events.publish('container', 'destroy', c.Id, { name: c.Name.slice(1) });
    this.notifyWaiters(c.Id, ['removed', 'not-running', 'next-exit'], { StatusCode: exitCode, Error: null });
  }

  // ---- attach / resize / logs -------------------------------------------

  /** Attaches now if running, else when the container next starts. */
  async attach(ref: string, req: AttachRequest): Promise<void> {
    const c = this.store.resolve(ref);
    if (c.State.Running) {
      await this.connectAttach(c, req);
      return;
    }
    if (c.State.Status === 'created' || c.State.Status === 'exited') {
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
      // One write in flight at a time: the client is paused while conmon takes the bytes.
      let writing: Promise<void> = Promise.resolve();
      stdin.on('data', (b: Buffer) => {
        stdin.pause();
        writing = conn.writeStdin(b).then(
          () => void stdin.resume(),
          () => finish(),
        );
      });
      stdin.on('end', () => {
        if (c.Config.StdinOnce) void writing.then(() => conn.closeStdin()).catch(() => undefined);
      });
    }
  }

  async resize(ref: string, rows: number, cols: number): Promise<void> {
    const c = this.store.resolve(ref);
    if (!c.State.Running) throw new ConflictError(`Container ${c.Id} is not running`);
    if (!c.Config.Tty) return;
    await resizeConmon(this.dir(c.Id), { rows, cols });
  }

  logs(ref: string, req: LogsRequest): { tty: boolean; entries: AsyncIterable<LogEntry> } {
    const c = this.store.resolve(ref);
    const follow = req.follow && (c.State.Running || c.State.Restarting);
    const stopFollowing = follow ? this.wait(c.Id, 'not-running', req.signal).then(() => undefined) : Promise.resolve();
    const opts: Parameters<typeof readLogs>[1] = { follow, tail: req.tail, signal: req.signal, stopFollowing };
    if (req.since) opts.since = req.since;
    if (req.until) opts.until = req.until;
    return { tty: c.Config.Tty === true, entries: readLogs(this.logPath(c.Id), opts) };
  }

  // ---- recovery ----------------------------------------------------------

  /**
   * After a daemon (re)start: containers still running under conmon stay
   * running and controllable; those that exited meanwhile get their exit codes.
   */
  private async recover(): Promise<void> {
    for (const c of this.store.list()) {
      if (c.State.Running || c.State.Restarting) {
        const st = await this.opts.runtime.state(c.Id).catch(() => null);
        if (st && (st.status === 'running' || st.status === 'paused')) {
          if ((st.status === 'paused') !== c.State.Paused) {
            c.State = transition(c.State, st.status === 'paused' ? 'paused' : 'running', c.Name);
            this.store.update(c);
          }
          continue;
        }
        const exit = (await this.exits.readExit(c.Id)) ?? { exitCode: 255, exitedAt: new Date(), oomKilled: false };
        await this.handleExit(c.Id, exit);
      } else if (c.State.Status === 'removing') {
        c.State = transition(c.State, 'dead', c.Name);
        this.store.update(c);
      } else {
        // Created or exited: nothing may be left running or mounted for it.
        await this.releaseRuntime(c);
      }
    }
  }

  // ---- queries -----------------------------------------------------------

  get(ref: string): ContainerRecord {
    return this.store.resolve(ref);
  }

  list(): ContainerRecord[] {
    return this.store.list();
  }

  usingImage(imageId: string): string[] {
    return this.store.usingImage(imageId);
  }
}
