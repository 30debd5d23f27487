/**
 * util/tar/decompress: sniffs the first bytes of a layer or import stream and returns the
 * plain (uncompressed) bytes: gzip through node:zlib, zstd/xz/bzip2 through the system
 * tools as streaming child processes (Node 20 has no zstd; docker import accepts xz and
 * bzip2). It never interprets the tar inside.
 *
 * The child processes are spawned here rather than through util/process.run because run()
 * collects output in memory, and a layer must stream.
 */
import { spawn } from 'node:child_process';
import { PassThrough, Readable, addAbortSignal } from 'node:stream';
import { InvalidArgumentError, UnavailableError } from '../../errdefs/errors.js';

export type Compression = 'none' | 'gzip' | 'zstd' | 'xz' | 'bzip2';

export interface DecompressOptions {
  signal?: AbortSignal;
}

export interface Decompressed {
  stream: Readable;
  compression: Compression;
  /**
   * Settles once the decoder is gone: the helper process (zstd, xz, bzip2) has exited and
   * been reaped, or at once for in-process decoding. Never rejects. A caller about to end
   * its thread waits for it, so that no helper outlives its reader unreaped.
   */
  done: Promise<void>;
}

/** Output chunk of the in-process gunzip: fewer, larger chunks cost less per byte downstream. */
const GUNZIP_CHUNK = 256 * 1024;

const SNIFF_BYTES = 6;

/** Which compression the first bytes announce ('none' for anything else, e.g. a plain tar). */
export function detectCompression(head: Uint8Array): Compression {
  const b = (i: number): number => head[i] ?? -1;
  if (b(0) === 0x1f && b(1) === 0x8b) return 'gzip';
  if (b(0) === 0x28 && b(1) === 0xb5 && b(2) === 0x2f && b(3) === 0xfd) return 'zstd';
  // zstd skippable frames (zstd:chunked puts one first) have magic 0x184D2A5?.
  if ((b(0) & 0xf0) === 0x50 && b(1) === 0x2a && b(2) === 0x4d && b(3) === 0x18) return 'zstd';
  if (b(0) === 0xfd && b(1) === 0x37 && b(2) === 0x7a && b(3) === 0x58 && b(4) === 0x5a && b(5) === 0x00) return 'xz';
  if (b(0) === 0x42 && b(1) === 0x5a && b(2) === 0x68) return 'bzip2';
  return 'none';
}

/** Reads at least n bytes (or up to the end) and puts them back, so the stream is unchanged. */
async function peek(stream: Readable, n: number): Promise<{ head: Buffer; ended: boolean }> {
  const parts: Buffer[] = [];
  let len = 0;
  let ended = false;
  while (len < n) {
    const chunk = stream.read() as Buffer | string | null;
    if (chunk !== null) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
      parts.push(b);
      len += b.length;
      continue;
    }
    if (stream.readableEnded || stream.destroyed) {
      ended = true;
      break;
    }
    const r = await new Promise<'data' | 'end'>((resolve, reject) => {
      const done = (v: 'data' | 'end'): void => {
        stream.off('readable', onReadable);
        stream.off('end', onEnd);
        stream.off('close', onEnd);
        stream.off('error', onError);
        resolve(v);
      };
      const onReadable = (): void => done('data');
      const onEnd = (): void => done('end');
      const onError = (e: Error): void => {
        stream.off('readable', onReadable);
        stream.off('end', onEnd);
        stream.off('close', onEnd);
        reject(e);
      };
      stream.on('readable', onReadable);
      stream.on('end', onEnd);
      stream.on('close', onEnd);
      stream.on('error', onError);
    });
    if (r === 'end') {
      ended = true;
      break;
    }
  }
  const head = Buffer.concat(parts, len);
  if (!ended && len > 0) stream.unshift(head);
  return { head, ended };
}

