/**
 * runtime/conmonRuntime: launches containers under conmon (D3) with runc (D2) and
 * controls them afterwards (start/kill/delete/state/pause/resume), also after a
 * daemon restart: everything it needs is on disk (runc state root, persist dir).
 *
 * conmon only runs `runc create`; start() releases the container itself (runc's
 * exec fifo, no `runc start` process); kill of the init and delete of a stopped container
 * run in process too (runcDirect.ts), runc only for the other cases. conmon is spawned in its own session so it
 * and the container outlive berthd. delete() of one container runs once: a call
 * while it is under way (deleteInBackground() started it) waits for that one.
 *
 * Owns: the conmon command line, the sync-pipe protocol, runc's start fifo, runc
 * error mapping, removal of the (empty) cgroup parent it is configured with, and
 * runc state nothing refers to any more (removeOrphans at start-up). Why: decisions B54.
 * Never: mounts or prepares the rootfs, decides Docker state transitions, or
 * touches runc containers outside its own `--root`.
 */
import { closeSync, constants as fsConstants, existsSync, mkdirSync, openSync, readFileSync, readSync } from 'node:fs';
import { readFile, readdir, rmdir, stat, unlink } from 'node:fs/promises';
import { Socket } from 'node:net';
import { join, dirname } from 'node:path';
import { ConflictError, NotFoundError, SystemError, messageOf } from '../errdefs/errors.js';
import { replaceFileSync } from '../util/atomic.js';
import { removeFileSync } from '../util/smallFiles.js';
import { spawnPiped, type PipedChild } from '../util/spawnPiped.js';
import { nativeEngine } from '../util/nativeEngine.js';
import { ProcessError, run } from '../util/process.js';
import type { OciResources, OciSpec, RuntimeState } from './ociTypes.js';
import { startExec, type ExecOptions, type ExecSession } from './execSession.js';
import { deleteStopped, signalInit } from './runcDirect.js';

export interface RuntimePaths {
  runc: string;
  conmon: string;
  /** runc --root, e.g. <exec-root>/runc. Keep it short and private to berth. */
  stateRoot: string;
  /**
   * The cgroup parent the daemon puts containers under (cgroupsPath "/berth/<id>").
   * delete() removes this directory from every hierarchy once it is empty. Default "/berth".
   */
  cgroupParent?: string;
  /** conmon --log-level (debug|info|warn|error). Default "info". */
  conmonLogLevel?: string;
}

export interface CreateOptions {
  id: string;
  /** Holds config.json (written with writeSpec()) and rootfs/. conmon creates attach, ctl, winsz in it. */
  bundleDir: string;
  /** k8s-file log conmon writes the container's output to. */
  logPath: string;
  /** 'none': keep no log (Docker's --log-driver none). Default: the k8s-file at logPath. */
  logDriver?: 'file' | 'none';
  /** Shared by all containers: conmon writes <exitDir>/<id> = exit code. */
  exitDir: string;
  /** Per container: conmon.pid, pid, exit, oom. Created if missing (conmon writes no exit file without it). */
  persistDir: string;
  tty: boolean;
  openStdin: boolean;
  /**
   * Docker's StdinOnce: close the container's stdin when an attached client goes away.
   * conmon closes it when ANY attach connection closes (not only one attached to stdin).
   * Default true. false passes --leave-stdin-open (then closeStdin() cannot close it either).
   */
  stdinOnce?: boolean;
  /** conmon --log-size-max in bytes (conmon truncates the log when reached). Default: unlimited. */
  logSizeMax?: number;
  /** Run when the container exits (conmon --exit-command), e.g. a cleanup hook while berthd is down. */
  exitCommand?: readonly string[];
  signal?: AbortSignal;
  /** Give up on conmon/runc create after this long. Default 60 s. */
  timeoutMs?: number;
}

export interface CreateResult {
  /** The container's init process (host PID namespace). */
  pid: number;
  conmonPid: number;
}

