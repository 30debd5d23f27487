/**
 * cli/streams/hijack: moves bytes between the terminal and a hijacked attach
 * connection, like docker's hijackedIOStreamer — raw mode on a TTY, stdin to
 * the container (half-closing at EOF), output raw (TTY) or demultiplexed
 * (stdcopy), and the detach key sequence (default ctrl-p ctrl-q). Always
 * restores the terminal. Never calls the API itself.
 */
import type { Writable } from 'node:stream';
import type { HijackedConnection } from '../../client/engineClient.js';
import { demuxStream, writeAll } from '../../client/stdcopy.js';
import type { InStream } from '../context.js';
import { DEFAULT_ESCAPE_KEYS, DetachError, detachKeysToBytes, EscapeProxy } from '../../util/escapeKeys.js';

export { DEFAULT_ESCAPE_KEYS, DetachError, detachKeysToBytes, EscapeProxy } from '../../util/escapeKeys.js';

export interface StreamerOptions {
  conn: HijackedConnection;
  /** Present only when the container's stdin is attached. */
  stdin?: InStream | undefined;
  stdout?: Writable | undefined;
  stderr?: Writable | undefined;
  tty: boolean;
  detachKeys?: string | undefined;
}

export class HijackedIOStreamer {
  private restored = false;
  private rawSet = false;
  private readonly cleanups: Array<() => void> = [];

  constructor(private readonly o: StreamerOptions) {}

  /** Puts the terminal back (idempotent); safe to call from signal handlers. */
  restoreTerminal(): void {
    if (this.restored) return;
    this.restored = true;
    if (this.rawSet) this.o.stdin?.setRawMode?.(false);
  }

  /** Stops streaming: closes the connection and restores the terminal. */
  cancel(): void {
    this.restoreTerminal();
    this.o.conn.close();
  }

  /**
   * Streams until the output ends (or, with no output attached, until input
   * ends). Rejects with DetachError on the detach sequence.
   */
  async stream(): Promise<void> {
    const { stdin, stdout, stderr, tty } = this.o;
    if (stdin !== undefined && tty && stdin.isTTY && typeof stdin.setRawMode === 'function') {
      stdin.setRawMode(true);
      this.rawSet = true;
    }
    try {
      const hasOutput = stdout !== undefined || stderr !== undefined;
      let detach!: (e: DetachError) => void;
      const detached = new Promise<never>((_res, rej) => {
        detach = rej;
      });
      detached.catch(() => undefined);

      const inputDone = this.beginInput(detach);
      if (!hasOutput) {
        await Promise.race([inputDone, detached]);
        return;
      }
      const outputDone = this.beginOutput();
      await Promise.race([outputDone, detached]);
    } finally {
      this.restoreTerminal();
      for (const c of this.cleanups) c();
    }
  }

  private beginOutput(): Promise<void> {
    const { conn, stdout, stderr, tty } = this.o;
    // The daemon dropping the connection ends the output; our own stdout failing does not.
    const swallowReset = (e: unknown): void => {
      if ((e as NodeJS.ErrnoException).code !== 'ECONNRESET') throw e;
    };
    if (tty && stdout !== undefined) {
      return (async () => {
        try {
          for await (const chunk of conn.socket) await writeAll(stdout, chunk as Buffer);
        } catch (e) {
          swallowReset(e);
        }
        // Restore as soon as the container's output ends, before anything else prints.
        this.restoreTerminal();
      })();
    }
    return demuxStream(conn.socket, stdout, stderr).catch(swallowReset);
  }

  private beginInput(detach: (e: DetachError) => void): Promise<void> {
    const { conn, stdin, tty } = this.o;
    if (stdin === undefined) {
      // Nothing to send: tell the container stdin is closed right away.
      conn.closeWrite();
      return Promise.resolve();
    }
    const proxy = tty
      ? new EscapeProxy(this.o.detachKeys ? detachKeysToBytes(this.o.detachKeys) : DEFAULT_ESCAPE_KEYS)
      : undefined;
    return new Promise<void>((resolve) => {
      const onData = (chunk: Buffer | string): void => {
        let data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        if (proxy !== undefined) {
          const r = proxy.feed(data);
          if (r.detached) {
            // What came before the sequence in the same read still goes (io.Copy writes it first).
            if (r.out.length > 0 && !conn.socket.destroyed) conn.socket.write(r.out);
            this.restoreTerminal();
            detach(new DetachError());
            return;
          }
          data = r.out;
        }
        if (data.length > 0 && !conn.socket.destroyed) conn.socket.write(data);
      };
      const onEnd = (): void => {
        this.restoreTerminal();
        conn.closeWrite();
        resolve();
      };
      stdin.on('data', onData);
      stdin.once('end', onEnd);
      stdin.once('error', onEnd);
      this.cleanups.push(() => {
        stdin.off('data', onData);
        stdin.off('end', onEnd);
        stdin.off('error', onEnd);
        stdin.pause();
      });
    });
  }
}
