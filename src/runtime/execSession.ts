/**
 * runtime/execSession: runs an extra process in a running container under its
 * own conmon (`conmon --exec`), the way podman does, so an exec gets the same
 * attach socket, TTY (console socket), resize fifo and exit-code handling as a
 * container's main process.
 *
 * The conmon pipes (conmon src/conmon.c, api-version 1):
 *   _OCI_SYNCPIPE   conmon → us: {"data": pid} once `runc exec` started the process
 *                   (negative data + "message" = runc's error), then {"data": exit status}.
 *   _OCI_STARTPIPE  us → conmon: one write lets conmon fork; with --exec-attach a second
 *                   write lets it run `runc exec` (we send it after connecting to the attach
 *                   socket, so no output is lost).
 *   _OCI_ATTACHPIPE conmon → us: {"data": 0} once the attach socket is listening.
 * conmon writes the exit status to <exitDir>/<container id> too (so each exec has its own
 * exit dir) and to <persistDir>/exit, which is what a restarted daemon reads.
 *
 * Owns: the exec conmon command line and the pipe protocol. Never: builds the
 * process spec (the caller does), connects to the attach socket itself.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { SystemError, messageOf } from '../errdefs/errors.js';
import { replaceFile } from '../util/atomic.js';
import { dockerExitCodeFor, parseRuncError, type RuntimePaths } from './conmonRuntime.js';
import { parseExitFile } from './exitWatcher.js';
import type { OciProcess } from './ociTypes.js';

export interface ExecOptions {
  /** The runc id of the running container. */
  containerId: string;
  /** The exec's own id (conmon -u); [A-Za-z0-9_-]. */
  execId: string;
  /** Per-exec directory: process.json, pid files, and conmon's attach socket and ctl fifo. */
  dir: string;
  process: OciProcess;
  tty: boolean;
  /** Keep a stdin pipe (conmon -i): what attach clients send reaches the process. */
  stdin: boolean;
  /**
   * Called once conmon's attach socket listens and before the process runs: connect to
   * `<dir>/attach` here to see every byte. Omitted: detached (output is discarded).
   */
  beforeStart?: () => Promise<void>;
  /** Give up on the launch after this long. Default 60 s. */
  timeoutMs?: number;
}

export interface ExecSession {
  /** The exec'd process (host PID namespace). */
  pid: number;
  conmonPid: number;
  /** Docker's exit code (status, or 128+signal) once the process ended. Never rejects. */
  exited: Promise<number>;
}

/** `runc exec` could not start the process; exitCode is Docker's (126/127) for it. */
export class ExecStartError extends SystemError {
  readonly exitCode: number;
  constructor(readonly runtimeMessage: string) {
    super(`OCI runtime exec failed: ${runtimeMessage}: unknown`);
    this.exitCode = dockerExitCodeFor(runtimeMessage) ?? 126;
  }
}

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

export function execFiles(dir: string): { spec: string; pid: string; conmonPid: string; exitDir: string; persist: string } {
  return {
    spec: join(dir, 'process.json'),
    pid: join(dir, 'pid'),
    conmonPid: join(dir, 'conmon.pid'),
    exitDir: join(dir, 'exits'),
    persist: join(dir, 'persist'),
  };
}

/** The exit status conmon recorded for an exec, or null (still running, or never ran). */
export async function readExecExit(dir: string): Promise<number | null> {
  try {
    return parseExitFile(await readFile(join(execFiles(dir).persist, 'exit'), 'utf8'));
  } catch {
    return null;
  }
}

/** Splits a stream into JSON lines ({"data": n, "message"?: s}). */
class SyncReader {
  private buf = '';
  private readonly queue: Array<{ data: number; message?: string }> = [];
  private waiter: ((m: { data: number; message?: string } | null) => void) | undefined;
  private ended = false;

  constructor(stream: Readable) {
    stream.setEncoding('utf8');
    stream.on('data', (s: string) => {
      this.buf += s;
      for (let nl = this.buf.indexOf('\n'); nl >= 0; nl = this.buf.indexOf('\n')) {
        const line = this.buf.slice(0, nl).trim();
        this.buf = this.buf.slice(nl + 1);
        if (line === '') continue;
        try {
          const v = JSON.parse(line) as { data?: unknown; message?: unknown };
          if (typeof v.data !== 'number') continue;
          this.push(typeof v.message === 'string' ? { data: v.data, message: v.message } : { data: v.data });
        } catch {
          // not a message: ignore
        }
      }
    });
    const end = (): void => {
      this.ended = true;
      const w = this.waiter;
      this.waiter = undefined;
      w?.(null);
    };
    stream.on('end', end);
    stream.on('close', end);
    stream.on('error', end);
  }

  private push(m: { data: number; message?: string }): void {
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w(m);
    } else {
      this.queue.push(m);
    }
  }

  /** The next message, or null at EOF. */
  next(): Promise<{ data: number; message?: string } | null> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }
}

