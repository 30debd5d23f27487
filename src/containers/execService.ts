/**
 * containers/execService: exec instances — `docker exec`'s create, start
 * (attached or detached), resize and inspect. Each exec runs under its own
 * conmon (runtime/execSession.ts) with a process spec derived from the
 * container's own config.json, so it shares the container's namespaces,
 * cgroup, capabilities and seccomp profile.
 *
 * Exec records live in memory, as in Docker: they do not survive a daemon
 * restart. An exited exec stays inspectable for EXITED_TTL_MS, or until its
 * container is removed. Knows nothing of HTTP.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ConflictError, InvalidArgumentError, NotFoundError, SystemError, messageOf } from '../errdefs/errors.js';
import type { EventBus } from '../events/eventBus.js';
import { attach as attachConmon, resize as resizeConmon, type AttachConnection } from '../runtime/attach.js';
import { allCapabilities } from '../runtime/capabilities.js';
import type { ConmonRuntime } from '../runtime/conmonRuntime.js';
import { ExecStartError } from '../runtime/execSession.js';
import type { OciProcess, OciSpec } from '../runtime/ociTypes.js';
import type { ContainerStore } from './containerStore.js';
import type { AttachRequest } from './containerService.js';
import type { ContainerRecord } from './types.js';
import { pumpStdin } from './stdinPump.js';
import { DEFAULT_ESCAPE_KEYS, EscapeProxy, detachKeysToBytes } from '../util/escapeKeys.js';
import { groupAddOf, resolveUser } from './userLookup.js';

/** How long an exited exec stays inspectable (Docker's exec GC runs every 5 minutes). */
export const EXITED_TTL_MS = 5 * 60 * 1000;
/** moby's maxOutputLen: a health probe's output kept per result. */
export const PROBE_OUTPUT_MAX = 4096;

/** Go's time.Duration String() for whole milliseconds: "30s", "1.5s", "500ms", "1m0s". */
export function formatGoDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const totalS = ms / 1000;
  const h = Math.floor(totalS / 3600);
  const m = Math.floor((totalS % 3600) / 60);
  const sec = +(totalS % 60).toFixed(3);
  if (h > 0) return `${h}h${m}m${sec}s`;
  if (m > 0) return `${m}m${sec}s`;
  return `${sec}s`;
}

/**
 * The action of an exec event as moby writes it: the entrypoint, a space, the arguments joined
 * by spaces — so a command without arguments keeps a trailing space ("exec_start: ls ").
 */
export function execEventAction(kind: 'exec_create' | 'exec_start', cmd: readonly string[]): string {
  const [entrypoint = '', ...args] = cmd;
  return `${kind}: ${entrypoint} ${args.join(' ')}`;
}

export interface ExecConfig {
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ConsoleSize?: [number, number] | null;
  DetachKeys?: string;
  Tty?: boolean;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Privileged?: boolean;
  User?: string;
  WorkingDir?: string;
}

export interface ExecRecord {
  ID: string;
  ContainerID: string;
  OpenStdin: boolean;
  OpenStdout: boolean;
  OpenStderr: boolean;
  DetachKeys: string;
  Tty: boolean;
  ConsoleSize: [number, number] | null;
  Env: string[];
  Cmd: string[];
  Privileged: boolean;
  User: string;
  WorkingDir: string;
  Running: boolean;
  /** null until the process ended (or failed to start). */
  ExitCode: number | null;
  Pid: number;
  started: boolean;
}

export interface ExecStartOptions {
  detach: boolean;
  /** Overrides the exec's Tty/ConsoleSize when given (docker's ExecStartCheck). */
  consoleSize?: [number, number] | null;
}

