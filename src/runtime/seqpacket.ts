/**
 * runtime/seqpacket: a SOCK_SEQPACKET unix-socket client (conmon's attach socket), on the
 * native/seqpacket addon (decisions B99). A packet read is one 'data' event, whole; a write
 * is one packet, sent in order, waiting while the peer's queue is full.
 *
 * Events: 'data' (Buffer, one packet), 'end' (the peer shut down), 'error' (a read or write
 * failed; the connection is then closed), 'close' (once, after which nothing is emitted).
 *
 * Owns the descriptor (through the addon) and the queue of unsent packets. Never: frames or
 * splits packets (runtime/attach.ts decides what a packet holds), reconnects.
 */
import { EventEmitter } from 'node:events';
import { getSystemErrorName } from 'node:util';
import { SystemError } from '../errdefs/errors.js';
import { loadNativeAddon } from '../util/nativeAddon.js';

const EV_DATA = 0;
const EV_END = 1;
const EV_ERROR = 2;
const EV_WRITABLE = 3;
/** Linux's EAGAIN (asm-generic/errno-base.h). */
const EAGAIN = 11;
const EBADF = 9;

type Handle = object & { readonly __seqpacket: unique symbol };

interface SeqpacketAddon {
  connect(path: string, onEvent: (kind: number, arg: Buffer | number) => void): Handle;
  /** Bytes sent (the whole packet), or -errno. */
  send(handle: Handle, bytes: Buffer): number;
  wantWrite(handle: Handle): void;
  shutdown(handle: Handle): void;
  close(handle: Handle): void;
}

let addon: SeqpacketAddon | null | undefined;

/** Whether the addon loads (berthd's preflight asks, so a missing build stops it at start). */
export function seqpacketAvailable(): boolean {
  if (addon === undefined) addon = loadNativeAddon<SeqpacketAddon>('seqpacket');
  return addon !== null;
}

function seqpacketAddon(): SeqpacketAddon {
  if (!seqpacketAvailable() || !addon) {
    throw new SystemError('native/seqpacket is not built (conmon attach sockets need it): run scripts/setup.sh');
  }
  return addon;
}

/** An errno from the addon as Node's errors look (code, errno). */
function errnoError(errno: number, what: string): NodeJS.ErrnoException {
  let code = `E${errno}`;
  try {
    code = getSystemErrorName(-errno);
  } catch {
    // not an errno libuv knows: keep the number
  }
  const e: NodeJS.ErrnoException = new Error(`${what}: ${code}`);
  e.code = code;
  e.errno = errno;
  return e;
}

interface SeqpacketEvents {
  data: [packet: Buffer];
  end: [];
  error: [err: Error];
  close: [];
}

interface Pending {
  bytes: Buffer;
  resolve: () => void;
  reject: (e: Error) => void;
}

export class SeqpacketConnection extends EventEmitter<SeqpacketEvents> {
  private handle: Handle | null;
  private readonly queue: Pending[] = [];
  private waitingWritable = false;
  private shutdownWhenDrained: (() => void) | null = null;

  /**
   * Connects now, without blocking: a unix connect completes or fails at once. Throws an Error
   * whose `code` is the errno name (ENOENT, ECONNREFUSED; EAGAIN when the listener's backlog is full).
   */
  constructor(path: string) {
    super();
    const native = seqpacketAddon();
    this.handle = native.connect(path, (kind, arg) => this.onEvent(kind, arg));
  }

  get closed(): boolean {
    return this.handle === null;
  }

  /** Sends `bytes` as one packet, after the ones before it; resolves when the kernel has it. */
  write(bytes: Buffer): Promise<void> {
    if (this.handle === null) return Promise.reject(errnoError(EBADF, 'write'));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ bytes, resolve, reject });
      if (this.queue.length === 1) this.flush();
    });
  }

  /** No more packets from this side once the queued ones are sent (shutdown(SHUT_WR)); reading goes on. */
  end(): Promise<void> {
    return new Promise<void>((resolve) => {
      const shut = (): void => {
        this.shutdownWhenDrained = null;
        if (this.handle !== null) {
          try {
            seqpacketAddon().shutdown(this.handle);
          } catch {
            // the peer is gone already: nothing to shut
          }
        }
        resolve();
      };
      if (this.queue.length === 0) shut();
      else this.shutdownWhenDrained = shut;
    });
  }

  /** Closes the socket; queued writes fail. Emits 'close' once. */
  destroy(err?: Error): void {
    const handle = this.handle;
    if (handle === null) return;
    this.handle = null;
    seqpacketAddon().close(handle);
    const failure = err ?? errnoError(EBADF, 'write');
    for (const p of this.queue.splice(0)) p.reject(failure);
    this.shutdownWhenDrained?.();
    if (err !== undefined && this.listenerCount('error') > 0) this.emit('error', err);
    this.emit('close');
  }

  private flush(): void {
    const native = seqpacketAddon();
    while (this.queue.length > 0 && this.handle !== null) {
      const head = this.queue[0] as Pending;
      const n = native.send(this.handle, head.bytes);
      if (n === -EAGAIN) {
        if (!this.waitingWritable) {
          this.waitingWritable = true;
          native.wantWrite(this.handle);
        }
        return;
      }
      this.queue.shift();
      if (n < 0) {
        const e = errnoError(-n, 'write');
        head.reject(e);
        this.destroy(e);
        return;
      }
      head.resolve();
    }
    if (this.queue.length === 0) this.shutdownWhenDrained?.();
  }

  private onEvent(kind: number, arg: Buffer | number): void {
    if (this.handle === null) return;
    if (kind === EV_DATA && Buffer.isBuffer(arg)) this.emit('data', arg);
    else if (kind === EV_END) this.emit('end');
    else if (kind === EV_WRITABLE) {
      this.waitingWritable = false;
      this.flush();
    } else if (kind === EV_ERROR) this.destroy(errnoError(typeof arg === 'number' ? arg : 0, 'read'));
  }
}