/** runc create failed; runtimeMessage is runc's own error text (e.g. `exec: "nosuch": executable file not found in $PATH`). */
export class RuntimeCreateError extends SystemError {
  /**
   * The exit code Docker records for this failure: 127 when the command is not found,
   * 126 when it cannot be invoked (permission denied), undefined otherwise.
   */
  readonly exitCode: number | undefined;
  constructor(
    readonly runtimeMessage: string,
    readonly rawOutput: string,
  ) {
    super(`OCI runtime create failed: ${runtimeMessage}`);
    this.exitCode = dockerExitCodeFor(runtimeMessage);
  }
}

/** Docker's translateContainerdStartErr: which exit code a failed start gets. */
export function dockerExitCodeFor(runtimeMessage: string): number | undefined {
  const m = runtimeMessage.toLowerCase();
  if (m.includes('executable file not found') || m.includes('no such file or directory')) return 127;
  if (m.includes('permission denied')) return 126;
  if (m.includes('not a directory')) return 127;
  return undefined;
}

/** The files conmon and we keep in a container's persist dir. */
export function persistFiles(persistDir: string): { conmonPid: string; pid: string; exit: string; oom: string } {
  return {
    conmonPid: join(persistDir, 'conmon.pid'),
    pid: join(persistDir, 'pid'),
    exit: join(persistDir, 'exit'),
    oom: join(persistDir, 'oom'),
  };
}

// No dots: the exit watcher tells conmon's "<id>.XXXXXX" temp files apart by that.
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
const DEFAULT_CREATE_TIMEOUT_MS = 60_000;
const CGROUP_ROOT = '/sys/fs/cgroup';

/**
 * runc writes its errors as logrus text lines: time="…" level=error msg="…".
 * Returns the last error's msg (Go-unquoted), or the trimmed text if it is not in that form.
 */
export function parseRuncError(text: string): string {
  const msgs: string[] = [];
  for (const line of text.split('\n')) {
    const m = /\bmsg="((?:[^"\\]|\\.)*)"/.exec(line);
    if (m?.[1] === undefined) continue;
    const isError = /\blevel=(error|fatal)\b/.test(line);
    const msg = m[1].replace(/\\(.)/g, (_s, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
    if (isError) msgs.push(msg);
  }
  const last = msgs[msgs.length - 1];
  return last ?? text.trim();
}

export class ConmonRuntime {
  private readonly cgroupParent: string;
  /** create() calls under way: the cgroup parent is not removed meanwhile (runc may be creating under it). */
  private creating = 0;
  /** Init PIDs of containers created and not yet started (start() watches the process while it waits). */
  private readonly initPids = new Map<string, number>();
  /** `runc delete`s under way or deferred, by id: a second delete (or a create) of the id waits for it. */
  private readonly deleting = new Map<string, PendingDelete>();

  constructor(readonly paths: RuntimePaths) {
    this.cgroupParent = paths.cgroupParent ?? '/berth';
  }

  /** Whether runc holds state for `id` (a directory check; no process). */
  known(id: string): boolean {
    return ID_RE.test(id) && existsSync(join(this.paths.stateRoot, id));
  }

  /**
   * Writes <bundleDir>/config.json (temp file + rename, not fsynced: it is rebuilt from the
   * container's record before every start, so a power cut cannot make it matter). Synchronous:
   * ~10 KB on the path of every start, where four thread-pool round trips cost more (B86).
   */
  writeSpec(bundleDir: string, spec: OciSpec): Promise<void> {
    replaceFileSync(join(bundleDir, 'config.json'), JSON.stringify(spec));
    return Promise.resolve();
  }

  /**
   * Launches conmon, which runs `runc create`. Resolves once the container exists in
   * state "created" (not running: call start()). Attach between create() and start()
   * to see all output. Throws RuntimeCreateError with runc's message when runc fails.
   */
  async create(opts: CreateOptions): Promise<CreateResult> {
    if (!ID_RE.test(opts.id)) throw new SystemError(`invalid container id for the runtime: "${opts.id}"`);
    this.creating++;
    try {
      return await this.createInner(opts);
    } finally {
      this.creating--;
    }
  }

