/**
 * runtime/attach: talks to a running container's conmon through the bundle's
 * `attach` socket (stdio) and `ctl` fifo (TTY resize, log reopen).
 *
 * The attach socket is SOCK_SEQPACKET (node:net cannot open it; runtime/seqpacket
 * does, on the native/seqpacket addon). Each packet conmon sends is one frame:
 * byte 0 = stream (2 stdout, 3 stderr; a TTY has stdout only), the rest is data.
 * What we send is written to the container's stdin as is. conmon keeps no backlog:
 * output produced while no one is attached is only in the log, so the daemon
 * attaches between create() and start(), as `docker run` does.
 *
 * Closing stdin (conmon src/conn_sock.c): when an attach connection reaches EOF or
 * hangs up, conmon closes the container's stdin pipe — if it was started with -i
 * and without --leave-stdin-open. closeStdin() therefore shuts down our write side
 * (shutdown(SHUT_WR)) and keeps reading output. Note it is ANY connection closing,
 * so close() of an attach without stdin also closes stdin of a StdinOnce container.
 * With a TTY (-t) conmon never closes the pty.
 *
 * Never: reads logs (logs.ts), starts or kills containers.
 */
import { EventEmitter } from 'node:events';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { ConflictError, InvalidArgumentError, NotFoundError, SystemError, messageOf } from '../errdefs/errors.js';
import { SeqpacketConnection } from './seqpacket.js';

/** conmon reads at most CONN_SOCK_BUF_SIZE - 1 bytes per packet (config.h); a longer packet would be cut. */
export const MAX_STDIN_PACKET = 32767;
/** sockaddr_un.sun_path holds 108 bytes including the NUL. */
const MAX_SUN_PATH = 107;
const STREAM_STDOUT = 2;
const STREAM_STDERR = 3;

export interface AttachOptions {
  /** Whether writeStdin/closeStdin may be used. */
  stdin: boolean;
}

export interface AttachConnectionEvents {
  /** The container's output is finished (conmon closed the connection after draining it). */
  end: [];
  error: [err: Error];
}

export class AttachConnection extends EventEmitter<AttachConnectionEvents> {
  readonly stdout: Readable;
  readonly stderr: Readable;
  private readonly out = new PassThrough();
  private readonly err = new PassThrough();
  private ended = false;
  private stdinClosed = false;

  constructor(
    private readonly sock: SeqpacketConnection,
    private readonly withStdin: boolean,
  ) {
    super();
    this.stdout = this.out;
    this.stderr = this.err;
    // conmon writes to us with blocking writes: we must always read, so output is
    // buffered here rather than back-pressured (a slow reader would stall conmon's logging).
    sock.on('data', (buf: Buffer) => {
      if (buf.length === 0) return;
      const kind = buf[0];
      const data = buf.subarray(1);
      if (kind === STREAM_STDOUT) this.out.write(data);
      else if (kind === STREAM_STDERR) this.err.write(data);
    });
    sock.on('end', () => this.finish());
    sock.on('close', () => this.finish());
    sock.on('error', (e: Error) => {
      // An unheard 'error' would throw and take the daemon down: report only to listeners.
      if (this.listenerCount('error') > 0) this.emit('error', e);
      this.finish();
    });
  }

  /** Writes to the container's stdin; resolves when the bytes are handed to the kernel. */
  async writeStdin(data: Buffer | string): Promise<void> {
    if (!this.withStdin) throw new InvalidArgumentError('this attach connection has no stdin');
    if (this.stdinClosed || this.ended) throw new ConflictError('stdin is closed');
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    // A zero-length packet reads as EOF on conmon's side and would close stdin.
    for (let off = 0; off < buf.length; off += MAX_STDIN_PACKET) {
      const chunk = buf.subarray(off, Math.min(off + MAX_STDIN_PACKET, buf.length));
      try {
        await this.sock.write(chunk);
      } catch (e) {
        throw new ConflictError(`cannot write to the container's stdin: ${messageOf(e)}`);
      }
    }
  }

  /** Signals EOF on the container's stdin (see the module comment for when conmon honours it). Output keeps flowing. */
  async closeStdin(): Promise<void> {
    if (this.stdinClosed || this.ended) return;
    this.stdinClosed = true;
    await this.sock.end();
  }

  /** Drops the connection (the container keeps running). */
  close(): void {
    try {
      this.sock.destroy();
    } catch {
      // already closed
    }
    this.finish();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.out.end();
    this.err.end();
    try {
      this.sock.destroy();
    } catch {
      // already closed
    }
    this.emit('end');
  }
}

