/**
 * client/stdcopy: reads Docker's multiplexed stream (attach and logs of a
 * container without a TTY). Each frame is an 8-byte header
 * [stream, 0, 0, 0, size uint32 BE] and `size` bytes of payload; frames may be
 * split across chunks arbitrarily. Never writes frames (that is the server's job).
 */
import type { Readable, Writable } from 'node:stream';

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
/** Errors the daemon reports in-band after the stream has started. */
export const SYSTEMERR = 3;

const HEADER_LEN = 8;

export type StdStream = typeof STDIN | typeof STDOUT | typeof STDERR | typeof SYSTEMERR;

export class StdcopyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StdcopyError';
  }
}

/**
 * Incremental frame splitter: feed it chunks as they arrive, get whole
 * payloads back per stream. A payload is delivered only once complete, like
 * Go's StdCopy, so a stream cut mid-frame drops that partial frame.
 */
export class StdcopyDemuxer {
  private pending: Buffer[] = [];
  private pendingLen = 0;

  constructor(private readonly onFrame: (stream: StdStream, payload: Buffer) => void) {}

  /** Consumes one chunk; throws StdcopyError on an unknown stream byte. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.pending.push(chunk);
    this.pendingLen += chunk.length;
    for (;;) {
      if (this.pendingLen < HEADER_LEN) return;
      const header = this.peek(HEADER_LEN);
      const stream = header[0] as number;
      if (stream > SYSTEMERR) throw new StdcopyError(`Unrecognized input header: ${stream}`);
      const size = header.readUInt32BE(4);
      if (this.pendingLen < HEADER_LEN + size) return;
      this.take(HEADER_LEN);
      const payload = this.take(size);
      this.onFrame(stream as StdStream, payload);
    }
  }

  /** Bytes of an incomplete frame still buffered (0 at a clean end). */
  get buffered(): number {
    return this.pendingLen;
  }

  private peek(n: number): Buffer {
    const first = this.pending[0] as Buffer;
    if (first.length >= n) return first.subarray(0, n);
    const all = Buffer.concat(this.pending);
    this.pending = [all];
    return all.subarray(0, n);
  }

  private take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.pending[0] as Buffer;
    if (first.length === n) {
      this.pending.shift();
      this.pendingLen -= n;
      return first;
    }
    if (first.length > n) {
      this.pending[0] = first.subarray(n);
      this.pendingLen -= n;
      return first.subarray(0, n);
    }
    const all = Buffer.concat(this.pending);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.pending = rest.length > 0 ? [rest] : [];
    this.pendingLen -= n;
    return out;
  }
}

/** Writes `data` and waits for the writer to accept more, so a slow reader slows us. */
export function writeAll(out: Writable, data: Buffer | string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ok = out.write(data, (err) => {
      if (err) reject(err);
    });
    if (ok) resolve();
    else {
      const onDrain = (): void => {
        out.off('error', onError);
        resolve();
      };
      const onError = (err: Error): void => {
        out.off('drain', onDrain);
        reject(err);
      };
      out.once('drain', onDrain);
      out.once('error', onError);
    }
  });
}

/**
 * Copies a multiplexed stream to stdout/stderr writers until `src` ends
 * (Go's stdcopy.StdCopy). A SYSTEMERR frame ends the copy with
 * `error from daemon in stream: <text>`. A missing writer discards that stream.
 */
export async function demuxStream(src: Readable, stdout: Writable | undefined, stderr: Writable | undefined): Promise<void> {
  const frames: Array<[StdStream, Buffer]> = [];
  const demux = new StdcopyDemuxer((stream, payload) => frames.push([stream, payload]));
  for await (const chunk of src) {
    demux.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
    while (frames.length > 0) {
      const [stream, payload] = frames.shift() as [StdStream, Buffer];
      if (stream === SYSTEMERR) throw new StdcopyError(`error from daemon in stream: ${payload.toString('utf8')}`);
      const out = stream === STDERR ? stderr : stdout;
      if (out !== undefined && payload.length > 0) await writeAll(out, payload);
    }
  }
}

/** Builds one frame; for tests and tools that must speak the format. */
export function encodeFrame(stream: StdStream, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(HEADER_LEN);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}