/** What the exec service needs from the container side. */
export interface ExecHost {
  store: ContainerStore;
  runtime: ConmonRuntime;
  events: EventBus;
  dir(id: string): string;
  /** Docker's container event attributes (labels, image, name) plus `extra`. */
  eventAttributes(c: ContainerRecord, extra?: Record<string, string>): Record<string, string>;
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

/** Validates a POST /containers/{id}/exec body. */
export function validateExecConfig(body: unknown): ExecConfig {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidArgumentError('invalid JSON: request body must be an object');
  }
  const b = body as Record<string, unknown>;
  for (const k of ['Cmd', 'Env']) {
    if (b[k] !== undefined && b[k] !== null && !isStringArray(b[k])) throw new InvalidArgumentError(`invalid JSON: ${k} must be an array of strings`);
  }
  for (const k of ['User', 'WorkingDir', 'DetachKeys']) {
    if (b[k] !== undefined && b[k] !== null && typeof b[k] !== 'string') throw new InvalidArgumentError(`invalid JSON: ${k} must be a string`);
  }
  if (typeof b['DetachKeys'] === 'string' && b['DetachKeys'] !== '') {
    try {
      detachKeysToBytes(b['DetachKeys']);
    } catch {
      throw new InvalidArgumentError(`Invalid escape keys (${b['DetachKeys']}) provided`);
    }
  }
  for (const k of ['AttachStdin', 'AttachStdout', 'AttachStderr', 'Tty', 'Privileged', 'Detach']) {
    if (b[k] !== undefined && b[k] !== null && typeof b[k] !== 'boolean') throw new InvalidArgumentError(`invalid JSON: ${k} must be a boolean`);
  }
  const cs = b.ConsoleSize;
  if (cs !== undefined && cs !== null && !(Array.isArray(cs) && cs.length === 2 && cs.every((n) => Number.isInteger(n) && n >= 0))) {
    throw new InvalidArgumentError('invalid JSON: ConsoleSize must be [height, width]');
  }
  const cfg = b as ExecConfig;
  if (!cfg.Cmd || cfg.Cmd.length === 0) throw new InvalidArgumentError('No exec command specified');
  if (cfg.WorkingDir && !cfg.WorkingDir.startsWith('/')) {
    throw new InvalidArgumentError(`workdir "${cfg.WorkingDir}" is invalid: it must be an absolute path`);
  }
  for (const e of cfg.Env ?? []) {
    if (e === '' || e.startsWith('=')) throw new InvalidArgumentError(`invalid environment variable: ${e}`);
  }
  return cfg;
}

/** KEY=VALUE list with `over` replacing same-key entries of `base` (Docker's ReplaceOrAppendEnvValues). */
export function mergeEnv(base: readonly string[], over: readonly string[]): string[] {
  const out = [...base];
  for (const kv of over) {
    const key = kv.includes('=') ? kv.slice(0, kv.indexOf('=')) : kv;
    const i = out.findIndex((e) => e === key || e.startsWith(`${key}=`));
    if (!kv.includes('=')) {
      // "KEY" alone removes it, as Docker does.
      if (i >= 0) out.splice(i, 1);
      continue;
    }
    if (i >= 0) out[i] = kv;
    else out.push(kv);
  }
  return out;
}

