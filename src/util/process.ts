/**
 * util/process: the one place the engine runs system tools (runc, conmon, mount,
 * iptables…). It captures stderr into the thrown error so a failure says why.
 * It never interprets a tool's output: callers do. With `noFork` (and the
 * native/engine addon) the tool is started with vfork + execve instead of libuv's
 * fork of the whole daemon (decisions B67).
 */
import { spawn, type SpawnOptions } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { Socket } from 'node:net';
import { delimiter, isAbsolute, join } from 'node:path';
import { SystemError } from '../errdefs/errors.js';
import { nativeEngine, type NativeEngine } from './nativeEngine.js';
import { reap } from './spawnPiped.js';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  signal?: AbortSignal;
  /** Largest stdout kept, in bytes; more is an error (protects the daemon's memory). */
  maxOutput?: number;
  /** Exit codes that are not an error; default [0]. */
  okCodes?: number[];
  /**
   * Start the tool with vfork + execve (no copy of the daemon) when the addon has it and there
   * is no `signal` (a bare name is looked up on PATH once); stdin is then /dev/null rather than
   * an empty pipe unless there is `input`. For tools run once per container (runc, CNI
   * plugins, the netns spare's unshare).
   */
  noFork?: boolean;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class ProcessError extends SystemError {
  constructor(
    readonly command: string,
    readonly code: number | null,
    readonly stderr: string,
    readonly stdout: string,
  ) {
    const detail = (stderr.trim() || stdout.trim()).split('\n').slice(-5).join('\n');
    super(`${command} failed (${code === null ? 'killed' : `exit status ${code}`})${detail ? `: ${detail}` : ''}`);
  }
}

const DEFAULT_MAX_OUTPUT = 16 * 1024 * 1024;

/** The first of `dirs` (absolute ones only) holding an executable `name`, or null. */
export function findInDirs(name: string, dirs: readonly string[]): string | null {
  for (const dir of dirs) {
    if (!isAbsolute(dir)) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return null;
}

/** Absolute paths of bare tool names, as execvp would find them on PATH (null: not found). */
const onPath = new Map<string, string | null>();

function lookPath(name: string): string | null {
  let found = onPath.get(name);
  if (found === undefined) {
    found = findInDirs(name, (process.env.PATH ?? '').split(delimiter));
    onPath.set(name, found);
  }
  return found;
}

/** Runs `file args…` to completion; rejects with ProcessError on a non-OK exit. */
export function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  if (opts.noFork === true && opts.signal === undefined) {
    const engine = nativeEngine();
    const path = isAbsolute(file) ? file : file.includes('/') ? null : lookPath(file);
    if (path !== null && engine?.spawnPiped !== undefined && engine.waitPid !== undefined) return runNoFork(engine, path, args, opts);
  }
  return new Promise((resolve, reject) => {
    const spawnOpts: SpawnOptions = { stdio: ['pipe', 'pipe', 'pipe'] };
    if (opts.cwd !== undefined) spawnOpts.cwd = opts.cwd;
    if (opts.env !== undefined) spawnOpts.env = opts.env;
    if (opts.signal !== undefined) spawnOpts.signal = opts.signal;
    const child = spawn(file, args, spawnOpts);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    const max = opts.maxOutput ?? DEFAULT_MAX_OUTPUT;
    const label = [file, ...args.slice(0, 3)].join(' ');
    child.stdout?.on('data', (b: Buffer) => {
      outLen += b.length;
      if (outLen > max) {
        child.kill('SIGKILL');
        return;
      }
      out.push(b);
    });
    child.stderr?.on('data', (b: Buffer) => {
      if (err.length < 256) err.push(b);
    });
    child.on('error', (e) => reject(new SystemError(`${label}: ${e.message}`, { cause: e })));
    child.on('close', (code) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (outLen > max) {
        reject(new SystemError(`${label}: output larger than ${max} bytes`));
        return;
      }
      const ok = opts.okCodes ?? [0];
      if (code !== null && ok.includes(code)) resolve({ code, stdout, stderr });
      else reject(new ProcessError(label, code, stderr, stdout));
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/** run() through native/engine's vfork + execve: the same results and errors. */
async function runNoFork(engine: NativeEngine, file: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  const label = [file, ...args.slice(0, 3)].join(' ');
  const env = Object.entries(opts.env ?? process.env)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${v}`);
  let r: { pid: number; stdout?: number; stdin?: number; stderr: number };
  try {
    // flags 4: a stdout pipe, no fd 3, the daemon's own session (as child_process); 8: a stdin pipe.
    const flags = opts.input === undefined ? 4 : 4 | 8;
    r = (engine.spawnPiped as NonNullable<NativeEngine['spawnPiped']>)(file, [file, ...args], env, opts.cwd ?? process.cwd(), flags);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
    throw new SystemError(`${label}: spawn ${file} ${code}`, { cause: e });
  }
  const max = opts.maxOutput ?? DEFAULT_MAX_OUTPUT;
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let outLen = 0;
  const drain = (fd: number, onData: (b: Buffer) => void): Promise<void> =>
    new Promise((resolve) => {
      const s = new Socket({ fd, readable: true, writable: false });
      s.on('data', onData);
      s.on('error', () => resolve());
      s.on('close', () => resolve());
    });
  if (r.stdin !== undefined && r.stdin >= 0) {
    // A tool that exits without reading all of it gives EPIPE: its exit status says what happened.
    const w = new Socket({ fd: r.stdin, readable: false, writable: true });
    w.on('error', () => undefined);
    w.end(opts.input as string | Buffer);
  }
  const [, , status] = await Promise.all([
    drain(r.stdout as number, (b) => {
      outLen += b.length;
      if (outLen > max) {
        try {
          process.kill(r.pid, 'SIGKILL');
        } catch {
          // already gone
        }
        return;
      }
      out.push(b);
    }),
    drain(r.stderr, (b) => {
      if (err.length < 256) err.push(b);
    }),
    reap(engine, r.pid),
  ]);
  const code = status < 0 ? null : status;
  const stdout = Buffer.concat(out).toString('utf8');
  const stderr = Buffer.concat(err).toString('utf8');
  if (outLen > max) throw new SystemError(`${label}: output larger than ${max} bytes`);
  const ok = opts.okCodes ?? [0];
  if (code !== null && ok.includes(code)) return { code, stdout, stderr };
  throw new ProcessError(label, code, stderr, stdout);
}
