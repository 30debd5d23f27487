/**
 * util/spawnPiped: starts a detached helper (its own session, stdin and stdout
 * /dev/null) whose stderr and fd 3 the caller reads through pipes — what conmon
 * needs (fd 3 is its sync pipe). With native/engine's spawnPiped the child comes
 * from vfork + execve (decisions B67): libuv's spawn forks the whole daemon, which
 * blocks the event loop for 5-30 ms depending on its size, on the path of every
 * container start. Without the addon (or an older build of it) child_process.spawn
 * does the same job.
 *
 * A natively spawned child is reaped on SIGCHLD with waitpid(WNOHANG), as libuv
 * reaps its own (it waits only for the PIDs it spawned): a blocking wait would hold
 * a thread-pool thread — which file I/O needs — for as long as the child runs.
 *
 * Owns: the choice between the two, and reaping natively spawned children. Never:
 * decides what to run, reads the pipes, or kills anything.
 */
import { spawn } from 'node:child_process';
import { Socket } from 'node:net';
import { isAbsolute } from 'node:path';
import type { Readable } from 'node:stream';
import { nativeEngine, type NativeEngine } from './nativeEngine.js';

/** Natively spawned children not reaped yet: pid → its waiter. */
const unreaped = new Map<number, (status: number | Error) => void>();
let tryWait: ((pid: number) => number | null) | undefined;
/**
 * While children are unreaped: keeps the event loop alive (a signal listener does not, and
 * libuv's own process handle would) and checks again now and then, in case a SIGCHLD went
 * to a moment before the listener was there.
 */
let keepAlive: NodeJS.Timeout | undefined;

function reapExited(): void {
  for (const [pid, done] of unreaped) {
    let st: number | null;
    try {
      st = (tryWait as (pid: number) => number | null)(pid);
    } catch (e) {
      st = null;
      unreaped.delete(pid);
      done(e as Error);
    }
    if (st === null) continue;
    unreaped.delete(pid);
    done(st);
  }
  if (unreaped.size === 0 && keepAlive !== undefined) {
    process.removeListener('SIGCHLD', reapExited);
    clearInterval(keepAlive);
    keepAlive = undefined;
  }
}

/**
 * Resolves with the child's exit code (or -signal) once it has exited. Call right after
 * spawning: an exit before the SIGCHLD listener is there is caught by the first check.
 */
export function reap(engine: NativeEngine, pid: number): Promise<number> {
  const fn = engine.tryWaitPid;
  if (fn === undefined) return (engine.waitPid as NonNullable<NativeEngine['waitPid']>)(pid);
  tryWait = fn;
  return new Promise<number>((resolve, reject) => {
    unreaped.set(pid, (st) => (typeof st === 'number' ? resolve(st) : reject(st)));
    if (keepAlive === undefined) {
      process.on('SIGCHLD', reapExited);
      keepAlive = setInterval(reapExited, 100);
    }
    reapExited();
  });
}

export interface PipedChild {
  pid: number;
  stderr: Readable;
  fd3: Readable;
  /** The exit code, or null when a signal ended it; rejects only when the process could not be watched. */
  exited: Promise<number | null>;
}

export interface SpawnPipedOptions {
  cwd: string;
  env: Record<string, string>;
}

/** Throws an Error with an errno `code` (ENOENT, EACCES, …) when the program cannot be started. */
export function spawnPiped(file: string, args: readonly string[], opts: SpawnPipedOptions): PipedChild {
  const engine = nativeEngine();
  if (engine?.spawnPiped !== undefined && engine.waitPid !== undefined && isAbsolute(file)) {
    const env = Object.entries(opts.env).map(([k, v]) => `${k}=${v}`);
    let r: { pid: number; stderr: number; fd3: number };
    try {
      r = engine.spawnPiped(file, [file, ...args], env, opts.cwd);
    } catch (e) {
      // The shape child_process gives a failed spawn ("spawn /usr/bin/conmon ENOENT").
      const code = (e as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
      throw Object.assign(new Error(`spawn ${file} ${code}`, { cause: e }), { code, syscall: `spawn ${file}`, path: file });
    }
    return {
      pid: r.pid,
      stderr: new Socket({ fd: r.stderr, readable: true, writable: false }),
      fd3: new Socket({ fd: r.fd3, readable: true, writable: false }),
      exited: reap(engine, r.pid).then((st) => (st < 0 ? null : st)),
    };
  }
  const child = spawn(file, args, {
    cwd: opts.cwd,
    // Own session and process group, as the native path's setsid().
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    env: opts.env,
  });
  child.unref();
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
  // spawn() reports a missing program asynchronously; the native path throws. Keep one shape:
  // the caller awaits `exited` and sees the error there.
  return { pid: child.pid ?? 0, stderr: child.stderr as Readable, fd3: child.stdio[3] as Readable, exited };
}