/**
 * Connects to <bundleDir>/attach. Do it after ConmonRuntime.create() and before
 * start() to get all output. Paths longer than sun_path allows are reached through
 * /proc/self/fd/<dirfd>/attach, as conmon itself binds them.
 */
export async function attach(bundleDir: string, opts: AttachOptions): Promise<AttachConnection> {
  const path = join(bundleDir, 'attach');
  let dir: Awaited<ReturnType<typeof open>> | undefined;
  let target = path;
  if (Buffer.byteLength(path) > MAX_SUN_PATH) {
    try {
      dir = await open(bundleDir, constants.O_RDONLY | constants.O_DIRECTORY);
    } catch (e) {
      throw new NotFoundError(`container bundle ${bundleDir} is not there: ${messageOf(e)}`);
    }
    target = `/proc/self/fd/${dir.fd}/attach`;
  }
  try {
    let sock: SeqpacketConnection;
    try {
      sock = new SeqpacketConnection(target);
    } catch (e) {
      throw attachError(bundleDir, e);
    }
    return new AttachConnection(sock, opts.stdin);
  } finally {
    await dir?.close();
  }
}

function attachError(bundleDir: string, e: unknown): Error {
  const msg = messageOf(e);
  if (/ENOENT|No such file|ECONNREFUSED|Connection refused/i.test(msg)) {
    return new ConflictError(`cannot attach: the container's monitor is not running (${bundleDir}/attach): ${msg}`);
  }
  return new SystemError(`cannot attach to ${bundleDir}/attach: ${msg}`);
}

export interface TtySize {
  rows: number;
  cols: number;
}

/**
 * conmon 2.1.6 parses only the first line of each read from the ctl fifo (a bug fixed
 * later: it passes the buffer start, not the current line), so two messages that land
 * in one read would apply the first twice. Writes to one fifo are therefore serialised,
 * spaced, and coalesced (only the newest pending size is sent).
 */
const CTL_GAP_MS = 30;
const ctlQueues = new Map<string, { chain: Promise<void>; latest: string; written: string }>();

/** Resizes the container's TTY (conmon -t): message "1 ROWS COLS" on <bundle>/ctl. */
export async function resize(bundleDir: string, size: TtySize): Promise<void> {
  for (const [k, v] of Object.entries(size)) {
    if (!Number.isInteger(v) || v < 0 || v > 65535) throw new InvalidArgumentError(`invalid TTY ${k}: ${String(v)}`);
  }
  await sendCtl(bundleDir, `1 ${size.rows} ${size.cols}\n`, true);
}

/** Asks conmon to reopen its log file (message type 2), e.g. after the daemon rotated it. */
export async function reopenLogs(bundleDir: string): Promise<void> {
  await sendCtl(bundleDir, '2 0 0\n', false);
}

function sendCtl(bundleDir: string, msg: string, coalesce: boolean): Promise<void> {
  const path = join(bundleDir, 'ctl');
  let q = ctlQueues.get(path);
  if (q === undefined) {
    q = { chain: Promise.resolve(), latest: '', written: '' };
    ctlQueues.set(path, q);
  }
  const queue = q;
  if (coalesce) queue.latest = msg;
  const job = queue.chain.then(async () => {
    const toSend = coalesce ? queue.latest : msg;
    if (coalesce && toSend === queue.written) return;
    await writeCtl(path, toSend);
    if (coalesce) queue.written = toSend;
    await new Promise((r) => setTimeout(r, CTL_GAP_MS));
  });
  // The chain must survive a failed job; the caller still sees the failure.
  queue.chain = job.catch(() => undefined).finally(() => {
    if (ctlQueues.get(path) === queue && queue.chain === tail) ctlQueues.delete(path);
  });
  const tail = queue.chain;
  return job;
}

async function writeCtl(path: string, msg: string): Promise<void> {
  let fh;
  try {
    // Non-blocking: with no reader (conmon gone) open fails with ENXIO instead of hanging.
    fh = await open(path, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENXIO' || code === 'ENOENT') {
      throw new ConflictError(`cannot send to the container's monitor: it is not running (${path})`);
    }
    throw new SystemError(`cannot open ${path}: ${messageOf(e)}`);
  }
  try {
    await fh.write(msg);
  } finally {
    await fh.close();
  }
}