export class ExecService {
  private readonly execs = new Map<string, ExecRecord>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly host: ExecHost) {}

  // ---- create ------------------------------------------------------------

  create(ref: string, body: unknown): { Id: string } {
    const c = this.host.store.resolve(ref);
    const cfg = validateExecConfig(body);
    this.checkRunning(c);
    const id = randomBytes(32).toString('hex');
    const rec: ExecRecord = {
      ID: id,
      ContainerID: c.Id,
      OpenStdin: cfg.AttachStdin === true,
      OpenStdout: cfg.AttachStdout === true,
      OpenStderr: cfg.AttachStderr === true,
      DetachKeys: cfg.DetachKeys ?? '',
      Tty: cfg.Tty === true,
      ConsoleSize: cfg.ConsoleSize ?? null,
      Env: cfg.Env ?? [],
      Cmd: cfg.Cmd ?? [],
      Privileged: cfg.Privileged === true,
      User: cfg.User ?? '',
      WorkingDir: cfg.WorkingDir ?? '',
      Running: false,
      ExitCode: null,
      Pid: 0,
      started: false,
    };
    this.execs.set(id, rec);
    this.host.events.publish('container', execEventAction('exec_create', rec.Cmd), c.Id, this.host.eventAttributes(c, { execID: id }));
    return { Id: id };
  }

  private checkRunning(c: ContainerRecord): void {
    if (c.State.Paused) throw new ConflictError(`container ${c.Id} is paused, unpause the container before exec`);
    if (!c.State.Running || c.State.Restarting) throw new ConflictError(`container ${c.Id} is not running`);
  }

  get(id: string): ExecRecord {
    const e = this.execs.get(id);
    if (!e) throw new NotFoundError(`No such exec instance: ${id}`);
    return e;
  }

  /** IDs of the container's execs that have not exited (inspect's ExecIDs). */
  idsFor(containerId: string): string[] {
    return [...this.execs.values()].filter((e) => e.ContainerID === containerId && e.ExitCode === null).map((e) => e.ID);
  }

  /** Forgets every exec of a removed container. */
  forgetContainer(containerId: string): void {
    for (const e of [...this.execs.values()]) {
      if (e.ContainerID !== containerId) continue;
      this.execs.delete(e.ID);
      const t = this.timers.get(e.ID);
      if (t) clearTimeout(t);
      this.timers.delete(e.ID);
    }
  }

  close(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  // ---- start -------------------------------------------------------------

  /**
   * Checks that `id` may start now (404/409 before any stream is opened), and marks
   * it started so a second start is refused.
   */
  claim(id: string): ExecRecord {
    const e = this.get(id);
    if (e.ExitCode !== null) throw new ConflictError(`Error: Exec command ${id} has already run`);
    if (e.started) throw new ConflictError(`Error: Exec command ${id} is already running`);
    const c = this.host.store.resolve(e.ContainerID);
    this.checkRunning(c);
    e.started = true;
    return e;
  }

  /**
   * Runs a claimed exec. Detached: resolves once it runs. Attached: streams through
   * `req` and resolves once its output ended and its exit code is recorded (so the
   * client's inspect that follows sees it). Start failures (runc's message) are
   * thrown; the exit code is then 126/127 as Docker records it.
   */
  async start(e: ExecRecord, opts: ExecStartOptions, req?: AttachRequest): Promise<void> {
    if (opts.consoleSize !== undefined) e.ConsoleSize = opts.consoleSize;
    const c = this.host.store.resolve(e.ContainerID);
    const dir = join(this.host.dir(c.Id), 'exec', e.ID.slice(0, 16));
    let conn: AttachConnection | undefined;
    let outputDone: Promise<void> = Promise.resolve();
    let detach!: () => void;
    const detached = new Promise<void>((resolve) => (detach = resolve));
    const wantStdin = !opts.detach && e.OpenStdin && req?.stdin !== null && req?.stdin !== undefined;
    let proc: OciProcess;
    try {
      proc = await this.processSpec(c, e);
    } catch (err) {
      this.finish(e, c, 126);
      throw err;
    }
    let session;
    try {
      const execOpts: Parameters<ConmonRuntime['exec']>[0] = {
        containerId: c.Id,
        execId: e.ID,
        dir,
        process: proc,
        tty: e.Tty,
        stdin: wantStdin,
      };
      if (!opts.detach && req) {
        const r = req;
        execOpts.beforeStart = async () => {
          conn = await attachConmon(dir, { stdin: wantStdin });
          // Listen at once: a quick process's output (and its end) may all arrive before exec() returns.
          const keys = e.DetachKeys !== '' ? detachKeysToBytes(e.DetachKeys) : DEFAULT_ESCAPE_KEYS;
          outputDone = pipeAttach(conn, r, wantStdin, e.OpenStdout, e.OpenStderr, e.Tty ? { onDetach: detach, keys } : undefined);
        };
      }
      session = await this.host.runtime.exec(execOpts);
    } catch (err) {
      conn?.close();
      const code = err instanceof ExecStartError ? err.exitCode : 126;
      this.finish(e, c, code);
      void rm(dir, { recursive: true, force: true }).catch(() => undefined);
      throw err;
    }
    e.Running = true;
    e.Pid = session.pid;
    this.host.events.publish('container', execEventAction('exec_start', e.Cmd), c.Id, this.host.eventAttributes(c, { execID: e.ID }));
    const exited = session.exited.then((code) => {
      const cur = this.host.store.get(c.Id) ?? c;
      this.finish(e, cur, code);
      void rm(dir, { recursive: true, force: true }).catch(() => undefined);
      return code;
    });
    if (opts.detach || !req || !conn) {
      void exited;
      return;
    }
    // The client hanging up does not stop the process (as Docker); it only stops streaming.
    await Promise.race([Promise.all([outputDone, exited]), abortPromise(req.signal), detached]);
    if (req.signal.aborted) conn.close();
  }

  private finish(e: ExecRecord, c: ContainerRecord, code: number): void {
    if (e.ExitCode !== null) return;
    e.Running = false;
    e.ExitCode = code;
    e.Pid = 0;
    this.host.events.publish('container', 'exec_die', c.Id, this.host.eventAttributes(c, { execID: e.ID, exitCode: String(code) }));
    const t = setTimeout(() => {
      this.execs.delete(e.ID);
      this.timers.delete(e.ID);
    }, EXITED_TTL_MS);
    t.unref();
    this.timers.set(e.ID, t);
  }

  /** The container's process spec, adjusted for this exec (Docker's exec config → OCI process). */
  private async processSpec(c: ContainerRecord, e: ExecRecord): Promise<OciProcess> {
    let spec: OciSpec;
    try {
      spec = JSON.parse(await readFile(join(this.host.dir(c.Id), 'config.json'), 'utf8')) as OciSpec;
    } catch (err) {
      throw new SystemError(`cannot read the spec of container ${c.Id}: ${messageOf(err)}`);
    }
    const base = spec.process;
    // TERM=xterm is the daemon's addition for a TTY: it follows the exec's Tty, not the container's.
    let env = base.env.filter((kv) => !kv.startsWith('TERM=') || (c.Config.Env ?? []).includes(kv));
    if (e.Tty && !env.some((kv) => kv.startsWith('TERM='))) env.push('TERM=xterm');
    env = mergeEnv(env, e.Env);
    const proc: OciProcess = {
      ...base,
      terminal: e.Tty,
      args: [...e.Cmd],
      env,
      cwd: e.WorkingDir || base.cwd,
    };
    delete proc.consoleSize;
    if (e.Tty && e.ConsoleSize && e.ConsoleSize[0] > 0 && e.ConsoleSize[1] > 0) {
      proc.consoleSize = { height: e.ConsoleSize[0], width: e.ConsoleSize[1] };
    }
    if (e.User) {
      const rootfs = spec.root.path.startsWith('/') ? spec.root.path : join(this.host.dir(c.Id), spec.root.path);
      const u = await resolveUser(rootfs, e.User, groupAddOf(c.HostConfig));
      proc.user = { uid: u.uid, gid: u.gid };
      if (u.additionalGids.length > 0) proc.user.additionalGids = u.additionalGids;
    }
    if (e.Privileged) {
      const all = allCapabilities();
      proc.capabilities = { bounding: all, effective: [...all], permitted: [...all] };
    }
    return proc;
  }

  // ---- health probes -------------------------------------------------------

  /**
   * Runs a health probe in a running container (moby's health check exec): its output
   * (stdout and stderr, at most PROBE_OUTPUT_MAX bytes) and exit code; after `timeoutMs` the
   * process is killed and the result is exit code -1, as Docker records a timed-out probe.
   * Like any exec in Docker, a probe publishes exec_create, exec_start and (when its process
   * ends, the killed one of a timed-out probe included) exec_die.
   */
  async runProbe(containerId: string, cmd: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }> {
    const c = this.host.store.resolve(containerId);
    this.checkRunning(c);
    const e: ExecRecord = {
      ID: randomBytes(32).toString('hex'),
      ContainerID: c.Id,
      OpenStdin: false,
      OpenStdout: true,
      OpenStderr: true,
      DetachKeys: '',
      Tty: false,
      ConsoleSize: null,
      Env: [],
      Cmd: cmd,
      Privileged: false,
      User: '',
      WorkingDir: '',
      Running: false,
      ExitCode: null,
      Pid: 0,
      started: true,
    };
    const dir = join(this.host.dir(c.Id), 'exec', e.ID.slice(0, 16));
    const publish = (action: string, extra: Record<string, string> = {}): void =>
      this.host.events.publish('container', action, c.Id, this.host.eventAttributes(this.host.store.get(c.Id) ?? c, { execID: e.ID, ...extra }));
    publish(execEventAction('exec_create', cmd));
    const chunks: Buffer[] = [];
    let size = 0;
    const take = (b: Buffer): void => {
      if (size >= PROBE_OUTPUT_MAX) return;
      const part = b.subarray(0, PROBE_OUTPUT_MAX - size);
      chunks.push(Buffer.from(part));
      size += part.length;
    };
    let conn: AttachConnection | undefined;
    let outputDone: Promise<void> = Promise.resolve();
    try {
      const session = await this.host.runtime.exec({
        containerId: c.Id,
        execId: e.ID,
        dir,
        process: await this.processSpec(c, e),
        tty: false,
        stdin: false,
        beforeStart: async () => {
          conn = await attachConmon(dir, { stdin: false });
          const ac = new AbortController();
          outputDone = pipeAttach(conn, { stdin: null, sink: { stdout: take, stderr: take, end: () => undefined }, signal: ac.signal }, false, true, true);
        },
      });
      publish(execEventAction('exec_start', cmd));
      let killed = false;
      // A probe killed for its timeout reports 127, as Docker's does: moby forgets the exec
      // before its exit arrives, and an exit of an exec it no longer knows is logged as 127.
      void session.exited.then(
        (code) => publish('exec_die', { exitCode: String(killed ? 127 : code) }),
        () => undefined,
      );
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const r = await Promise.race([session.exited, timedOut]);
      if (timer) clearTimeout(timer);
      if (r === 'timeout') {
        killed = true;
        try {
          process.kill(session.pid, 'SIGKILL');
        } catch {
          // already gone
        }
        conn?.close();
        void session.exited.then(() => rm(dir, { recursive: true, force: true }).catch(() => undefined));
        return { exitCode: -1, output: `Health check exceeded timeout (${formatGoDuration(timeoutMs)})` };
      }
      await Promise.race([outputDone, new Promise((res) => setTimeout(res, 1000))]);
      return { exitCode: r, output: Buffer.concat(chunks).toString('utf8') };
    } catch (err) {
      conn?.close();
      if (err instanceof ExecStartError) return { exitCode: err.exitCode, output: err.message };
      throw err;
    } finally {
      void rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  // ---- resize / inspect ---------------------------------------------------

  async resize(id: string, rows: number, cols: number): Promise<void> {
    const e = this.get(id);
    if (!e.Running) throw new ConflictError(`Exec ${id} is not running`);
    if (!e.Tty) return;
    await resizeConmon(join(this.host.dir(e.ContainerID), 'exec', e.ID.slice(0, 16)), { rows, cols });
  }

  inspect(id: string): Record<string, unknown> {
    const e = this.get(id);
    const [entrypoint = '', ...args] = e.Cmd;
    return {
      ID: e.ID,
      Running: e.Running,
      ExitCode: e.ExitCode,
      ProcessConfig: { tty: e.Tty, entrypoint, arguments: args, privileged: e.Privileged, user: e.User },
      OpenStdin: e.OpenStdin,
      OpenStderr: e.OpenStderr,
      OpenStdout: e.OpenStdout,
      CanRemove: e.ExitCode !== null,
      ContainerID: e.ContainerID,
      DetachKeys: e.DetachKeys,
      Pid: e.Pid,
    };
  }
}

function abortPromise(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/** Moves bytes between an attach request and the exec's conmon; resolves when the output ended. */
function pipeAttach(
  conn: AttachConnection,
  req: AttachRequest,
  wantStdin: boolean,
  stdout: boolean,
  stderr: boolean,
  tty?: { onDetach: () => void; keys: number[] },
): Promise<void> {
  return new Promise<void>((resolve) => {
    let ended = false;
    const finish = (): void => {
      if (ended) return;
      ended = true;
      resolve();
    };
    conn.stdout.on('data', (b: Buffer) => {
      if (stdout) req.sink.stdout?.(b);
    });
    conn.stderr.on('data', (b: Buffer) => {
      if (stderr) req.sink.stderr?.(b);
    });
    conn.on('end', finish);
    conn.on('error', finish);
    const stdin = req.stdin;
    if (wantStdin && stdin) {
      const detach = (): void => {
        conn.close();
        finish();
        tty?.onDetach();
      };
      // A TTY exec detaches on its detach keys (the daemon matches them too, for API clients).
      pumpStdin(stdin, conn, tty ? new EscapeProxy(tty.keys) : undefined, {
        onDetach: detach,
        // A TTY exec's stdin ending is a detach too (moby: it closes the output, the process runs on).
        onEnd: () => (tty === undefined ? conn.closeStdin() : detach()),
        onWriteError: () => undefined,
      });
      stdin.on('error', () => undefined);
      // The body may have been read from the same socket in paused mode: flow again.
      stdin.resume();
    }
  });
}