function spawnFilter(tool: string, args: string[], input: Readable, signal: AbortSignal | undefined): { stream: Readable; done: Promise<void> } {
  const child = spawn(tool, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const done = new Promise<void>((resolve) => {
    child.once('close', () => resolve());
    // A tool that never started has nothing to reap.
    child.once('error', () => resolve());
  });
  const out = new PassThrough({ highWaterMark: 1024 * 1024 });
  const stderr: Buffer[] = [];
  let failed = false;
  const fail = (err: Error): void => {
    if (failed) return;
    failed = true;
    child.kill('SIGKILL');
    input.destroy();
    out.destroy(err);
  };
  child.on('error', (e: NodeJS.ErrnoException) => {
    fail(
      e.code === 'ENOENT'
        ? new UnavailableError(`cannot decompress: "${tool}" is not installed (apt-get install ${tool})`)
        : new UnavailableError(`cannot run ${tool}: ${e.message}`),
    );
  });
  child.stderr.on('data', (b: Buffer) => {
    if (stderr.length < 64) stderr.push(b);
  });
  // The tool exiting early (bad data) closes its stdin: that EPIPE is reported by the exit code.
  child.stdin.on('error', () => {});
  input.on('error', (e) => fail(e));
  input.pipe(child.stdin);
  child.stdout.pipe(out, { end: false });
  child.on('close', (code, sig) => {
    if (failed) return;
    if (code === 0) {
      out.end();
      return;
    }
    const msg = Buffer.concat(stderr).toString('utf8').trim().split('\n').slice(-3).join('; ');
    fail(new InvalidArgumentError(`${tool} -dc failed (${sig ?? `exit status ${code}`})${msg ? `: ${msg}` : ''}`));
  });
  // A consumer that gives up (error, abort) must not leave the tool running.
  out.on('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  if (signal !== undefined) {
    const onAbort = (): void => fail(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (signal.aborted) onAbort();
    else {
      signal.addEventListener('abort', onAbort, { once: true });
      out.on('close', () => signal.removeEventListener('abort', onAbort));
    }
  }
  return { stream: out, done };
}

/** gunzip with errors classified: corrupt or truncated gzip data is the sender's fault. */
function gunzipStream(input: Readable, signal: AbortSignal | undefined): Readable {
  // node:zlib is loaded on first use (~0.7 MB resident otherwise in an idle daemon, B100).
  const gunzip = process.getBuiltinModule('node:zlib').createGunzip({ chunkSize: GUNZIP_CHUNK });
  const out = new PassThrough({ highWaterMark: 1024 * 1024 });
  const fail = (err: Error): void => {
    input.destroy();
    gunzip.destroy();
    out.destroy(err);
  };
  input.on('error', fail);
  gunzip.on('error', (e: NodeJS.ErrnoException) => {
    fail(e.code?.startsWith('Z_') === true ? new InvalidArgumentError(`invalid gzip data: ${e.message}`) : e);
  });
  input.pipe(gunzip).pipe(out);
  out.on('close', () => {
    if (!gunzip.writableFinished) fail(new Error('gzip output closed'));
  });
  if (signal !== undefined) addAbortSignal(signal, out);
  return out;
}

/**
 * Returns the plain bytes of `input`, decompressing gzip, zstd, xz or bzip2 when the first
 * bytes say so, and the compression found. Errors of the input or the decoder surface on
 * the returned stream; destroying it stops the decoder.
 */
export async function decompressStream(input: Readable, opts: DecompressOptions = {}): Promise<Decompressed> {
  const { head, ended } = await peek(input, SNIFF_BYTES);
  const compression = detectCompression(head);
  if (ended) {
    // Everything fits in the sniffed bytes: too short to be compressed data worth decoding.
    if (compression !== 'none' && head.length > 0) {
      throw new InvalidArgumentError(`${compression} stream is truncated (${head.length} bytes)`);
    }
    return { stream: Readable.from(head.length > 0 ? [head] : []), compression: 'none', done: Promise.resolve() };
  }
  switch (compression) {
    case 'none':
      return { stream: input, compression, done: Promise.resolve() };
    case 'gzip':
      return { stream: gunzipStream(input, opts.signal), compression, done: Promise.resolve() };
    case 'zstd':
      return { ...spawnFilter('zstd', ['-dcq'], input, opts.signal), compression };
    case 'xz':
      return { ...spawnFilter('xz', ['-dc'], input, opts.signal), compression };
    case 'bzip2':
      return { ...spawnFilter('bzip2', ['-dc'], input, opts.signal), compression };
  }
}
