/**
 * build/batchedReads: a request body read in fewer, larger pieces. The docker
 * CLI sends a directory context as many small HTTP chunks (a tar header, a
 * file, its padding: each its own write through a 4 KiB buffer), and a daemon
 * that keeps up reads each one as it comes — one socket read, one parser
 * callback and one trip through the stream chain per few KiB, which costs more
 * CPU than indexing and hashing the bytes. After a small read the socket is
 * paused for a moment so the kernel buffer fills and the next reads take up to
 * 64 KiB each. Only changes when bytes are read, never which bytes.
 */
import type { Socket } from 'node:net';
import { PassThrough, type Readable } from 'node:stream';

export interface BatchOptions {
  /** A read smaller than this pauses the socket (bytes). */
  smallRead?: number;
  /** How long it stays paused (ms). */
  pauseMs?: number;
}

export function batchedReads(body: Readable, socket: Socket, opts: BatchOptions = {}): Readable {
  const small = opts.smallRead ?? 16 * 1024;
  const pauseMs = opts.pauseMs ?? 2;
  const out = new PassThrough({ highWaterMark: 1024 * 1024 });
  let timer: NodeJS.Timeout | null = null;
  let held = false;
  // Pausing the message (not the socket, which the message would resume at once) lets its buffer
  // fill to its high-water mark, after which the server stops reading the socket.
  const resume = (): void => {
    timer = null;
    if (held) return;
    body.resume();
  };
  body.on('data', (c: Buffer) => {
    if (!out.write(c)) {
      held = true;
      body.pause();
      out.once('drain', () => {
        held = false;
        if (timer === null) body.resume();
      });
      return;
    }
    if (c.length < small && timer === null && !socket.destroyed) {
      body.pause();
      timer = setTimeout(resume, pauseMs);
    }
  });
  body.once('end', () => {
    if (timer) clearTimeout(timer);
    out.end();
  });
  body.once('error', (e) => {
    if (timer) clearTimeout(timer);
    out.destroy(e);
  });
  out.once('close', () => {
    if (timer) clearTimeout(timer);
  });
  return out;
}