  private async createInner(opts: CreateOptions, retried = false): Promise<CreateResult> {
    const { id, bundleDir, persistDir } = opts;
    const files = persistFiles(persistDir);
    // The previous run's state must be gone before runc creates the id again.
    await this.deleted(id);
    // Synchronous metadata operations on the path of every start (B86).
    for (const d of [persistDir, opts.exitDir, dirname(opts.logPath), this.paths.stateRoot]) mkdirSync(d, { recursive: true });
    // A container that ran before (docker start after an exit) must not look exited at once.
    for (const f of [join(opts.exitDir, id), files.exit, files.oom, files.pid, files.conmonPid, join(bundleDir, 'oom')]) removeFileSync(f);

    const args = [
      '--api-version', '1',
      '-c', id,
      '-u', id,
      '-n', id,
      '-r', this.paths.runc,
      '-b', bundleDir,
      '-p', files.pid,
      '--conmon-pidfile', files.conmonPid,
      '--exit-dir', opts.exitDir,
      '--persist-dir', persistDir,
      '-l', opts.logDriver === 'none' ? 'none' : `k8s-file:${opts.logPath}`,
      '--log-level', this.paths.conmonLogLevel ?? 'info',
      // The attach socket goes to <bundle>/attach; conmon binds it through /proc/self/fd, so
      // long bundle paths are fine, and attach.ts connects the same way.
      '--full-attach',
      '--runtime-arg', `--root=${this.paths.stateRoot}`,
    ];
    if (opts.logSizeMax !== undefined && opts.logSizeMax > 0) args.push('--log-size-max', String(opts.logSizeMax));
    if (opts.tty) {
      args.push('-t');
    } else if (opts.openStdin) {
      if (opts.stdinOnce === false) args.push('--leave-stdin-open');
      args.push('-i');
    }
    if (opts.exitCommand !== undefined && opts.exitCommand.length > 0) {
      const [cmd, ...rest] = opts.exitCommand;
      args.push('--exit-command', cmd as string);
      for (const a of rest) args.push('--exit-command-arg', a);
    }

    const timeout = AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_CREATE_TIMEOUT_MS);
    const signal = opts.signal !== undefined ? AbortSignal.any([opts.signal, timeout]) : timeout;
    let sync: SyncMessage;
    try {
      const reported = this.spawnConmon(args, bundleDir, signal);
      // conmon and runc create keep the event loop waiting for a while: a good moment for the
      // forks of deferred deletes, off the path of this start and of earlier removals.
      this.startDeferredDeletes();
      sync = await reported;
    } catch (e) {
      await this.cleanupAfterFailedCreate(id, files.conmonPid);
      throw e;
    }
    if (sync.data < 0) {
      const raw = sync.message ?? '';
      const msg = parseRuncError(raw) || 'runc create failed (no message)';
      // A stopped runc container left under this id (the daemon died before deleting it)
      // blocks the new one: remove it and try once more. A live one is never touched.
      if (/already exists/i.test(msg) && !retried) {
        const st = await this.state(id).catch(() => null);
        if (st?.status === 'stopped') {
          await this.delete(id);
          return this.createInner(opts, true);
        }
      }
      if (!/already exists/i.test(msg)) await this.cleanupAfterFailedCreate(id, files.conmonPid);
      throw new RuntimeCreateError(msg, raw);
    }
    // The intermediate conmon process writes the pid file before it exits, which is
    // before runc create finishes, so it is there by now; read it with a short retry anyway.
    let conmonPid = 0;
    for (let i = 0; i < 50 && conmonPid === 0; i++) {
      conmonPid = readPid(files.conmonPid);
      if (conmonPid === 0) await sleep(10);
    }
    this.initPids.set(id, sync.data);
    return { pid: sync.data, conmonPid };
  }

  private spawnConmon(args: string[], bundleDir: string, signal: AbortSignal): Promise<SyncMessage> {
    return new Promise<SyncMessage>((resolve, reject) => {
      if (signal.aborted) {
        reject(abortError(signal));
        return;
      }
      let child: PipedChild;
      try {
        child = spawnPiped(this.paths.conmon, args, {
          // conmon's cwd: it also drops an "oom" file there on OOM.
          cwd: bundleDir,
          env: {
            PATH: process.env['PATH'] ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
            // conmon binds the console socket (TTY) at $TMPDIR/conmon-term.XXXXXX with a plain
            // sun_path: a long TMPDIR would be truncated, so pin it.
            TMPDIR: '/tmp',
            _OCI_SYNCPIPE: '3',
          },
        });
      } catch (e) {
        reject(new SystemError(`cannot run conmon (${this.paths.conmon}): ${messageOf(e)}`, { cause: e }));
        return;
      }
      const syncStream = child.fd3;
      const stderrStream = child.stderr;
      let syncBuf = '';
      let stderr = '';
      let settled = false;
      let firstExit: number | null | undefined;

      const finish = (err: Error | null, msg?: SyncMessage): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        syncStream.destroy();
        stderrStream.destroy();
        if (err !== null) reject(err);
        else resolve(msg as SyncMessage);
      };
      const onAbort = (): void => finish(abortError(signal));
      signal.addEventListener('abort', onAbort, { once: true });

      stderrStream.setEncoding('utf8');
      stderrStream.on('data', (s: string) => {
        if (stderr.length < 16384) stderr += s;
      });
      stderrStream.on('error', () => undefined);
      syncStream.setEncoding('utf8');
      syncStream.on('data', (s: string) => {
        syncBuf += s;
        const nl = syncBuf.indexOf('\n');
        if (nl < 0) return;
        try {
          finish(null, parseSync(syncBuf.slice(0, nl)));
        } catch (e) {
          finish(new SystemError(`conmon sent an unreadable sync message ${JSON.stringify(syncBuf.slice(0, 200))}: ${messageOf(e)}`));
        }
      });
      syncStream.on('error', () => undefined);
      // EOF without a message: conmon died before or instead of reporting (bad arguments, …).
      syncStream.on('end', () => {
        const why = stderr.trim() || (firstExit !== undefined ? `exit status ${firstExit}` : 'no output');
        finish(new SystemError(`conmon exited without reporting the container: ${why}`));
      });
      child.exited.then(
        (code) => {
          // The first conmon process exits at once after forking its monitor (status 0).
          firstExit = code;
          if (code !== 0) {
            // Let stderr arrive before reporting.
            setTimeout(() => finish(new SystemError(`conmon failed (exit status ${String(code)}): ${stderr.trim()}`)), 20);
          }
        },
        (e: unknown) => finish(new SystemError(`cannot run conmon (${this.paths.conmon}): ${messageOf(e)}`, { cause: e })),
      );
    });
  }

  private async cleanupAfterFailedCreate(id: string, conmonPidFile: string): Promise<void> {
    // conmon exits by itself after reporting a failure; if we gave up (abort/timeout) it may still run.
    const pid = readPid(conmonPidFile);
    if (pid > 0 && (await isConmon(pid))) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    try {
      await this.runc(['delete', '--force', id]);
    } catch {
      // nothing left to delete
    }
    await this.removeCgroupParent();
  }

  /**
   * Runs an extra process in a running container under its own conmon (see
   * execSession.ts). Resolves once the process runs; ExecStartError when runc cannot start it.
   */
  exec(opts: ExecOptions): Promise<ExecSession> {
    return startExec(this.paths, opts);
  }

  /**
   * Runs the user process of a "created" container: what `runc start` does, without its
   * process (~30-50 ms of Go start-up) when this runtime created the container and runc
   * left its exec fifo; otherwise `runc start` itself.
   */
  async start(id: string): Promise<void> {
    const pid = this.initPids.get(id);
    this.initPids.delete(id);
    if (pid !== undefined && ID_RE.test(id) && (await releaseExecFifo(join(this.paths.stateRoot, id, EXEC_FIFO), pid, id))) return;
    await this.runcFor(id, ['start', id]);
  }

  /** `runc kill [--all] ID SIGNAL`; signal as "SIGTERM", "TERM", "KILL" or a number. */
  async kill(id: string, signal: string | number, all = false): Promise<void> {
    const sig = String(signal);
    if (!/^(?:[0-9]{1,2}|(?:SIG)?[A-Z][A-Z0-9+-]*)$/.test(sig)) throw new SystemError(`invalid signal "${sig}"`);
    // The init alone: signalled in process as runc does it (runcDirect.ts, B78); runc for the rest.
    if (!all && ID_RE.test(id)) {
      const r = await signalInit(this.paths.stateRoot, id, sig);
      if (r === 'sent') return;
      if (r === 'missing') throw new NotFoundError(`No such container: ${id}`);
      if (r === 'not-running') throw new ConflictError(`Container ${id}: container not running`);
    }
    await this.runcFor(id, ['kill', ...(all ? ['--all'] : []), id, sig]);
  }

  /**
   * `runc delete`: removes runc's state and the container's cgroups; then removes the
   * cgroup parent if it is empty. Idempotent: an unknown id is not an error.
   * Without force, a running container is a ConflictError.
   */
  async delete(id: string, opts: { force?: boolean } = {}): Promise<void> {
    return this.queueDelete(id, opts.force === true, 0);
  }

  /**
   * One delete per id. After `deferMs` (0: now) or as soon as anything needs it (delete(),
   * deleted(), a create of the id, settle()), or when a create starts waiting on conmon.
   */
  private queueDelete(id: string, force: boolean, deferMs: number): Promise<void> {
    const pending = this.deleting.get(id);
    if (pending !== undefined) {
      // A second background request leaves a deferred one deferred; anything else starts it.
      if (deferMs === 0) pending.start();
      return pending.promise;
    }
    this.initPids.delete(id);
    let go!: () => void;
    const begun = new Promise<void>((resolve) => {
      go = resolve;
    });
    const timer = deferMs > 0 ? setTimeout(go, deferMs) : undefined;
    if (timer === undefined) go();
    const entry: PendingDelete = {
      promise: begun
        .then(() => this.deleteNow(id, force))
        .finally(() => {
          if (this.deleting.get(id) === entry) this.deleting.delete(id);
        }),
      start: () => {
        clearTimeout(timer);
        go();
      },
    };
    this.deleting.set(id, entry);
    return entry.promise;
  }

  private startDeferredDeletes(): void {
    for (const d of this.deleting.values()) d.start();
  }

  private async deleteNow(id: string, force: boolean): Promise<void> {
    // A stopped container is deleted in process (runcDirect.ts, B78); runc for anything else.
    const direct = ID_RE.test(id) ? await deleteStopped(this.paths.stateRoot, id).catch(() => 'fallback' as const) : 'fallback';
    if (direct === 'fallback') {
      try {
        await this.runcFor(id, ['delete', ...(force ? ['--force'] : []), id]);
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e;
      }
    }
    await this.removeCgroupParent();
  }

  /**
   * `runc delete --force` of a stopped container without waiting for it: the caller may
   * report the container gone meanwhile (its id is never used again, and create() or
   * delete() of the same id waits for this one). The process starts a moment later
   * (backgroundDeleteDelayMs()) unless something needs it first: spawn() forks the whole
   * daemon and blocks the event loop while it does, which would land on the path of the
   * exit and removal being reported. A failure is left to removeOrphans() at the next start.
   */
  deleteInBackground(id: string): void {
    if (!this.known(id)) return;
    this.queueDelete(id, true, backgroundDeleteDelayMs()).catch(() => undefined);
  }

  /** Resolves once no delete of `id` is pending or under way (starting a deferred one now). */
  async deleted(id: string): Promise<void> {
    const pending = this.deleting.get(id);
    if (pending === undefined) return;
    pending.start();
    await pending.promise.catch(() => undefined);
  }

  /** Runs the deferred deletes now and waits for all (daemon shutdown), at most `ms`. */
  async settle(ms = 10_000): Promise<void> {
    if (this.deleting.size === 0) return;
    this.startDeferredDeletes();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.deleting.values()].map((d) => d.promise)),
      new Promise<void>((r) => {
        timer = setTimeout(r, ms);
      }),
    ]);
    clearTimeout(timer);
  }

  /**
   * Deletes runc state whose container the engine no longer has (`keep(id)` false): what a
   * background delete left when the daemon died before it ended. Call once at start-up,
   * before containers are created.
   */
  async removeOrphans(keep: (id: string) => boolean): Promise<string[]> {
    const entries = await readdir(this.paths.stateRoot, { withFileTypes: true }).catch(() => []);
    const orphans = entries.filter((e) => e.isDirectory() && ID_RE.test(e.name) && !keep(e.name)).map((e) => e.name);
    await Promise.all(orphans.map((id) => this.delete(id, { force: true }).catch(() => undefined)));
    return orphans;
  }

  /** `runc state` JSON, or null when runc does not know the id. */
  async state(id: string): Promise<RuntimeState | null> {
    try {
      const r = await this.runcFor(id, ['state', id]);
      return JSON.parse(r.stdout) as RuntimeState;
    } catch (e) {
      if (e instanceof NotFoundError) return null;
      throw e;
    }
  }

  /** Every container in our runc root (for recovery after a daemon restart). */
  async list(): Promise<RuntimeState[]> {
    const r = await this.runc(['list', '--format', 'json']);
    const parsed = JSON.parse(r.stdout.trim() || 'null') as RuntimeState[] | null;
    return parsed ?? [];
  }

  /** `runc update -r -`: changes the cgroup limits of a running container. */
  async update(id: string, resources: OciResources): Promise<void> {
    try {
      await run(this.paths.runc, [`--root=${this.paths.stateRoot}`, 'update', '-r', '-', id], { input: JSON.stringify(resources) });
    } catch (e) {
      if (!(e instanceof ProcessError)) throw e;
      const msg = parseRuncError(e.stderr || e.stdout);
      if (/container does not exist/i.test(msg)) throw new NotFoundError(`No such container: ${id}`, { cause: e });
      throw new SystemError(msg, { cause: e });
    }
  }

  async pause(id: string): Promise<void> {
    await this.runcFor(id, ['pause', id]);
  }

  async resume(id: string): Promise<void> {
    await this.runcFor(id, ['resume', id]);
  }

  /** PID of the container's conmon if it is still running (recovery: is anyone watching it?), else null. */
  async monitorPid(persistDir: string): Promise<number | null> {
    const pid = readPid(persistFiles(persistDir).conmonPid);
    return pid > 0 && (await isConmon(pid)) ? pid : null;
  }

  /** Removes <hierarchy>/<cgroupParent> in every cgroup hierarchy where it is empty. */
  async removeCgroupParent(): Promise<void> {
    if (this.creating > 0) return;
    const parent = this.cgroupParent.replace(/^\/+|\/+$/g, '');
    if (parent === '' || parent.includes('..')) return;
    let roots: string[];
    try {
      await stat(join(CGROUP_ROOT, 'cgroup.controllers'));
      roots = [CGROUP_ROOT]; // pure v2
    } catch {
      try {
        const entries = await readdir(CGROUP_ROOT, { withFileTypes: true });
        roots = entries.filter((e) => e.isDirectory()).map((e) => join(CGROUP_ROOT, e.name));
      } catch {
        return;
      }
    }
    await Promise.all(
      roots.map(async (root) => {
        try {
          await rmdir(join(root, parent));
        } catch {
          // missing, or still holds other containers (EBUSY/ENOTEMPTY): leave it
        }
      }),
    );
  }

  private runc(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    // No fork of the daemon: a `runc delete` follows every container run (B54, B67).
    return run(this.paths.runc, [`--root=${this.paths.stateRoot}`, ...args], { noFork: true });
  }

  /** Runs runc for one container and turns its errors into kinds the daemon can map. */
  private async runcFor(id: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      return await this.runc(args);
    } catch (e) {
      if (!(e instanceof ProcessError)) throw e;
      const msg = parseRuncError(e.stderr || e.stdout);
      if (/container does not exist|container .* does not exist/i.test(msg)) {
        throw new NotFoundError(`No such container: ${id}`, { cause: e });
      }
      if (/not running|not stopped|is not paused|already paused|cannot start|has stopped|not created|is paused/i.test(msg)) {
        throw new ConflictError(`Container ${id}: ${msg}`, { cause: e });
      }
      throw new SystemError(`runc ${args[0] ?? ''} ${id} failed: ${msg}`, { cause: e });
    }
  }
}