function writeByte(w: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    w.write('0', (e) => (e ? reject(e) : resolve()));
  });
}

/** Launches `runc exec` under conmon; resolves once the process runs (or throws ExecStartError). */
export async function startExec(paths: RuntimePaths, opts: ExecOptions): Promise<ExecSession> {
  if (!ID_RE.test(opts.containerId) || !ID_RE.test(opts.execId)) {
    throw new SystemError(`invalid id for an exec: "${opts.containerId}"/"${opts.execId}"`);
  }
  const f = execFiles(opts.dir);
  await mkdir(f.exitDir, { recursive: true });
  await mkdir(f.persist, { recursive: true });
  // Written for this one exec, read once by runc: no fsync (util/atomic replaceFile).
  await replaceFile(f.spec, JSON.stringify(opts.process));
  const attach = opts.beforeStart !== undefined;
  const args = [
    '--api-version', '1',
    '-c', opts.containerId,
    '-u', opts.execId,
    '-n', opts.execId,
    '-r', paths.runc,
    '-b', opts.dir,
    '-p', f.pid,
    '--conmon-pidfile', f.conmonPid,
    '--exit-dir', f.exitDir,
    '--persist-dir', f.persist,
    '-l', 'none',
    '--log-level', paths.conmonLogLevel ?? 'info',
    '--full-attach',
    '--runtime-arg', `--root=${paths.stateRoot}`,
    '-e',
    '--exec-process-spec', f.spec,
  ];
  if (opts.tty) args.push('-t');
  if (opts.stdin) args.push('-i');
  if (attach) args.push('--exec-attach');

  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'] ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    // conmon binds the console socket under $TMPDIR with a plain sun_path: keep it short.
    TMPDIR: '/tmp',
    _OCI_SYNCPIPE: '3',
    _OCI_STARTPIPE: '4',
  };
  if (attach) env['_OCI_ATTACHPIPE'] = '5';
  const child = spawn(paths.conmon, args, {
    cwd: opts.dir,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe', attach ? 'pipe' : 'ignore'],
    env,
  });
  child.unref();
  const stderrStream = child.stdio[2] as Readable;
  let stderr = '';
  stderrStream.setEncoding('utf8');
  stderrStream.on('data', (s: string) => {
    if (stderr.length < 16384) stderr += s;
  });
  stderrStream.on('error', () => undefined);
  const sync = new SyncReader(child.stdio[3] as Readable);
  const startPipe = child.stdio[4] as Writable;
  startPipe.on('error', () => undefined);
  const stdio = child.stdio as unknown as Array<Readable | Writable | null | undefined>;
  const attachReader = attach ? new SyncReader(stdio[5] as Readable) : undefined;
  let spawnError: Error | undefined;
  child.on('error', (e) => {
    spawnError = e;
  });

  const timeout = opts.timeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_res, rej) => {
    timer = setTimeout(() => rej(new SystemError('timed out waiting for conmon to start the exec process')), timeout);
  });
  timedOut.catch(() => undefined);
  const closeAll = (): void => {
    for (const s of stdio.slice(2)) s?.destroy();
  };

  let pid: number;
  try {
    await Promise.race([writeByte(startPipe), timedOut]);
    if (attachReader) {
      const ready = await Promise.race([attachReader.next(), timedOut]);
      if (ready === null || ready.data < 0) {
        throw new SystemError(`conmon did not set up the exec's attach socket: ${ready?.message ?? (spawnError?.message || stderr.trim() || 'no message')}`);
      }
      await opts.beforeStart?.();
      await Promise.race([writeByte(startPipe), timedOut]);
    }
    const first = await Promise.race([sync.next(), timedOut]);
    if (first === null) {
      throw new SystemError(`conmon exited without reporting the exec: ${spawnError?.message || stderr.trim() || 'no output'}`);
    }
    if (first.data <= 0) throw new ExecStartError(parseRuncError(first.message ?? '') || 'runc exec failed (no message)');
    pid = first.data;
  } catch (e) {
    closeAll();
    throw e instanceof SystemError ? e : new SystemError(`cannot exec: ${messageOf(e)}`, { cause: e });
  } finally {
    if (timer) clearTimeout(timer);
  }
  startPipe.destroy();
  let conmonPid = 0;
  try {
    conmonPid = Number((await readFile(f.conmonPid, 'utf8')).trim()) || 0;
  } catch {
    conmonPid = 0;
  }
  const exited = (async (): Promise<number> => {
    const m = await sync.next();
    closeAll();
    if (m !== null) return m.data < 0 ? 255 : m.data;
    // The pipe closed without a status (conmon killed): the exit file may still say it.
    return (await readExecExit(opts.dir)) ?? 255;
  })();
  return { pid, conmonPid, exited };
}
