/**
 * util/process: the one place the engine runs system tools (runc, conmon, mount,
 * iptables…). It captures stderr into the thrown error so a failure says why.
 * It never interprets a tool's output: callers do.
 */
import { spawn, type SpawnOptions } from 'node:child_process';
import { SystemError } from '../errdefs/errors.js';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  signal?: AbortSignal;
  /** Largest stdout kept, in bytes; more is an error (protects the daemon's memory). */
  maxOutput?: number;
  /** Exit codes that are not an error; default [0]. */
  okCodes?: number[];
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

/** Runs `file args…` to completion; rejects with ProcessError on a non-OK exit. */
export function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
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