interface PendingDelete {
  promise: Promise<void>;
  /** Starts a deferred delete now (no-op once started). */
  start(): void;
}

/**
 * How long deleteInBackground() waits before it spawns `runc delete` (see there): with the
 * native vfork spawn (B67) starting it costs the event loop well under a millisecond, so it
 * goes almost at once, in the idle time after a removal rather than beside the next
 * container's `runc create`; a fork of the whole daemon waits longer.
 */
function backgroundDeleteDelayMs(): number {
  return nativeEngine()?.spawnPiped !== undefined ? 20 : 500;
}

interface SyncMessage {
  data: number;
  message?: string;
}

function parseSync(line: string): SyncMessage {
  const v = JSON.parse(line) as unknown;
  if (typeof v !== 'object' || v === null || typeof (v as { data?: unknown }).data !== 'number') {
    throw new Error('no numeric "data"');
  }
  const o = v as { data: number; message?: unknown };
  return typeof o.message === 'string' ? { data: o.data, message: o.message } : { data: o.data };
}

/** A pid file's number, 0 while it is missing or incomplete (a few bytes: read synchronously, B79). */
function readPid(file: string): number {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : 0;
  } catch {
    return 0;
  }
}

/** Guards against PID reuse: the process must still be a conmon. */
async function isConmon(pid: number): Promise<boolean> {
  try {
    const comm = (await readFile(`/proc/${pid}/comm`, 'utf8')).trim();
    const st = await readFile(`/proc/${pid}/stat`, 'utf8');
    // A zombie conmon has exited already.
    const state = st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3);
    return comm === 'conmon' && state !== 'Z';
  } catch {
    return false;
  }
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') {
    return new SystemError('timed out waiting for conmon to create the container');
  }
  return new SystemError(`container create aborted: ${reason instanceof Error ? reason.message : String(reason)}`);
}

/** runc's exec fifo in a container's state directory (libcontainer's execFifoFilename). */
const EXEC_FIFO = 'exec.fifo';

/**
 * `runc start` of runc 1.x, in process: `runc init` waits, after setting the container
 * up, to write one byte into the exec fifo and then execs the user's process (the fifo
 * is close-on-exec, so EOF means it ran); runc reports "created" while the fifo exists.
 * So: read to EOF, check a byte came, unlink. While waiting, the init process is
 * checked every 100 ms as runc does (it may be killed before it writes). Returns false
 * when there is no fifo (not runc, or a runc that does this differently): the caller
 * then runs `runc start`.
 */
export async function releaseExecFifo(fifo: string, initPid: number, id: string): Promise<boolean> {
  let fd: number;
  try {
    // Non-blocking: the open returns at once. epoll reports the fifo readable only once
    // runc init has opened its end, so an early read cannot see a false EOF.
    // (libuv opens every file close-on-exec.)
    fd = openSync(fifo, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new SystemError(`cannot start container ${id}: ${messageOf(e)}`, { cause: e });
  }
  const got = await new Promise<number>((resolve) => {
    const sock = new Socket({ fd, readable: true, writable: false });
    let bytes = 0;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearInterval(watch);
      sock.destroy();
      resolve(bytes);
    };
    sock.on('data', (b: Buffer) => {
      bytes += b.length;
    });
    sock.on('end', finish);
    sock.on('close', finish);
    sock.on('error', finish);
    const watch = setInterval(() => {
      void processGone(initPid).then((gone) => {
        if (!gone || done) return;
        // It may have written and gone between two checks: what it wrote is still in the
        // fifo unless this socket has read it (runc does the same non-blocking read).
        bytes += drainFifo(fifo);
        finish();
      });
    }, 100);
  });
  if (got === 0) throw new SystemError(`runc start ${id} failed: container process is already dead`);
  await unlink(fifo).catch(() => undefined);
  return true;
}

/** Bytes waiting in a fifo, read through a second non-blocking reader; 0 when none or no fifo. */
function drainFifo(fifo: string): number {
  let fd: number | undefined;
  try {
    fd = openSync(fifo, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    return readSync(fd, Buffer.alloc(16));
  } catch {
    return 0;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The process has exited (no /proc entry, or a zombie). */
async function processGone(pid: number): Promise<boolean> {
  try {
    const st = await readFile(`/proc/${pid}/stat`, 'utf8');
    return st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
